"""The outbox sender: delivers queued OutboxMessage rows through the Bot, each at least once, and
twice only when a crash makes it uncertain, which is counted.

A row's life: PENDING → (its turn at the pace, claimed, committed) SENDING → Telegram → SENT,
committed at once (a delivered reply is deleted instead).
    429 retry_after   → PENDING again (not an attempt) and ALL sending pauses for retry_after seconds
    403 forbidden     → BLOCKED; the Person gets blocked_at; their other pending rows become BLOCKED
    400 bad request   → FAILED with Telegram's text
    5xx / network     → PENDING with attempts+1 and an exponential not_before; FAILED after max_attempts
    unknown outcome   → UNCERTAIN (an unexpected exception after the request went out)
A crash between the claim and the SENT commit leaves a row in SENDING, claimed by a process that is
gone: it may or may not have arrived. It is sent again, and counted (`resends`): at start for the
rows of this host's dead processes (`recover()`), and by the loop for a row claimed longer ago than
any send takes (`STALE`), whoever held it. So every row arrives at least once, and twice only when
its count says it may have. `report()` gives the figures.

Replies (bot/replies.py) are rows too: the process that handled their update sends them right after
its commit (`send_replies`), in order, at the bot's overall pace but not held to a chat's (a person
waiting for an answer gets it at once); the loop takes them only if that process died first.

Claims take one row at a time (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so several workers never
take the same row; SQLite takes the write lock with BEGIN IMMEDIATE and runs one sender) and the
status change is conditional (`WHERE status = 'pending'`, rowcount checked), so a row reaches
Telegram only after this sender committed its own PENDING → SENDING transition.

Limits: a token bucket keeps the overall rate (25/s by default, Telegram allows about 30); a
per-chat "next allowed time" keeps each chat at 1/s: a row whose chat is not yet allowed is not
claimed this round and stays PENDING. With several workers (`shared`, Redis) the overall pace, each
chat's slot and a 429's pause hold across all of them (bot/send_pace.py).

Broadcasts: every `progress_every` seconds the loop edits each running broadcast's progress message
(figures read from its outbox rows by broadcast_id), and shows the final report once none is left.
"""

import asyncio
import html
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from aiogram import Bot
from aiogram.enums import ParseMode
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramEntityTooLarge,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.methods import (
    AnswerCallbackQuery,
    EditMessageText,
    SendDocument,
    SendMessage,
    SendPhoto,
    TelegramMethod,
)
from aiogram.types import FSInputFile, InlineKeyboardButton, InlineKeyboardMarkup, Message
from sqlalchemy import BigInteger, and_, cast, delete, func, or_, update
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.replies import rebuilt, recorded
from bot.send_pace import SharedPace, chat_interval
from bot.workers import gone_here, worker_name
from models import TELEGRAM, ChannelAccount, OutboxMessage, OutboxStatus, Person
from services import broadcasts
from services.files.store import FileStore
from services.ports import Clock

log = logging.getLogger(__name__)

Render = Callable[[OutboxMessage, str], tuple[str, InlineKeyboardMarkup | None]]
Sleep = Callable[[float], Awaitable[Any]]
Monotonic = Callable[[], float]

# Rows in these states belong to a send in flight: only they may be finished. UNCERTAIN is included
# so a live send finishes a row that another process's recover() flagged meanwhile.
IN_FLIGHT = (OutboxStatus.SENDING, OutboxStatus.UNCERTAIN)
UNAUTHORIZED_PAUSE = 60.0
# Longer than any send takes (aiogram gives a request 60 s): a row claimed longer ago lost its sender.
STALE = timedelta(seconds=120)
RESENT = "sent again: the process sending it died mid-send, so it may have arrived twice"
LATE_ANSWERS = ("query is too old", "query ID is invalid")
ERROR_LIMIT = 1000


