"""Random journeys through the production bot: a hypothesis state machine whose steps are what people
and Telegram can do (type, send commands and deep links, press what is on screen, forge a press,
press someone else's button, replay a press, press twice at once, upload files, block the bot,
deliver an update again, restart the bot, let time pass) and whose invariants are the promises the
bot makes, checked after every step. tests/fuzz runs it under pytest; bench/fuzz.py runs it for many
sequences and prints figures.

Updates go through the inbox as in production (stored, then processed), the outbox is delivered
after every step, and the Bot API is the strict double (bot/bot_api_rules.py). A sequence starts
from one of three snapshots of a seeded year, built once per process through the Dispatcher: while
nominations are under way (one nomination with its recommending body, one in a review round with
the reviewers' prompts, an unused invitation, an evaluation card for the customer), during 公示, and
after the award (a certificate to verify)."""

import asyncio
import atexit
import copy
import logging
import re
import shutil
import sqlite3
import tempfile
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from io import BytesIO
from pathlib import Path
from typing import Any

import sqlalchemy
from aiogram import Bot, Dispatcher
from aiogram.methods import (
    AnswerCallbackQuery,
    DeleteMessage,
    EditMessageReplyMarkup,
    Response,
    TelegramMethod,
)
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import I18n
from hypothesis import note
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from PIL import Image
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.app import COMMANDS
from bot.bot_api_rules import NOT_MODIFIED, BotAPIRules
from bot.config import Settings
from bot.factory import create_bot, create_dispatcher, create_i18n
from bot.inbox import InboxProcessor
from bot.local_api import BOT_USER
from bot.notifier import OutboxSender
from bot.outbox_render import outbox_renderer
from handlers.callbacks import Consent
from handlers.channel import CARD_PREFIX, address
from locales import compile_catalogues
from models import (
    TELEGRAM,
    AuditHead,
    AuditRecord,
    Ballot,
    ChannelAccount,
    Honour,
    InboxStatus,
    InboxUpdate,
    Nomination,
    NominationMove,
    OutboxMessage,
    OutboxStatus,
    PanelSeat,
    Person,
    Recusal,
    ReviewRound,
    Role,
    RoleAssignment,
    RoundNomination,
)
from models.db import create_engine, session_factory
from scheduler import register_jobs
from services import audit, campaigns, people
from services.actors import Actor as ServiceActor
from services.cards import owner as card_owner
from services.files.kinds import MAX_BYTES
from services.lifecycles.nomination import NOMINATION
from services.publicity import listing as publicity_list
from services.reviews import rounds
from services.rules.nomination_flow import Stage
from tests.conftest import OFFICE_ID, TOKEN
from tests.support.client import RecordingSession
from tests.support.clock import FakeClock
from tests.support.databases import SqliteDatabases
from tests.support.nominations import DATES_2026

STAGES = frozenset(stage.value for stage in Stage)
LEGAL_MOVES = frozenset(
    (before.value, move.target.value)
    for move in NOMINATION.moves
    for before in move.sources
    if before is not None
)
BLOCKED = "Forbidden: bot was blocked by the user"  # what bot_api_rules answers for a blocked chat
EARLY = "随机测试：同一快照中各阶段并行"  # the office's stated reason for acting outside the phase
REDELIVERY_HORIZON = 24 * 3600  # Telegram keeps (and may re-send) an update for 24 hours


# The cast ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Actor:
    key: str
    telegram_id: int
    first_name: str
    language_code: str = "zh-hans"

    def user(self) -> dict[str, Any]:
        return {
            "id": self.telegram_id,
            "is_bot": False,
            "first_name": self.first_name,
            "language_code": self.language_code,
        }


CAST = {
    actor.key: actor
    for actor in (
        Actor("office", OFFICE_ID, "王主任"),
        Actor("recommender", 4300, "陈女士"),  # 广东质协 (organisation 1)
        Actor("applicant", 4301, "张伟"),
        Actor("applicant2", 4302, "李娜"),
        Actor("reviewer", 7101, "李教授"),  # joined through an invitation
        Actor("reviewer2", 7102, "Prof. Zhao", "en"),
        Actor("leader", 7201, "林组长"),  # the leading group
        Actor("customer", 7301, "顾客"),  # never registers: rates an evaluation card through its link
        Actor("stranger", 7302, "Tom", "en"),  # never consented
    )
}

KEYS = {actor.telegram_id: actor.key for actor in CAST.values()}
NEVER_REGISTERED = (CAST["customer"], CAST["stranger"])  # not in the seed; they may agree during a sequence
CONSENT = Consent(agree=True).pack()


# Files people send ---------------------------------------------------------------------------------

PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>> endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>> endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 9 9]>> endobj\nxref\n0 4\n0000000000 65535 f \n"
    b"0000000009 00000 n \n0000000053 00000 n \n0000000103 00000 n \ntrailer<</Size 4/Root 1 0 R>>\n"
    b"startxref\n163\n%%EOF\n"
)


def _png() -> bytes:
    image = BytesIO()
    Image.new("RGB", (40, 30), "white").save(image, format="PNG")
    return image.getvalue()


PNG = _png()
# name, content, mime type, the size Telegram declares (None: the real one), sent as a photo
UPLOADS: dict[str, tuple[str, bytes, str, int | None, bool]] = {
    "pdf": ("测评报告.pdf", PDF, "application/pdf", None, False),
    "png": ("推荐意见.png", PNG, "image/png", None, False),
    "photo": ("", PNG, "image/jpeg", None, True),
    "garbage.pdf": ("报告.pdf", b"\x00\x01not a pdf at all\xff" * 20, "application/pdf", None, False),
    "oversized": ("大文件.pdf", PDF, "application/pdf", MAX_BYTES + 1, False),
    "empty.pdf": ("空.pdf", b"", "application/pdf", None, False),
}


# Telegram's side ----------------------------------------------------------------------------------


class Numbers(Iterator[int]):
    """A counter that deep-copies (itertools.count does not, cleanly)."""

    def __init__(self, start: int) -> None:
        self.value = start

    def __next__(self) -> int:
        self.value += 1
        return self.value


@dataclass
class Shown:
    """A message as it is on a person's screen, with the buttons it carries now."""

    message: dict[str, Any]
    buttons: list[tuple[str, str]]  # (label, callback data)


@dataclass(frozen=True)
class Press:
    actor: str
    update_id: int
    query: dict[str, Any]  # the callback_query as delivered


@dataclass
class Telegram:
    """What Telegram keeps, which outlives a restart of the bot: what the strict double remembers
    (answered presses, messages as shown, file ids), message ids, every chat's screen, and the
    updates it delivered (which it may deliver again)."""

    rules: BotAPIRules = field(default_factory=BotAPIRules)
    message_ids: Numbers = field(default_factory=lambda: Numbers(1000))
    ids: Numbers = field(default_factory=lambda: Numbers(0))  # update, query, user message and file ids
    screens: dict[int, dict[int, Shown]] = field(default_factory=dict)  # chat -> message_id -> shown
    delivered: list[tuple[float, dict[str, Any]]] = field(default_factory=list)  # (clock, payload)
    presses: list["Press"] = field(default_factory=list)
    answers: Counter[str] = field(default_factory=Counter)  # answerCallbackQuery per query id
    claims: Counter[int] = field(default_factory=Counter)  # outbox row id -> times claimed for sending
    said: Counter[int] = field(default_factory=Counter)  # chat -> messages sent or edited there

    @property
    def files(self) -> dict[str, Any]:
        return self.rules.files

    def buttons(self, chat_id: int) -> list[tuple[Shown, str, str]]:
        """Every button on the chat's screen, oldest message first."""
        return [
            (shown, label, data)
            for _, shown in sorted(self.screens.get(chat_id, {}).items())
            for label, data in shown.buttons
        ]


