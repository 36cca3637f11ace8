"""Support for the kill suite (tests/e2e/test_kill_suite.py): the real entry point, run by
tests/support/killable_bot.py, SIGKILLed at chosen kill points of a scripted journey and started
again, and what each kill did to what people got.

- `KillingEmulator`: the Bot API emulator, also keeping an ordered log of every message shown (sent
  or edited), every press answered, every refusal, and which updates the poll acknowledged (a later
  getUpdates with a higher offset); and it kills the bot while a request is in flight (Telegram
  has it and acted on it, the response never gets back). Such a kill is exact for that request;
  the bot's other tasks (the outbox sender) run on until the signal lands.
- `Zygote` / `Launcher`: each start of the bot is a fork of a process that imported it once
  (`python -m tests.support.killable_bot --zygote`), so a restart costs the bot's own start-up
  (~0.3 s) and not the seconds of importing aiogram, SQLAlchemy and the handlers; the child calls
  bot.__main__.main() like `python -m bot`. KILL_SUITE_ZYGOTE=0: every start is a fresh
  `python -m tests.support.killable_bot`.
- `Trace`: the kill points each process counted (its KILL_TRACE file). A kill point is armed
  through KILL_CONTROL ("<pid> <n> <mode>", read at every event) rather than KILL_AT: which event
  number a step starts at in a process is known only when it gets there (start-up, redelivery,
  the inbox's and the outbox's own rounds vary).
- `Target` / `Reader`: a fresh database per run, SQLite (a file) or PostgreSQL (a database of its
  own, dropped afterwards), migrated by the bot itself, read here with a plain engine.
- `journey()`: the steps; `plan()`: one kill point per step, spread over the clean run's events;
  `Run`: runs the steps, clean or killed, restarts the bot, and measures each step against the
  clean run; `Figures` and `report()`: the table.

What a step is measured by: the messages its update brought (sent or edited, by chat; the
announcement progress edits made on a timer count once), presses answered, refusals. A person whose
step brought nothing sends it once more; a person who no longer sees what the clean run showed gets
back the way a person would (`RESYNC`), or leaves the conversation with /cancel, and the rest of that
conversation is skipped (counted in the table, never compared).
"""

import asyncio
import contextlib
import contextvars
import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
import zlib
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiohttp import web
from sqlalchemy import bindparam, text
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.types import JSON, DateTime

from bot.bot_api_rules import Refused
from tests.support.databases import POSTGRES, unavailable
from tests.support.emulator import BotAPIEmulator, _int

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "4242:E2E-TOKEN-abcdefghijklmnopqrstuvwxyz"
SENDS = frozenset({"sendMessage", "sendDocument", "sendPhoto", "copyMessage", "sendMediaGroup"})
EDITS = frozenset({"editMessageText", "editMessageReplyMarkup", "editMessageCaption"})
# The progress of an announcement is edited into the office's message on a timer: how many of those
# edits a step sees depends on timing, so they count as one, whatever their number.
INTERIM_PROGRESS = ("公告发送中",)
QUIET = float(os.environ.get("KILL_SUITE_QUIET", "0.35"))  # no event for this long: the step is over
STEP_TIMEOUT = 60.0


# The emulator ---------------------------------------------------------------------------------------


@dataclass
class Shown:
    """A message as the bot showed it: sent, or edited in place."""

    seq: int
    at: float
    method: str
    chat: int
    message_id: int
    text: str
    labels: tuple[str, ...]

    @property
    def kind(self) -> str:
        return "send" if self.method in SENDS else "edit"

    @property
    def signature(self) -> str:
        """Its kind and first line; a nomination's number (which may differ from the clean run's
        when an earlier one was skipped) as #."""
        first = (self.text or "").strip().split("\n", 1)[0]
        return self.method + ":" + re.sub(r"第 \d+ 号", "第 # 号", first)[:80]


@dataclass
class Call:
    at: float
    method: str
    chat: int | None
    status: int
    description: str = ""  # a refusal's, or an answered press's text


_params_seen: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar("params", default=None)