def render_plain(row: OutboxMessage, locale: str) -> tuple[str, InlineKeyboardMarkup | None]:
    """Untranslated rendering (tests, tools): the template itself, filled with HTML-escaped params;
    buttons carry their action token as `t:<token>`."""
    text = row.template.format(**_escaped(row.params))
    lines = [
        [
            InlineKeyboardButton(
                text=b["label"].format(**_escaped(b.get("params") or {})), callback_data="t:" + b["token"]
            )
            for b in line
        ]
        for line in row.buttons
    ]
    return text, InlineKeyboardMarkup(inline_keyboard=lines) if lines else None


def _escaped(params: dict[str, Any]) -> dict[str, Any]:
    return {name: html.escape(value) if isinstance(value, str) else value for name, value in params.items()}


class RateLimiter:
    """A token bucket: at most `rate` acquisitions a second on average, bursts of at most `burst`."""

    def __init__(
        self,
        rate: float,
        burst: float = 1.0,
        monotonic: Monotonic = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be positive and burst at least 1")
        self.rate, self.burst, self.monotonic, self.sleep = rate, float(burst), monotonic, sleep
        self.tokens = float(burst)
        self.updated = monotonic()

    def _refill(self) -> None:
        now = self.monotonic()
        self.tokens = min(self.burst, self.tokens + max(0.0, now - self.updated) * self.rate)
        self.updated = now

    async def acquire(self) -> None:
        while True:
            self._refill()
            if self.tokens >= 1:
                self.tokens -= 1
                return
            await self.sleep((1 - self.tokens) / self.rate)


@dataclass
class _Claimed:
    row: OutboxMessage
    locale: str

    @property
    def chat(self) -> int:
        assert self.row.chat_id is not None, "a claimed row has its chat"
        return self.row.chat_id


class OutboxSender:
    def __init__(
        self,
        bot: Bot,
        sessions: async_sessionmaker[AsyncSession],
        render: Render,
        clock: Clock,
        *,
        files_dir: Path,
        default_locale: str = "zh_CN",
        rate: float = 25.0,
        per_chat_interval: float = 1.0,
        max_attempts: int = 5,
        max_backoff: float = 300.0,
        concurrency: int = 4,
        progress_every: float = 3.0,
        monotonic: Monotonic = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        shared: SharedPace | None = None,
    ) -> None:
        self.bot, self.sessions, self.render, self.clock = bot, sessions, render, clock
        self.shared = shared  # the pace of every worker, when there are several
        self.files_dir, self.default_locale = Path(files_dir), default_locale
        self.per_chat_interval, self.max_attempts, self.max_backoff = (
            per_chat_interval,
            max_attempts,
            max_backoff,
        )
        self.concurrency = max(1, concurrency)
        self.monotonic, self.sleep = monotonic, sleep
        self.limiter = RateLimiter(rate, monotonic=monotonic, sleep=sleep)
        self.paused_until = 0.0  # monotonic; set by a 429 for everything this sender sends
        self._chat_next: dict[int, float] = {}  # chat_id -> monotonic time it may next receive
        self._claim_lock = asyncio.Lock()
        self.progress_every = progress_every
        self._progress_next = 0.0  # monotonic time of the next progress edit
        self.worker = worker_name()
        self._stale_next = 0.0  # monotonic time of the next look for rows whose sender died

    # ---- the shared pause and per-chat pacing -------------------------------------------------

    def paused_for(self) -> float:
        """Seconds left of a pause ordered by Telegram (0 when sending may go on)."""
        return max(0.0, self.paused_until - self.monotonic())

    def pause(self, seconds: float) -> None:
        self.paused_until = max(self.paused_until, self.monotonic() + seconds)

    def _busy_chats(self) -> list[int]:
        now = self.monotonic()
        for chat_id in [c for c, t in self._chat_next.items() if t <= now]:
            del self._chat_next[chat_id]
        return list(self._chat_next)

    def _hold_chat(self, chat_id: int) -> None:
        interval = chat_interval(chat_id, self.per_chat_interval)
        self._chat_next[chat_id] = max(self._chat_next.get(chat_id, 0.0), self.monotonic() + interval)

    async def _take_turn(self) -> None:
        """Wait for the bot's overall pace (this process's, and all workers' when shared) before a
        row is claimed: a row waits in SENDING only for the request itself, so a crash counts as
        "may have arrived twice" only what was really on its way."""
        await self.limiter.acquire()
        if self.shared is not None:
            await self.shared.acquire()
            self.pause(await self.shared.paused_for())  # another worker may have been told to wait

    async def _take_chat_slot(self, chat_id: int) -> None:
        """With several workers: this chat's slot across them (one a second, a group's 20 a minute)."""
        assert self.shared is not None
        while (wait := await self.shared.take_chat(chat_id, self.per_chat_interval)) > 0:
            await self.sleep(wait)

    # ---- start, report, loops -----------------------------------------------------------------

    async def recover(self) -> int:
        """At start: rows this host's dead processes (a crash, a kill) left mid-send are sent again,
        and counted. Returns how many."""
        async with self.sessions() as session:
            holders = (
                await session.exec(
                    select(OutboxMessage.claimed_by)
                    .distinct()
                    .where(col(OutboxMessage.status) == OutboxStatus.SENDING)
                )
            ).all()
        if not holders:
            return 0
        dead = [holder for holder in holders if holder is not None and gone_here(holder)]
        # No holder: claimed before senders said who they are, by a process that is gone now.
        return await self._send_again(
            or_(col(OutboxMessage.claimed_by).in_(dead), col(OutboxMessage.claimed_by).is_(None))
        )

    async def _send_again_stale(self) -> int:
        """Rows claimed longer ago than any send takes: their sender died, wherever it ran."""
        return await self._send_again(col(OutboxMessage.claimed_at) < self.clock.now() - STALE)

    async def _send_again(self, which: Any) -> int:
        async with self.sessions() as session:
            result = await session.exec(
                update(OutboxMessage)
                .where(col(OutboxMessage.status) == OutboxStatus.SENDING, which)
                .values(
                    status=OutboxStatus.PENDING,
                    claimed_by=None,
                    claimed_at=None,
                    error=RESENT,
                    resends=OutboxMessage.resends + 1,
                    not_before=self.clock.now(),
                )
                .execution_options(synchronize_session=False)
            )
            await session.commit()
        if result.rowcount:
            log.warning(
                "%s outbox messages were being sent when their sender died: sending them again "
                "(each may arrive twice)",
                result.rowcount,
            )
        return int(result.rowcount or 0)

    async def report(self, broadcast_id: int | None = None) -> dict[str, int]:
        """Rows by status (every status present, zeros included), and `resent`: sends made again after
        a crash (each may have arrived twice); for one broadcast if given."""
        query = select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
        if broadcast_id is not None:
            query = query.where(OutboxMessage.broadcast_id == broadcast_id)
        resent = select(func.coalesce(func.sum(OutboxMessage.resends), 0))
        if broadcast_id is not None:
            resent = resent.where(OutboxMessage.broadcast_id == broadcast_id)
        counts = {status.value: 0 for status in OutboxStatus}
        async with self.sessions() as session:
            for status, count in (await session.exec(query)).all():
                counts[OutboxStatus(status).value] = int(count)
            counts["resent"] = int((await session.exec(resent)).one())
        return counts

    async def run_once(self, limit: int = 100) -> int:
        """One round: claim and send due rows, oldest first, until none is claimable, `limit` rows
        were handled, or Telegram ordered a pause. Returns how many rows were handled (sent,
        failed, blocked or put back), not counting rows skipped for their chat's pace."""
        budget = [limit]
        handled = [0]

        async def worker() -> None:
            while budget[0] > 0 and not self.paused_for():
                await self._take_turn()
                async with self._claim_lock:
                    if budget[0] <= 0 or self.paused_for():
                        return
                    claimed = await self._claim_next()
                    if claimed is None:
                        return
                    budget[0] -= 1
                    self._hold_chat(claimed.chat)
                if await self._deliver(claimed):
                    handled[0] += 1

        results = await asyncio.gather(
            *(worker() for _ in range(min(self.concurrency, max(limit, 0)))), return_exceptions=True
        )
        for result in results:
            if isinstance(result, BaseException):
                raise result
        return handled[0]

    async def run_forever(self, stop: asyncio.Event, idle_delay: float = 0.5) -> None:
        while not stop.is_set():
            try:
                if self.monotonic() >= self._stale_next:
                    self._stale_next = self.monotonic() + STALE.total_seconds() / 4
                    await self._send_again_stale()
                handled = await self.run_once()
            except Exception:  # noqa: BLE001  (a database hiccup must not end the sender)
                log.exception("outbox round failed")
                handled = 0
            if self.monotonic() >= self._progress_next:
                self._progress_next = self.monotonic() + self.progress_every
                try:
                    await self.show_progress()
                except Exception:  # noqa: BLE001  (progress is a courtesy: it must not stop sending)
                    log.exception("broadcast progress failed")
            delay = max(self.paused_for(), 0.0 if handled else idle_delay)
            if delay <= 0:
                await asyncio.sleep(0)  # let the rest of the bot run between busy rounds
                continue
            try:
                await asyncio.wait_for(stop.wait(), timeout=delay)
            except TimeoutError:
                pass

    async def show_progress(self) -> int:
        """Edit each running broadcast's progress message in place (sent / total, failed, blocked,
        uncertain), or show its final report. Returns how many messages were edited."""
        async with self.sessions() as session:
            due = await broadcasts.progress_to_show(session)
        edited = 0
        for view in due:
            if self.paused_for():
                break
            if view.chat_id is not None and view.message_id is not None:
                text, _ = self.render(
                    OutboxMessage(chat_id=view.chat_id, template=view.template, params=view.params),
                    view.locale,
                )
                await self.limiter.acquire()
                try:
                    await self.bot(
                        EditMessageText(
                            chat_id=view.chat_id,
                            message_id=view.message_id,
                            text=text,
                            parse_mode=ParseMode.HTML,
                        )
                    )
                    edited += 1
                except TelegramRetryAfter as exc:
                    self.pause(float(exc.retry_after))
                    break
                except (TelegramNetworkError, TelegramServerError) as exc:
                    log.info("broadcast %s: progress not shown now: %s", view.broadcast_id, exc)
                    continue  # try again next time
                except TelegramAPIError as exc:  # a deleted message or a blocked bot will not get better by
                    log.info(
                        "broadcast %s: progress not shown: %s", view.broadcast_id, exc.message
                    )  # retrying
            async with self.sessions() as session:
                await broadcasts.progress_shown(session, view, self.clock.now())
        return edited

    # ---- claiming ------------------------------------------------------------------------------

    async def _claim_next(self) -> _Claimed | None:
        """Commit PENDING → SENDING for the oldest due row whose chat may receive now: a reply to a
        chat, or a message to a person with a Telegram account, whose chat the claim writes down.
        (A person reached on another channel is that channel's sender's.)"""
        while True:
            busy = self._busy_chats()
            now = self.clock.now()
            async with self.sessions() as session:
                found = (await session.exec(due_for_telegram(now, busy))).first()
                if found is None:
                    return None
                row, row.chat_id, language, blocked_at = found  # the chat: the row's, or its person's
                blocked = blocked_at is not None
                target = OutboxStatus.BLOCKED if blocked else OutboxStatus.SENDING
                values: dict[str, Any] = {
                    "status": target,
                    "chat_id": row.chat_id,
                    "claimed_by": self.worker,
                    "claimed_at": now,
                }
                if blocked:
                    values["error"] = "recipient has blocked the bot"
                result = await session.exec(
                    update(OutboxMessage)
                    .where(col(OutboxMessage.id) == row.id, col(OutboxMessage.status) == OutboxStatus.PENDING)
                    .values(**values)
                    .execution_options(synchronize_session=False)
                )
                if result.rowcount != 1:  # another worker took it between our read and write
                    await session.rollback()
                    continue
                await session.commit()
            if blocked:
                continue
            row.status = OutboxStatus.SENDING
            return _Claimed(row, language or self.default_locale)

    # ---- sending -------------------------------------------------------------------------------

    def _method(self, claimed: _Claimed) -> TelegramMethod[Any]:
        row = claimed.row
        if row.call is not None:
            return rebuilt(row.call, FileStore(self.files_dir))
        text, markup = self.render(row, claimed.locale)
        if row.document_path:
            path = (self.files_dir / row.document_path).resolve()
            if not path.is_relative_to(self.files_dir.resolve()) or not path.is_file():
                raise FileNotFoundError(f"document missing: {row.document_path}")
            filename = str(row.params.get("file_name") or path.name)
            if row.params.get("photo"):  # an announcement's image is shown as a picture
                return SendPhoto(
                    chat_id=claimed.chat,
                    photo=FSInputFile(path, filename=filename),
                    caption=text or None,
                    parse_mode=ParseMode.HTML,
                    reply_markup=markup,
                    protect_content=row.protect,
                )
            return SendDocument(
                chat_id=claimed.chat,
                document=FSInputFile(path, filename=filename),
                caption=text or None,
                parse_mode=ParseMode.HTML,
                reply_markup=markup,
                protect_content=row.protect,
            )
        return SendMessage(
            chat_id=claimed.chat,
            text=text,
            parse_mode=ParseMode.HTML,
            reply_markup=markup,
            protect_content=row.protect,
        )

    async def _deliver(self, claimed: _Claimed, chat_paced: bool = True) -> bool:
        """Send one claimed row and record the outcome; False if it was put back unsent."""
        row = claimed.row
        assert row.id is not None
        try:
            method = self._method(claimed)
        except Exception as exc:  # noqa: BLE001  (a bad template or a missing file fails this row only)
            log.warning("outbox %s not renderable: %r", row.id, exc)
            await self._finish(row.id, status=OutboxStatus.FAILED, error=f"render: {exc!r}")
            return True
        if chat_paced and self.shared is not None and not isinstance(method, AnswerCallbackQuery):
            await self._take_chat_slot(claimed.chat)
        if self.paused_for():  # a 429 arrived since the claim: nothing new starts during a pause
            await self._finish(row.id, status=OutboxStatus.PENDING)
            return False
        # No await between the check above and the request: the pause cannot slip in between.
        self._hold_chat(claimed.chat)  # pace from the moment of the request
        try:
            message = await self.bot(method)
        except TelegramRetryAfter as exc:
            log.warning("outbox: Telegram asks to wait %ss (row %s)", exc.retry_after, row.id)
            self.pause(float(exc.retry_after))
            if self.shared is not None:
                await self.shared.pause(float(exc.retry_after))
            await self._finish(row.id, status=OutboxStatus.PENDING, error=_text(exc))
        except TelegramForbiddenError as exc:
            await self._blocked(row, _text(exc))
        except TelegramUnauthorizedError as exc:
            log.error("outbox: the bot token was refused; pausing %ss", UNAUTHORIZED_PAUSE)
            self.pause(UNAUTHORIZED_PAUSE)
            await self._finish(row.id, status=OutboxStatus.PENDING, error=_text(exc))
        except TelegramEntityTooLarge as exc:
            await self._finish(row.id, status=OutboxStatus.FAILED, error=_text(exc))
        except (TelegramServerError, TelegramNetworkError) as exc:
            await self._retry_later(row, _text(exc))
        except (TelegramBadRequest, TelegramAPIError) as exc:  # chat not found, too long, migrated …
            if isinstance(method, AnswerCallbackQuery) and any(late in exc.message for late in LATE_ANSWERS):
                await self._answered_late(row, method, _text(exc))
                return True
            log.info("outbox %s refused: %s", row.id, exc)
            await self._finish(row.id, status=OutboxStatus.FAILED, error=_text(exc))
        except Exception as exc:  # noqa: BLE001  (e.g. an unreadable answer: it may have arrived)
            log.exception("outbox %s: unknown outcome", row.id)
            await self._finish(row.id, status=OutboxStatus.UNCERTAIN, error=_text(exc))
        else:
            # Telegram accepted: commit at once, nothing else in between.
            await self._sent(row, message)
        return True

    async def send_replies(self, update_id: int) -> int:
        """Send an update's replies, in order, right after its commit, at the bot's overall pace but
        not held to a chat's (the person is waiting); returns how many were sent. A row another
        sender took meanwhile (this process stalled) is left to it; one put back (Telegram asked
        to wait) is left to the loop, and so is the rest."""
        sent = 0
        while (row := await self._next_reply(update_id)) is not None:
            assert row.call is not None
            if row.call["method"] != AnswerCallbackQuery.__name__:  # an answer is not a message: no pace
                await self._take_turn()
            if not await self._claim(row):
                continue
            if not await self._deliver(_Claimed(row, self.default_locale), chat_paced=False):
                break
            sent += 1
        return sent

    async def _next_reply(self, update_id: int) -> OutboxMessage | None:
        async with self.sessions() as session:
            return (
                await session.exec(
                    select(OutboxMessage)
                    .where(
                        col(OutboxMessage.update_id) == update_id,
                        col(OutboxMessage.status) == OutboxStatus.PENDING,
                    )
                    .order_by(col(OutboxMessage.id))
                    .limit(1)
                )
            ).first()

    async def _claim(self, row: OutboxMessage) -> bool:
        now = self.clock.now()
        async with self.sessions() as session:
            taken = await session.exec(
                update(OutboxMessage)
                .where(col(OutboxMessage.id) == row.id, col(OutboxMessage.status) == OutboxStatus.PENDING)
                .values(status=OutboxStatus.SENDING, claimed_by=self.worker, claimed_at=now)
                .execution_options(synchronize_session=False)
            )
            await session.commit()
        if taken.rowcount != 1:
            return False
        row.status, row.claimed_by, row.claimed_at = OutboxStatus.SENDING, self.worker, now
        return True

    async def _answered_late(self, row: OutboxMessage, answer: AnswerCallbackQuery, error: str) -> None:
        """Telegram no longer takes this answer (too late, or it was given before a crash): done;
        what it said reaches the person as a message, as a second answer would (handlers/presses.py)."""
        await self._sent(row, True, error=error)
        if answer.text:
            now = self.clock.now()
            async with self.sessions() as session:
                session.add(
                    OutboxMessage(
                        chat_id=row.chat_id,
                        template="reply:SendMessage",
                        update_id=row.update_id,
                        call=await recorded(
                            self.bot,
                            SendMessage(chat_id=row.chat_id, text=html.escape(answer.text)),
                            FileStore(self.files_dir),
                        ),
                        # An answer sent again after a crash may have shown: so may this.
                        resends=row.resends,
                        not_before=now,
                        created_at=now,
                    )
                )
                await session.commit()

    async def _sent(self, row: OutboxMessage, message: Any, error: str = "") -> None:
        """Record a delivery. A reply delivered is gone from the outbox (it was a queue entry, not a
        record: decisions are in the audit log); one sent again after a crash stays, as the count of
        what may have arrived twice."""
        assert row.id is not None
        message_id = message.message_id if isinstance(message, Message) else None
        for attempt in range(3):
            try:
                if row.update_id is not None and row.resends == 0:
                    await self._forget(row.id)
                else:
                    await self._finish(
                        row.id,
                        status=OutboxStatus.SENT,
                        sent_at=self.clock.now(),
                        telegram_message_id=message_id,
                        error=error,
                    )
                return
            except Exception:  # noqa: BLE001  (the row stays SENDING: sent again later, and counted)
                if attempt == 2:
                    raise
                log.exception("outbox %s sent but not recorded; retrying", row.id)
                await asyncio.sleep(0.05 * (attempt + 1))

    async def _forget(self, row_id: int) -> None:
        async with self.sessions() as session:
            await session.exec(
                delete(OutboxMessage)
                .where(col(OutboxMessage.id) == row_id, col(OutboxMessage.status).in_(IN_FLIGHT))
                .execution_options(synchronize_session=False)
            )
            await session.commit()

    async def _finish(self, row_id: int, **values: Any) -> None:
        async with self.sessions() as session:
            await session.exec(
                update(OutboxMessage)
                .where(col(OutboxMessage.id) == row_id, col(OutboxMessage.status).in_(IN_FLIGHT))
                .values(**values)
                .execution_options(synchronize_session=False)
            )
            await session.commit()

    async def _retry_later(self, row: OutboxMessage, error: str) -> None:
        assert row.id is not None
        attempts = row.attempts + 1
        if attempts >= self.max_attempts:
            log.warning("outbox %s failed after %s attempts: %s", row.id, attempts, error)
            await self._finish(row.id, status=OutboxStatus.FAILED, attempts=attempts, error=error)
            return
        delay = min(2.0**attempts, self.max_backoff)
        await self._finish(
            row.id,
            status=OutboxStatus.PENDING,
            attempts=attempts,
            error=error,
            not_before=self.clock.now() + timedelta(seconds=delay),
        )

    async def _blocked(self, row: OutboxMessage, error: str) -> None:
        """The recipient blocked the bot (or it left their group): mark the row, the person and
        every other pending row to that chat, in one transaction."""
        log.info("outbox: chat %s blocked the bot", row.chat_id)
        now = self.clock.now()
        async with self.sessions() as session:
            await session.exec(
                update(OutboxMessage)
                .where(col(OutboxMessage.id) == row.id, col(OutboxMessage.status).in_(IN_FLIGHT))
                .values(status=OutboxStatus.BLOCKED, error=error)
                .execution_options(synchronize_session=False)
            )
            people = select(ChannelAccount.person_id).where(
                ChannelAccount.channel == TELEGRAM, ChannelAccount.address == str(row.chat_id)
            )
            await session.exec(
                update(OutboxMessage)
                .where(
                    or_(col(OutboxMessage.chat_id) == row.chat_id, col(OutboxMessage.person_id).in_(people)),
                    col(OutboxMessage.status) == OutboxStatus.PENDING,
                )
                .values(status=OutboxStatus.BLOCKED, error="recipient has blocked the bot")
                .execution_options(synchronize_session=False)
            )
            await session.exec(
                update(Person)
                .where(col(Person.id).in_(people), col(Person.blocked_at).is_(None))
                .values(blocked_at=now)
                .execution_options(synchronize_session=False)
            )
            await session.commit()


# Telegram's rows: replies to a chat, and messages to a person with a Telegram account.
_ACCOUNT = and_(
    col(ChannelAccount.person_id) == OutboxMessage.person_id, col(ChannelAccount.channel) == TELEGRAM
)
_CHAT = func.coalesce(col(OutboxMessage.chat_id), cast(col(ChannelAccount.address), BigInteger))


def due_for_telegram(now: datetime, busy: list[int]) -> Any:
    """The oldest due row for Telegram whose chat may receive now, with its chat and its person's
    language and block; locked (SQLite renders no FOR UPDATE: BEGIN IMMEDIATE holds the lock)."""
    query = (
        select(OutboxMessage, _CHAT, Person.language, Person.blocked_at)
        .outerjoin(ChannelAccount, _ACCOUNT)
        .outerjoin(Person, col(Person.id) == OutboxMessage.person_id)
        .where(
            col(OutboxMessage.status) == OutboxStatus.PENDING,
            col(OutboxMessage.not_before) <= now,
            or_(col(OutboxMessage.chat_id).is_not(None), col(ChannelAccount.id).is_not(None)),
        )
    )
    if busy:
        query = query.where(_CHAT.not_in(busy))
    return query.order_by(col(OutboxMessage.id)).limit(1).with_for_update(of=OutboxMessage, skip_locked=True)


def _text(exc: BaseException) -> str:
    message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {message}"[:ERROR_LIMIT]
