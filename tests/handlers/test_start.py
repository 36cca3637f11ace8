"""First contact: introduction, consent, language, privacy, and a person's own data."""

import json

from aiogram.methods import AnswerCallbackQuery
from sqlmodel import select

from models import AuditRecord, ChannelAccount, Person
from tests.conftest import BotWorld


async def test_start_answers_in_chinese_and_stores_nothing_before_consent(world: BotWorld) -> None:
    zhang = world.user(1001)
    await zhang.send("/start")
    assert "服务明星助手" in zhang.texts()[0]
    assert "个人信息保护说明" in zhang.last_text
    assert zhang.buttons() == ["同意", "不同意"]
    async with world.sessions() as session:
        assert (await session.exec(select(Person))).all() == []


async def test_consent_records_the_person_with_an_audit_record(world: BotWorld) -> None:
    zhang = world.user(1001, first_name="张伟")
    await zhang.send("/start")
    await zhang.press("同意")
    assert "已记录您的同意" in zhang.texts()[0]
    async with world.sessions() as session:
        person = (await session.exec(select(Person))).one()
        assert (person.name, person.consent_at) == ("张伟", world.clock.now())
        account = (await session.exec(select(ChannelAccount))).one()
        assert (account.person_id, account.channel, account.address) == (person.id, "telegram", "1001")
        record = (await session.exec(select(AuditRecord))).one()
        assert (record.action, record.actor_id) == ("person.consented", person.id)


async def test_a_second_tap_on_agree_only_says_it_was_given(world: BotWorld) -> None:
    zhang = world.user(1001, first_name="张伟")
    await zhang.send("/start")
    await zhang.press("同意")
    replies = await zhang.press("同意")  # a double tap, or the old notice pressed days later
    assert [(type(r), r.show_alert, r.text) for r in replies] == [
        (AnswerCallbackQuery, True, "您已同意，可发送 /menu 继续。")
    ]
    async with world.sessions() as session:
        assert len((await session.exec(select(Person))).all()) == 1
        assert [r.action for r in (await session.exec(select(AuditRecord))).all()] == ["person.consented"]


async def test_declining_keeps_nothing(world: BotWorld) -> None:
    li = world.user(1002)
    await li.send("/start")
    await li.press("不同意")
    assert "没有保存您的任何信息" in li.last_text
    async with world.sessions() as session:
        assert (await session.exec(select(Person))).all() == []


async def test_english_speaker_gets_english(world: BotWorld) -> None:
    anna = world.user(1003, first_name="Anna", language_code="en")
    await anna.send("/start")
    assert "How we handle your personal data" in anna.last_text
    assert anna.buttons() == ["I agree", "I do not agree"]


async def test_language_switch_is_remembered(world: BotWorld) -> None:
    zhang = world.user(1001)
    await zhang.send("/start")
    await zhang.press("同意")
    await zhang.send("/lang")
    await zhang.press("English")
    assert zhang.last_text == "Language set to English."
    await zhang.send("/help")
    assert "/mydata export my data" in zhang.last_text


async def test_language_before_consent_stays_out_of_the_database(world: BotWorld) -> None:
    zhang = world.user(1001)
    await zhang.send("/lang")
    await zhang.press("English")
    await zhang.send("/start")
    assert "How we handle your personal data" in zhang.last_text
    async with world.sessions() as session:
        assert (await session.exec(select(Person))).all() == []


async def test_mydata_sends_everything_held(world: BotWorld) -> None:
    zhang = world.user(1001, first_name="张伟")
    await zhang.send("/start")
    await zhang.press("同意")
    await zhang.send("/mydata")
    document = zhang.replies[-1]
    content = json.loads(b"".join([chunk async for chunk in document.document.read(zhang.session)]))
    assert content["person"]["name"] == "张伟"
    assert content["audit_records"][0]["action"] == "person.consented"


async def test_forget_erases_identity_but_keeps_the_audit_chain(world: BotWorld) -> None:
    zhang = world.user(1001, first_name="张伟")
    await zhang.send("/start")
    await zhang.press("同意")
    await zhang.send("/forget")
    await zhang.press("确定删除")
    assert "已删除" in zhang.last_text
    async with world.sessions() as session:
        person = (await session.exec(select(Person))).one()
        assert person.name == ""
        assert (await session.exec(select(ChannelAccount))).all() == []  # nothing reaches them any more
        actions = [
            r.action for r in (await session.exec(select(AuditRecord).order_by(AuditRecord.seq))).all()
        ]
        assert actions == ["person.consented", "person.forgotten"]
    await zhang.send("/start")
    assert "个人信息保护说明" in zhang.last_text


async def test_unknown_command_and_stray_text_get_clear_answers(world: BotWorld) -> None:
    zhang = world.user(1001)
    await zhang.send("/nosuchthing")
    assert "没有这个命令" in zhang.last_text
    await zhang.send("你好")
    assert "没有理解" in zhang.last_text


async def test_a_duplicate_update_changes_nothing(world: BotWorld) -> None:
    zhang = world.user(1001)
    await zhang.send("/start")
    consent = zhang.session.requests[-1].reply_markup.inline_keyboard[0][0].callback_data
    await zhang.press_data(consent)
    update = zhang.dispatcher  # noqa: F841
    async with world.sessions() as session:
        before = len((await session.exec(select(AuditRecord))).all())
    # Telegram re-delivers the very same update (same update_id): nothing runs twice.
    from aiogram.types import Update

    last = Update(update_id=999_999, message=zhang.message(text="/forget"))
    await zhang.feed(last)
    await zhang.feed(last)
    assert len(zhang.replies) == 0
    async with world.sessions() as session:
        assert len((await session.exec(select(AuditRecord))).all()) == before
