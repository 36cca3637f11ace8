"""Symptoms seen against real Telegram, each proven gone against the strict double (which the
`world` fixture also checks after every test: no call Telegram would refuse, no dead letter)."""

import pytest
from aiogram.methods import AnswerCallbackQuery, SendMessage
from sqlmodel import select

from bot.inbox import InboxProcessor
from handlers.channel import address
from models import Invitation, OutboxMessage
from services import outbox, people
from tests.conftest import OFFICE_ID, BotWorld
from tests.handlers.test_cards import new_card
from tests.handlers.test_inbox import consent_update, start_update, statuses
from tests.handlers.test_office import invite_link, registered
from tests.handlers.test_selfcheck import open_campaign
from tests.support.client import UserClient
from tests.support.people import to_chat


def answers(client: UserClient) -> list[AnswerCallbackQuery]:
    return [m for m in client.replies if isinstance(m, AnswerCallbackQuery)]


async def test_a_press_from_the_wrong_role_is_refused_once(world: BotWorld) -> None:
    """An applicant pressing 审定 from an old menu: the leading group's gate stops it before any
    handler, and the refusal is the answer, given once. (A refusal after a handler answered the
    press arrives as a message: the paused card below.)"""
    applicant = await registered(world, 6101, "张伟")
    await applicant.press_data("m:approve")
    assert applicant.last_text == "此功能仅限领导小组成员使用。"
    assert len(answers(applicant)) == 1
    english = await registered(world, 6102, "Alice", language_code="en")
    await english.press_data("m:approve")
    assert "leading-group member" in english.last_text and len(answers(english)) == 1


async def test_a_customer_pressing_skip_after_the_card_was_paused_is_told_why(world: BotWorld) -> None:
    await open_campaign(world)
    owner = await registered(world, 6103, "王芳")
    payload = await new_card(world, owner, "王芳")
    customer = world.user(7101, "顾客")
    await customer.send(f"/start {payload}")
    for level in ["很满意"] * 5:
        await customer.press(level)
    await customer.press("10")
    await owner.press("暂停")
    await customer.press("跳过")
    assert "暂停使用" in " ".join(customer.texts()) and len(answers(customer)) == 1


async def test_opening_a_used_invitation_and_agreeing_shows_why_it_cannot_be_used(world: BotWorld) -> None:
    office = await registered(world, OFFICE_ID, "王主任")
    link = await invite_link(office, "评审委员")
    first = world.user(6104, "评审甲")
    await first.send(f"/start {link}")
    await first.press("同意")
    await first.press("接受邀请")
    late = world.user(6105, "评审乙")
    await late.send(f"/start {link}")
    await late.press("同意")  # consent, then the kept invitation is found used
    assert "该邀请链接已被使用过" in " ".join(late.texts())
    assert len(answers(late)) == 1
    async with world.sessions() as session:
        assert (await session.exec(select(Invitation))).one().used_at is not None


async def test_agreeing_twice_on_the_privacy_notice_is_not_dead_lettered(world: BotWorld) -> None:
    """The second 同意 re-renders the same notice: Telegram answers "message is not modified"; that
    is done, not a failure."""
    inbox = InboxProcessor(world.dispatcher, world.bot, world.sessions, world.clock)
    await inbox.store(
        [start_update(61, user_id=6106), consent_update(62, user_id=6106), consent_update(63, user_id=6106)]
    )
    assert await inbox.process_pending() == 3
    assert set((await statuses(world)).values()) == {"done"}
    texts = [m.text for m in world.bot.session.requests if isinstance(m, SendMessage)]  # type: ignore[attr-defined]
    assert not any("失败" in text for text in texts)


async def test_the_honours_button_in_the_menu_shows_the_register(world: BotWorld) -> None:
    stranger = world.user(6107, "路人")
    await stranger.send("/menu")
    await stranger.press("荣誉名录", contains=True)
    assert "荣誉" in stranger.last_text and len(answers(stranger)) == 1


async def test_ids_beyond_64_bits_in_button_data_are_refused_as_stale_buttons(world: BotWorld) -> None:
    office = await registered(world, OFFICE_ID, "王主任")
    for forged in (
        "po:99999999999999999999",
        "sa:1:184467440737095516160:yes",
        "co:-99999999999999999999:show",
    ):
        await office.press_data(forged)
        assert office.last_text == "这个按钮已失效，请发送 /menu 重新开始。"
        assert len(answers(office)) == 1
    await office.send("/export 99999999999999999999")
    assert "/export" in office.last_text


@pytest.mark.telegram_refuses  # the 403 is the point
async def test_an_answer_to_someone_who_blocked_the_bot_settles_the_update(world: BotWorld) -> None:
    zhang = await registered(world, 6108, "张伟")
    world.bot.session.rules.blocked.add(6108)  # type: ignore[attr-defined]
    inbox = InboxProcessor(world.dispatcher, world.bot, world.sessions, world.clock)
    await inbox.store([start_update(81, user_id=zhang.chat.id)])
    assert await inbox.process_pending() == 1
    assert (await statuses(world))[81] == "done"  # not retried, not dead-lettered
    async with world.sessions() as session:
        person = (await session.exec(people.at(address(6108)))).one()
        assert person.blocked_at is not None


async def test_a_person_who_blocked_the_bot_and_writes_again_is_reached_again(world: BotWorld) -> None:
    zhang = await registered(world, 6109, "张伟")
    async with world.sessions() as session:
        await people.mark_blocked(session, address(6109), world.clock.now())
    await zhang.send("/export 99")  # refused (not office): the unblocking is kept all the same
    async with world.sessions() as session:
        assert (await session.exec(people.at(address(6109)))).one().blocked_at is None
        await outbox.enqueue(session, chat_id=6109, template="update.dead_letter", now=world.clock.now())
        await session.commit()
        assert len((await session.exec(select(OutboxMessage).where(to_chat(6109)))).all()) == 1
