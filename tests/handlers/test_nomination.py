"""The applicant's nomination in chat: from the self-check verdict to submission."""

import pytest
from sqlmodel import select

from handlers.channel import address
from models import Nomination, NominationMaterial, OutboxMessage, Role, SelfCheck
from services import people
from tests.conftest import BotWorld
from tests.handlers.test_office import registered
from tests.handlers.test_selfcheck import answer_all, open_campaign
from tests.support.client import UserClient
from tests.support.people import to_chat

pytestmark = pytest.mark.article("第十六条第1项")

# One blank page with a correct cross-reference table: the upload checks parse PDFs.
PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>> endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>> endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 9 9]>> endobj\nxref\n0 4\n0000000000 65535 f \n"
    b"0000000009 00000 n \n0000000053 00000 n \n0000000103 00000 n \ntrailer<</Size 4/Root 1 0 R>>\n"
    b"startxref\n163\n%%EOF\n"
)
ANSWERS = {
    "姓名/名称": "张伟",
    "工作单位": "广州地铁",
    "岗位": "站务员",
    "一线工作年限": "８",
    "所在城市": "广州",
    "行业": "交通运输",
    "联系电话": "138 0013 8000",
}


async def fill(client: UserClient, answers: dict[str, str]) -> None:
    for label, value in answers.items():
        await client.press(label)
        await client.send(value)


async def test_from_verdict_to_submission(world: BotWorld) -> None:
    await open_campaign(world)
    await registered(world, 4100, "陈女士")
    async with world.sessions() as session:
        person = (await people.load_actor(session, address(4100), fallback_language="zh_CN")).person_id
        await people.grant_role(
            session,
            person_id=person or 0,
            role=Role.RECOMMENDER,
            organisation_id=1,
            granted_by=None,
            now=world.clock.now(),
            reason="test",
        )
    applicant = await registered(world, 4001, "张伟")
    await answer_all(applicant, "STAR", ["是"] * 7)
    await applicant.press("开始申报")
    assert "第 1 号申报：广东省用户满意服务明星</b>\n状态：草稿" in applicant.last_text
    assert "⬜ 联系电话：—" in applicant.last_text
    await fill(applicant, {**ANSWERS, "联系电话": "12345"})
    assert "电话号码无效" in applicant.last_text
    await applicant.send("138 0013 8000")  # still asked for the phone: the bad value changed nothing
    assert (
        "✅ 联系电话：+8613800138000" in applicant.last_text and "✅ 一线工作年限：8" in applicant.last_text
    )
    await applicant.press("选择推荐单位")
    await applicant.press("广东质协")
    await applicant.press("上传材料")
    await applicant.press("用户满意度测评报告（第十六条第1项，必须提供）")
    await applicant.send("这里是报告")  # text where a file is expected
    assert "请以文件形式发送材料" in applicant.last_text
    await applicant.upload("report.pdf", b"just text, not a pdf")
    assert "内容" in applicant.last_text and "report" not in applicant.last_text.split("：")[-1]
    await applicant.upload("empty.pdf", b"")
    assert "文件是空的" in applicant.last_text
    await applicant.upload("测评报告.pdf", PDF)
    await applicant.upload("测评报告-副本.pdf", PDF)  # the same content twice is kept once
    assert "已保存：测评报告-副本.pdf" in applicant.last_text
    await applicant.press("完成")
    assert "已上传材料 1 份" in applicant.last_text
    await applicant.press("提交")
    assert "缺少：同意在公示和公告中公开姓名、单位和称号" in applicant.last_text  # PIPL: its own agreement
    await applicant.press("同意公开")
    await applicant.press("提交")
    assert "已提交给推荐单位" in applicant.last_text
    await applicant.send("/mystatus")
    assert "第 1 号 广东省用户满意服务明星：待推荐单位审核" in applicant.last_text
    async with world.sessions() as session:
        nomination = (await session.exec(select(Nomination))).one()
        check = (await session.exec(select(SelfCheck))).one()
        assert (nomination.stage, nomination.selfcheck_id) == ("submitted", check.id)
        material = (await session.exec(select(NominationMaterial))).one()
        assert (
            material.kind == "pdf"
            and (world.settings.data_dir / "files" / material.sha256[:2] / material.sha256).read_bytes()
            == PDF
        )
        prompt = (await session.exec(select(OutboxMessage).where(to_chat(4100)))).one()
        assert prompt.template == "nomination.new_for_recommender" and prompt.protect


