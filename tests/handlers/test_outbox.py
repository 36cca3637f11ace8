"""The outbox sender over the production wiring: each row reaches Telegram at most once, server
errors back off, and rows a crash left mid-send are counted, never repeated."""

from aiogram.exceptions import TelegramServerError
from aiogram.methods import SendMessage
from sqlmodel import select

from bot.notifier import OutboxSender
from bot.outbox_render import outbox_renderer
from models import OutboxMessage, OutboxStatus
from services import outbox
from tests.conftest import BotWorld


def sender(world: BotWorld, **options: object) -> OutboxSender:
    return OutboxSender(world.bot, world.sessions, outbox_renderer(world.i18n), world.clock,
                        files_dir=world.settings.data_dir / "files", **options)  # type: ignore[arg-type]


async def queue(world: BotWorld, *chat_ids: int) -> None:
    async with world.sessions() as session:
        for chat_id in chat_ids:
            await outbox.enqueue(session, chat_id=chat_id, template="roles.revoked_notice", now=world.clock.now(),
                                 params={"role_key": "role.reviewer", "reason": "任期<届满>"})
        await session.commit()


async def statuses(world: BotWorld) -> list[tuple[int, OutboxStatus, int]]:
    async with world.sessions() as session:
        rows = (await session.exec(select(OutboxMessage).order_by(OutboxMessage.id))).all()
        return [(row.chat_id, row.status, row.attempts) for row in rows]


async def test_rows_are_rendered_in_chinese_escaped_and_sent_once(world: BotWorld) -> None:
    await queue(world, 71, 72)
    running = sender(world)
    await running.run_once()
    await running.run_once()
    sent = [m for m in world.bot.session.requests if isinstance(m, SendMessage)]  # type: ignore[attr-defined]
    assert sorted(m.chat_id for m in sent) == [71, 72]
    assert sent[0].text == "您的评审委员角色已被撤销。原因：任期&lt;届满&gt;"
    assert [status for _, status, _ in await statuses(world)] == [OutboxStatus.SENT, OutboxStatus.SENT]


async def test_server_errors_back_off_then_fail(world: BotWorld) -> None:
    await queue(world, 73)
    running = sender(world, max_attempts=2, per_chat_interval=0.0)  # pacing is not what this test is about
    error = TelegramServerError(method=SendMessage(chat_id=73, text="x"), message="Bad Gateway")
    world.bot.session.script(error, error)  # type: ignore[attr-defined]
    await running.run_once()
    assert await statuses(world) == [(73, OutboxStatus.PENDING, 1)]
    await running.run_once()  # not due yet: the backoff holds it
    assert await statuses(world) == [(73, OutboxStatus.PENDING, 1)]
    world.clock.advance(minutes=5)
    await running.run_once()
    assert await statuses(world) == [(73, OutboxStatus.FAILED, 2)]


async def test_a_row_left_mid_send_by_a_crash_is_uncertain_and_never_resent(world: BotWorld) -> None:
    await queue(world, 74, 75)
    async with world.sessions() as session:
        first = (await session.exec(select(OutboxMessage).where(OutboxMessage.chat_id == 74))).one()
        first.status = OutboxStatus.SENDING  # the process died after claiming it
        session.add(first)
        await session.commit()
    restarted = sender(world)
    assert await restarted.recover() == 1
    await restarted.run_once()
    sent = [m.chat_id for m in world.bot.session.requests if isinstance(m, SendMessage)]  # type: ignore[attr-defined]
    assert sent == [75]
    report = await restarted.report()
    assert (report["uncertain"], report["sent"]) == (1, 1)
