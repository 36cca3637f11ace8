"""The eligibility self-check through the real Dispatcher, in both languages."""

from datetime import UTC, datetime

import pytest
from sqlmodel import select

from handlers.channel import address
from models import AuditRecord, SelfCheck, SelfCheckStatus
from services import campaigns
from services.catalogue import CriterionKind, load_catalogue
from tests.conftest import OFFICE_ID, BotWorld
from tests.handlers.test_office import registered
from tests.support.client import UserClient

pytestmark = pytest.mark.article("第十一条")

CATALOGUE = load_catalogue()
HONOURS = list(CATALOGUE.honours)
LABELS = {"zh": ("是", "否", "不确定"), "en": ("Yes", "No", "Not sure")}


async def open_campaign(world: BotWorld, honours: list[str] | None = None, year: int = 2026) -> None:
    """A campaign whose nomination window is open at the test clock's start (2026-03-02)."""
    office = await registered(world, OFFICE_ID, "王主任")
    async with world.sessions() as session:
        actor = await campaigns.people.load_actor(session, address(OFFICE_ID), fallback_language="zh_CN")
        day = lambda m, d: datetime(year, m, d, tzinfo=UTC)  # noqa: E731
        await campaigns.create(
            session,
            actor,
            year=year,
            honours=honours or HONOURS,
            publicity_workdays=5,
            now=world.clock.now(),
            dates={
                "nomination_opens": day(3, 1),
                "nomination_closes": day(4, 30),
                "precheck_deadline": day(5, 31),
                "review_opens": day(6, 1),
                "review_closes": day(6, 15),
                "announcement_at": day(7, 15),
            },
        )
    assert office


async def answer_all(client: UserClient, honour: str, answers: list[str], language: str = "zh") -> None:
    await client.send("/selfcheck")
    await client.press(
        CATALOGUE.honours[honour].name.zh if language == "zh" else CATALOGUE.honours[honour].name.en
    )
    for reply in answers:
        await client.press(reply)


@pytest.mark.parametrize("honour", HONOURS)
@pytest.mark.parametrize("language", ["zh", "en"])
async def test_all_yes_is_eligible(world: BotWorld, honour: str, language: str) -> None:
    await open_campaign(world)
    client = await registered(world, 3001, "张伟", "en" if language == "en" else "zh-hans")
    yes = LABELS[language][0]
    await answer_all(client, honour, [yes] * len(CATALOGUE.honours[honour].criteria), language)
    verdict = client.last_text
    assert ("结论：<b>符合</b>" if language == "zh" else "Verdict: <b>eligible</b>") in verdict
    report = (
        CATALOGUE.satisfaction_report.name.zh if language == "zh" else CATALOGUE.satisfaction_report.name.en
    )
    assert f"☐ {report}" in verdict  # the Art. 16.1 report is always on the checklist


GATES = [(h, c) for h in HONOURS for c in CATALOGUE.honours[h].criteria if c.kind != CriterionKind.PRIORITY]