async def test_an_enterprise_needs_a_valid_credit_code(world: BotWorld) -> None:
    await open_campaign(world)
    applicant = await registered(world, 4002, "李总")
    await applicant.send("/nominate")
    await applicant.press("广东省用户满意服务明星企业")
    await applicant.press("统一社会信用代码")
    await applicant.send("91350100M000100Y44")
    assert "统一社会信用代码无效" in applicant.last_text
    await applicant.send("91350100M000100Y43")
    assert "✅ 统一社会信用代码：91350100M000100Y43" in applicant.last_text


async def test_someone_elses_nomination_cannot_be_touched(world: BotWorld) -> None:
    await open_campaign(world)
    owner = await registered(world, 4003, "王芳")
    await owner.send("/nominate")
    await owner.press("广东省用户满意服务明星")
    intruder = await registered(world, 4004, "钱某")
    await intruder.press_data("ne:1:submit")
    assert "这不是您的申报" in intruder.last_text
    await intruder.press_data("nm:STAR:1")  # carrying someone else's self-check (or none that exists)
    assert "不是您的自评" in intruder.last_text


async def submitted_nomination(world: BotWorld, applicant_id: int, name: str) -> UserClient:
    applicant = await registered(world, applicant_id, name)
    await applicant.send("/nominate")
    await applicant.press("广东省用户满意服务明星")
    await fill(applicant, {**ANSWERS, "姓名/名称": name})
    await applicant.press("选择推荐单位")
    await applicant.press("广东质协")
    await applicant.press("上传材料")
    await applicant.press("用户满意度测评报告（第十六条第1项，必须提供）")
    await applicant.upload("报告.pdf", PDF)
    await applicant.press("完成")
    await applicant.press("同意公开")
    await applicant.press("提交")
    return applicant


async def recommender_of_gdaq(world: BotWorld, telegram_id: int) -> UserClient:
    client = await registered(world, telegram_id, "陈女士")
    async with world.sessions() as session:
        person = (await people.load_actor(session, address(telegram_id), fallback_language="zh_CN")).person_id
        await people.grant_role(
            session,
            person_id=person or 0,
            role=Role.RECOMMENDER,
            organisation_id=1,
            granted_by=None,
            now=world.clock.now(),
            reason="test",
        )
    return client


async def prompt_buttons(world: BotWorld, chat_id: int, nomination_id: int) -> dict[str, str]:
    async with world.sessions() as session:
        rows = (
            await session.exec(
                select(OutboxMessage).where(
                    to_chat(chat_id),
                    OutboxMessage.template == "nomination.new_for_recommender",
                )
            )
        ).all()
        prompt = next(r for r in rows if r.params["id"] == nomination_id)
        return {b["label"]: f"t:{b['token']}" for b in prompt.buttons[0]}


async def test_the_recommending_body_endorses_with_a_stamped_opinion_or_returns(world: BotWorld) -> None:
    await open_campaign(world)
    member = await recommender_of_gdaq(world, 4200)
    first = await submitted_nomination(world, 4201, "张伟")
    second = await submitted_nomination(world, 4202, "李娜")
    await member.send("/pending")
    assert "第 1 号 广东省用户满意服务明星：张伟" in member.last_text and "第 2 号" in member.last_text
    buttons = await prompt_buttons(world, 4200, 1)
    await second.press_data(buttons["nomination.endorse"])  # a prompt's button pressed by someone else
    assert "不是发给您的" in second.last_text
    await member.press_data(buttons["nomination.endorse"])
    await member.send("该同志服务成绩突出，同意推荐。")
    await member.upload("推荐意见.docx.pdf", b"plain text")  # not a scan at all
    assert "内容" in member.last_text
    await member.upload("推荐意见.pdf", PDF)
    assert "已推荐第 1 号申报" in member.last_text
    await member.press_data((await prompt_buttons(world, 4200, 2))["nomination.return"])
    await member.send("缺少单位考核证明")
    assert "已退回第 2 号申报" in member.last_text
    await first.send("/mystatus")
    assert "已推荐，待初审" in first.last_text
    async with world.sessions() as session:
        stages = {n.id: n.stage for n in (await session.exec(select(Nomination))).all()}
        assert stages == {1: "endorsed", 2: "returned_by_recommender"}
        told = (
            await session.exec(
                select(OutboxMessage).where(
                    to_chat(4202), OutboxMessage.template == "nomination.returned_notice"
                )
            )
        ).one()
        assert told.params["reason"] == "缺少单位考核证明"
