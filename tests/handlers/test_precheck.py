"""The office's preliminary check (初审) in chat: the queue, the dossier with protected files,
通过 / 退回补充 (一次性告知) / 不通过, verifications, and the applicant's view of what is missing."""

from io import BytesIO

import pytest
from aiogram.methods import EditMessageReplyMarkup, SendDocument
from PIL import Image
from reportlab.pdfgen import canvas
from sqlmodel import select

from bot.outbox_render import outbox_renderer
from handlers.channel import address
from models import AuditRecord, Deficiency, Nomination, OutboxMessage, Role, Verification
from services import people
from tests.conftest import OFFICE_ID, BotWorld
from tests.handlers.test_nomination import PDF, prompt_buttons, recommender_of_gdaq, submitted_nomination
from tests.handlers.test_office import registered
from tests.handlers.test_selfcheck import open_campaign
from tests.support.client import UserClient
from tests.support.people import to_chat

pytestmark = pytest.mark.article("第十六条第2项")


def _png() -> bytes:
    image = BytesIO()
    Image.new("RGB", (40, 30), "white").save(image, format="PNG")
    return image.getvalue()


PNG = _png()  # a real scan-like image: the file checks open it


def make_pdf(text: str) -> bytes:
    """A real one-page PDF, as an applicant's scanner or word processor would make."""
    out = BytesIO()
    page = canvas.Canvas(out)
    page.drawString(72, 720, text)
    page.save()
    return out.getvalue()


NEW_REPORT = make_pdf("supplemented satisfaction report")
MEMBER, APPLICANT = 4300, 4301


async def endorsed(world: BotWorld, applicant_id: int = APPLICANT, name: str = "张伟") -> UserClient:
    """A campaign in its nomination window, and one nomination endorsed by 广东质协 with its seal."""
    member = await recommender_of_gdaq(world, MEMBER)
    applicant = await submitted_nomination(world, applicant_id, name)
    async with world.sessions() as session:
        nomination_id = (
            await session.exec(
                select(Nomination.id)
                .where(Nomination.fields.is_not(None))  # type: ignore[union-attr]
                .order_by(Nomination.id.desc())  # type: ignore[union-attr]
            )
        ).first()
    await member.press_data((await prompt_buttons(world, MEMBER, nomination_id or 0))["nomination.endorse"])
    await member.send("该同志服务成绩突出，同意推荐。")
    await member.upload("推荐意见.png", PNG, mime_type="image/png")
    assert "已推荐" in member.last_text
    return applicant


async def office_member(
    world: BotWorld, telegram_id: int, name: str, language: str = "zh-hans"
) -> UserClient:
    client = await registered(world, telegram_id, name, language)
    async with world.sessions() as session:
        person = (await people.load_actor(session, address(telegram_id), fallback_language="zh_CN")).person_id
        await people.grant_role(
            session,
            person_id=person or 0,
            role=Role.OFFICE,
            organisation_id=None,
            granted_by=None,
            now=world.clock.now(),
            reason="test",
        )
    return client


async def stage_of(world: BotWorld, nomination_id: int = 1) -> str:
    async with world.sessions() as session:
        nomination = await session.get(Nomination, nomination_id)
        assert nomination is not None
        return nomination.stage


async def outbox_texts(world: BotWorld, chat_id: int, template: str, locale: str = "zh_CN") -> list[str]:
    render = outbox_renderer(world.i18n)
    async with world.sessions() as session:
        rows = (
            await session.exec(
                select(OutboxMessage).where(to_chat(chat_id), OutboxMessage.template == template)
            )
        ).all()
    return [render(row, locale)[0] for row in rows]


def button_data(client: UserClient, label: str) -> str:
    for method in client.replies:
        markup = getattr(method, "reply_markup", None)
        for row in markup.inline_keyboard if markup else []:
            for button in row:
                if button.text == label:
                    return button.callback_data or ""
    raise AssertionError(f"no button {label!r}")


async def open_first(office: UserClient) -> None:
    await office.send("/precheck")
    await office.press("第 1 号", contains=True)


async def return_the_seal(office: UserClient) -> None:
    """The office returns nomination 1 for supplement with one item: the sealed opinion."""
    await open_first(office)
    await office.press("退回补充")
    await office.press("⬜ 加盖公章的推荐意见扫描件")
    await office.press("下一步")
    await office.send("公章不清晰")
    await office.send("2026-03-20")
    await office.press("确认退回")


