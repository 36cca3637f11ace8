"""Honours through the real Dispatcher (第十七条): award, certificates, verification, the registry,
three years of reminders with the clock moved, re-review that re-confirms or lapses, revocation,
and the national recommendation list."""

import asyncio
from datetime import UTC, datetime, timedelta
from io import BytesIO

import pytest
from aiogram.methods import SendDocument
from openpyxl import load_workbook
from sqlmodel import col, select

from bot.outbox_render import outbox_renderer
from handlers.channel import address
from models import AuditRecord, Honour, HonourReview, Nomination, OutboxMessage
from scheduler import create_scheduler, register_jobs
from services import people
from services.honours import validity
from services.rules.nomination_flow import Stage
from tests.conftest import OFFICE_ID, BotWorld
from tests.handlers.test_nomination import PDF, recommender_of_gdaq
from tests.handlers.test_office import registered
from tests.handlers.test_selfcheck import open_campaign
from tests.support.client import UserClient, sent_file
from tests.support.lifecycle_guard import seeding
from tests.support.people import chat_of, to_chat

pytestmark = pytest.mark.article("第十七条第1项", "第十七条第2项", "第十七条第3项", "第十七条第4项")

HOLDER, MEMBER, STRANGER = 6001, 6100, 6200


IN_APPROVAL = datetime(2026, 7, 1, 1, 0, tzinfo=UTC)  # 公示 ended about 22 June; 审定 to 15 July


async def approved(
    world: BotWorld,
    telegram_id: int,
    name: str,
    honour: str = "STAR",
    city: str = "广州",
    language: str = "zh-hans",
) -> UserClient:
    """A nomination the leading group approved (that step belongs to another journey), so the
    campaign is in 审定 from here on (1 July of the test campaign)."""
    client = await registered(world, telegram_id, name, language)
    async with world.sessions() as session:
        person = (await people.load_actor(session, address(telegram_id), fallback_language="zh_CN")).person_id
        fields = (
            {"name": name, "employer": "广州地铁", "city": city} if honour == "STAR" else {"team_name": name}
        )
        with seeding():
            session.add(
                Nomination(
                    campaign_id=1,
                    honour=honour,
                    applicant_id=person or 0,
                    organisation_id=1,
                    stage=Stage.APPROVED.value,
                    fields=fields,
                    created_at=world.clock.now(),
                    updated_at=world.clock.now(),
                )
            )
        await session.commit()
    world.clock.current = max(world.clock.now(), IN_APPROVAL)
    return client


async def awarded(world: BotWorld) -> tuple[UserClient, UserClient, UserClient]:
    await open_campaign(world)
    office = world.user(OFFICE_ID, "王主任")
    member = await recommender_of_gdaq(world, MEMBER)
    holder = await approved(world, HOLDER, "张伟")
    await office.send("/award")
    await office.press("确认授予 2026 年度 1 项")
    assert "已授予 1 项荣誉称号" in office.last_text and "GD-2026-STAR-0001 张伟" in office.last_text
    return office, holder, member


async def sweep(world: BotWorld) -> validity.SweepReport:
    async with world.sessions() as session:
        return await validity.sweep(session, world.clock.now())


async def outbox(world: BotWorld, template: str, chat_id: int | None = None) -> list[OutboxMessage]:
    async with world.sessions() as session:
        statement = select(OutboxMessage).where(OutboxMessage.template == template)
        if chat_id is not None:
            statement = statement.where(to_chat(chat_id))
        rows = (await session.exec(statement.order_by(col(OutboxMessage.id)))).all()
        for row in rows:  # the chat each is sent to (a person's is looked up when it is sent)
            row.chat_id = await chat_of(session, row)
        return list(rows)


async def honour_row(world: BotWorld, number: str = "GD-2026-STAR-0001") -> Honour:
    async with world.sessions() as session:
        return (await session.exec(select(Honour).where(Honour.certificate_no == number))).one()


def button(row: OutboxMessage, label: str) -> str:
    return next(f"t:{b['token']}" for line in row.buttons for b in line if b["label"] == label)