_RESPONSES: dict[Any, Any] = {}  # Response[T] by T, held (see TelegramDouble.make_request)


class TelegramDouble(RecordingSession):
    """The strict double, over Telegram state that a restart of the bot does not lose."""

    def __init__(self, telegram: Telegram) -> None:
        super().__init__()
        self.telegram = telegram
        self.rules, self.files = telegram.rules, telegram.rules.files
        self._message_ids = telegram.message_ids  # message ids go on across restarts, as in Telegram
        self.seen = 0  # requests already read into the screens

    async def make_request(self, bot: Bot, method: TelegramMethod[Any], timeout: int | None = None) -> Any:
        # aiogram validates every answer as Response[T], a pydantic generic class it builds on each
        # call; pydantic caches those classes weakly, so after a garbage collection the next call
        # builds it again (2-15 ms each time, measured). Holding them keeps that cache warm.
        _RESPONSES.setdefault(method.__returning__, Response[method.__returning__])  # type: ignore[misc]
        return await super().make_request(bot, method, timeout)

    def observe(self) -> None:
        """Read new requests: what each screen shows now, and the answers to presses."""
        for method, result in zip(self.requests[self.seen :], self.results[self.seen :], strict=True):
            self._observe(method, result)
        self.seen = len(self.requests)

    def _observe(self, method: TelegramMethod[Any], result: Any) -> None:
        if isinstance(method, AnswerCallbackQuery):
            self.telegram.answers[method.callback_query_id] += 1  # refused ones too: each is one too many
        if isinstance(result, Exception):
            return
        if isinstance(method, DeleteMessage):
            self.telegram.screens.get(int(method.chat_id), {}).pop(method.message_id, None)
            return
        if not isinstance(result, dict) or "message_id" not in result:
            return
        chat_id = int(result["chat"]["id"])
        self.telegram.said[chat_id] += 1
        screen = self.telegram.screens.setdefault(chat_id, {})
        markup = getattr(method, "reply_markup", None)
        rows = markup.inline_keyboard if isinstance(markup, InlineKeyboardMarkup) else []
        buttons = [(b.text, b.callback_data) for row in rows for b in row if b.callback_data]
        message = {
            key: result[key] for key in ("message_id", "date", "chat", "text", "caption") if key in result
        }
        message["from"] = BOT_USER
        old = screen.get(result["message_id"])
        if isinstance(method, EditMessageReplyMarkup) and old is not None:
            message = {**old.message}  # the text stays
        screen[result["message_id"]] = Shown(message, buttons)