class KillingEmulator(BotAPIEmulator):
    def __init__(self, inflight: Path) -> None:
        super().__init__()
        self.inflight = inflight
        self.shown: list[Shown] = []
        self.calls_log: list[Call] = []
        self.acked: dict[int, float] = {}  # update_id -> when a getUpdates offset passed it
        self.delivered: set[int] = set()
        self.inflight_kills: list[tuple[int, str, int | None]] = []
        self.last_activity = time.monotonic()
        self.polls = 0
        check = self.rules.check

        def checked(method: str, params: dict[str, Any]) -> None:
            _params_seen.set(params)  # this request's, for _api below (the body can be read once only)
            try:
                check(method, params)
            except Refused as refusal:
                chat = _int(params.get("chat_id"))
                refused = Call(time.monotonic(), method, chat, refusal.status, refusal.description)
                self.calls_log.append(refused)
                raise

        self.rules.check = checked  # type: ignore[method-assign]

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        self.polls += 1
        offset = _int(params.get("offset")) or 0
        if offset:
            now = time.monotonic()
            for update in self.queue:
                if update["update_id"] < offset:
                    self.acked.setdefault(update["update_id"], now)
        updates = await super()._get_updates(params)
        self.delivered.update(u["update_id"] for u in updates)
        return updates

    async def _record(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        message = await super()._record(method, params)
        markup = message.get("reply_markup") or {}
        labels = tuple(b.get("text", "") for row in (markup.get("inline_keyboard") or []) for b in row)
        text = message.get("text") or message.get("caption") or ""
        self.shown.append(
            Shown(
                len(self.shown),
                time.monotonic(),
                method,
                int(message["chat"]["id"]),
                int(message["message_id"]),
                text,
                labels,
            )
        )
        return message

    async def _api(self, request: web.Request) -> web.Response:
        response = await super()._api(request)
        method = request.match_info["method"]
        if method == "getUpdates":
            return response
        self.last_activity = time.monotonic()
        params = _params_seen.get() or {}
        chat = _int(params.get("chat_id"))
        if response.status == 200:
            self.calls_log.append(Call(time.monotonic(), method, chat, 200, str(params.get("text") or "")))
        await self._kill_in_flight(method, chat)
        return response

    async def _kill_in_flight(self, method: str, chat: int | None) -> None:
        """The bot wrote "<pid> <method> <chat>" before sending: Telegram has the request now (its
        effect is recorded above); the bot dies before the response goes back."""
        try:
            pid_text, wanted, wanted_chat = self.inflight.read_text().split()
        except (FileNotFoundError, ValueError):
            return
        if wanted != method or wanted_chat not in ("-", str(chat)):
            return
        self.inflight.unlink(missing_ok=True)
        pid = int(pid_text)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        self.inflight_kills.append((pid, method, chat))
        for _ in range(200):  # gone (or a zombie) before the response is written
            if _state(pid) in (None, "Z", "X"):
                break
            await asyncio.sleep(0.005)

    # Reading -----------------------------------------------------------------------------------------

    def answers_refused_twice(self, since: int) -> int:
        return sum(1 for c in self.calls_log[since:] if c.method == "answerCallbackQuery" and c.status == 400)

    def other_refusals(self, since: int) -> list[Call]:
        return [c for c in self.calls_log[since:] if c.status != 200 and c.method != "answerCallbackQuery"]

    def answers(self, since: int, with_text: bool = False) -> int:
        """Presses answered; `with_text`: only those the person sees (an alert or a notice), not
        the bare answer that only stops the button's spinner."""
        return sum(
            1
            for c in self.calls_log[since:]
            if c.method == "answerCallbackQuery" and c.status == 200 and (c.description or not with_text)
        )

    def last_with(self, chat: int, label: str) -> dict[str, Any] | None:
        """The newest message in `chat` that shows a button `label` now (as last sent or edited)."""
        seen: set[int] = set()
        for message in reversed(self.shown):
            if message.chat != chat or message.message_id in seen:
                continue
            seen.add(message.message_id)  # the first met from the end is how it looks now
            if label in message.labels:
                return self._current(chat, message.message_id)
        return None

    def _current(self, chat: int, message_id: int) -> dict[str, Any] | None:
        for message in reversed(self._sent[chat]):
            if message["message_id"] == message_id:
                return message
        return None


def _state(pid: int) -> str | None:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError, ProcessLookupError):
        return None


# Starting the bot -----------------------------------------------------------------------------------


def bot_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KILL_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


class Zygote:
    """`python -m tests.support.killable_bot --zygote`: the bot imported once (seconds of aiogram,
    SQLAlchemy, the handlers), each start a fork of it. Shared by the cases of a test session."""

    def __init__(self, log: Path) -> None:
        self.started = time.monotonic()
        with log.open("ab") as stderr:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "tests.support.killable_bot", "--zygote"],
                cwd=ROOT,
                env=bot_env(),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=stderr,
                text=True,
                bufsize=1,
            )
        self.ready = threading.Event()
        self.ready_seconds: float | None = None
        self._started: queue.Queue[int] = queue.Queue()
        self.exits: dict[int, int] = {}
        self._lock = threading.Lock()
        self.log = log
        self._reader = threading.Thread(target=self._read, name="zygote", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            words = line.split()
            if words == ["ready"]:
                self.ready_seconds = time.monotonic() - self.started
                self.ready.set()
            elif words[:1] == ["started"]:
                self._started.put(int(words[1]))
            elif words[:1] == ["exited"]:
                with self._lock:
                    self.exits[int(words[1])] = int(words[2])
        self.ready.set()  # it ended: whoever waits finds out below

    def spawn(self, env: dict[str, str]) -> int:
        if not self.ready.wait(120) or self.process.poll() is not None:
            raise AssertionError(f"the zygote did not start:\n{self.log.read_text(errors='replace')[-3000:]}")
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(env) + "\n")
        self.process.stdin.flush()
        return self._started.get(timeout=30)

    def exit_code(self, pid: int) -> int | None:
        with self._lock:
            return self.exits.get(pid)

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._reader.join(10)
        if self.process.stdout is not None:
            self.process.stdout.close()


class Launcher:
    """One bot process at a time: forked from the zygote, or (`direct`, and every start when
    KILL_SUITE_ZYGOTE=0) a fresh `python -m tests.support.killable_bot`. Either way the process
    installs the counting hooks and calls bot.__main__.main()."""

    def __init__(self, zygote: Zygote | None) -> None:
        self.zygote = zygote if os.environ.get("KILL_SUITE_ZYGOTE", "1") != "0" else None
        self.pid: int | None = None
        self._direct: subprocess.Popen[bytes] | None = None
        self.exit_code: int | None = None

    async def start(self, env: dict[str, str], direct: bool = False) -> int:
        assert not self.alive, "one bot at a time"
        self.exit_code = None
        if self.zygote is not None and not direct:
            while not self.zygote.ready.is_set():  # its imports (the first time): the emulator keeps serving
                await asyncio.sleep(0.05)
            self._direct = None
            self.pid = self.zygote.spawn(env)
        else:
            with open(env["KILL_LOG"], "ab") as log:
                self._direct = subprocess.Popen(
                    [sys.executable, "-m", "tests.support.killable_bot"],
                    cwd=ROOT,
                    env={**bot_env(), **env},
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=log,
                )
            self.pid = self._direct.pid
        return self.pid

    @property
    def alive(self) -> bool:
        if self.pid is None:
            return False
        code = (
            self._direct.poll()
            if self._direct is not None
            else (self.zygote.exit_code(self.pid) if self.zygote is not None else None)
        )
        if code is None:
            return True
        self.exit_code, self.pid = code, None
        return False

    async def wait_exit(self, timeout: float = 30) -> int | None:
        deadline = time.monotonic() + timeout
        while self.alive:
            if time.monotonic() > deadline:
                raise AssertionError(f"process {self.pid} did not exit")
            await asyncio.sleep(0.005)
        return self.exit_code

    async def kill(self) -> None:
        if self.alive and self.pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
            await self.wait_exit()


