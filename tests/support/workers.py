"""A deployment as in production, started by a test: webhook workers (`python -m bot`, each its own
process) on a PostgreSQL database and a Redis database of their own, behind Debian's nginx, with
the Bot API emulator as Telegram. Everything it starts runs in its own process group, dies with the
test process (PR_SET_PDEATHSIG), and is stopped, dropped and flushed when the deployment closes,
whatever happened.

The database is a fresh, empty one with a unique name; the workers, started at the same moment,
migrate it themselves. (Not the PostgresDatabases template: other test processes may drop and
recreate that meanwhile.)"""

import asyncio
import contextlib
import ctypes
import fcntl
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from tests.support.databases import POSTGRES, unavailable
from tests.support.emulator import BotAPIEmulator

ROOT = Path(__file__).resolve().parents[2]
NGINX = os.environ.get("TEST_NGINX", "/usr/sbin/nginx")
# A Redis database of this test's own (flushed before and after), not the one other tests use.
WORKERS_REDIS = os.environ.get("TEST_WORKERS_REDIS_URL", "redis://127.0.0.1:6379/11")
TOKEN = "4343:WORKERS-TOKEN-abcdefghijklmnopqrstuvwxyz"
SCHEDULER_LOCK = 0x5E57_0002  # scheduler/leader.py's advisory lock key
SCHEDULER_LINE = "this process runs the scheduler"
# The workers run a little nicer than the test: the emulator in the test process stands for Telegram,
# and stamps each request when its event loop gets to it, so it must not starve on a small machine.
WORKER_NICE = 5
SETPRIV = "/usr/bin/setpriv"
PREFIX = "servicestar_workers_"  # of the databases this module creates
# Held while a deployment runs: two runs on one machine would share the Redis database, and a
# database of ours found while holding it was left by a run that was killed.
LOCK = Path(tempfile.gettempdir()) / "servicestar-test-workers.lock"
_PR_SET_PDEATHSIG = 1


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _die_with_parent() -> None:
    """In the child, before exec: SIGKILL when the test process dies."""
    with contextlib.suppress(Exception):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def spawn(
    command: list[str], log: Path, cwd: Path, env: dict[str, str] | None = None, nice: int = 0
) -> subprocess.Popen[bytes]:
    """Start `command` in a process group of its own that dies with the test process (SIGKILL on the
    parent's death, through setpriv where it is, so the spawn needs no fork of this big process)."""
    pdeathsig: dict[str, Any] = {}
    if os.access(SETPRIV, os.X_OK):
        command = [SETPRIV, "--pdeathsig", "KILL", "--", *command]
    else:
        pdeathsig["preexec_fn"] = _die_with_parent
    with log.open("ab") as out:
        process = subprocess.Popen(
            command,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            process_group=0,
            **pdeathsig,
        )
    if nice:
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, process.pid, nice)
    return process


def _stop(process: subprocess.Popen[bytes] | None, grace: float = 5.0) -> None:
    """SIGTERM its process group, then SIGKILL what is left after `grace` seconds."""
    if process is None or process.returncode is not None:
        return
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 10.0)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            process.wait(wait)
            return
        except subprocess.TimeoutExpired:
            continue