class CountingSender(OutboxSender):
    """The production sender, counting claims per row: a row claimed twice was sent twice."""

    def __init__(self, *args: Any, claims: Counter[int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.claims = claims

    async def _claim_next(self) -> Any:
        claimed = await super()._claim_next()
        if claimed is not None:
            self.claims[claimed.row.id or 0] += 1
        return claimed


class FakeMonotonic:
    """The sender paces each chat at 1 message/s by a monotonic clock: each reading here is 1.5 s
    later, so a step's messages all go out at once, without sleeping."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 1.5
        return self.now


async def _no_sleep(_: float) -> None:
    await asyncio.sleep(0)


class Jobs:
    """Collects the production periodic jobs (scheduler.register_jobs) to run them by hand."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: FakeClock) -> None:
        self.jobs: dict[str, Callable[[], Any]] = {}
        register_jobs(self, sessions, clock)  # type: ignore[arg-type]

    def add_job(self, job: Callable[[], Any], *_: Any, id: str, **__: Any) -> None:
        self.jobs[id] = job

    async def run_all(self) -> None:
        for job in self.jobs.values():
            await job()


class Errors(logging.Handler):
    """Collects what the bot logged at ERROR (an update failing, the outbox round failing)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            text += "\n" + "".join(traceback.format_exception(record.exc_info[1]))[-3000:]
        self.records.append(text)


# One sequence's world -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Violation:
    kind: str
    detail: str


class Slot:
    """A database path with its engine, clock and Dispatcher, reused sequence after sequence with a
    snapshot's files copied in: building a Dispatcher (hundreds of filters) and an engine would be a
    quarter of a short sequence. A Dispatcher keeps nothing between updates (its FSM storage is the
    database); a restart within a sequence still builds a new one."""

    def __init__(self, root: Path, i18n: I18n) -> None:
        self.root, self.i18n = root, i18n
        self.database = root / "bot.db"
        self.clock = FakeClock()
        self.settings = Settings(
            _env_file=None, bot_token=TOKEN, office_ids=(OFFICE_ID,), data_dir=root / "data"
        )
        self.engine: AsyncEngine = create_engine(f"sqlite+aiosqlite:///{self.database}")
        self.sessions = session_factory(self.engine)
        # The checks read through a plain connection of their own: the bot's engine begins every
        # transaction IMMEDIATE (the write lock), and reading between steps needs none of that.
        self.reader: Engine = sqlalchemy.create_engine(f"sqlite:///{self.database}")
        self.dispatcher = self.new_dispatcher()
        self.jobs = Jobs(self.sessions, self.clock)

    def new_dispatcher(self) -> Dispatcher:
        return create_dispatcher(self.settings, self.sessions, self.i18n, self.clock)

    def load(self, snapshot: "Snapshot") -> None:
        """Between sequences (no connection open): the snapshot's database, files and moment."""
        for leftover in (self.database, self.root / "bot.db-wal", self.root / "bot.db-shm"):
            leftover.unlink(missing_ok=True)
        shutil.copyfile(snapshot.database, self.database)
        shutil.rmtree(self.settings.data_dir, ignore_errors=True)
        shutil.copytree(snapshot.data, self.settings.data_dir)
        self.clock.current = snapshot.clock


class World:
    """The production wiring over one database, with doubles only at the edges (the Bot API, the
    clock). `restart` rebuilds the Dispatcher, Bot, inbox and sender over the same database."""

    def __init__(self, slot: Slot, telegram: Telegram) -> None:
        self.slot, self.telegram = slot, telegram
        self.i18n, self.clock, self.settings = slot.i18n, slot.clock, slot.settings
        self.sessions, self.reader, self.jobs = slot.sessions, slot.reader, slot.jobs
        self.doubles: list[TelegramDouble] = []
        self.delivered_since_restart = 0
        self.seed_updates = len(telegram.delivered)
        self.errors = Errors()
        self.reported: set[tuple[str, object]] = set()  # violations already reported
        self.escaped: list[str] = []  # exceptions that came out of a step (the inbox, the sender, the jobs)
        self.audit_verified: tuple[int, str] = (0, audit.GENESIS)  # the last record verified: seq and hash
        self.spoke: set[int] = set()  # who wrote to the bot in the step being checked
        self.tolerated: Counter[str] = Counter()  # refusals Telegram gives a bot that does right
        self.unanswered: list[tuple[int, str]] = []  # (update_id, what was sent) met with silence
        self._build(slot.dispatcher)

    def _build(self, dispatcher: Dispatcher) -> None:
        self.dispatcher = dispatcher
        self.double = TelegramDouble(self.telegram)
        self.doubles.append(self.double)
        self.bot: Bot = create_bot(TOKEN, self.double)
        self.inbox = InboxProcessor(self.dispatcher, self.bot, self.sessions, self.clock)
        self.sender = CountingSender(
            self.bot,
            self.sessions,
            outbox_renderer(self.i18n),
            self.clock,
            files_dir=self.settings.data_dir / "files",
            default_locale=self.settings.default_locale,
            claims=self.telegram.claims,
            monotonic=FakeMonotonic(),
            sleep=_no_sleep,
            concurrency=1,  # one worker, rows in id order, as on SQLite
        )

    async def restart(self) -> None:
        """A new process over the same database and FSM storage; Telegram is unchanged."""
        await self.bot.session.close()
        self._build(self.slot.new_dispatcher())
        self.delivered_since_restart = 0
        await self.sender.recover()  # as App.run_background does at every start

    async def close(self) -> None:
        """Let go of the database (the slot's engines stay, for the next sequence)."""
        await self.bot.session.close()
        await self.slot.engine.dispose()
        self.slot.reader.dispose()

    # What people and Telegram do --------------------------------------------------------------

    def _message(self, actor: Actor, **content: Any) -> dict[str, Any]:
        return {
            "message_id": next(self.telegram.ids),
            "date": int(self.clock.now().timestamp()),
            "chat": {"id": actor.telegram_id, "type": "private", "first_name": actor.first_name},
            "from": actor.user(),
            **content,
        }

    def _writes(self, actor: Actor) -> None:
        """Someone who blocked the bot must unblock it to write to it again (Telegram's 重新开始)."""
        self.telegram.rules.blocked.discard(actor.telegram_id)
        self.spoke.add(actor.telegram_id)

    async def block(self, actor: Actor) -> None:
        self.telegram.rules.blocked.add(actor.telegram_id)

    async def send(self, actor: Actor, text: str, *, then_block: bool = False) -> None:
        """A message; `then_block`: the person blocks the bot before it is handled."""
        self._writes(actor)
        content: dict[str, Any] = {"text": text}
        if text.startswith("/"):
            content["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        await self._deliver_message(actor, content, then_block=then_block)

    async def _deliver_message(
        self, actor: Actor, content: dict[str, Any], *, then_block: bool = False
    ) -> None:
        message = self._message(actor, **content)
        update_id = next(self.telegram.ids)
        before = self._said_to(actor)
        await self.deliver(
            [{"update_id": update_id, "message": message}], then_block=actor if then_block else None
        )
        if not then_block and self._said_to(actor) == before:
            self.unanswered.append((update_id, f"{actor.key}: {str(content)[:200]}"))

    def _said_to(self, actor: Actor) -> int:
        """How many messages the bot has sent (or edited) in the actor's chat."""
        self.double.observe()
        return self.telegram.said.get(actor.telegram_id, 0)

    async def upload(self, actor: Actor, kind: str) -> None:
        self._writes(actor)
        name, content, mime, declared, as_photo = UPLOADS[kind]
        file_id = f"upload-{next(self.telegram.ids)}"
        self.telegram.files[file_id] = content
        size = len(content) if declared is None else declared
        file = {"file_id": file_id, "file_unique_id": file_id, "file_size": size}
        if as_photo:
            await self._deliver_message(actor, {"photo": [{**file, "width": 40, "height": 30}]})
        else:
            await self._deliver_message(actor, {"document": {**file, "file_name": name, "mime_type": mime}})

    async def press(self, actor: Actor, data: str, message: dict[str, Any] | None = None) -> None:
        """A press of `data` on `message` (by default a message of the presser's own chat that
        Telegram knows, as a forged press would come)."""
        await self.deliver([self.pressing(actor, data, message)])

    def pressing(self, actor: Actor, data: str, message: dict[str, Any] | None = None) -> dict[str, Any]:
        """The update of a press, not delivered yet."""
        self._writes(actor)
        if message is None:
            message = {
                "message_id": next(self.telegram.message_ids),
                "date": int(self.clock.now().timestamp()),
                "chat": {"id": actor.telegram_id, "type": "private"},
                "from": BOT_USER,
                "text": "…",
            }
            self.telegram.rules.shown(actor.telegram_id, message["message_id"], "…")
        query = {
            "id": str(next(self.telegram.ids)),
            "from": actor.user(),
            "chat_instance": str(actor.telegram_id),
            "message": message,
            "data": data,
        }
        update_id = next(self.telegram.ids)
        self.telegram.presses.append(Press(actor.key, update_id, query))
        return {"update_id": update_id, "callback_query": query}

    async def press_label(self, actor: Actor, label: str) -> None:
        """Press the newest button on the actor's screen labelled `label`, or else containing it
        (the seed's way of pressing)."""
        buttons = list(reversed(self.telegram.buttons(actor.telegram_id)))
        labelled = [b for b in buttons if b[1] == label] + [b for b in buttons if label in b[1]]
        if not labelled:
            raise AssertionError(f"no button {label!r} for {actor.key}: {[b[1] for b in buttons]}")
        shown, _, data = labelled[0]
        await self.press(actor, data, copy.deepcopy(shown.message))

    async def deliver(self, payloads: list[dict[str, Any]], *, then_block: Actor | None = None) -> None:
        """Telegram delivers updates: stored in the inbox, processed, the outbox sent (`then_block`
        blocks the bot in between, as someone who leaves at once would)."""
        self.delivered_since_restart += len(payloads)
        for payload in payloads:
            self.telegram.delivered.append((self.clock.now().timestamp(), payload))
        await self.inbox.store(copy.deepcopy(payloads))
        if then_block is not None:
            await self.block(then_block)
        await self.settle()

    async def redeliver(self, pick: int, twice: bool) -> dict[str, Any] | None:
        """Telegram sends an update again, with its update_id (never older than its horizon)."""
        horizon = self.clock.now().timestamp() - REDELIVERY_HORIZON
        recent = [payload for at, payload in self.telegram.delivered if at >= horizon]
        if not recent:
            return None
        payload = recent[-1 - pick % len(recent)]
        self.delivered_since_restart += 1
        await self.inbox.store([copy.deepcopy(payload)] * (2 if twice else 1))
        await self.settle()
        return payload

    async def settle(self) -> None:
        await self.inbox.process_pending()
        if await self._outbox_waiting():  # an empty round still takes SQLite's write lock: skip it
            await self.sender.run_once()
        self.double.observe()

    async def _outbox_waiting(self) -> bool:
        due = (
            select(OutboxMessage.id)
            .where(
                OutboxMessage.status == OutboxStatus.PENDING,
                col(OutboxMessage.not_before) <= self.clock.now(),
            )
            .limit(1)
        )
        with self.reader.connect() as db:
            return db.execute(due).first() is not None

    async def time_passes(self, seconds: float) -> None:
        self.clock.advance(seconds=seconds)
        await self.jobs.run_all()
        await self.settle()

    # The seed's helpers ---------------------------------------------------------------------------

    async def grant(self, actor: Actor, role: Role, organisation_id: int | None = None) -> None:
        async with self.sessions() as session:
            loaded = await people.load_actor(session, address(actor.telegram_id), fallback_language="zh_CN")
            person = loaded.person_id
            assert person is not None, f"{actor.key} has not consented"
            await people.grant_role(
                session,
                person_id=person,
                role=role,
                organisation_id=organisation_id,
                granted_by=None,
                now=self.clock.now(),
                reason="fuzz seed",
            )

    async def open_round_early(self, office: Actor, closes_at: datetime) -> None:
        async with self.sessions() as session:
            actor = await people.load_actor(session, address(office.telegram_id), fallback_language="zh_CN")
            await rounds.open_round(
                session, actor, campaign_id=1, closes_at=closes_at, now=self.clock.now(), override=EARLY
            )
            await session.commit()
        await self.settle()

    async def publish_early(self, office: Actor) -> None:
        async with self.sessions() as session:
            actor = await people.load_actor(session, address(office.telegram_id), fallback_language="zh_CN")
            await publicity_list.publish(session, actor, 1, self.clock.now(), override=EARLY)
            await session.commit()
        await self.settle()

    def texts(self, actor: Actor) -> list[str]:
        """What the bot said to the actor since the last restart."""
        return [
            str(m.text)
            for m in self.double.requests  # type: ignore[attr-defined]
            if getattr(m, "chat_id", None) == actor.telegram_id and getattr(m, "text", None)
        ]

    def last_text(self, actor: Actor) -> str:
        texts = self.texts(actor)
        return texts[-1] if texts else ""

    # The promises, checked after every step ------------------------------------------------------

    async def check(self) -> list[Violation]:
        """Violations not reported before."""
        found: list[tuple[str, object, str]] = []
        for double in self.doubles:
            double.observe()
        for index, (method, description) in enumerate(self.telegram.rules.refusals):
            # "Not modified" is how Telegram answers a double tap re-rendering the same screen; the
            # bot treats it as done at one shared place (NotModifiedIsDone), by design.
            if (method.startswith("editMessage") and description == NOT_MODIFIED) or description == BLOCKED:
                # A double tap re-rendering the same screen, which the bot takes as done at one place
                # (NotModifiedIsDone), by design; or the person blocked the bot: Telegram says so, rightly.
                if ("tolerated", index) not in self.reported:
                    self.reported.add(("tolerated", index))
                    self.tolerated[f"{method}: {description[:60]}"] += 1
                continue
            found.append(("Telegram refusal", index, f"{method}: {description}"))
        for index, text in enumerate(self.errors.records):
            found.append(("error logged", index, text))
        for index, text in enumerate(self.escaped):
            found.append(("exception escaped", index, text))
        if self.unanswered:
            with self.reader.connect() as db:
                settled = set(
                    db.execute(
                        select(InboxUpdate.update_id).where(
                            col(InboxUpdate.update_id).in_([update_id for update_id, _ in self.unanswered]),
                            InboxUpdate.status == InboxStatus.DONE,
                        )
                    ).scalars()
                )
            # Silence is the fallback router's to prevent; an update that failed is reported as that.
            found.extend(
                ("a message met with silence", update_id, f"update {update_id} from {what}")
                for update_id, what in self.unanswered
                if update_id in settled
            )
        found.extend(
            ("outbox row sent twice", row_id, f"outbox row {row_id} claimed {claims} times")
            for row_id, claims in self.telegram.claims.items()
            if claims > 1
        )
        with self.reader.connect() as db:
            # A press is judged once its update is done: one waiting behind a failed update of its
            # chat is that failure's consequence, reported as the failure.
            unsettled = set(
                db.execute(
                    select(InboxUpdate.update_id).where(InboxUpdate.status != InboxStatus.DONE)
                ).scalars()
            )
            for press in self.telegram.presses:
                answers = self.telegram.answers[press.query["id"]]
                if answers != 1 and press.update_id not in unsettled:
                    found.append(
                        (
                            "press not answered exactly once",
                            press.query["id"],
                            f"{press.actor} pressed {press.query['data']!r}: {answers} answers",
                        )
                    )
            for update_id, status, error in db.execute(
                select(InboxUpdate.update_id, InboxUpdate.status, InboxUpdate.last_error).where(
                    (col(InboxUpdate.attempts) > 0) | (InboxUpdate.status == InboxStatus.DEAD)
                )
            ).all():
                kind = "dead letter" if status == InboxStatus.DEAD else "unhandled exception"
                found.append((kind, update_id, f"update {update_id}: {error[:1500]}"))
            found.extend(self._consent(db))
            found.extend(self._reachable(db))
            found.extend(self._stages(db))
            found.extend(self._ballots(db))
            # Sent twice, maybe (a send interrupted), or refused: none of them in a sequence without crashes.
            suspect = (OutboxStatus.SENDING, OutboxStatus.UNCERTAIN, OutboxStatus.FAILED)
            for row_id, status, template, chat_id, error in db.execute(
                select(
                    OutboxMessage.id,
                    OutboxMessage.status,
                    OutboxMessage.template,
                    OutboxMessage.chat_id,
                    OutboxMessage.error,
                ).where(col(OutboxMessage.status).in_(suspect))
            ).all():
                found.append(
                    (
                        f"outbox row {OutboxStatus(status).value}",
                        row_id,
                        f"outbox row {row_id} ({template} to {chat_id}): {error[:500]}",
                    )
                )
            found.extend(self._audit(db))
        new = [(kind, key, detail) for kind, key, detail in found if (kind, key) not in self.reported]
        self.reported.update((kind, key) for kind, key, _ in new)
        return [Violation(kind, detail) for kind, _, detail in new]

    def _consent(self, db: Connection) -> list[tuple[str, object, str]]:
        """Nothing personal is kept about someone who never agreed (the customer, the stranger)."""
        agreed = {press.actor for press in self.telegram.presses if press.query["data"] == CONSENT}
        strangers = {actor.telegram_id: actor.key for actor in NEVER_REGISTERED if actor.key not in agreed}
        return [
            ("a person kept without consent", address, f"{strangers[int(address)]} has a Person row")
            for address in db.execute(
                select(ChannelAccount.address).where(
                    ChannelAccount.channel == TELEGRAM, col(ChannelAccount.address).in_(map(str, strangers))
                )
            ).scalars()
        ]

    def _reachable(self, db: Connection) -> list[tuple[str, object, str]]:
        """Whoever just wrote to the bot and has not blocked it since is not left marked as blocked
        (the outbox and the panels leave out whoever is)."""
        spoke, self.spoke = self.spoke - self.telegram.rules.blocked, set()
        if not spoke:
            return []
        marked = db.execute(
            select(ChannelAccount.address, Person.blocked_at)
            .join(Person, col(Person.id) == ChannelAccount.person_id)
            .where(col(ChannelAccount.address).in_(map(str, spoke)), col(Person.blocked_at).is_not(None))
        ).all()
        return [
            (
                "a person writing to the bot is still marked blocked",
                (address, blocked_at),
                f"{KEYS.get(int(address), address)} wrote to the bot, marked blocked since {blocked_at}",
            )
            for address, blocked_at in marked
        ]

    def _stages(self, db: Connection) -> list[tuple[str, object, str]]:
        """Every nomination is in a stage of the table, reached through its moves, each one allowed."""
        found: list[tuple[str, object, str]] = []
        moves: dict[int, list[tuple[int, str, str]]] = {}
        history = select(
            NominationMove.id,
            NominationMove.nomination_id,
            NominationMove.from_stage,
            NominationMove.to_stage,
        ).order_by(col(NominationMove.id))
        for move_id, nomination_id, before, after in db.execute(history).all():
            moves.setdefault(nomination_id, []).append((move_id or 0, before, after))
        for nomination_id, stage in db.execute(select(Nomination.id, Nomination.stage)).all():
            at = Stage.DRAFT.value
            for move_id, before, after in moves.get(nomination_id or 0, []):
                if before != at or (before, after) not in LEGAL_MOVES:
                    found.append(
                        (
                            "illegal nomination move",
                            move_id,
                            f"nomination {nomination_id} was {at}, then moved {before} -> {after}",
                        )
                    )
                at = after
            if stage not in STAGES or stage != at:
                found.append(
                    (
                        "illegal nomination stage",
                        (nomination_id, stage),
                        f"nomination {nomination_id} is {stage!r}; its moves end at {at!r}",
                    )
                )
        return found

    def _ballots(self, db: Connection) -> list[tuple[str, object, str]]:
        """Ballots only from the round's panel, on its nominations, not from a recused reviewer,
        cast while the reviewer held the role, and none changed after the round closed."""
        ballots = db.execute(
            select(Ballot.id, Ballot.round_id, Ballot.nomination_id, Ballot.reviewer_id, Ballot.changed_at)
        ).all()
        if not ballots:
            return []
        seats = set(db.execute(select(PanelSeat.round_id, PanelSeat.reviewer_id)).all())
        items = set(db.execute(select(RoundNomination.round_id, RoundNomination.nomination_id)).all())
        recused = set(db.execute(select(Recusal.round_id, Recusal.nomination_id, Recusal.reviewer_id)).all())
        closed = dict(db.execute(select(ReviewRound.id, ReviewRound.closed_at)).all())
        roles: dict[int, list[tuple[datetime, datetime | None]]] = {}
        for person_id, granted, revoked in db.execute(
            select(RoleAssignment.person_id, RoleAssignment.granted_at, RoleAssignment.revoked_at).where(
                RoleAssignment.role == Role.REVIEWER
            )
        ).all():
            roles.setdefault(person_id, []).append((granted, revoked))
        # /forget erases a person's roles (their ballots stay, accountable under a bare number)
        forgotten = set(
            db.execute(
                select(Person.id).where(col(Person.id).not_in(select(ChannelAccount.person_id)))
            ).scalars()
        )
        found: list[tuple[str, object, str]] = []
        for ballot_id, round_id, nomination_id, reviewer_id, changed_at in ballots:
            what = f"ballot {ballot_id}: reviewer {reviewer_id}, round {round_id}, nomination {nomination_id}"
            if (round_id, reviewer_id) not in seats or (round_id, nomination_id) not in items:
                found.append(("ballot outside the panel", ballot_id, what))
            if (round_id, nomination_id, reviewer_id) in recused:
                found.append(("ballot from a recused reviewer", ballot_id, what))
            held = any(
                granted <= changed_at and (revoked is None or changed_at < revoked)
                for granted, revoked in roles.get(reviewer_id, [])
            )
            if not held and reviewer_id not in forgotten:
                found.append(("ballot without the reviewer role", ballot_id, f"{what}, at {changed_at}"))
            if closed.get(round_id) is not None and changed_at > closed[round_id]:
                found.append(("ballot after the round closed", ballot_id, f"{what}, at {changed_at}"))
        return found

    def _audit(self, db: Connection) -> list[tuple[str, object, str]]:
        """The records appended since the last step follow the chain, by the production hash
        (the whole chain goes through audit.verify_chain at the end of the sequence)."""
        seq, prev = self.audit_verified
        appended = (
            select(
                AuditRecord.seq,
                AuditRecord.at,
                AuditRecord.actor_id,
                AuditRecord.action,
                AuditRecord.subject,
                AuditRecord.reason,
                AuditRecord.details,
                AuditRecord.prev_hash,
                AuditRecord.hash,
            )
            .where(AuditRecord.seq > seq)
            .order_by(col(AuditRecord.seq))
        )
        for record in db.execute(appended).all():
            digest = audit.record_hash(
                record.prev_hash,
                record.seq,
                record.at,
                record.actor_id,
                record.action,
                record.subject,
                record.reason,
                record.details,
            )
            if record.seq != seq + 1:
                problem = "missing record"
            elif record.prev_hash != prev:
                problem = "does not follow the record before it"
            elif digest != record.hash:
                problem = "content does not match its hash"
            else:
                seq, prev = record.seq, record.hash
                continue
            return [("audit chain broken", record.seq, f"record {record.seq}: {problem}")]
        head = db.execute(select(AuditHead.seq, AuditHead.hash)).first()
        if head is not None and tuple(head) != (seq, prev):
            return [
                (
                    "audit chain broken",
                    ("head", *head),
                    f"the head says {tuple(head)}, the records end at {seq}",
                )
            ]
        self.audit_verified = (seq, prev)
        return []

    async def verify_whole_chain(self) -> list[Violation]:
        async with self.sessions() as session:
            report = await audit.verify_chain(session)
        if report.intact:
            return []
        return [Violation("audit chain broken", f"record {report.first_broken}: {report.problem}")]


# The seeded worlds, built once per process ---------------------------------------------------------


@dataclass
class Snapshot:
    """The seeded world at one point of the year, ready to be copied."""

    name: str
    database: Path
    data: Path
    telegram: Telegram
    clock: datetime


@dataclass
class Seeded:
    root: Path
    i18n: I18n
    snapshots: dict[str, Snapshot]
    invitation: str  # an unused one-time invitation payload (inv_…)
    card_link: str  # an evaluation card's deep-link payload (c-…)
    certificate: str  # the certificate number awarded in the last snapshot
    build_seconds: float = 0.0
    slot: Slot | None = None  # where sequences run, one after another

    async def open(self, name: str) -> World:
        """A fresh copy of one snapshot."""
        if self.slot is None:
            self.slot = Slot(self.root / "run", self.i18n)
        snapshot = self.snapshots[name]
        self.slot.load(snapshot)
        return World(self.slot, copy.deepcopy(snapshot.telegram))


_seeded: Seeded | None = None


def seeded() -> Seeded:
    """The seeded worlds of this process (built on first use, in an event loop of their own)."""
    global _seeded
    if _seeded is None:
        shm = Path("/dev/shm")  # memory, where there is some: thousands of small databases come and go
        root = Path(tempfile.mkdtemp(prefix="servicestar-fuzz-", dir=shm if shm.is_dir() else None))
        atexit.register(shutil.rmtree, root, ignore_errors=True)
        _seeded = asyncio.run(_build(root))
    return _seeded


async def _build(root: Path) -> Seeded:
    started = time.perf_counter()
    url = await SqliteDatabases(root).fresh()  # the migrated schema
    i18n = create_i18n(str(compile_catalogues(root / "locales")), "zh_CN")
    slot = Slot(root / "seed", i18n)
    shutil.copyfile(url.removeprefix("sqlite+aiosqlite:///"), slot.database)
    world = World(slot, Telegram())
    database = slot.database
    snapshots: dict[str, Snapshot] = {}

    async def snapshot(name: str) -> None:
        assert not await world.check(), f"the seed broke a promise before {name!r}"
        target = root / f"snapshot-{name}"
        target.mkdir()
        # SQLite's backup copies what is committed, WAL included, while the world's connections stay open.
        with closing(sqlite3.connect(database)) as source, closing(sqlite3.connect(target / "bot.db")) as to:
            source.backup(to)
        shutil.copytree(world.settings.data_dir, target / "data")
        telegram = copy.deepcopy(world.telegram)
        telegram.presses.clear()  # a sequence checks (and replays) its own presses
        snapshots[name] = Snapshot(name, target / "bot.db", target / "data", telegram, world.clock.now())

    try:
        invitation, card_link = await seed_nominating(world)
        await snapshot("nominating")
        await seed_publicity(world)
        await snapshot("publicity")
        certificate = await seed_awarded(world)
        await snapshot("awarded")
    finally:
        await world.close()
    return Seeded(
        root, i18n, snapshots, invitation, card_link, certificate, build_seconds=time.perf_counter() - started
    )


FIELDS = {
    "姓名/名称": None,
    "工作单位": "广州地铁",
    "岗位": "站务员",
    "一线工作年限": "８",
    "所在城市": "广州",
    "行业": "交通运输",
    "联系电话": "138 0013 8000",
}  # None: the applicant's name


async def _consent(world: World, actor: Actor) -> None:
    await world.send(actor, "/start")
    await world.press_label(actor, "I agree" if actor.language_code == "en" else "同意")


async def _nominate(world: World, applicant: Actor) -> None:
    """Consent, /nominate, the dossier, 广东质协, the satisfaction report, consent to publication, submit."""
    await _consent(world, applicant)
    await world.send(applicant, "/nominate")
    await world.press_label(applicant, "广东省用户满意服务明星")
    for label, value in FIELDS.items():
        await world.press_label(applicant, label)
        await world.send(applicant, value or applicant.first_name)
    await world.press_label(applicant, "选择推荐单位")
    await world.press_label(applicant, "广东质协")
    await world.press_label(applicant, "上传材料")
    await world.press_label(applicant, "用户满意度测评报告")
    await world.upload(applicant, "pdf")
    await world.press_label(applicant, "完成")
    await world.press_label(applicant, "同意公开")
    await world.press_label(applicant, "提交")


async def seed_nominating(world: World) -> tuple[str, str]:
    """Nominations under way: the campaign is open, nomination 1 (李娜's) passed the preliminary
    check and is in review round 1 (both reviewers have their prompts), nomination 2 (张伟's) waits
    for the recommending body; an unused invitation and an evaluation card for the customer."""
    office, recommender, reviewer = CAST["office"], CAST["recommender"], CAST["reviewer"]
    await _consent(world, office)
    async with world.sessions() as session:
        actor = await people.load_actor(session, address(OFFICE_ID), fallback_language="zh_CN")
        await campaigns.create(
            session,
            actor,
            year=2026,
            honours=["STAR", "TEAM", "MANAGER", "ENTERPRISE"],
            publicity_workdays=5,
            now=world.clock.now(),
            dates=DATES_2026,
        )
    await _consent(world, recommender)
    await world.grant(recommender, Role.RECOMMENDER, organisation_id=1)
    for key in ("reviewer2", "leader"):
        await _consent(world, CAST[key])
    await world.grant(CAST["reviewer2"], Role.REVIEWER)
    await world.grant(CAST["leader"], Role.LEADING_GROUP)
    # The first reviewer joins through an invitation; a second invitation is left unused.
    invitations = []
    for _ in range(2):
        await world.send(office, "/invite")
        await world.press_label(office, "评审委员")
        link = re.search(r"start=(inv_[A-Za-z0-9_-]+)", world.last_text(office))
        assert link is not None, world.last_text(office)
        invitations.append(link.group(1))
    await _consent(world, reviewer)
    await world.send(reviewer, f"/start {invitations[0]}")
    await world.press_label(reviewer, "接受邀请")
    # One nomination with the recommending body, one endorsed, passed and in a review round.
    await _nominate(world, CAST["applicant2"])
    await world.press_label(recommender, "推荐")
    await world.send(recommender, "该同志服务成绩突出，同意推荐。")
    await world.upload(recommender, "png")
    await world.send(office, "/precheck")
    await world.press_label(office, "第 1 号")
    await world.press_label(office, "通过")
    # The round opens while nominations are still under way: the office overrides the phase (a
    # stated reason, audited), so one snapshot holds every role's work at once.
    await world.open_round_early(office, datetime(2026, 3, 9, 10, tzinfo=UTC))
    await _nominate(world, CAST["applicant"])
    async with world.sessions() as session:
        stages = list((await session.exec(select(Nomination.stage).order_by(col(Nomination.id)))).all())
        assert stages == ["passed", "submitted"], stages
        applicant = await people.load_actor(
            session, address(CAST["applicant"].telegram_id), fallback_language="zh_CN"
        )
        card = await _card(session, applicant, world.clock.now())
    return invitations[1], card


async def seed_publicity(world: World) -> None:
    """Both reviewers vote for nomination 1 (counted at once) and the office publishes the list."""
    await world.press_label(CAST["reviewer"], "同意")
    await world.press_label(CAST["reviewer2"], "For")
    await world.publish_early(CAST["office"])


async def seed_awarded(world: World) -> str:
    """The publicity period ends without objection, the leading group approves, the office awards."""
    async with world.sessions() as session:
        listing = await publicity_list.latest(session)
        assert listing is not None
    # 审定 by the calendar (公示 ended about 22 June) and after the list's own period.
    world.clock.current = max(listing.ends_at + timedelta(minutes=1), datetime(2026, 7, 1, 1, tzinfo=UTC))
    await world.jobs.run_all()
    await world.send(CAST["leader"], "/approve")
    await world.press_label(CAST["leader"], "审定通过")
    await world.send(CAST["office"], "/award")
    await world.press_label(CAST["office"], "确认授予")
    async with world.sessions() as session:
        honour = (await session.exec(select(Honour))).one()
    return honour.certificate_no


async def _card(session: AsyncSession, actor: ServiceActor, now: datetime) -> str:
    made = await card_owner.create(
        session, actor, kind="person", subject_name="张伟", unit="广州地铁", now=now
    )
    return f"{CARD_PREFIX}{made.token}"


# What the machine draws ----------------------------------------------------------------------------

OFFICE_COMMANDS = (
    "precheck",
    "rounds",
    "publicity",
    "approve",
    "award",
    "invite",
    "roles",
    "announce",
    "newcampaign",
    "export",
    "verify",
    "pending",
    "review",
    "deadletters",
    "workday",
    "selfcheckstats",
    "cardreport",
    "cardflags",
    "heldcomments",
    "certificate",
    "rereview",
    "revoke",
    "national",
    "national_export",
    "unsubscribe",
)
ALL_COMMANDS = tuple(dict.fromkeys((*COMMANDS, *OFFICE_COMMANDS)))

# Words that mean something to one of the bot's questions, beside random ones.
MEANINGFUL = (
    "2026-03-09 18:00",
    "2026-03-09 18:00 open",
    "2026-03-09 18:00 panel",
    "2026-03-05 18:00 quorum=1/2",
    "2027-01-01 00:00",
    "2026-03-20",
    "138 0013 8000",
    "１３８ ００１３ ８０００",
    "12345",
    "张伟",
    "广州地铁",
    "８",
    "该同志服务成绩突出，同意推荐。",
    "材料不全",
    "取消",
    "cancel",
    "GD-2026-STAR-0001",
    "是",
    "否",
    "yes",
    "1",
    "0",
    "-1",
    "99999999999999999999",
    "",
    " ",
    "\u202e反转",
    "=1+1",
    "<b>粗体</b>",
    "<b>未闭合",
    "a & b < c",
    "&lt;",
    "😀🎉",
    "x" * 5000,
)
TEXTS = st.one_of(
    st.sampled_from(MEANINGFUL),
    st.text(max_size=40),
    st.text(alphabet="<>/&;b abi\"'", max_size=20),
    st.text(alphabet="０１２３４５６７８９ -+", max_size=15),
)
ARGS = st.one_of(
    st.just(""),
    st.sampled_from(
        (
            "1",
            "2",
            "3",
            "0",
            "-5",
            "99999999999999999999",
            "GD-2026-STAR-0001",
            "STAR",
            "all",
            "2026",
            "abc",
            "１",
            "1 2",
        )
    ),
    st.text(max_size=20),
)
# "card", "invitation" and "certificate" are the seed's real ones; the rest are made up.
PAYLOAD_SHAPES = (
    "card",
    "invitation",
    "certificate",
    "c-xxx",
    "v-GD-2026-STAR-0001",
    "v-GD-2026-STAR-9999",
    "i-xxx",
    "inv_xxx",
    "c-",
    "v-",
    "inv_",
    "x" * 80,
    "",
)
TOKEN_CHARACTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-"
FORGED = st.one_of(
    st.builds(lambda token: f"t:{token}", st.text(alphabet=TOKEN_CHARACTERS, max_size=30)),
    st.sampled_from(
        (
            "sa:1:2:yes",
            "sa:1:99:back",
            "sa:99999999999999999999:0:yes",
            "po:1",
            "po:2",
            "po:99999999999999999999",
            "po:-1",
            "ne:1:submit",
            "ne:2:submit",
            "ne:1:org-1",
            "ne:2:files",
            "ne:99999999999999999999:x",
            "nm:STAR:0",
            "nm:XX:0",
            "nm:STAR:99",
            "pp:-1",
            "pp:0",
            "pp:5",
            "pt:0",
            "pt:99",
            "ps:xlsx",
            "ps:done",
            "co:1:pdf",
            "co:1:qr",
            "co:2:show",
            "ob:1",
            "ob:2",
            "os:skip",
            "os:person",
            "ir:reviewer:0",
            "ir:recommender:1",
            "ir:office:0",
            "ir:x:99999999999999999999",
            "cf:1:nomination_opens",
            "lang:en",
            "lang:xx",
            "m:precheck",
            "m:rounds",
            "m:nominate",
            "m:approve",
            "m:award",
            "consent:1",
            "consent:0",
            "ok:forget:0",
            "hl:STAR::0",
            "hl:::99999999999999999999",
            "ca:1:0:5",
            "ca:1:99:0",
            "x",
            "sub:1",
            "sub:0",
            "an:preview",
            "an:cancel",
            "t:",
            "t",
            ":",
            "::::",
            "",
        )
    ),
    st.text(max_size=10),
    st.text(min_size=65, max_size=80),  # beyond the 64 bytes Telegram allows
)


# The machine ---------------------------------------------------------------------------------------


@dataclass
class Figures:
    """What a run saw, over all its sequences."""

    sequences: int = 0
    steps: int = 0
    presses: int = 0
    answered_once: int = 0
    updates: int = 0
    rules: Counter[str] = field(default_factory=Counter)
    rule_seconds: Counter[str] = field(default_factory=Counter)
    check_seconds: float = 0.0
    violations: Counter[str] = field(default_factory=Counter)
    examples: dict[str, str] = field(default_factory=dict)  # one detail per kind of new violation
    tolerated_refusals: Counter[str] = field(default_factory=Counter)  # not modified, blocked
    setup_seconds: float = 0.0
    worlds: Counter[str] = field(default_factory=Counter)  # sequences by the snapshot they started from


FIGURES = Figures()


class JourneyViolation(AssertionError):
    """A promise the bot broke. Each kind is its own subclass, so hypothesis shrinks each bug on its
    own instead of sliding from one to another."""


_kinds: dict[str, type[JourneyViolation]] = {}


def violation_class(kind: str) -> type[JourneyViolation]:
    if kind not in _kinds:
        name = "".join(word.capitalize() for word in re.findall(r"[A-Za-z]+", kind))
        _kinds[kind] = type(name, (JourneyViolation,), {})
    return _kinds[kind]


ACTORS = st.sampled_from(sorted(CAST))
SNAPSHOTS = ("nominating", "publicity", "awarded")  # as the seed makes them, in the year's order
PICKS = st.integers(min_value=0, max_value=1000)  # from the newest: shrinks towards the newest button


class JourneyMachine(RuleBasedStateMachine):
    """One sequence: a fresh copy of the seeded world, random steps, every promise checked."""

    keep_going = False  # the bench counts violations instead of stopping at the first

    def __init__(self) -> None:
        super().__init__()
        self.runner = asyncio.Runner()
        self.seeded = seeded()
        self._world: World | None = None  # made by the first step, from the snapshot it chooses
        self.stepped = False
        FIGURES.sequences += 1

    @property
    def world(self) -> World:
        assert self._world is not None, "the first step (start_from) makes the world"
        return self._world

    @initialize(name=st.sampled_from(SNAPSHOTS))
    def start_from(self, name: str) -> None:
        """Which point of the year the sequence starts from."""
        started = time.perf_counter()
        self._world = self.runner.run(self.seeded.open(name))
        logging.getLogger().addHandler(self.world.errors)
        FIGURES.worlds[name] += 1
        FIGURES.setup_seconds += time.perf_counter() - started

    def teardown(self) -> None:
        try:
            if self._world is not None:
                self._close(self._world)
        finally:
            self.runner.close()

    def _close(self, world: World) -> None:
        logging.getLogger().removeHandler(world.errors)
        FIGURES.presses += len(world.telegram.presses)
        FIGURES.answered_once += sum(
            1 for press in world.telegram.presses if world.telegram.answers[press.query["id"]] == 1
        )
        FIGURES.updates += len(world.telegram.delivered) - world.seed_updates
        FIGURES.tolerated_refusals.update(world.tolerated)
        try:
            if self.stepped:
                self._report(self.runner.run(world.verify_whole_chain()))
        finally:
            self.runner.run(world.close())

    def _step(self, name: str, description: str, action: Any) -> None:
        note(description)
        FIGURES.steps += 1
        FIGURES.rules[name] += 1
        self.stepped = True
        self.world.clock.advance(seconds=1)  # people are not instant: every step has its own moment
        started = time.perf_counter()
        try:
            self.runner.run(action)
        except Exception as error:  # noqa: BLE001  (reported by the invariant, with the step that raised it)
            self.world.escaped.append("".join(traceback.format_exception(error))[-3000:])
        FIGURES.rule_seconds[name] += time.perf_counter() - started

    # Steps --------------------------------------------------------------------------------------

    @rule(who=ACTORS, text=TEXTS)
    def send_text(self, who: str, text: str) -> None:
        self._step("text", f"{who} types {text[:80]!r}", self.world.send(CAST[who], text))

    @rule(who=ACTORS, text=st.one_of(TEXTS, st.sampled_from(tuple(f"/{c}" for c in COMMANDS))))
    def send_then_block(self, who: str, text: str) -> None:
        """The person writes, then blocks the bot before it has answered."""
        self._step(
            "write and block",
            f"{who} sends {text[:80]!r} and blocks the bot at once",
            self.world.send(CAST[who], text, then_block=True),
        )

    @rule(who=ACTORS, command=st.sampled_from(ALL_COMMANDS), args=ARGS)
    def send_command(self, who: str, command: str, args: str) -> None:
        text = f"/{command} {args}".rstrip()
        self._step("command", f"{who} sends {text!r}", self.world.send(CAST[who], text))

    @rule(who=ACTORS, shape=st.sampled_from(PAYLOAD_SHAPES))
    def deep_link(self, who: str, shape: str) -> None:
        links = {
            "card": self.seeded.card_link,
            "invitation": self.seeded.invitation,
            "certificate": f"v-{self.seeded.certificate}",
        }
        text = f"/start {links.get(shape, shape)}".rstrip()
        self._step("deep link", f"{who} sends {text!r}", self.world.send(CAST[who], text))

    def _seen(self, actor: Actor, pick: int) -> tuple[Shown, str, str] | None:
        buttons = self.world.telegram.buttons(actor.telegram_id)
        return buttons[-1 - pick % len(buttons)] if buttons else None

    @rule(who=ACTORS, pick=PICKS)
    def press_seen(self, who: str, pick: int) -> None:
        """Press a button on the person's screen (newest first as the pick shrinks)."""
        seen = self._seen(CAST[who], pick)
        if seen is None:
            return
        shown, label, data = seen
        self._step(
            "press",
            f"{who} presses {label!r} ({data}) on message {shown.message['message_id']}",
            self.world.press(CAST[who], data, copy.deepcopy(shown.message)),
        )

    @rule(who=ACTORS, pick=st.integers(min_value=0, max_value=4))
    def press_recent(self, who: str, pick: int) -> None:
        """The same, among the newest few buttons: where a journey goes on."""
        self.press_seen(who, pick)

    @rule(first=ACTORS, second=ACTORS, picks=st.tuples(st.integers(0, 4), st.integers(0, 4)))
    def press_at_once(self, first: str, second: str, picks: tuple[int, int]) -> None:
        """Two presses in one delivery, handled side by side (two people), or one after the other
        (one person's double tap: the inbox keeps a chat's order)."""
        seen = [(who, self._seen(CAST[who], pick)) for who, pick in zip((first, second), picks, strict=True)]
        presses = [(who, button) for who, button in seen if button is not None]
        if len(presses) < 2:
            return
        updates = [
            self.world.pressing(CAST[who], data, copy.deepcopy(shown.message))
            for who, (shown, _, data) in presses
        ]
        labels = " and ".join(f"{who} {label!r} ({data})" for who, (_, label, data) in presses)
        self._step("presses at once", f"at once: {labels}", self.world.deliver(updates))

    @rule(who=ACTORS, pick=st.integers(0, 4))
    def press_delivered_twice(self, who: str, pick: int) -> None:
        """A new press that Telegram delivers twice before the bot has handled it (same update_id)."""
        seen = self._seen(CAST[who], pick)
        if seen is None:
            return
        shown, label, data = seen
        update = self.world.pressing(CAST[who], data, copy.deepcopy(shown.message))
        self._step(
            "press delivered twice",
            f"{who} presses {label!r} ({data}), delivered twice",
            self.world.deliver([update, copy.deepcopy(update)]),
        )

    @rule(who=ACTORS, data=FORGED)
    def press_forged(self, who: str, data: str) -> None:
        self._step("forged press", f"{who} presses forged data {data!r}", self.world.press(CAST[who], data))

    @rule(who=ACTORS, owner=ACTORS, pick=PICKS)
    def press_someone_elses(self, who: str, owner: str, pick: int) -> None:
        """Someone else's button data, pressed in the presser's own chat (forwarded or forged)."""
        seen = self._seen(CAST[owner], pick)
        if seen is None or who == owner:
            return
        _, label, data = seen
        self._step(
            "cross-user press",
            f"{who} presses {owner}'s {label!r} ({data})",
            self.world.press(CAST[who], data),
        )

    @precondition(lambda self: self._world is not None and self._world.telegram.presses)
    @rule(pick=PICKS)
    def replay_press(self, pick: int) -> None:
        """A press sent again by the app: same person, message and data; new update and query ids."""
        presses = self.world.telegram.presses
        press = presses[-1 - pick % len(presses)]
        message = copy.deepcopy(press.query["message"])
        again = self.world.press(CAST[press.actor], press.query["data"], message)
        self._step("replayed press", f"{press.actor} presses {press.query['data']!r} again", again)

    @rule(who=ACTORS, kind=st.sampled_from(sorted(UPLOADS)))
    def upload(self, who: str, kind: str) -> None:
        self._step("upload", f"{who} uploads {kind}", self.world.upload(CAST[who], kind))

    @rule(pick=PICKS, twice=st.booleans())
    def redeliver(self, pick: int, twice: bool) -> None:
        """Telegram delivers an update it delivered before (the same update_id), maybe twice at once."""

        async def go() -> None:
            payload = await self.world.redeliver(pick, twice)
            note(f"  (update {payload and payload['update_id']})")

        what = f"Telegram redelivers the update {pick} before the newest{' twice at once' if twice else ''}"
        self._step("redelivery", what, go())

    @precondition(lambda self: self._world is not None and self._world.delivered_since_restart)
    @rule()
    def restart(self) -> None:
        """A new process over the same database (right after another restart, it would find nothing new)."""
        self._step("restart", "the bot restarts", self.world.restart())

    @rule(who=ACTORS)
    def block_the_bot(self, who: str) -> None:
        """The person blocks the bot; their next update unblocks it (sending needs that)."""
        if CAST[who].telegram_id in self.world.telegram.rules.blocked:
            return
        self._step("block", f"{who} blocks the bot", self.world.block(CAST[who]))

    @rule(seconds=st.sampled_from((60, 3600, 6 * 3600, 86400, 3 * 86400, 8 * 86400, 30 * 86400)))
    def time_passes(self, seconds: int) -> None:
        self._step(
            "time", f"{seconds / 3600:g} h pass (the periodic jobs run)", self.world.time_passes(seconds)
        )

    # Promises -------------------------------------------------------------------------------------

    @invariant()
    def promises_kept(self) -> None:
        if not self.stepped:
            return  # the seeded world was checked once, when it was built
        started = time.perf_counter()
        violations = self.runner.run(self.world.check())
        FIGURES.check_seconds += time.perf_counter() - started
        self._report(violations)

    def _report(self, violations: list[Violation]) -> None:
        """Count them; raise the first one (unless keep_going)."""
        new = []
        for violation in violations:
            FIGURES.violations[violation.kind] += 1
            FIGURES.examples.setdefault(violation.kind, violation.detail)
            new.append(violation)
        if new and not self.keep_going:
            first = new[0]
            others = "".join(f"\n  also: {v.kind}: {v.detail[:300]}" for v in new[1:])
            raise violation_class(first.kind)(f"{first.kind}: {first.detail}{others}")