async def test_award_numbers_each_honour_once_and_sends_the_certificate(world: BotWorld) -> None:
    await open_campaign(world)
    office = world.user(OFFICE_ID, "王主任")
    await recommender_of_gdaq(world, MEMBER)
    await approved(world, HOLDER, "张伟")
    await approved(world, 6002, "李娜")
    await approved(world, 6003, "地铁一号线客服班组", honour="TEAM")
    stranger = await registered(world, STRANGER, "钱某")
    await stranger.send("/award")
    assert "办公室" in stranger.last_text  # only the office awards
    await office.send("/award")
    assert "确认授予" in office.last_text and office.buttons() == ["确认授予 2026 年度 3 项"]
    await office.press("确认授予 2026 年度 3 项")
    assert "已授予 3 项" in office.last_text
    await office.press("确认授予 2026 年度 3 项")  # the same confirmation twice
    assert office.last_text == "此操作已完成，无需再按。"
    await office.send("/award")
    assert "没有待授予的已批准申报" in office.last_text
    async with world.sessions() as session:
        rows = (await session.exec(select(Honour).order_by(col(Honour.certificate_no)))).all()
        assert [(h.certificate_no, h.holder_name) for h in rows] == [
            ("GD-2026-STAR-0001", "张伟"),
            ("GD-2026-STAR-0002", "李娜"),
            ("GD-2026-TEAM-0001", "地铁一号线客服班组"),
        ]
        first = rows[0]
        assert (first.status, first.city, first.unit, first.organisation_id) == (
            "valid",
            "广州",
            "广州地铁",
            1,
        )
        assert (
            first.valid_until == first.valid_from.replace(year=2029) == world.clock.now().replace(year=2029)
        )
        awards = (await session.exec(select(AuditRecord).where(AuditRecord.action == "honour.awarded"))).all()
        assert len(awards) == 3 and awards[0].details["article"] == "第十七条第1项"
    certificate = (await outbox(world, "honour.awarded_holder", HOLDER))[0]
    assert certificate.document_path and certificate.params["file_name"] == "GD-2026-STAR-0001.pdf"
    stored = world.settings.data_dir / "files" / certificate.document_path
    assert stored.read_bytes().startswith(b"%PDF")
    assert len(await outbox(world, "honour.awarded_body", MEMBER)) == 3


async def test_anyone_verifies_a_certificate_by_command_or_qr_link(world: BotWorld) -> None:
    await awarded(world)
    visitor = world.user(7001, "路人")  # never agreed to the privacy notice
    await visitor.send("/verify GD-2026-STAR-0001")
    text = visitor.last_text
    assert "获奖者：张伟" in text and "广东省用户满意服务明星" in text and "状态：<b>有效</b>" in text
    assert "有效期：2026-07-01 至 2029-07-01" in text and "2026 年度活动" in text
    await visitor.send("/start v-GD-2026-STAR-0001")  # what the certificate's QR code opens
    assert "获奖者：张伟" in visitor.last_text
    await visitor.send("/verify ＧＤ-2026-star-0001")  # full-width and lower case, as typed on a phone
    assert "获奖者：张伟" in visitor.last_text
    await visitor.send("/verify GD2026STAR1")
    assert "证书编号格式不正确" in visitor.last_text and "GD-2026-STAR-0001" in visitor.last_text
    await visitor.send("/start v-GD-2026-STAR-0999")
    assert "查无此证书：GD-2026-STAR-0999" in visitor.last_text
    await visitor.send("/verify")
    assert "请发送证书编号" in visitor.last_text
    await visitor.send("GD-2026-STAR-0001")
    assert "获奖者：张伟" in visitor.last_text
    english = world.user(7002, "Visitor", language_code="en")
    await english.send("/verify GD-2026-STAR-0001")
    assert "Holder: 张伟" in english.last_text and "Status: <b>valid</b>" in english.last_text
    await english.send("/verify nonsense")
    assert "That is not a certificate number" in english.last_text


async def test_the_public_registry_filters_by_honour_and_city_and_pages(world: BotWorld) -> None:
    await open_campaign(world)
    office = world.user(OFFICE_ID, "王主任")
    for i in range(11):
        await approved(world, 6300 + i, f"明星{i:02d}", city="广州" if i % 2 else "深圳")
    await approved(world, 6400, "客服班组", honour="TEAM")
    await office.send("/award")
    await office.press("确认授予 2026 年度 12 项")
    visitor = world.user(7003, "路人")
    await visitor.send("/honours")
    assert "共 12 项，第 1/2 页" in visitor.last_text and "GD-2026-STAR-0001 明星00" in visitor.last_text
    await visitor.press("下一页")
    assert "第 2/2 页" in visitor.last_text and "GD-2026-TEAM-0001 客服班组" in visitor.last_text
    await visitor.press("班组")
    assert "共 1 项" in visitor.last_text and "GD-2026-STAR" not in visitor.last_text
    await visitor.press("全部")
    await visitor.press("深圳")
    assert "共 6 项" in visitor.last_text and "广州" not in visitor.last_text.split("\n", 1)[1]
    english = world.user(7004, "Visitor", language_code="en")
    await english.send("/honours")
    assert "Honours registry" in english.last_text and "12 in all" in english.last_text