# The trace ------------------------------------------------------------------------------------------


@dataclass
class Event:
    pid: int
    n: int
    kind: str  # commit | out | in (| start)
    detail: str
    mark: str = ""  # KILL | INFLIGHT

    @property
    def short(self) -> str:
        return f"{self.kind} {self.detail}"

    @property
    def where(self) -> str:
        """The kind of point, without what a commit wrote: "commit", "out sendMessage", "in sendMessage"."""
        return self.kind if self.kind == "commit" else f"{self.kind} {self.detail.split()[0]}"


class Trace:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.events: list[Event] = []
        self.count: dict[int, int] = {}
        self._offset = 0
        self.last_change = time.monotonic()

    def read(self) -> list[Event]:
        try:
            with self.path.open("rb") as handle:
                handle.seek(self._offset)
                data = handle.read()
        except FileNotFoundError:
            return []
        end = data.rfind(b"\n") + 1
        self._offset += end
        new = []
        for raw in data[:end].decode().splitlines():
            pid, n, kind, rest = (raw.split(" ", 3) + [""])[:4]
            mark = ""
            for tag in ("KILL", "INFLIGHT"):
                if rest.endswith(" " + tag):
                    rest, mark = rest[: -len(tag) - 1], tag
            event = Event(int(pid), int(n), kind, rest, mark)
            if kind != "start":
                self.count[event.pid] = event.n
            new.append(event)
        if new:
            self.events.extend(new)
            self.last_change = time.monotonic()
        return new


# Databases ------------------------------------------------------------------------------------------


class Target:
    """A fresh database per run of the journey, migrated by the bot itself."""

    dialect = ""

    async def fresh(self, name: str) -> str:
        raise NotImplementedError

    async def drop_all(self) -> None:
        pass


class SqliteTarget(Target):
    dialect = "sqlite"

    def __init__(self, root: Path) -> None:
        self.root = root

    async def fresh(self, name: str) -> str:
        return f"sqlite+aiosqlite:///{self.root / name / 'bot.db'}"


class PostgresTarget(Target):
    """Databases named servicestar_kills_<hex>, made through an AUTOCOMMIT admin connection and
    dropped afterwards. Not from the shared test template: other test processes may drop it."""

    dialect = "postgresql"

    def __init__(self) -> None:
        self.created: list[str] = []

    def _admin(self) -> AsyncEngine:
        return create_async_engine(POSTGRES, isolation_level="AUTOCOMMIT")

    async def check(self) -> None:
        admin = self._admin()
        try:
            async with admin.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except (TimeoutError, OSError, DBAPIError) as exc:
            unavailable("PostgreSQL", exc)
        finally:
            await admin.dispose()

    async def fresh(self, name: str) -> str:
        database = f"servicestar_kills_{uuid.uuid4().hex[:12]}"
        admin = self._admin()
        try:
            async with admin.connect() as conn:
                await conn.execute(text(f'CREATE DATABASE "{database}"'))
        finally:
            await admin.dispose()
        self.created.append(database)
        return POSTGRES.rsplit("/", 1)[0] + f"/{database}"

    async def drop_all(self) -> None:
        if not self.created:
            return
        admin = self._admin()
        try:
            async with admin.connect() as conn:
                for database in self.created:
                    await conn.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        finally:
            await admin.dispose()
        self.created.clear()


