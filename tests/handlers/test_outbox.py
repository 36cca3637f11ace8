"""The outbox sender over the production wiring: each row reaches Telegram once, server errors back
off, and a row whose sender died mid-send is sent again and counted (it may have arrived twice)."""

import os
import subprocess
import sys

from aiogram.exceptions import TelegramServerError
from aiogram.methods import SendMessage
from sqlmodel import select

from bot.notifier import OutboxSender
from bot.outbox_render import outbox_renderer
from bot.workers import worker_name
from models import OutboxMessage, OutboxStatus
from services import outbox
from tests.conftest import BotWorld


def sender(world: BotWorld, **options: object) -> OutboxSender:
    return OutboxSender(
        world.bot,
        world.sessions,
        outbox_renderer(world.i18n),
        world.clock,
        files_dir=world.settings.data_dir / "files",
        **options,  # type: ignore[arg-type]
    )


async def queue(world: BotWorld, *chat_ids: int) -> None:
    async with world.sessions() as session:
        for chat_id in chat_ids:
            await outbox.enqueue(
                session,
                chat_id=chat_id,
                template="roles.revoked_notice",
                now=world.clock.now(),
                params={"role_key": "role.reviewer", "reason": "任期<届满>"},
            )
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


async def test_a_row_left_mid_send_by_a_dead_process_is_sent_again_and_counted(world: BotWorld) -> None:
    await queue(world, 74, 75, 76)
    ended = subprocess.Popen([sys.executable, "-c", ""])
    ended.wait()  # its pid names no process now, as a killed sender's
    here = worker_name().rsplit(":", 2)[0]
    async with world.sessions() as session:
        rows = {row.chat_id: row for row in (await session.exec(select(OutboxMessage))).all()}
        rows[74].status, rows[74].claimed_by = OutboxStatus.SENDING, f"{here}:{ended.pid}:0badf00d"
        rows[75].status, rows[75].claimed_by = OutboxStatus.SENDING, f"{here}:{os.getpid()}:0badf00d"  # alive
        rows[75].claimed_at = world.clock.now()
        session.add_all([rows[74], rows[75]])
        await session.commit()
    restarted = sender(world)
    assert await restarted.recover() == 1  # the live process's send is left to it
    await restarted.run_once()
    sent = [m.chat_id for m in world.bot.session.requests if isinstance(m, SendMessage)]  # type: ignore[attr-defined]
    assert sorted(sent) == [74, 76]
    report = await restarted.report()
    assert (report["sent"], report["sending"], report["resent"]) == (2, 1, 1)  # 74 may have arrived twice
    world.clock.advance(minutes=3)  # longer than any send takes: 75's sender is gone too, wherever it ran
    assert await restarted._send_again_stale() == 1
    await restarted.run_once()
    assert (await restarted.report())["resent"] == 2