async def test_three_years_of_reminders_each_sent_once_then_expiry(world: BotWorld) -> None:
    _, holder, _ = await awarded(world)
    until = (await honour_row(world)).valid_until
    for days in (180, 90, 30, 7):
        world.clock.current = until - timedelta(days=days) + timedelta(hours=2)
        first, second = await sweep(world), await sweep(world)  # the sweep runs twice at each point
        assert (first.reminded, second.reminded) == (1, 0)
        for chat in (HOLDER, MEMBER, OFFICE_ID):
            sent = [
                r.params["days"]
                for r in await outbox(world, "honour.reminder", chat)
                + await outbox(world, "honour.reminder_office", chat)
            ]
            assert sent == [d for d in (180, 90, 30, 7) if d >= days], (chat, sent)
    last = (await outbox(world, "honour.reminder", HOLDER))[-1]
    assert last.params["until"] == "2029-07-01" and button(last, "honour.start_rereview")
    world.clock.current = until + timedelta(hours=1)
    assert (await sweep(world)).expired == 1 and (await sweep(world)).expired == 0
    assert (await honour_row(world)).status == "expired"
    assert [r.chat_id for r in await outbox(world, "honour.expired_notice")] == [HOLDER, MEMBER, OFFICE_ID]
    await holder.send("/verify GD-2026-STAR-0001")
    assert "状态：<b>已过期</b>" in holder.last_text


async def test_the_reminder_reads_well_in_each_recipients_language(world: BotWorld) -> None:
    await awarded(world)
    world.clock.current = (await honour_row(world)).valid_until - timedelta(days=179)
    await sweep(world)
    row = (await outbox(world, "honour.reminder", HOLDER))[0]
    render = outbox_renderer(world.i18n)
    text, markup = render(row, "zh_CN")
    assert (
        "荣誉称号“广东省用户满意服务明星”（张伟，证书 GD-2026-STAR-0001）将于 2029-07-01 到期，还有 180 天"
        in text
    )
    assert markup is not None and markup.inline_keyboard[0][0].text == "开始复议"
    text, markup = render(row, "en")
    assert "expires on 2029-07-01, in 180 days" in text and "Art. 17.2" in text
    assert markup is not None and markup.inline_keyboard[0][0].text == "Start the re-review"


async def test_after_downtime_the_scheduled_job_sends_only_the_latest_reminder(world: BotWorld) -> None:
    await awarded(world)
    scheduler = create_scheduler(world.settings.zone)
    register_jobs(scheduler, world.sessions, world.clock)
    job = scheduler.get_job("honour_sweep")  # the one periodic job: no job per honour
    assert job is not None and len([j for j in scheduler.get_jobs() if j.id.startswith("honour")]) == 1
    until = (await honour_row(world)).valid_until
    world.clock.current = until - timedelta(days=20)  # down across the 180, 90 and 30-day times
    await job.func()
    await job.func()
    assert [r.params["days"] for r in await outbox(world, "honour.reminder", HOLDER)] == [30]


async def test_the_certificate_is_there_for_the_holder_and_the_office_only(world: BotWorld) -> None:
    office, holder, member = await awarded(world)
    await office.send("/certificate GD-2026-STAR-0001")
    sent = next(r for r in office.replies if isinstance(r, SendDocument))
    assert (await sent_file(office, sent)).startswith(b"%PDF") and sent.protect_content
    await holder.send("/certificate GD-2026-STAR-0001")
    assert any(isinstance(r, SendDocument) for r in holder.replies)
    await member.send("/certificate GD-2026-STAR-0001")
    assert "只有获奖者本人和办公室可以取得该证书" in member.last_text


async def test_two_sweeps_at_once_send_each_reminder_once(world: BotWorld) -> None:
    await awarded(world)
    world.clock.current = (await honour_row(world)).valid_until - timedelta(days=100)
    reports = await asyncio.gather(sweep(world), sweep(world), sweep(world))
    assert sorted(r.reminded for r in reports) == [0, 0, 1]
    assert [r.params["days"] for r in await outbox(world, "honour.reminder", HOLDER)] == [180]