class Reader:
    """Reads the bot's database while it runs: plain SQL over an engine of its own, none of the
    bot's connection hooks (SQLite: no BEGIN IMMEDIATE, so reading never takes the write lock)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = create_async_engine(url)
        self.sqlite = url.startswith("sqlite")
        self._columns: dict[str, set[str]] = {}

    @staticmethod
    def _statement(sql: str, params: dict[str, Any]) -> Any:
        statement = text(sql)
        for name, value in params.items():
            if isinstance(value, datetime):
                statement = statement.bindparams(bindparam(name, type_=DateTime()))
            elif isinstance(value, list | dict):
                statement = statement.bindparams(bindparam(name, type_=JSON()))
        return statement

    async def rows(self, sql: str, **params: Any) -> list[tuple[Any, ...]]:
        statement = self._statement(sql, params)
        for attempt in range(20):
            try:
                async with self.engine.connect() as conn:
                    return [tuple(r) for r in (await conn.execute(statement, params)).all()]
            except OperationalError as exc:  # SQLite: "database is locked" while a checkpoint runs
                if attempt == 19 or "locked" not in str(exc):
                    raise
                await asyncio.sleep(0.05)
        raise AssertionError("unreachable")

    async def write(self, sql: str, **params: Any) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(self._statement(sql, params), params)

    async def columns(self, table: str) -> set[str]:
        if table not in self._columns:
            if self.sqlite:
                names = {r[1] for r in await self.rows(f"PRAGMA table_info({table})")}
            else:
                names = {
                    r[0]
                    for r in await self.rows(
                        "SELECT column_name FROM information_schema.columns WHERE table_name = :t", t=table
                    )
                }
            if names:
                self._columns[table] = names
            return names
        return self._columns[table]

    async def busy(self) -> list[str]:
        """What is still to do: updates to handle, messages due to be sent, announcements running."""
        # Due within half a minute: a reply held back for a grace period after its process died,
        # a retry after a 5xx; not a reminder due in days.
        soon = datetime.now(UTC).replace(tzinfo=None) + timedelta(seconds=30)
        pending = (await self.rows("SELECT count(*) FROM inboxupdate WHERE status = 'pending'"))[0][0]
        outbox = (
            await self.rows(
                "SELECT count(*) FROM outboxmessage WHERE status = 'sending' "
                "OR (status = 'pending' AND not_before <= :soon)",
                soon=soon,
            )
        )[0][0]
        running = (await self.rows("SELECT count(*) FROM broadcast WHERE finished_at IS NULL"))[0][0]
        return [what for what, n in (("inbox", pending), ("outbox", outbox), ("broadcast", running)) if n]

    async def resends(self) -> int:
        return int((await self.rows("SELECT COALESCE(SUM(resends), 0) FROM outboxmessage"))[0][0])

    async def settled(self, update_id: int) -> tuple[str | None, bool | None]:
        """The inbox status of an update, and whether it is marked handled (None: no such table)."""
        status = await self.rows("SELECT status FROM inboxupdate WHERE update_id = :u", u=update_id)
        handled: bool | None = None
        if await self.columns("handledupdate"):
            handled = bool(await self.rows("SELECT 1 FROM handledupdate WHERE update_id = :u", u=update_id))
        return (status[0][0] if status else None), handled

    async def close(self) -> None:
        await self.engine.dispose()


async def open_campaign(reader: Reader) -> None:
    """A campaign in its nomination window now (the bot runs on the real clock), as the office's
    /newcampaign form would leave it (as tests/e2e/test_nomination_journey.py does)."""
    now = datetime.now(UTC).replace(microsecond=0, tzinfo=None)
    days = {
        "opens": -1,
        "closes": 20,
        "precheck": 25,
        "review_opens": 26,
        "review_closes": 30,
        "announced": 45,
        "created": 0,
    }
    await reader.write(
        "INSERT INTO campaign (year, honours, nomination_opens, nomination_closes, precheck_deadline, "
        "review_opens, review_closes, publicity_workdays, announcement_at, created_at) "
        "VALUES (:year, :honours, :opens, :closes, :precheck, :review_opens, :review_closes, 5, :announced, "
        ":created)",
        year=now.year,
        honours=["STAR", "TEAM", "MANAGER", "ENTERPRISE"],
        **{name: now + timedelta(days=offset) for name, offset in days.items()},
    )


# The journey ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    key: (
        str  # the step of its template ("applicant: 同意"): the instances of a template share its kill points
    )
    instance: str  # whose ("A1")
    segment: str  # the conversation it belongs to ("A1.check"): one that diverged from the clean run
    needs: tuple[str, ...]  # stops there; so does any step that needs it
    user: int
    action: str  # "say" | "press"
    text: str  # what is typed, or the button's label (the last message showing it is pressed)
    expect: str  # the clean run checks that the step's messages contain it

    def __str__(self) -> str:
        return f"{self.instance} {self.key}"


OFFICE_BASE, APPLICANT_BASE = 830000, 831000


def registration(template: str, who: str, user: int) -> list[Step]:
    return [
        Step(f"{template}: /start", who, f"{who}.reg", (), user, "say", "/start", "个人信息保护说明"),
        Step(f"{template}: 同意", who, f"{who}.reg", (), user, "press", "同意", "请选择"),
    ]


def announcement(who: str, user: int, number: int) -> list[Step]:
    segment = f"{who}.announce{number}"
    return [
        Step("office: /announce", who, segment, (), user, "say", "/announce", "公告"),
        Step("office: text", who, segment, (), user, "say", f"第十届服务明星表彰大会（第 {number} 次）", ""),
        Step("office: 预览", who, segment, (), user, "press", "预览", "确认发送吗"),
        Step("office: 确认发送", who, segment, (), user, "press", "确认发送", "公告发送"),
    ]


def applicant(who: str, user: int) -> list[Step]:
    check, nominate = f"{who}.check", f"{who}.nominate"
    steps = [
        *registration("applicant", who, user),
        Step("applicant: /selfcheck", who, check, (), user, "say", "/selfcheck", "请选择要申报的称号"),
        Step("applicant: honour", who, check, (), user, "press", "广东省用户满意服务明星", "第 1/7 题"),
    ]
    # Questions 1-6 are one step of the template (the same handler, the same calls): their
    # instances share the kill points of one sweep. The seventh brings the verdict.
    steps += [
        Step("applicant: 是 (Q1-6)", who, check, (), user, "press", "是", f"第 {number + 1}/7 题")
        for number in range(1, 7)
    ]
    steps += [
        Step("applicant: 是 (Q7, verdict)", who, check, (), user, "press", "是", "自评结果"),
        Step("applicant: 开始申报", who, check, (), user, "press", "开始申报", "号申报："),
        # The draft again, as a person finds it later: a conversation of its own.
        Step("applicant: /nominate", who, nominate, (), user, "say", "/nominate", "申报哪个称号"),
        Step("applicant: the draft", who, nominate, (), user, "press", "广东省用户满意服务明星", "号申报："),
        Step("applicant: 姓名/名称", who, nominate, (), user, "press", "姓名/名称", "请输入"),
        Step("applicant: 张伟", who, nominate, (), user, "say", "张伟", "✅ 姓名/名称"),
        Step("applicant: 工作单位", who, nominate, (), user, "press", "工作单位", "请输入"),
        Step("applicant: /cancel", who, nominate, (), user, "say", "/cancel", ""),
        Step("applicant: /mystatus", who, f"{who}.status", (), user, "say", "/mystatus", ""),
    ]
    return steps


def journey(applicants: int = 3) -> tuple[list[Step], list[int]]:
    """Office person O1 registers and looks at /campaign. Then, for each applicant in turn: the
    applicant registers (consent), self-checks, starts a nomination, fills in a field, leaves the
    next one with /cancel and looks at /mystatus; then an office person announces something to
    everyone registered so far (after the second applicant, office person O2 registers first and
    sends it). Returns the steps and the office ids (OFFICE_IDS)."""
    offices = [OFFICE_BASE + 1, OFFICE_BASE + 2]
    steps = [
        *registration("office", "O1", offices[0]),
        Step("office: /campaign", "O1", "O1.campaign", (), offices[0], "say", "/campaign", ""),
    ]
    for number in range(1, applicants + 1):
        steps += applicant(f"A{number}", APPLICANT_BASE + number)
        if number == 2:
            steps += registration("office", "O2", offices[1])
        who, office = ("O2", offices[1]) if number == 2 else ("O1", offices[0])
        steps += announcement(who, office, number)
    return steps, offices


# Running it -----------------------------------------------------------------------------------------


@dataclass
class Planned:
    offset: int  # the kill point, counted from the step's start in the process that runs it
    mode: str  # self | inflight
    expected: str  # the clean run's event at that offset ("commit +inboxupdate", "in sendMessage … ok")
    expected_where: str  # its `Event.where`
    klass: str  # its kind, for the table


@dataclass
class Kill:
    planned: Planned
    event: Event | None  # the event it died at (for an in-flight kill: the request's `out`)
    restart_seconds: float = 0.0

    @property
    def point(self) -> str:
        return f"{self.planned.mode}@{self.planned.offset}"


@dataclass
class Outcome:
    step: Step
    update_ids: list[int] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    counts: Counter[tuple[int, str]] = field(default_factory=Counter)  # (chat, send|edit) -> messages
    per_user: int = 0  # messages the acting person got
    answers: int = 0  # presses answered
    answers_seen: int = 0  # of which with a text the person sees
    state: tuple[str, tuple[str, ...]] = ("", ())  # what the person sees afterwards (`visible`)
    planned: Planned | None = None
    kills: list[Kill] = field(default_factory=list)
    seconds: float = 0.0
    # Against the clean run:
    acked_lost: list[int] = field(default_factory=list)
    lost: int = 0
    duplicates: int = 0
    counted: int = 0  # outboxmessage.resends added during the step
    answer_twice: int = 0
    other_refusals: list[str] = field(default_factory=list)
    repeated: bool = False
    diverged: bool = False
    resynced: bool = False  # diverged, and the person got back on the clean run's path
    skipped: str = ""
    stuck: str = ""
    log: list[str] = field(default_factory=list)  # what happened, for the steps file


CLASSES = (
    "after a commit, before a send",
    "after a commit, before the next commit",
    "before a request goes out",
    "in flight (Telegram has it, no response yet)",
    "after a response, before the next commit",
)


def classify(events: list[Event], index: int, mode: str) -> str:
    """The kind of a kill point, from the clean run's events of the step."""
    if mode == "inflight":
        return CLASSES[3]
    event = events[index]
    if event.kind == "commit":
        following = events[index + 1].kind if index + 1 < len(events) else ""
        return CLASSES[0] if following == "out" else CLASSES[1]
    return CLASSES[2] if event.kind == "out" else CLASSES[4]