async def test_the_office_returns_for_supplement_all_at_once_and_sees_what_changed(world: BotWorld) -> None:
    await open_campaign(world)
    applicant = await endorsed(world)
    office = world.user(OFFICE_ID, "王主任")
    await office.send("/precheck")
    assert "初审队列（1 份）" in office.last_text and "【广东省用户满意服务明星】" in office.last_text
    await office.press("第 1 号 张伟（已推荐，待初审）")
    documents = [r for r in office.replies if isinstance(r, SendDocument)]
    assert len(documents) == 2 and all(d.protect_content for d in documents)  # the report and the seal scan
    assert "推荐意见" in office.texts()[0] and "同意推荐" in office.texts()[0]
    assert office.buttons() == ["通过", "退回补充", "不通过", "记录核实", "导出档案（ZIP）"]

    await office.press("退回补充")
    assert "一次性告知" in office.last_text and "⬜ 联系电话" in office.buttons()
    assert "⬜ 加盖公章的推荐意见扫描件" in office.buttons() and "⬜ 推荐单位" in office.buttons()
    await office.press("下一步")
    assert "请至少勾选一项" in office.last_text
    await office.send("联系电话")  # typed instead of ticked
    assert "请在上面的列表中勾选" in office.last_text
    await office.press("⬜ 联系电话")
    assert isinstance(office.replies[-1], EditMessageReplyMarkup)  # ticked in place, one message
    await office.press("⬜ 岗位")
    await office.press("☑️ 岗位")  # and unticked again
    await office.press("⬜ 用户满意度测评报告（第十六条第1项，必须提供）")
    assert "☑️ 联系电话" in office.buttons() and "⬜ 岗位" in office.buttons()
    await office.press("下一步")
    assert "（1/2）请填写“联系电话”的问题说明" in office.last_text
    await office.send("号码无法接通")
    assert "（2/2）" in office.last_text
    await office.send("缺少测评机构盖章页")
    await office.send("3月10日")
    assert "YYYY-MM-DD" in office.last_text
    await office.send("2026-03-01")  # yesterday in Beijing
    assert "截止日期必须在今天之后" in office.last_text
    await office.send("2026-03-10")
    assert "共 2 项，补充截止 2026-03-10 23:59（北京时间）" in office.last_text
    assert "1. 联系电话：号码无法接通\n2. 用户满意度测评报告" in office.last_text
    assert await stage_of(world) == "endorsed"  # nothing happens before the confirmation
    await office.press("确认退回")
    assert "已退回补充（2 项）" in office.last_text
    assert await stage_of(world) == "returned_for_supplement"
    told = await outbox_texts(world, APPLICANT, "precheck.returned_notice")
    assert told == [
        "您的第 1 号申报需补充材料（一次性告知），共 2 项，"
        "请在 2026-03-10 23:59（北京时间）前补充后重新提交：\n"
        "1. 联系电话：号码无法接通\n"
        "2. 用户满意度测评报告（第十六条第1项，必须提供）：缺少测评机构盖章页"
    ]
    assert len(await outbox_texts(world, MEMBER, "precheck.returned_notice_recommender")) == 1
    await office.press("确认退回")  # pressed twice: refused, nothing changes
    assert office.last_text == "此操作已完成，无需再按。"
    async with world.sessions() as session:
        assert len((await session.exec(select(Deficiency))).all()) == 2

    await applicant.send("/mystatus")
    assert (
        "退回补充：\n1. 联系电话：号码无法接通\n2. 用户满意度测评报告" in applicant.last_text
        and "field:" not in applicant.last_text
    )
    await applicant.press_data("ne:1:card")  # the dossier says what to supplement and offers only that
    assert (
        "办公室要求补充以下各项" in applicant.last_text and "✏️ 联系电话：号码无法接通" in applicant.last_text
    )
    assert "联系电话" in applicant.buttons() and "岗位" not in applicant.buttons()
    assert "选择推荐单位" not in applicant.buttons()
    await applicant.press("上传材料")
    assert applicant.buttons() == ["用户满意度测评报告（第十六条第1项，必须提供）"]
    await applicant.press_data("ne:1:phone")
    await applicant.send("139 0013 9000")
    await applicant.press_data("nc:1:slot:0:satisfaction_report")
    await applicant.upload("测评报告（盖章）.pdf", NEW_REPORT)
    await applicant.press("完成")
    await applicant.press("提交")
    assert await stage_of(world) == "resubmitted"

    await open_first(office)
    summary = office.texts()[0]
    assert "自退回补充以来的变化" in summary
    assert "联系电话：+8613800138000 → +8613900139000" in summary
    assert (
        "新增材料：用户满意度测评报告（第十六条第1项，必须提供）：测评报告(盖章).pdf" in summary
    )  # NFKC-normalised name
    await office.press("通过")
    assert "初审通过" in office.last_text
    assert await stage_of(world) == "passed"
    assert await outbox_texts(world, APPLICANT, "nomination.precheck_passed")