async def start_rereview(world: BotWorld, client: UserClient) -> None:
    reminder = (await outbox(world, "honour.reminder", client.chat.id))[-1]
    await client.press_data(button(reminder, "honour.start_rereview"))
    assert "请上传新的用户满意度测评报告" in client.last_text


async def test_a_rereview_that_reconfirms_for_three_more_years(world: BotWorld) -> None:
    office, holder, _ = await awarded(world)
    until = (await honour_row(world)).valid_until
    world.clock.current = until - timedelta(days=89)
    await sweep(world)
    stranger = await registered(world, STRANGER, "钱某")
    await stranger.send("/rereview GD-2026-STAR-0001")
    assert "只有获奖者本人或其推荐单位可以申请复议" in stranger.last_text
    await start_rereview(world, holder)
    await holder.send("报告在路上")  # text where a file is expected
    assert "请以文件形式发送材料" in holder.last_text
    await holder.press("提交复议")
    assert "请先上传新的用户满意度测评报告" in holder.last_text
    await holder.upload("2028年测评报告.pdf", PDF)
    assert "已保存：2028年测评报告.pdf（用户满意度测评报告）" in holder.last_text
    await holder.upload("表扬信.pdf", PDF + b"% letter\n")
    assert "（证明材料）" in holder.last_text
    await holder.press("提交复议")
    assert "复议材料已提交" in holder.last_text
    request = (await outbox(world, "honour.rereview_for_office", OFFICE_ID))[0]
    assert request.params["files"] == 2
    await holder.press_data(button(request, "honour.reconfirm"))  # an office button pressed by the holder
    assert "不是发给您的" in holder.last_text
    await office.press_data(button(request, "honour.reconfirm"))
    assert "已重新确认证书 GD-2026-STAR-0001，有效期延至 2032-07-01" in office.last_text
    await office.press_data(button(request, "honour.reconfirm"))  # pressed again: nothing more happens
    assert office.last_text == "此操作已完成，无需再按。"
    renewed = await honour_row(world)
    assert renewed.valid_until == until.replace(year=2032) and renewed.status == "valid"
    async with world.sessions() as session:
        review = (await session.exec(select(HonourReview))).one()
        assert (review.status, review.new_until, len(review.evidence)) == (
            "reconfirmed",
            renewed.valid_until,
            2,
        )
        assert (
            await session.exec(select(AuditRecord).where(AuditRecord.action == "honour.reconfirmed"))
        ).one()
    new_certificate = (await outbox(world, "honour.reconfirmed_holder", HOLDER))[0]
    assert new_certificate.document_path and new_certificate.params["until"] == "2032-07-01"
    world.clock.current = until + timedelta(days=1)  # past the old expiry
    assert (await sweep(world)).expired == 0
    await holder.send("/verify GD-2026-STAR-0001")
    assert "状态：<b>有效</b>" in holder.last_text and "至 2032-07-01" in holder.last_text
    world.clock.current = renewed.valid_until - timedelta(days=179)  # the new period has its own reminders
    assert (await sweep(world)).reminded == 1


async def test_a_rereview_that_lapses_expires_the_honour(world: BotWorld) -> None:
    office, _, member = await awarded(world)
    until = (await honour_row(world)).valid_until
    world.clock.current = until - timedelta(days=29)
    await sweep(world)
    await start_rereview(world, member)  # the recommending body may start it too
    await member.upload("测评报告.pdf", PDF)
    await member.press("提交复议")
    request = (await outbox(world, "honour.rereview_for_office", OFFICE_ID))[0]
    await office.press_data(button(request, "honour.lapse"))
    assert "请输入不予重新确认的理由" in office.last_text
    await office.send("用户满意度测评未达标")
    assert "证书 GD-2026-STAR-0001 不予重新确认，将于 2029-07-01 到期失效" in office.last_text
    notice = (await outbox(world, "honour.lapsed_notice", HOLDER))[0]
    assert notice.params["reason"] == "用户满意度测评未达标"
    world.clock.current = until - timedelta(days=6)
    assert (await sweep(world)).reminded == 0  # decided: no 7-day reminder
    world.clock.current = until + timedelta(minutes=5)
    assert (await sweep(world)).expired == 1
    assert (await honour_row(world)).status == "expired"
    await office.send("/revoke GD-2026-STAR-0001")  # an expired honour cannot be revoked
    assert "当前状态为“已过期”，不能撤销" in office.last_text