def _lease_only(event: Event) -> bool:
    return bool(event.detail) and all(part.lstrip("+-~") == "inboxlease" for part in event.detail.split())


def plan(clean: list[Outcome], round_number: int = 0, rounds: int = 1) -> list[Planned | None]:
    """One kill point per step, from the clean run's events of that step: each event (killed right
    there), and each request also killed in flight. The instances of a template step (A1, A2 …, and
    the same instance in later rounds) take points spread evenly over those candidates, from a
    phase of their own, so that together they sweep the step."""
    instances: dict[str, list[int]] = {}
    for index, outcome in enumerate(clean):
        instances.setdefault(outcome.step.key, []).append(index)
    plans: list[Planned | None] = []
    for index, outcome in enumerate(clean):
        events = outcome.events
        # Every event is a candidate, except the inbox's lease bookkeeping after its first (the
        # claim): letting go of a chat and claiming nothing are points a step has several of.
        leases = [i for i, e in enumerate(events) if e.kind == "commit" and _lease_only(e)]
        candidates = sorted(
            [(i, "self") for i in range(len(events)) if i not in leases[1:]]
            + [(i, "inflight") for i, e in enumerate(events) if e.kind == "out"]
        )
        if not candidates:
            plans.append(None)
            continue
        siblings = instances[outcome.step.key]
        slots = len(siblings) * rounds
        slot = siblings.index(index) * rounds + round_number
        phase = (zlib.crc32(outcome.step.key.encode()) % 1000) / 1000
        event_index, mode = candidates[int((slot + phase) * len(candidates) / slots) % len(candidates)]
        event = events[event_index]
        klass = classify(events, event_index, mode)
        plans.append(Planned(event_index + 1, mode, event.short, event.where, klass))
    return plans


# How a person gets back to where they were (`Run.resync`), by the kind of conversation.
RESYNC: dict[str, tuple[tuple[str, str], ...]] = {
    "check": (("say", "/selfcheck"), ("press", "继续")),
    "nominate": (("say", "/nominate"), ("press", "广东省用户满意服务明星")),
    "announce": (("press", "预览"),),
}