async def test_the_applicant_gets_the_list_in_english(world: BotWorld) -> None:
    await open_campaign(world)
    await endorsed(world)
    async with world.sessions() as session:
        applicant = (await session.exec(people.at(address(APPLICANT)))).one()
        applicant.language = "en"
        session.add(applicant)
        await session.commit()
    office = world.user(OFFICE_ID, "王主任")
    await return_the_seal(office)
    told = await outbox_texts(world, APPLICANT, "precheck.returned_notice", "en")
    assert told == [
        "Your nomination No. 1 needs a supplement (1 item(s), listed all at once). Please supplement and "
        "resubmit by 2026-03-20 23:59 (Beijing time):\n"
        "1. scan of the opinion with the official seal: 公章不清晰"
    ]


async def test_a_rejection_needs_a_reason_in_english(world: BotWorld) -> None:
    await open_campaign(world)
    await endorsed(world)
    office = await office_member(world, 4900, "Ms Li", "en")
    await office.send("/precheck")
    assert "Preliminary-check queue (1), by honour:" in office.last_text
    await office.press("No. 1", contains=True)
    assert office.buttons() == [
        "Pass",
        "Return for supplement",
        "Reject",
        "Record a verification",
        "Export dossier (ZIP)",
    ]
    await office.press("Reject")
    assert "Type the reason nomination No. 1 is rejected" in office.last_text
    await office.upload("reason.pdf", PDF)  # a file where the reason is expected
    assert "A rejection needs a reason" in office.last_text
    await office.send("   ")
    assert "A rejection needs a reason" in office.last_text
    assert await stage_of(world) == "endorsed"
    await office.send("材料不实")
    assert "Nomination No. 1 was rejected" in office.last_text
    assert await stage_of(world) == "rejected"
    assert await outbox_texts(world, APPLICANT, "nomination.precheck_rejected") == [
        "第 1 号申报初审不通过。原因：材料不实"
    ]


async def test_only_the_office_may_check(world: BotWorld) -> None:
    await open_campaign(world)
    applicant = await endorsed(world)
    await applicant.send("/precheck")
    assert applicant.last_text == "此功能仅限办公室人员使用。" or "仅限" in applicant.last_text
    await applicant.press_data("po:1")  # the navigation button, forged
    assert "仅限" in applicant.last_text
    await applicant.press_data("ps:xlsx")
    assert "仅限" in applicant.last_text
    english = await registered(world, 4990, "Tom", "en")
    await english.send("/precheck")
    assert "Only an authorised" in english.last_text
    await english.send("/export 1")
    assert "Only an authorised" in english.last_text
    assert [r for r in applicant.replies if isinstance(r, SendDocument)] == []
    await applicant.send("/menu")
    assert "初审" not in applicant.buttons()
    office = world.user(OFFICE_ID, "王主任")
    await office.send("/menu")
    await office.press("初审")
    assert "初审队列（1 份）" in office.last_text


async def test_forged_and_stale_buttons_do_nothing(world: BotWorld) -> None:
    await open_campaign(world)
    applicant = await endorsed(world)
    office = world.user(OFFICE_ID, "王主任")
    await open_first(office)
    pass_button, reject_button = button_data(office, "通过"), button_data(office, "不通过")
    await office.press_data("t:AAAAAAAAAAAAAAAA")  # a token nobody issued
    assert "这个按钮无效或已失效" in office.last_text
    await applicant.press_data(pass_button)  # the office's button in the applicant's hands
    assert "不是发给您的" in applicant.last_text
    assert await stage_of(world) == "endorsed"
    await office.press_data("pt:3")  # a tick with no return form open
    assert "表单已结束" in office.last_text
    await office.press("通过")
    await office.press_data(reject_button)  # stale: the nomination has moved on
    assert "已不在初审队列" in office.last_text
    async with world.sessions() as session:
        moves = (
            await session.exec(select(AuditRecord).where(AuditRecord.action == "nomination.moved"))
        ).all()
        assert [m.details["to_stage"] for m in moves] == ["submitted", "endorsed", "passed"]