async def test_revocation_shows_in_verification_and_cannot_be_repeated(world: BotWorld) -> None:
    office, holder, _ = await awarded(world)
    await holder.send("/revoke GD-2026-STAR-0001")
    assert "办公室" in holder.last_text
    await office.send("/revoke GD-2026-STAR-9999")
    assert "查无此证书" in office.last_text
    await office.send("/revoke GD-2026-STAR-0001")
    assert "请输入撤销理由" in office.last_text
    await office.upload("决定.pdf", PDF)  # a file where the reason is expected
    assert "请以文字输入撤销理由" in office.last_text
    await office.send("提供虚假测评报告，情节严重")
    assert "确认撤销" in office.buttons()
    await office.upload("撤销决定.pdf", PDF)
    assert "已附文件：撤销决定.pdf" in office.texts()[0]
    await office.press("确认撤销")
    assert "证书 GD-2026-STAR-0001 已撤销" in office.last_text
    await office.press("确认撤销")  # the confirmation pressed twice
    assert office.last_text == "此操作已完成，无需再按。"
    await office.send("/revoke GD-2026-STAR-0001")
    assert "当前状态为“已撤销”，不能撤销" in office.last_text
    visitor = world.user(7005, "Visitor", language_code="en")
    await visitor.send("/start v-GD-2026-STAR-0001")
    assert "Status: <b>revoked</b>" in visitor.last_text
    honour = await honour_row(world)
    assert honour.revoke_reason == "提供虚假测评报告，情节严重" and honour.revoke_document_sha256
    assert honour.next_due_at is None
    told = await outbox(world, "honour.revoked_notice")
    assert [r.chat_id for r in told] == [HOLDER, MEMBER] and told[0].params[
        "reason"
    ] == "提供虚假测评报告，情节严重"
    async with world.sessions() as session:
        record = (await session.exec(select(AuditRecord).where(AuditRecord.action == "honour.revoked"))).one()
        assert record.details["article"] == "第十七条第2项" and record.reason == "提供虚假测评报告，情节严重"


async def test_national_recommendation_list_exports_to_excel(world: BotWorld) -> None:
    office, _, _ = await awarded(world)
    async with world.sessions() as session:  # a name that would be a formula in a spreadsheet
        honour = (await session.exec(select(Honour))).one()
        honour.holder_name = '=HYPERLINK("http://x","y")'
        session.add(honour)
        await session.commit()
    await office.send("/national GD-2026-STAR-0001")
    assert "已将证书 GD-2026-STAR-0001" in office.last_text and "全国推荐名单" in office.last_text
    await office.send("/national_export")
    sent = next(r for r in office.replies if isinstance(r, SendDocument))
    data = await sent_file(office, sent)
    sheet = load_workbook(BytesIO(data)).active
    assert sheet is not None
    assert sheet["A2"].value == "GD-2026-STAR-0001"
    assert sheet["B2"].value == '=HYPERLINK("http://x","y")' and sheet["B2"].data_type == "s"
    holder = world.user(HOLDER, "张伟")
    await holder.send("/national_export")
    assert "办公室" in holder.last_text


async def test_menu_offers_honours_and_verify_to_everyone_and_award_to_the_office(world: BotWorld) -> None:
    office, holder, _ = await awarded(world)
    await holder.send("/menu")
    assert {"荣誉名录", "证书核验"} <= set(holder.buttons()) and "授予荣誉" not in holder.buttons()
    await office.send("/menu")
    assert "授予荣誉" in office.buttons()
    await holder.press("证书核验")
    await holder.send("GD-2026-STAR-0001")
    assert "获奖者：张伟" in holder.last_text
    async with world.sessions() as session:
        assert (await session.exec(people.at(address(HOLDER)))).one()


async def test_the_reminder_days_come_from_the_settings(world: BotWorld) -> None:
    world.settings.rereview_reminder_days = (365, 60)  # REREVIEW_REMINDER_DAYS=365,60
    await open_campaign(world)
    await recommender_of_gdaq(world, MEMBER)
    await approved(world, HOLDER, "张伟")
    office = world.user(OFFICE_ID, "王主任")
    await office.send("/award")
    await office.press("确认授予 2026 年度 1 项")
    async with world.sessions() as session:
        honour = (await session.exec(select(Honour))).one()
    assert honour.next_due_at == honour.valid_until - timedelta(days=365)  # the first reminder, not 180 days