def bot_messages(shown: list[Shown]) -> Counter[tuple[int, str]]:
    counts: Counter[tuple[int, str]] = Counter()
    progress: set[int] = set()
    for message in shown:
        if message.kind == "edit" and any(p in message.text for p in INTERIM_PROGRESS):
            progress.add(message.chat)
            continue
        counts[(message.chat, message.kind)] += 1
    for chat in progress:
        counts[(chat, "edit")] += 1
    return counts


def visible(shown: list[Shown], chat: int) -> tuple[str, tuple[str, ...]]:
    """What a person sees, in short: the last message shown to them, and the buttons last offered."""
    mine = [m for m in shown if m.chat == chat]
    last = mine[-1].signature if mine else ""
    buttons = next((m.labels for m in reversed(mine) if m.labels), ())
    return last, buttons


class Run:
    """One run of the journey from a fresh database, one bot process at a time."""

    def __init__(self, name: str, work: Path, url: str, launcher: Launcher, offices: list[int]) -> None:
        self.name, self.work, self.url, self.launcher, self.offices = name, work, url, launcher, offices
        work.mkdir(parents=True, exist_ok=True)
        self.trace = Trace(work / "trace.log")
        self.control = work / "control"
        self.emulator = KillingEmulator(work / "inflight")
        self.reader = Reader(url)
        self.restarts: list[float] = []
        self.first_start = 0.0
        self.diverged: set[str] = set()  # segments that left the clean run's path

    def env(self) -> dict[str, str]:
        return {
            "BOT_TOKEN": TOKEN,
            "TELEGRAM_API_BASE": self.emulator.base_url,
            "DATA_DIR": str(self.work / "data"),
            "DATABASE_URL": self.url,
            "OFFICE_IDS": ",".join(map(str, self.offices)),
            "REDIS_URL": "",
            "WEBHOOK_URL": "",
            "KILL_TRACE": str(self.trace.path),
            "KILL_CONTROL": str(self.control),
            "KILL_INFLIGHT": str(self.emulator.inflight),
            "KILL_LOG": str(self.work / "bot.log"),
        }

    async def __aenter__(self) -> "Run":
        await self.emulator.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.launcher.kill()
        self.emulator.user_sends_text(1, "/start")  # ends a dead process's long poll, so stop() is quick
        await self.emulator.stop()
        await self.reader.close()

    async def start_bot(self, direct: bool = False) -> float:
        """Start the bot (no kill point armed) and wait until it polls; returns how long that took."""
        self.control.unlink(missing_ok=True)
        self.emulator.inflight.unlink(missing_ok=True)
        started = time.monotonic()
        polls = self.emulator.polls
        await self.launcher.start(self.env(), direct=direct)
        while self.emulator.polls == polls:
            if not self.launcher.alive:
                raise AssertionError(
                    f"the bot exited ({self.launcher.exit_code}) while starting:\n{self.log_tail()}"
                )
            if time.monotonic() - started > 90:
                raise AssertionError(f"the bot did not poll within 90 s:\n{self.log_tail()}")
            await asyncio.sleep(0.01)
        return time.monotonic() - started

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join((self.work / "bot.log").read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return "(no log)"

    async def begin(self, direct: bool = False) -> None:
        """First start on the empty database (the bot migrates it), then the campaign."""
        self.first_start = await self.start_bot(direct)
        await self.settle(None)
        await open_campaign(self.reader)

    async def settle(self, outcome: Outcome | None) -> None:
        """Until the step is over: every update acknowledged and handled, nothing due in the outbox,
        no announcement running, nothing happening for QUIET seconds. A bot that dies meanwhile (its
        kill point) is started again, without a kill point, and the waiting goes on."""
        deadline = time.monotonic() + STEP_TIMEOUT
        while True:
            self.trace.read()
            if not self.launcher.alive:
                await self._died(outcome)
                deadline = time.monotonic() + STEP_TIMEOUT
                continue
            busy = ["updates not acknowledged"] if self.emulator.queue else []
            last = max(self.trace.last_change, self.emulator.last_activity)
            if not busy and time.monotonic() - last >= QUIET:
                busy = await self.reader.busy()
                if not busy:
                    return
            if time.monotonic() > deadline:
                if outcome is None:
                    raise AssertionError(f"the bot did not settle: {busy}:\n{self.log_tail()}")
                outcome.stuck = ", ".join(busy) or "events"
                return
            await asyncio.sleep(0.03)

    async def _died(self, outcome: Outcome | None) -> None:
        code = await self.launcher.wait_exit()
        self.trace.read()
        marked = next((e for e in reversed(self.trace.events) if e.mark), None)
        if outcome is None or outcome.planned is None or marked is None or code != -signal.SIGKILL:
            where = outcome.step if outcome else "start-up"
            raise AssertionError(f"the bot died unplanned (exit {code}) in {where}:\n{self.log_tail()}")
        kill = Kill(outcome.planned, marked)
        outcome.kills.append(kill)
        outcome.planned = None
        kill.restart_seconds = await self.start_bot()
        self.restarts.append(kill.restart_seconds)

    def perform(self, step: Step, message: dict[str, Any] | None = None) -> tuple[int, dict[str, Any] | None]:
        if step.action == "say":
            return self.emulator.user_sends_text(step.user, step.text), None
        message = message or self.emulator.last_with(step.user, step.text)
        if message is None:
            raise LookupError(f"no button {step.text!r} shown to {step.user}")
        return self.emulator.press_button(step.user, message, step.text), message

    async def step(self, step: Step, planned: Planned | None = None, clean: Outcome | None = None) -> Outcome:
        """Run one step, with its kill point if planned, and measure it against the clean run's."""
        outcome = Outcome(step)
        if clean is not None and (gone := [s for s in (step.segment, *step.needs) if s in self.diverged]):
            outcome.skipped = f"{gone[0]} diverged"
            return outcome
        started = time.monotonic()
        self.trace.read()
        pid = self.launcher.pid
        assert pid is not None
        first_event, shown, calls = self.marks()
        resends = await self.reader.resends()
        if planned is not None:
            outcome.planned = planned
            self.control.write_text(f"{pid} {self.trace.count.get(pid, 0) + planned.offset} {planned.mode}\n")
        try:
            update_id, pressed = self.perform(step)
        except LookupError as exc:
            self.control.unlink(missing_ok=True)
            if clean is None:
                raise
            outcome.skipped = str(exc)
            return outcome
        outcome.update_ids.append(update_id)
        await self.settle(outcome)
        self.control.unlink(missing_ok=True)  # not reached: the step ended before its kill point
        outcome.events = [e for e in self.trace.events[first_event:] if e.kind != "start"]
        new = self.emulator.shown[shown:]
        outcome.counts = bot_messages(new)
        outcome.per_user = sum(1 for m in new if m.chat == step.user)
        outcome.answers = self.emulator.answers(calls)
        outcome.answers_seen = self.emulator.answers(calls, with_text=True)
        outcome.log += self.describe(first_event, shown, calls)
        if clean is None:
            if step.expect and not any(step.expect in m.text for m in new):
                got = [m.text[:80] for m in new]
                raise AssertionError(
                    f"clean run, {step}: expected {step.expect!r}, got {got}\n{self.log_tail()}"
                )
        else:
            await self._measure(outcome, clean, calls, resends)
            if clean.per_user and not outcome.per_user:
                # Nothing came: the person tries once more (that try is not measured).
                outcome.repeated = True
                with contextlib.suppress(LookupError):
                    marks = self.marks()
                    update_id, _ = self.perform(step, pressed)
                    outcome.update_ids.append(update_id)
                    await self.settle(outcome)
                    outcome.log += ["the person tries again:", *self.describe(*marks)]
        outcome.state = visible(self.emulator.shown, step.user)
        if clean is not None and outcome.state != clean.state:
            outcome.diverged = True
            outcome.resynced = await self.resync(outcome, clean.state)
            if not outcome.resynced:
                self.diverged.add(step.segment)
        outcome.seconds = time.monotonic() - started
        return outcome

    def marks(self) -> tuple[int, int, int]:
        """Where the trace, the messages shown and the calls are now (for `describe`)."""
        self.trace.read()
        return len(self.trace.events), len(self.emulator.shown), len(self.emulator.calls_log)

    def describe(self, first_event: int, shown: int, calls: int) -> list[str]:
        self.trace.read()
        lines = [
            f"  {e.pid} {e.n} {e.kind} {e.detail} {e.mark}".rstrip() for e in self.trace.events[first_event:]
        ]
        lines += [
            f"  shown {m.chat} {m.method} #{m.message_id}: {(m.text.splitlines() or [''])[0][:50]}"
            f" {list(m.labels)[:4]}"
            for m in self.emulator.shown[shown:]
        ]
        lines += [
            f"  call {c.method} {c.chat or ''} {c.status} {c.description[:60]}".rstrip()
            for c in self.emulator.calls_log[calls:]
            if c.method not in SENDS | EDITS or c.status != 200
        ]
        return lines

    async def resync(self, outcome: Outcome, wanted: tuple[str, tuple[str, ...]]) -> bool:
        """What the person sees is not what the clean run showed after this step: they do what a
        person would to get back (a self-check: /selfcheck, 继续; a nomination: /nominate, its
        honour). True when that shows what the clean run showed; else they leave it (/cancel) and
        the rest of this conversation, and what needs it, is skipped. Nothing here is measured."""
        step, log = outcome.step, outcome.log
        kind = step.segment.rsplit(".", 1)[1].rstrip("0123456789")
        log.append(f"diverged: sees {visible(self.emulator.shown, step.user)}, the clean run showed {wanted}")
        marks = self.marks()
        for action, label in RESYNC.get(kind, ()):
            if action == "say":
                self.emulator.user_sends_text(step.user, label)
            else:
                message = self.emulator.last_with(step.user, label)
                if message is None:
                    continue  # not offered: nothing to press
                self.emulator.press_button(step.user, message, label)
            await self.settle(outcome)
        back = visible(self.emulator.shown, step.user) == wanted
        if not back:
            self.emulator.user_sends_text(step.user, "/cancel")
            await self.settle(outcome)
        log += [f"resync {'worked' if back else 'failed: /cancel'}:", *self.describe(*marks)]
        return back

    async def _measure(self, outcome: Outcome, clean: Outcome, calls: int, resends: int) -> None:
        for key in set(clean.counts) | set(outcome.counts):
            got, expected = outcome.counts.get(key, 0), clean.counts.get(key, 0)
            outcome.lost += max(0, expected - got)
            outcome.duplicates += max(0, got - expected)
        outcome.counted = await self.reader.resends() - resends
        outcome.answer_twice = self.emulator.answers_refused_twice(calls)
        outcome.other_refusals = [f"{c.method}: {c.description}" for c in self.emulator.other_refusals(calls)]
        # Nothing the person could see came (a bare answer only stops the button's spinner).
        came_nothing = not outcome.counts and not outcome.answers_seen
        expected_something = bool(clean.counts or clean.answers_seen)
        for update_id in outcome.update_ids:
            if update_id not in self.emulator.acked:
                continue  # not acknowledged: Telegram would deliver it again
            status, handled = await self.reader.settled(update_id)
            if status not in ("done", "dead") or handled is False or (came_nothing and expected_something):
                outcome.acked_lost.append(update_id)


# The figures ----------------------------------------------------------------------------------------


@dataclass
class Figures:
    database: str
    points: set[tuple[str, str]] = field(default_factory=set)  # (template step, mode@offset) killed at
    by_class: Counter[str] = field(default_factory=Counter)
    kills: int = 0
    steps: int = 0
    missed: int = 0  # planned, but the step ended before its point
    shifted: int = 0  # died at another event than the clean run had at that offset
    skipped: int = 0
    diverged: int = 0
    resynced: int = 0
    repeated: int = 0
    acked_lost: int = 0
    lost: int = 0
    duplicates: int = 0
    counted: int = 0
    uncounted: int = 0
    resends: int = 0  # every re-send the bot counted, visible twice or not
    answer_twice: int = 0
    other_refusals: Counter[str] = field(default_factory=Counter)
    stuck: int = 0
    restarts: list[float] = field(default_factory=list)
    first_start: float = 0.0
    clean_seconds: float = 0.0
    seconds: float = 0.0
    details: list[str] = field(default_factory=list)
    log: list[str] = field(default_factory=list)

    def add(self, outcome: Outcome, planned: Planned | None) -> None:
        self.steps += 1
        if outcome.skipped:
            self.skipped += 1
            self.details.append(f"{outcome.step}: skipped ({outcome.skipped})")
            return
        if planned is not None and not outcome.kills:
            self.missed += 1
        for kill in outcome.kills:
            self.kills += 1
            self.points.add((outcome.step.key, kill.point))
            self.by_class[kill.planned.klass] += 1
            if kill.event is not None and kill.event.where != kill.planned.expected_where:
                self.shifted += 1
        self.diverged += outcome.diverged
        self.resynced += outcome.resynced
        self.repeated += outcome.repeated
        self.acked_lost += len(outcome.acked_lost)
        self.lost += outcome.lost
        self.duplicates += outcome.duplicates
        self.counted += min(outcome.counted, outcome.duplicates)
        self.uncounted += max(0, outcome.duplicates - outcome.counted)
        self.resends += outcome.counted
        self.answer_twice += outcome.answer_twice
        self.other_refusals.update(outcome.other_refusals)
        self.stuck += bool(outcome.stuck)
        kill = outcome.kills[0] if outcome.kills else None
        shifted = (
            f" (clean run: {kill.planned.expected})"
            if kill and kill.event and kill.event.where != kill.planned.expected_where
            else ""
        )
        where = (
            f"killed {kill.point} [{kill.event.short if kill.event else '?'}]{shifted}"
            if kill
            else (f"planned {planned.mode}@{planned.offset}, not reached" if planned else "no kill point")
        )
        flags = [
            f"lost {outcome.lost}" if outcome.lost else "",
            f"duplicates {outcome.duplicates}" if outcome.duplicates else "",
            f"counted {outcome.counted}" if outcome.counted else "",
            f"acknowledged-but-lost {outcome.acked_lost}" if outcome.acked_lost else "",
            f"answer-twice {outcome.answer_twice}" if outcome.answer_twice else "",
            f"refused {outcome.other_refusals}" if outcome.other_refusals else "",
            "repeated by the person" if outcome.repeated else "",
            ("diverged, resynced" if outcome.resynced else "diverged") if outcome.diverged else "",
            f"stuck on {outcome.stuck}" if outcome.stuck else "",
        ]
        self.details.append(f"{outcome.step}: {where}: {', '.join(f for f in flags if f) or 'ok'}")
        self.log += [self.details[-1], *outcome.log]


def report(figures: list[Figures]) -> str:
    rows: list[tuple[str, ...]] = [("kill suite", *(f.database for f in figures))]

    def row(label: str, values: list[Any]) -> None:
        rows.append((label, *(str(v) for v in values)))

    row("steps (kill runs)", [f.steps for f in figures])
    row("kill points hit (distinct)", [len(f.points) for f in figures])
    row("kills", [f.kills for f in figures])
    for klass in CLASSES:
        row(f"  {klass}", [f.by_class.get(klass, 0) for f in figures])
    row("  died at another event than planned", [f.shifted for f in figures])
    row("planned, step ended first", [f.missed for f in figures])
    row("steps that diverged from the clean run", [f.diverged for f in figures])
    row("  back on the clean run's path", [f.resynced for f in figures])
    row("steps skipped (their conversation diverged)", [f.skipped for f in figures])
    row("steps repeated (nothing came)", [f.repeated for f in figures])
    row("acknowledged-but-lost updates", [f.acked_lost for f in figures])
    row("lost replies", [f.lost for f in figures])
    row("duplicate replies", [f.duplicates for f in figures])
    row("  counted (outboxmessage.resends)", [f.counted for f in figures])
    row("  uncounted", [f.uncounted for f in figures])
    row("re-sends the bot counted (all)", [f.resends for f in figures])
    row("answer-twice refusals (invisible)", [f.answer_twice for f in figures])
    row("other refusals", [sum(f.other_refusals.values()) for f in figures])
    row("steps stuck", [f.stuck for f in figures])
    row(
        "restart to polling, mean s",
        [f"{sum(f.restarts) / len(f.restarts):.2f}" if f.restarts else "-" for f in figures],
    )
    row("restart to polling, max s", [f"{max(f.restarts):.2f}" if f.restarts else "-" for f in figures])
    row("cold start, python -m …killable_bot, s", [f"{f.first_start:.2f}" for f in figures])
    row("clean run, s", [f"{f.clean_seconds:.0f}" for f in figures])
    row("whole case, s", [f"{f.seconds:.0f}" for f in figures])
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(widths[0]) if i == 0 else cell.rjust(widths[i]) for i, cell in enumerate(r))
        for r in rows
    )
