"""The office's announcements through the real Dispatcher: compose, preview exactly as sent,
confirm once, live progress; refusals; and everyone's /subscribe and /unsubscribe."""

import itertools
from io import BytesIO

from aiogram.exceptions import TelegramBadRequest
from aiogram.methods import EditMessageText, SendDocument, SendMessage, SendPhoto
from aiogram.types import PhotoSize, Update
from PIL import Image
from sqlmodel import col, select

from bot.notifier import OutboxSender
from bot.outbox_render import outbox_renderer
from models import ActionToken, AuditRecord, Broadcast, ChannelAccount, OutboxMessage, Person
from tests.conftest import OFFICE_ID, BotWorld
from tests.handlers.test_nomination import PDF  # a blank page the upload checks accept
from tests.handlers.test_office import registered
from tests.support.client import UserClient
from tests.support.people import chat_of

TEXT = "表彰大会 <11月30日> 召开 & 欢迎出席"
SHOWN = "表彰大会 &lt;11月30日&gt; 召开 &amp; 欢迎出席"
_photo_ids = itertools.count(1)


def sender(world: BotWorld) -> OutboxSender:
    return OutboxSender(
        world.bot,
        world.sessions,
        outbox_renderer(world.i18n),
        world.clock,
        files_dir=world.settings.data_dir / "files",
    )


def jpeg() -> bytes:
    out = BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(out, "JPEG")
    return out.getvalue()


async def send_photo(client: UserClient, content: bytes, caption: str | None = None) -> None:
    file_id = f"photo-{next(_photo_ids)}"
    client.session.files[file_id] = content
    photo = [PhotoSize(file_id=file_id, file_unique_id=file_id, width=8, height=8, file_size=len(content))]
    await client.feed(
        Update(update_id=900000 + next(_photo_ids), message=client.message(photo=photo, caption=caption))
    )


async def broadcast_rows(world: BotWorld) -> list[OutboxMessage]:
    async with world.sessions() as session:
        broadcast = select(OutboxMessage).where(col(OutboxMessage.broadcast_id).is_not(None))
        rows = (await session.exec(broadcast)).all()
        for row in rows:  # the chat each is sent to (a person's is looked up when it is sent)
            row.chat_id = await chat_of(session, row)
        return sorted(rows, key=lambda row: row.chat_id or 0)


def requests(world: BotWorld, kind: type) -> list:  # type: ignore[type-arg]
    return [m for m in world.bot.session.requests if isinstance(m, kind)]  # type: ignore[attr-defined]


async def test_office_composes_previews_confirms_once_and_sees_the_final_report(world: BotWorld) -> None:
    office = await registered(world, OFFICE_ID, "王主任")
    await registered(world, 5001, "张伟")
    await registered(world, 5002, "Alice", language_code="en")
    leaver = await registered(world, 5003, "李四")
    await leaver.send("/unsubscribe")
    world.settings.announcement_chat_id = -1001234  # the announcement channel gets it too

    await office.send("/announce")
    assert "请发送公告正文" in office.last_text and office.buttons() == ["预览", "取消"]
    await office.send(TEXT)
    assert "已记录正文（23 字）" in office.last_text
    await office.press("预览")
    assert office.texts() == [
        "预览如下，收件人看到的公告与此完全相同：",
        SHOWN,
        "以上公告将发送给 4 个收件方（订阅者及公告频道）。确认发送吗？",
    ]
    assert office.buttons() == ["确认发送", "取消"]
    await office.press("确认发送")
    progress = [m for m in office.replies if isinstance(m, EditMessageText)]
    assert progress and progress[-1].text.startswith("📣 公告发送中：已发送 0 / 4")

    rows = await broadcast_rows(world)
    assert [r.chat_id for r in rows] == [-1001234, 5001, 5002, OFFICE_ID]  # not the one who unsubscribed
    assert {r.template for r in rows} == {"announce.message"} and rows[0].params["text"] == TEXT
    async with world.sessions() as session:
        broadcast = (await session.exec(select(Broadcast))).one()
        assert (broadcast.total, broadcast.progress_chat_id, broadcast.text) == (4, OFFICE_ID, TEXT)
        audit = (await session.exec(select(AuditRecord).where(AuditRecord.action == "broadcast.sent"))).one()
        assert audit.details["recipients"] == 4 and audit.details["article"] == "第十七条第3项"

    await office.press("确认发送")  # pressed again (or delivered twice): nothing more is queued
    assert "不会重复发送" in office.last_text
    assert len(await broadcast_rows(world)) == 4

    running = sender(world)
    await running.run_once()
    assert await running.show_progress() == 1
    sent = {m.chat_id: m.text for m in requests(world, SendMessage) if m.chat_id in (5001, 5002, -1001234)}
    assert sent == {5001: SHOWN, 5002: SHOWN, -1001234: SHOWN}  # the office's words, in every language
    final = requests(world, EditMessageText)[-1]
    assert (final.chat_id, final.message_id) == (OFFICE_ID, broadcast.progress_message_id)
    assert final.text.startswith("📣 公告发送完毕：已发送 4 / 4\n失败 0 · 已屏蔽机器人 0 · 不确定 0")
    assert await running.show_progress() == 0  # finished: never edited again
    assert SHOWN not in [m.text for m in requests(world, SendMessage) if m.chat_id == 5003]


