"""Processes stored updates through the Dispatcher, each at most once to completion.

Workers (processes, or processors in one process) take turns by chat: a worker claims a batch of
chats with a lease (services/inbox.py), runs each chat's updates in order in a task of its own, and
lets go of the chat when they are settled. It claims again as soon as a chat is done or an update is
stored, up to `max_chats` at once: no chat waits for another. A lease is renewed while its chat runs
long; a worker that dies holds its chats only until its leases run out, or until a process
starting on its host sees that it is gone.

A failing update is retried later (its chat is held `retry_after` for it, whichever worker takes it
next), then dead-lettered, and the person is told through the outbox. A payload that is not an
Update is dead-lettered at once. Whatever goes wrong with one update stays with it (and with its
chat's later updates, which wait): everyone else goes on."""

import asyncio
import logging
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.exceptions import TelegramForbiddenError
from aiogram.types import Update
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.workers import gone_here, worker_name
from handlers.channel import address
from models import InboxUpdate
from services import inbox, people
from services.inbox import chat_of
from services.ports import Clock

__all__ = ["InboxProcessor", "chat_of"]
log = logging.getLogger(__name__)
REASON_LIMIT = 300
Chats = dict[int, asyncio.Task[tuple[int, bool]]]  # chats in flight, by chat key


def malformed(error: Exception) -> str:
    """Why a payload is not an Update, short: the first problem pydantic names, and how many more."""
    if not isinstance(error, ValidationError) or not (problems := error.errors(include_input=False)):
        return f"malformed: {error!r}"[:REASON_LIMIT]
    where = ".".join(map(str, problems[0]["loc"])) or "update"
    more = f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""
    return f"malformed: {where}: {problems[0]['msg']}"[: REASON_LIMIT - len(more)] + more