def _accepts(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


class Worker:
    """`python -m bot` as a webhook worker on its own port. Each start is an incarnation with a log
    of its own (`<name>.log`, `<name>-2.log`, ...)."""

    def __init__(self, name: str, env: dict[str, str], logs: Path, cwd: Path) -> None:
        self.name, self.logs, self.cwd = name, logs, cwd
        self.port = int(env["WEBHOOK_PORT"])
        self.env = env
        self.process: subprocess.Popen[bytes] | None = None
        self.incarnations: list[Incarnation] = []

    def start(self) -> "Incarnation":
        number = len(self.incarnations) + 1
        label = self.name if number == 1 else f"{self.name}-{number}"
        log = self.logs / f"{label}.log"
        self.process = spawn([sys.executable, "-m", "bot"], log, self.cwd, self.env, nice=WORKER_NICE)
        incarnation = Incarnation(label, log, self.process, started=time.time())
        self.incarnations.append(incarnation)
        return incarnation

    @property
    def current(self) -> "Incarnation":
        return self.incarnations[-1]

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    async def kill(self) -> None:
        """SIGKILL: no shutdown, no flush. Waits for it without blocking the event loop."""
        if self.alive():
            assert self.process is not None
            os.killpg(self.process.pid, signal.SIGKILL)
            self.current.killed = time.time()
            for _ in range(200):
                if self.process.poll() is not None:
                    return
                await asyncio.sleep(0.05)
            raise AssertionError(f"worker {self.current.label} survived SIGKILL")

    def stop(self) -> None:
        _stop(self.process)
        if self.incarnations and self.current.ended is None:
            self.current.ended = time.time()

    async def ready(self, timeout: float = 90.0) -> None:
        """Its webhook accepts connections (it has migrated, and its inbox, outbox and scheduler run)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive():
                code = self.process.returncode if self.process else None
                raise AssertionError(
                    f"worker {self.current.label} exited ({code}):\n{tail(self.current.log)}"
                )
            if _accepts(self.port):
                self.current.ready = time.time()
                return
            await asyncio.sleep(0.1)
        raise AssertionError(
            f"worker {self.current.label} not ready after {timeout}s:\n{tail(self.current.log)}"
        )


@dataclass
class Incarnation:
    label: str
    log: Path
    process: subprocess.Popen[bytes]
    started: float  # time.time()
    ready: float | None = None
    killed: float | None = None
    ended: float | None = None

    def scheduler_since(self) -> list[float]:
        """When this process logged that it runs the scheduler (time.time(), from its log lines)."""
        found = []
        for line in tail(self.log, 1_000_000).splitlines():
            if SCHEDULER_LINE in line and (
                stamp := re.match(r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d),(\d{3})", line)
            ):
                found.append(
                    datetime.strptime(stamp[1], "%Y-%m-%d %H:%M:%S").timestamp() + int(stamp[2]) / 1000
                )
        return found


class Nginx:
    """Debian's nginx as a non-daemon, with its own config, prefix and logs in `root`: one upstream of
    the workers; a request a worker cannot take (refused, reset, timed out) goes to the next.
    `non_idempotent`: a webhook POST may be retried on another worker because storing an update is
    idempotent (its update_id is the key)."""

    def __init__(self, root: Path, ports: list[int], port: int) -> None:
        self.root, self.ports, self.port = root, ports, port
        self.process: subprocess.Popen[bytes] | None = None

    def config(self) -> str:
        servers = "\n".join(
            f"        server 127.0.0.1:{port} max_fails=1 fail_timeout=2s;" for port in self.ports
        )
        temp = "\n".join(
            f"    {name}_temp_path {self.root}/{name};"
            for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        user = (
            "user root;\n" if os.geteuid() == 0 else ""
        )  # else its workers would be nobody, locked out of root
        # One process, no master: a master SIGKILLed with the test would leave its workers behind.
        return f"""{user}daemon off;
master_process off;
pid {self.root}/nginx.pid;
error_log {self.root}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    log_format upstreams '$msec $status $request_time "$upstream_addr" "$upstream_status"';
    access_log {self.root}/access.log upstreams;
{temp}
    upstream workers {{
{servers}
        keepalive 32;
    }}
    server {{
        listen 127.0.0.1:{self.port};
        location / {{
            proxy_pass http://workers;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_connect_timeout 1s;
            proxy_send_timeout 10s;
            proxy_read_timeout 10s;
            proxy_next_upstream error timeout non_idempotent;
            proxy_next_upstream_tries {len(self.ports)};
        }}
    }}
}}
"""

    async def start(self, timeout: float = 20.0) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / "nginx.conf").write_text(self.config())
        command = [
            NGINX,
            "-p",
            f"{self.root}/",
            "-c",
            str(self.root / "nginx.conf"),
            "-e",
            str(self.root / "error.log"),
        ]
        checking = await asyncio.create_subprocess_exec(
            *command, "-t", stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
        )
        said, _ = await checking.communicate()
        if checking.returncode != 0:
            raise AssertionError(f"nginx refuses its config:\n{said.decode(errors='replace')}")
        self.process = spawn(command, self.root / "stderr.log", self.root)
        deadline = time.monotonic() + timeout
        while not _accepts(self.port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"nginx did not start:\n{tail(self.root / 'error.log')}")
            await asyncio.sleep(0.05)

    def stop(self) -> None:
        _stop(self.process)

    def upstream_statuses(self) -> dict[str, int]:
        """How often each upstream answer was seen ("502", "502, 200" for a retried request ...)."""
        counts: dict[str, int] = {}
        try:
            lines = (self.root / "access.log").read_text().splitlines()
        except OSError:
            return counts
        for line in lines:
            parts = line.split('"')
            status = parts[3] if len(parts) > 3 else "?"
            counts[status] = counts.get(status, 0) + 1
        return counts


async def exclusive(path: Path, timeout: float = 600.0) -> int:
    """Wait for the lock on `path` (released when the descriptor returned is closed, or the
    process dies)."""
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    deadline = time.monotonic() + timeout
    while True:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return descriptor
        except BlockingIOError:
            if time.monotonic() > deadline:
                os.close(descriptor)
                raise AssertionError(f"{path} stayed locked for {timeout}s") from None
            await asyncio.sleep(0.5)


@dataclass
class Deployment:
    """Workers behind nginx on a fresh PostgreSQL database and a Redis database of their own."""

    root: Path
    emulator: BotAPIEmulator
    office_ids: tuple[int, ...]
    workers_count: int = 2
    database: str = field(default_factory=lambda: f"{PREFIX}{uuid.uuid4().hex[:12]}")
    secret: str = field(default_factory=lambda: secrets.token_hex(16))
    workers: list[Worker] = field(default_factory=list)
    nginx: Nginx | None = None
    engine: AsyncEngine | None = None  # the test's own connection to the workers' database
    created: bool = False
    lock: int | None = None

    @property
    def database_url(self) -> str:
        return POSTGRES.rsplit("/", 1)[0] + f"/{self.database}"

    async def _admin(self, *statements: str) -> list[Any]:
        admin = create_async_engine(POSTGRES, isolation_level="AUTOCOMMIT")
        try:
            async with admin.connect() as connection:
                return [(await connection.execute(text(statement))) for statement in statements]
        finally:
            await admin.dispose()

    async def _drop_leftovers(self) -> None:
        """Databases of runs killed before they could drop theirs (none can be running: we hold LOCK)."""
        result = await self._admin(f"SELECT datname FROM pg_database WHERE datname LIKE '{PREFIX}%'")
        for (name,) in result[0].all():
            await self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    async def start(self) -> None:
        if not os.access(NGINX, os.X_OK):
            unavailable("nginx", f"{NGINX} not found (./setup test installs it)")
        self.lock = await exclusive(LOCK)
        redis = Redis.from_url(WORKERS_REDIS)
        try:
            await redis.ping()
            await redis.flushdb()
        except OSError as exc:
            unavailable("Redis", exc)
        finally:
            await redis.aclose()
        try:
            await self._drop_leftovers()
            await self._admin(f'CREATE DATABASE "{self.database}"')
        except (OSError, TimeoutError) as exc:
            unavailable("PostgreSQL", exc)
        self.created = True
        self.engine = create_async_engine(self.database_url, pool_size=4, max_overflow=4)

        data = self.root / "data"  # shared by every worker: one file store
        logs = self.root / "logs"
        for path in (data, logs):
            path.mkdir(parents=True, exist_ok=True)
        ports = [free_port() for _ in range(self.workers_count)]
        self.nginx = Nginx(self.root / "nginx", ports, free_port())
        await self.nginx.start()
        base = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(
                (
                    "BOT_",
                    "TELEGRAM_",
                    "DATABASE_",
                    "REDIS_",
                    "WEBHOOK_",
                    "OFFICE_",
                    "DATA_",
                    "ANNOUNCEMENT_",
                    "DEFAULT_LOCALE",
                    "TIMEZONE",
                    "REREVIEW_",
                )
            )
        }
        common = {
            **base,
            "PYTHONPATH": str(ROOT),
            "PYTHONUNBUFFERED": "1",
            "BOT_TOKEN": TOKEN,
            "TELEGRAM_API_BASE": self.emulator.base_url,
            "DATABASE_URL": self.database_url,
            "REDIS_URL": WORKERS_REDIS,
            "WEBHOOK_URL": f"http://127.0.0.1:{self.nginx.port}/telegram",
            "WEBHOOK_SECRET": self.secret,
            "WEBHOOK_HOST": "127.0.0.1",
            "OFFICE_IDS": ",".join(map(str, self.office_ids)),
            "DATA_DIR": str(data),
        }
        self.workers = [
            Worker(chr(ord("a") + i), {**common, "WEBHOOK_PORT": str(port)}, logs, self.root)
            for i, port in enumerate(ports)
        ]
        for worker in self.workers:  # at the same moment: they migrate the empty database together
            worker.start()
        await asyncio.gather(*(worker.ready() for worker in self.workers))

    async def close(self) -> None:
        """Stop everything started, drop the database, flush the Redis database: always all of it."""
        problems: list[BaseException] = []
        for worker in self.workers:
            try:
                worker.stop()
            except BaseException as exc:  # noqa: BLE001
                problems.append(exc)
        if self.nginx is not None:
            try:
                self.nginx.stop()
            except BaseException as exc:  # noqa: BLE001
                problems.append(exc)
        if self.engine is not None:
            await self.engine.dispose()
        if self.created:
            try:
                await self._admin(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
            except BaseException as exc:  # noqa: BLE001
                problems.append(exc)
        if self.lock is not None:  # only the holder of the lock may flush the Redis database
            try:
                redis = Redis.from_url(WORKERS_REDIS)
                try:
                    await redis.flushdb()
                finally:
                    await redis.aclose()
            except OSError:
                pass
            os.close(self.lock)
            self.lock = None
        if problems:
            raise problems[0]

    async def query(self, sql: str, **params: Any) -> list[tuple[Any, ...]]:
        assert self.engine is not None
        async with self.engine.connect() as connection:
            return [tuple(row) for row in (await connection.execute(text(sql), params)).all()]

    async def scheduler_holders(self) -> int:
        """Sessions holding the scheduler's advisory lock on this database (a bigint key shows as
        classid = its high half, objid = its low half, objsubid = 1)."""
        rows = await self.query(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1"
            " AND classid = :high AND objid = :low"
            " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
            high=SCHEDULER_LOCK >> 32,
            low=SCHEDULER_LOCK & 0xFFFFFFFF,
        )
        return int(rows[0][0])