async def test_an_image_or_a_document_goes_with_the_text(world: BotWorld) -> None:
    office = await registered(world, OFFICE_ID, "王主任")
    await registered(world, 5011, "张伟")
    await office.send("/announce")
    await office.upload("名单.pdf", b"not a pdf at all")
    assert "内容并不是 PDF" in office.last_text  # refused: the draft is unchanged
    await send_photo(office, jpeg(), caption="获奖名单见图")
    assert "已附上：photo-" in office.last_text and ".jpg" in office.last_text
    await office.press("预览")
    shown = [m for m in office.replies if isinstance(m, SendPhoto)]
    assert len(shown) == 1 and shown[0].caption == "获奖名单见图"
    await office.upload("获奖名单.pdf", PDF)  # a document replaces the image; the text stays
    await office.press("预览")
    shown_doc = [m for m in office.replies if isinstance(m, SendDocument)]
    assert len(shown_doc) == 1 and shown_doc[0].caption == "获奖名单见图"
    await office.press("确认发送")
    rows = await broadcast_rows(world)
    assert len(rows) == 2 and all(r.document_path and r.params["file_name"] == "获奖名单.pdf" for r in rows)
    await sender(world).run_once()
    delivered = [m for m in requests(world, SendDocument) if m.chat_id == 5011]
    assert len(delivered) == 1 and delivered[0].caption == "获奖名单见图"


async def test_a_photo_is_delivered_as_a_photo(world: BotWorld) -> None:
    office = await registered(world, OFFICE_ID, "王主任")
    await registered(world, 5012, "张伟")
    await office.send("/announce")
    await send_photo(office, jpeg())
    await office.press("预览")
    await office.press("确认发送")
    await sender(world).run_once()
    assert [m.chat_id for m in requests(world, SendPhoto)].count(5012) == 1


async def test_an_empty_announcement_is_refused(world: BotWorld) -> None:
    office = await registered(world, OFFICE_ID, "王主任")
    await office.send("/announce")
    await office.press("预览")
    assert office.last_text == "公告内容为空：请先发送正文，或附上一张图片或一个文件。"
    await office.send("/subscribe")  # a command mid-draft leaves the draft and runs, not into the text
    assert office.texts() == ["已退出「公告草稿」。", "您已订阅公告。发送 /unsubscribe 可退订。"]
    await office.send("/announce")
    await office.feed(
        Update(update_id=990001, message=office.message(location={"latitude": 23.1, "longitude": 113.3}))
    )
    assert "请发送公告正文文字、一张图片或一个文件" in office.last_text  # re-asked
    await office.send("长" * 4097)
    assert "公告正文过长：4097 字，上限 4096 字" in office.last_text
    await send_photo(office, jpeg(), caption="图" * 1025)
    assert "上限 1024 字" in office.last_text
    async with world.sessions() as session:
        assert (await session.exec(select(Broadcast))).first() is None
        assert (
            await session.exec(select(ActionToken).where(ActionToken.action == "announce.confirm"))
        ).first() is None
    await office.send("正文")
    await office.press("预览")
    assert office.texts()[1] == "正文"  # still composing: the refusals kept nothing