@pytest.mark.parametrize(("honour", "criterion"), GATES, ids=[c.id for _, c in GATES])
async def test_a_no_fails_citing_exactly_that_item(world: BotWorld, honour: str, criterion) -> None:  # type: ignore[no-untyped-def]
    await open_campaign(world)
    client = await registered(world, 3002, "李娜")
    criteria = CATALOGUE.honours[honour].criteria
    await answer_all(client, honour, ["否" if c.id == criterion.id else "是" for c in criteria])
    verdict = client.last_text
    assert "结论：<b>不符合</b>" in verdict
    failed = verdict.split("不符合的条件：</b>\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert failed == [f"• 第{chinese(criterion.article)}条第{criterion.item}项：{criterion.regulation_zh}"]


def chinese(article: int) -> str:
    return {12: "十二", 13: "十三", 14: "十四", 15: "十五"}[article]


async def test_a_no_in_english_cites_the_article(world: BotWorld) -> None:
    await open_campaign(world)
    client = await registered(world, 3003, "Anna", "en")
    await answer_all(client, "STAR", ["No"] + ["Yes"] * 6, "en")
    assert "Verdict: <b>not eligible</b>" in client.last_text and "Art. 12, item 1" in client.last_text


async def test_unsure_evidence_gives_the_checklist(world: BotWorld) -> None:
    await open_campaign(world)
    client = await registered(world, 3004, "王芳")
    criteria = CATALOGUE.honours["TEAM"].criteria
    await answer_all(
        client, "TEAM", ["不确定" if c.kind == CriterionKind.EVIDENCE else "是" for c in criteria]
    )
    verdict = client.last_text
    assert "基本符合，需补充材料" in verdict and "需要核实的事项" in verdict
    for criterion in criteria:
        if criterion.kind == CriterionKind.EVIDENCE:
            for material in criterion.materials:
                assert f"☐ {material.name.zh}" in verdict


async def test_priority_flag_never_fails_and_is_mentioned(world: BotWorld) -> None:
    await open_campaign(world)
    client = await registered(world, 3005, "赵敏")
    await answer_all(client, "STAR", ["是"] * 6 + ["否"])
    assert "结论：<b>符合</b>" in client.last_text and "优先向国家推荐" not in client.last_text
    await answer_all(client, "STAR", ["是"] * 7)
    assert "优先向国家推荐" in client.last_text


async def test_a_restart_resumes_at_the_same_question(world: BotWorld) -> None:
    await open_campaign(world)
    client = await registered(world, 3006, "孙丽")
    await answer_all(client, "STAR", ["是", "是"])
    assert "第 3/7 题" in client.last_text
    old_buttons = client.session.requests[-1].reply_markup
    restarted = world.rebuild()
    client = restarted.user(3006, "孙丽")
    await client.send("/selfcheck")
    assert "第 3/7 题" in client.last_text  # offered to continue where it was
    await client.press("继续")
    assert "第 3/7 题" in client.last_text
    # The question's buttons from before the restart still answer question 3.
    await client.press_data(old_buttons.inline_keyboard[0][0].callback_data)
    assert "第 4/7 题" in client.last_text


async def test_text_instead_of_a_button_reasks(world: BotWorld) -> None:
    await open_campaign(world)
    client = await registered(world, 3007, "周杰")
    await answer_all(client, "MANAGER", ["是"])
    await client.send("我觉得是")
    assert client.texts()[0] == "请用按钮回答这道题："
    assert "第 2/6 题" in client.last_text and client.buttons()[:3] == ["是", "否", "不确定"]


async def test_back_and_explain(world: BotWorld) -> None:
    await open_campaign(world)
    client = await registered(world, 3008, "吴磊")
    await answer_all(client, "ENTERPRISE", ["是", "否"])
    await client.press("上一题")
    assert "第 2/5 题" in client.last_text and "您之前的回答：否" in client.last_text
    await client.press("说明")
    assert CATALOGUE.honours["ENTERPRISE"].criteria[1].explain.zh in client.last_text


async def test_forged_and_stale_callbacks_change_nothing(world: BotWorld) -> None:
    await open_campaign(world)
    owner = await registered(world, 3009, "郑洁")
    await answer_all(owner, "STAR", ["是"])
    async with world.sessions() as session:
        check = (await session.exec(select(SelfCheck))).one()
    intruder = await registered(world, 3010, "钱某")
    await intruder.press_data(f"sa:{check.id}:1:no")  # someone else's self-check
    assert "不是您的自评" in intruder.last_text
    await owner.press_data(f"sa:{check.id}:5:yes")  # a question it is not at
    assert "已失效" in owner.last_text
    await owner.press_data(f"sa:{check.id}:1:maybe")  # an answer that does not exist
    assert "无效的回答" in owner.last_text
    await owner.press_data("sa:999999:0:yes")  # a self-check that does not exist
    assert "不是您的自评" in owner.last_text
    await owner.press_data("sh:NOBEL")  # an honour that does not exist
    assert "没有这个称号" in owner.last_text
    async with world.sessions() as session:
        unchanged = await session.get(SelfCheck, check.id)
        assert unchanged is not None and unchanged.answers == {"12.1": "yes"} and unchanged.position == 1
    for reply in ["是"] * 6:
        await owner.press(reply)
    await owner.press_data(f"sa:{check.id}:6:no")  # a button from the finished self-check
    assert "已经结束" in owner.last_text
    async with world.sessions() as session:
        finished = await session.get(SelfCheck, check.id)
        assert (
            finished is not None
            and finished.status == SelfCheckStatus.FINISHED
            and finished.verdict == "eligible"
        )


async def test_result_is_recorded_and_listed(world: BotWorld) -> None:
    await open_campaign(world)
    client = await registered(world, 3011, "冯涛")
    await answer_all(client, "STAR", ["是"] * 7)
    await client.send("/mystatus")
    assert "广东省用户满意服务明星：结论：<b>符合</b>" in client.last_text
    assert f"条件目录 {CATALOGUE.version}" in client.last_text
    async with world.sessions() as session:
        record = (
            await session.exec(select(AuditRecord).where(AuditRecord.action == "selfcheck.finished"))
        ).one()
        assert (
            record.details["verdict"] == "eligible"
            and record.details["catalogue_version"] == CATALOGUE.version
        )


async def test_an_honour_not_granted_this_year(world: BotWorld) -> None:
    await open_campaign(world, honours=["STAR"])
    client = await registered(world, 3012, "陈晨")
    await answer_all(client, "TEAM", ["是"] * 7)
    assert "本年度活动不评选该称号" in client.last_text


async def test_without_a_campaign_the_next_opening_is_given(world: BotWorld) -> None:
    await open_campaign(world, year=2027)  # opens 2027-03-01, a year after the clock
    client = await registered(world, 3013, "林琳")
    await answer_all(client, "STAR", ["是"] * 7)
    assert "下一届申报将于 2027-03-01 开始" in client.last_text


async def test_the_office_sees_statistics_and_a_chart(world: BotWorld) -> None:
    await open_campaign(world)
    for user_id in (3020, 3021, 3022):
        client = await registered(world, user_id, f"申报人{user_id}")
        await answer_all(client, "STAR", ["否"] + ["是"] * 6)
    office = world.user(OFFICE_ID, "王主任")
    await office.send("/selfcheckstats")
    text = office.texts()[0]
    assert "广东省用户满意服务明星：3 次（符合 0，基本符合 0，不符合 3）" in text
    assert "• 12.1：否 3，不确定 0" in text
    photo = office.replies[-1]
    assert photo.__api_method__ == "sendPhoto"
    content = b"".join([chunk async for chunk in photo.photo.read(office.session)])
    assert content.startswith(b"\x89PNG")
    applicant = world.user(3020)
    await applicant.send("/selfcheckstats")
    assert "仅限办公室工作人员" in applicant.last_text