class InboxProcessor:
    def __init__(
        self,
        dispatcher: Dispatcher,
        bot: Bot,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        *,
        max_chats: int = 32,
        lease: timedelta = timedelta(seconds=30),
        retry_after: timedelta = timedelta(seconds=5),
    ) -> None:
        self.dispatcher, self.bot, self.sessions, self.clock = dispatcher, bot, sessions, clock
        self.max_chats, self.lease, self.retry_after = max_chats, lease, retry_after
        self.worker = worker_name()
        self.wake = asyncio.Event()
        self._lock = asyncio.Lock()
        self._in_flight: set[asyncio.Task[tuple[int, bool]]] = set()  # chats this processor runs
        self._lost: set[int] = set()  # chats in flight whose lease another worker has taken
        # Handlers cannot import bot/; one that queues an update again (a replayed dead letter)
        # calls `wake_inbox` from its arguments.
        dispatcher["wake_inbox"] = self.wake.set

    async def store(self, updates: list[dict[str, Any]]) -> int:
        async with self.sessions() as session:
            stored = await inbox.store(session, updates, self.clock.now())
        self.wake.set()
        return stored

    async def process_pending(self) -> int:
        """Claim and run until nothing is left to claim, nor running here (`run_forever` may have taken
        a chat first); returns how many updates this call settled (done or dead). A chat whose update
        failed waits for the next call."""
        async with self._lock:  # one at a time in this process
            return await self._serve(asyncio.Event(), idle=None)

    async def run_forever(self, stop: asyncio.Event, retry_every: float = 5.0) -> None:
        try:
            await self._take_back_leftovers()
        except Exception:  # noqa: BLE001  (then those leases run out by themselves)
            log.exception("looking for leases left by crashed processes failed")
        await self._serve(stop, idle=retry_every)

    async def _take_back_leftovers(self) -> None:
        """Release the leases of processes of this host that are gone (killed, crashed): a restart
        takes their chats back at once instead of waiting their leases out."""
        async with self.sessions() as session:
            gone = [worker for worker in await inbox.holders(session) if gone_here(worker)]
            if gone:
                log.warning("releasing the chats of gone processes %s", gone)
                await inbox.forget(session, gone)

    async def _serve(self, stop: asyncio.Event, idle: float | None) -> int:
        """Keep up to `max_chats` chats in flight until `stop`; `idle` None: return once nothing runs
        here and nothing is left to claim (then let go of the chats held after a failure, so the
        next call retries them), else look again at least every `idle` seconds."""
        running: Chats = {}
        held: list[int] = []
        settled = 0
        renewing = asyncio.create_task(self._renew(running), name="inbox leases")
        try:
            while not stop.is_set():
                self.wake.clear()  # before claiming: an update stored meanwhile makes another round
                try:
                    await self._claim(running, stop)
                except Exception:  # noqa: BLE001  (the database may be restarting: next round)
                    if idle is None:
                        raise
                    log.exception("claiming from the inbox failed")
                if idle is None and not running and not self._in_flight:
                    break
                await self._next_event({*running.values(), *self._in_flight}, stop, idle)
                for key in [key for key, task in running.items() if task.done()]:
                    count, went_on = running.pop(key).result()
                    settled += count
                    if not went_on and idle is None:
                        held.append(key)
        except asyncio.CancelledError:
            for task in running.values():
                task.cancel()
            raise
        finally:
            renewing.cancel()
            # On stop, each chat ends after its current update.
            await asyncio.gather(renewing, *running.values(), return_exceptions=True)
            if held:
                await self._let_go(held)
        return settled

    async def _claim(self, running: Chats, stop: asyncio.Event) -> None:
        room = self.max_chats - len(self._in_flight)
        if room <= 0:
            return
        now = self.clock.now()
        async with self.sessions() as session:
            chats = await inbox.claim(session, self.worker, room, now, now + self.lease)
        for key, rows in chats:
            task = asyncio.create_task(self._run_chat(key, rows, stop), name=f"inbox chat {key}")
            running[key] = task
            self._in_flight.add(task)
            task.add_done_callback(self._in_flight.discard)

    async def _next_event(
        self, chats: Iterable[asyncio.Task[Any]], stop: asyncio.Event, timeout: float | None
    ) -> None:
        """Until a chat is done, an update is stored, `stop`, or `timeout` (a held chat's turn may
        have come back, or another worker's update be waiting)."""
        signals = [asyncio.ensure_future(self.wake.wait()), asyncio.ensure_future(stop.wait())]
        try:
            await asyncio.wait([*chats, *signals], timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for signal in signals:
                signal.cancel()

    async def _run_chat(self, key: int, rows: list[InboxUpdate], stop: asyncio.Event) -> tuple[int, bool]:
        """Run a claimed chat's updates in order, then let go of it. Returns how many were settled,
        and False when one failed: the chat is then held for its retry, later updates wait."""
        settled = 0
        try:
            for row in rows:
                if stop.is_set() or key in self._lost:
                    break  # the rest are left to whoever takes the chat next
                if not await self._settle(row):
                    await self._let_go([key], retry=True)
                    return settled, False
                settled += 1
            await self._let_go([key])
            return settled, True
        finally:
            self._lost.discard(key)

    async def _settle(self, row: InboxUpdate) -> bool:
        try:
            return await self._run(row)
        except Exception:  # noqa: BLE001  (e.g. the database failed while recording it: retried later)
            log.exception("update %s could not be settled", row.update_id)
            return False

    async def _run(self, row: InboxUpdate) -> bool:
        """Handle one row; True when it is settled, so the chat's next update may run."""
        try:
            update = self._parse(row.payload)
        except Exception as exc:  # noqa: BLE001  (any shape may have been stored: retrying will not help)
            log.warning("update %s is not an Update: dead-lettered", row.update_id)
            return await self._failed(row, malformed(exc), final=True)
        try:
            await self.dispatcher.feed_update(self.bot, update)
        except TelegramForbiddenError:
            # The person blocked the bot before their update was answered: retrying cannot reach them.
            log.info("update %s: its chat blocked the bot", row.update_id)
            async with self.sessions() as session:
                if (chat := chat_of(row.payload)) is not None:
                    await people.mark_blocked(session, address(chat), self.clock.now())
        except Exception as exc:  # noqa: BLE001  (any handler bug: retry, then dead-letter)
            log.exception("update %s failed", row.update_id)
            return await self._failed(row, repr(exc))
        async with self.sessions() as session:
            await inbox.finish(session, row.update_id, self.clock.now())
        return True

    def _parse(self, payload: Any) -> Update:
        update = Update.model_validate(payload, context={"bot": self.bot})
        update.event_type  # noqa: B018  (raises for no event aiogram knows: the Dispatcher would skip it)
        return update

    async def _failed(self, row: InboxUpdate, error: str, final: bool = False) -> bool:
        async with self.sessions() as session:
            return await inbox.fail(session, row.update_id, error, self.clock.now(), final=final)

    async def _let_go(self, keys: list[int], retry: bool = False) -> None:
        """Release chats; or, for a retry, hold them `retry_after` longer, so that whichever worker
        takes one next tries again only then, instead of at once."""
        try:
            async with self.sessions() as session:
                if retry:
                    await inbox.hold(session, self.worker, keys, self.clock.now() + self.retry_after)
                else:
                    await inbox.release(session, self.worker, keys)
        except Exception:  # noqa: BLE001  (a lease left behind runs out by itself)
            log.exception("letting go of chats %s failed", keys)

    async def _renew(self, running: Chats) -> None:
        """While chats run, extend their leases every third of a lease. One whose lease ran out
        meanwhile (this worker stalled) and was taken by another stops after its current update."""
        while True:
            await asyncio.sleep(self.lease.total_seconds() / 3)
            if not (keys := set(running)):
                continue
            try:
                async with self.sessions() as session:
                    kept = await inbox.hold(session, self.worker, keys, self.clock.now() + self.lease)
            except Exception:  # noqa: BLE001  (the database may be restarting: the next renewal may do)
                log.exception("renewing inbox leases failed")
                continue
            # Only chats still running: one that let go meanwhile is not lost.
            lost = {key for key in keys - kept if key in running and not running[key].done()}
            if lost:
                log.warning("lost the leases on chats %s: each stops after its current update", sorted(lost))
                self._lost |= lost