async def test_cancel_or_a_day_old_preview_sends_nothing(world: BotWorld) -> None:
    office = await registered(world, OFFICE_ID, "王主任")
    await office.send("/announce")
    await office.send("通知")
    await office.press("预览")
    await office.press("取消")
    assert office.last_text == "已取消，公告未发送。"
    await office.press("确认发送")
    assert "按钮无效或已失效" in office.last_text
    await office.send("/announce")
    await office.send("通知")
    await office.press("预览")
    world.clock.advance(days=1, seconds=1)  # a preview left for a day must be made again
    await office.press("确认发送")
    assert office.last_text == "这个按钮已过期，请重新操作。"
    assert await broadcast_rows(world) == []


async def test_only_the_office_may_announce(world: BotWorld) -> None:
    office = await registered(world, OFFICE_ID, "王主任")
    somebody = await registered(world, 5021, "钱某")
    await somebody.send("/announce")
    assert somebody.last_text == "此功能仅限办公室工作人员使用。"
    await somebody.send("/menu")
    assert "发布公告" not in somebody.buttons() and "订阅公告" in somebody.buttons()
    await office.send("/menu")
    assert "发布公告" in office.buttons()
    await office.send("/announce")
    await office.send("内部通知")
    await office.press("预览")
    confirm = next(
        b.callback_data
        for m in office.replies
        if getattr(m, "reply_markup", None)
        for row in m.reply_markup.inline_keyboard
        for b in row
        if b.text == "确认发送"
    )
    await somebody.press_data(confirm or "")  # a forwarded or forged press
    assert somebody.last_text == "这个按钮不是发给您的，无法操作。"
    assert await broadcast_rows(world) == []


async def test_subscribe_and_unsubscribe(world: BotWorld) -> None:
    stranger = world.user(5030)
    await stranger.send("/subscribe")
    assert "请先发送 /start" in stranger.last_text
    person = await registered(world, 5031, "张伟")
    await person.send("/unsubscribe")
    assert person.last_text == "已退订公告，今后不会再收到公告。发送 /subscribe 可重新订阅。"
    await person.send("/unsubscribe")
    assert person.last_text == "您目前没有订阅公告。发送 /subscribe 可订阅。"
    await person.send("/subscribe")
    assert person.last_text == "已订阅公告。发送 /unsubscribe 可随时退订。"
    await person.send("/menu")
    await person.press("订阅公告")
    assert person.last_text == "您目前已订阅办公室发布的公告。" and person.buttons() == ["退订公告"]
    await person.press("退订公告")
    assert person.last_text.startswith("已退订公告")
    english = await registered(world, 5032, "Alice", language_code="en")
    await english.send("/unsubscribe")
    assert english.last_text.startswith("You have unsubscribed")
    async with world.sessions() as session:
        flags = dict(
            (
                await session.exec(
                    select(ChannelAccount.address, Person.subscribed)
                    .join(Person, col(Person.id) == ChannelAccount.person_id)
                    .where(col(ChannelAccount.address).in_(["5031", "5032"]))
                )
            ).all()
        )
        assert flags == {"5031": False, "5032": False}
        actions = (
            await session.exec(
                select(AuditRecord.action)
                .where(col(AuditRecord.action).in_(["person.subscribed", "person.unsubscribed"]))
                .order_by(AuditRecord.seq)
            )
        ).all()
        assert list(actions) == [
            "person.unsubscribed",
            "person.subscribed",
            "person.unsubscribed",
            "person.unsubscribed",
        ]


async def test_message_is_not_modified_is_swallowed_and_the_report_still_lands(world: BotWorld) -> None:
    office = await registered(world, OFFICE_ID, "王主任")
    await registered(world, 5041, "张伟")
    await office.send("/announce")
    await office.send("通知")
    await office.press("预览")
    await office.press("确认发送")
    running = sender(world)
    await running.run_once()
    world.bot.session.script(  # type: ignore[attr-defined]
        TelegramBadRequest(method=EditMessageText(text="x"), message="Bad Request: message is not modified")
    )
    assert await running.show_progress() == 1  # it already shows that: done
    async with world.sessions() as session:
        broadcast = (await session.exec(select(Broadcast))).one()
        assert broadcast.finished_at is not None and "sent=2" in broadcast.progress_shown
    assert await running.show_progress() == 0  # finished: not tried again