async def test_two_office_members_cannot_both_decide(world: BotWorld) -> None:
    await open_campaign(world)
    await endorsed(world)
    first = world.user(OFFICE_ID, "王主任")
    second = await office_member(world, 4901, "赵科长")
    await open_first(first)
    await open_first(second)
    await second.press("退回补充")
    await second.press("⬜ 联系电话")
    await second.press("下一步")
    await second.send("号码无法接通")
    await second.send("2026-03-10")
    await first.press("通过")
    await second.press("确认退回")
    assert "当前处于“初审通过”" in second.last_text
    await second.press("不通过")
    assert "第 1 号申报已不在初审队列（当前：初审通过）" in second.last_text
    assert await stage_of(world) == "passed"
    async with world.sessions() as session:
        assert (await session.exec(select(Deficiency))).all() == []
        assert (
            await session.exec(
                select(OutboxMessage).where(OutboxMessage.template == "precheck.returned_notice")
            )
        ).all() == []


async def test_a_verification_is_recorded_and_shown(world: BotWorld) -> None:
    await open_campaign(world)
    await endorsed(world)
    office = world.user(OFFICE_ID, "王主任")
    await open_first(office)
    await office.press("记录核实")
    await office.send("2026-03-05")
    assert "核实日期不能晚于今天" in office.last_text
    await office.send("2026-03-01")
    await office.send("实地走访车站，服务记录属实。")
    await office.send("这是照片")  # text where a file is expected
    assert "如有核实材料请以文件发送" in office.last_text
    await office.upload("现场.png", PNG, mime_type="image/png")
    assert "已保存：现场.png" in office.last_text
    await office.press("完成")
    assert "已记录第 1 号申报的核实（附件 1 份）" in office.last_text
    async with world.sessions() as session:
        check = (await session.exec(select(Verification))).one()
        assert (check.on.isoformat(), check.finding, len(check.files)) == (
            "2026-03-01",
            "实地走访车站，服务记录属实。",
            1,
        )
        audited = (
            await session.exec(select(AuditRecord).where(AuditRecord.action == "nomination.verified"))
        ).one()
        assert audited.actor_id == check.recorded_by
    await open_first(office)
    assert "核实记录 2026-03-01：实地走访车站，服务记录属实。（附件 1 份）" in office.texts()[0]


async def test_the_applicant_sees_missing_items_in_words(world: BotWorld) -> None:
    await open_campaign(world)
    zh = await registered(world, 4950, "王芳")
    await zh.send("/nominate")
    await zh.press("广东省用户满意服务明星")
    await zh.press("提交")
    assert (
        "缺少：姓名/名称、工作单位" in zh.last_text
        and "同意在公示和公告中公开姓名、单位和称号" in zh.last_text
    )
    assert "consent" not in zh.last_text and "field:" not in zh.last_text
    en = await registered(world, 4951, "Tom", "en")
    await en.send("/nominate")
    await en.press("Guangdong User-Satisfied Service Star")
    await en.press("Submit")
    assert "missing:" in en.last_text and "consent to publishing the name" in en.last_text
    assert "material:" not in en.last_text


async def test_a_returned_seal_is_given_again_by_the_recommending_body(world: BotWorld) -> None:
    await open_campaign(world)
    applicant = await endorsed(world)
    office = world.user(OFFICE_ID, "王主任")
    await return_the_seal(office)

    await applicant.press_data("ne:1:submit")  # the body's part is still missing
    assert "推荐单位完成后才能重新提交" in applicant.last_text
    assert await stage_of(world) == "returned_for_supplement"

    async with world.sessions() as session:
        notice = (
            await session.exec(
                select(OutboxMessage).where(
                    to_chat(MEMBER),
                    OutboxMessage.template == "precheck.returned_notice_recommender",
                )
            )
        ).one()
    again = f"t:{notice.buttons[0][0]['token']}"
    assert notice.buttons[0][0]["label"] == "nomination.reendorse"
    stranger = await registered(world, 4399, "路人")
    await stranger.press_data(again)  # the button was issued to the member alone
    assert "这个按钮不是发给您的" in stranger.last_text
    member = world.user(MEMBER, "陈女士")
    await member.press_data(again)
    await member.send("该同志服务成绩突出，同意推荐（重新盖章）。")
    sharper = BytesIO()
    Image.new("RGB", (60, 40), "red").save(sharper, format="PNG")
    await member.upload("推荐意见-重新盖章.png", sharper.getvalue(), mime_type="image/png")
    assert "已重新出具第 1 号申报的推荐意见" in member.last_text
    assert await outbox_texts(world, APPLICANT, "nomination.reendorsed_notice")
    async with world.sessions() as session:
        actions = [r.action for r in (await session.exec(select(AuditRecord))).all()]
    assert "nomination.reendorsed" in actions

    await applicant.press_data("ne:1:submit")
    assert await stage_of(world) == "resubmitted"
    await open_first(office)
    assert "推荐单位已重新出具推荐意见和盖章扫描件" in office.texts()[0]
    await member.press_data(again)  # nothing is open for the body any more
    assert "无需重新出具" in member.last_text
