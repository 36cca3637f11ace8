"""The real entry point (`bot.__main__.main()`) with counting hooks that can SIGKILL it at any one of
its kill points, for tests/e2e/test_kill_suite.py.

    python -m tests.support.killable_bot            install the hooks, then run bot.__main__.main()
    python -m tests.support.killable_bot --zygote   import everything once, then fork one such bot
                                                    per line read on stdin (see `zygote`)

Kill points are events, counted from 1 in each process:
    commit  just after a database transaction committed (after the DBAPI commit returned)
    out     just before a Bot API request goes out (getUpdates, the poll itself, is not counted)
    in      just after its response came back (or its error was raised)

Environment:
    KILL_TRACE    a file each event is appended to, one line each (no fsync: a SIGKILL loses no
                  written line, only a machine crash would): "<pid> <n> <kind> <detail>", with
                  " KILL" when the process kills itself there, " INFLIGHT" for an in-flight point
    KILL_AT       the event number at which this process SIGKILLs itself
    KILL_MODE     "self" (default): os.kill(os.getpid(), SIGKILL) at that very event;
                  "inflight": at the first `out` event numbered KILL_AT or later, let the request go and
                  write "<pid> <method> <chat>" to KILL_INFLIGHT: the Bot API emulator kills the
                  process once that request reached it, before its response goes back
    KILL_CONTROL  a file read again at every event, "<pid> <n> <mode>": arms a kill point in the
                  running process with that pid (it overrides KILL_AT/KILL_MODE; other pids ignore it)
    KILL_INFLIGHT the file for in-flight points (above)
    KILL_LOG      (zygote children) the file their stdout and stderr go to
"""

import json
import os
import signal
import sys
import threading
import time
import traceback
from typing import Any

_count = 0
_trace_fd: int | None = None
_armed_from_env: tuple[int, str] | None = None
_inflight_pending = False  # an in-flight point was handed to the emulator: arm nothing else


def _trace(line: str) -> None:
    if _trace_fd is not None:
        os.write(_trace_fd, (line.replace("\n", " ") + "\n").encode())  # O_APPEND: one write, one line


def _armed() -> tuple[int, str] | None:
    control = os.environ.get("KILL_CONTROL")
    if control:
        try:
            with open(control, encoding="ascii") as handle:
                parts = handle.read().split()
        except FileNotFoundError:
            parts = []
        if len(parts) >= 2 and parts[0] == str(os.getpid()):
            return int(parts[1]), (parts[2] if len(parts) > 2 else "self")
    return _armed_from_env


def event(kind: str, detail: str) -> None:
    """One kill point: count it, trace it, and die here if it is the armed one."""
    global _count, _inflight_pending
    _count += 1
    line = f"{os.getpid()} {_count} {kind} {detail}"
    armed = None if _inflight_pending else _armed()
    if armed is not None:
        at, mode = armed
        if mode == "inflight":
            if kind == "out" and _count >= at:
                method, _, chat = detail.partition(" chat=")
                _inflight_pending = True
                _trace(line + " INFLIGHT")
                path = os.environ["KILL_INFLIGHT"]
                with open(path + ".tmp", "w", encoding="ascii") as handle:
                    handle.write(f"{os.getpid()} {method} {chat or '-'}\n")
                os.replace(path + ".tmp", path)  # the emulator never reads half a line
                return
        elif _count == at:
            _trace(line + " KILL")
            os.kill(os.getpid(), signal.SIGKILL)
    _trace(line)


def _statement_label(statement: str) -> str | None:
    words = statement.lstrip().split(None, 4)
    if not words:
        return None
    verb = words[0].upper()
    if verb == "INSERT" and len(words) > 2:
        return "+" + words[2].strip('"')
    if verb == "UPDATE" and len(words) > 1:
        return "~" + words[1].strip('"')
    if verb == "DELETE" and len(words) > 2:
        return "-" + words[2].strip('"')
    return None


def install_hooks() -> None:
    """Patch SQLAlchemy's commit and aiogram's HTTP request (before anything of the bot runs)."""
    global _trace_fd, _armed_from_env
    from aiogram.client.session.aiohttp import AiohttpSession
    from sqlalchemy import event as sa_event
    from sqlalchemy.engine import Engine
    from sqlalchemy.engine.default import DefaultDialect

    if os.environ.get("KILL_TRACE"):
        _trace_fd = os.open(os.environ["KILL_TRACE"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    if os.environ.get("KILL_AT"):
        _armed_from_env = int(os.environ["KILL_AT"]), os.environ.get("KILL_MODE", "self")

    # What each transaction wrote ("+table" inserted, "~table" updated, "-table" deleted), for the
    # trace. The engine-level `commit` event fires *before* the DBAPI commit, so the kill point itself
    # is placed after DefaultDialect.do_commit has returned (every dialect here uses it).
    written: dict[int, list[str]] = {}
    labels: dict[int, str] = {}

    def before_execute(conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        label = _statement_label(statement)
        if label is not None:
            seen = written.setdefault(id(conn.connection), [])
            if label not in seen:
                seen.append(label)

    def on_commit(conn: Any) -> None:
        labels[id(conn.connection)] = " ".join(written.pop(id(conn.connection), [])) or "(read only)"

    def on_rollback(conn: Any) -> None:
        written.pop(id(conn.connection), None)

    sa_event.listen(Engine, "before_cursor_execute", before_execute)
    sa_event.listen(Engine, "commit", on_commit)
    sa_event.listen(Engine, "rollback", on_rollback)
    do_commit = DefaultDialect.do_commit

    def counted_commit(self: Any, dbapi_connection: Any) -> None:
        do_commit(self, dbapi_connection)
        event("commit", labels.pop(id(dbapi_connection), "(no statements seen)"))

    DefaultDialect.do_commit = counted_commit  # type: ignore[method-assign]

    make_request = AiohttpSession.make_request

    async def counted_request(self: Any, bot: Any, method: Any, timeout: int | None = None) -> Any:
        name = method.__api_method__
        if name == "getUpdates":
            return await make_request(self, bot, method, timeout)
        chat = getattr(method, "chat_id", None)
        detail = f"{name} chat={chat}" if chat is not None else name
        event("out", detail)
        try:
            result = await make_request(self, bot, method, timeout)
        except BaseException as exc:
            event("in", f"{detail} {type(exc).__name__}")
            raise
        event("in", f"{detail} ok")
        return result

    AiohttpSession.make_request = counted_request  # type: ignore[method-assign]


def run_bot() -> None:
    from bot.__main__ import main

    _trace(f"{os.getpid()} 0 start {time.time():.3f}")
    main([])


def _die_with_parent() -> None:
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def zygote() -> None:
    """Import the bot once; then for each line on stdin (a JSON object of environment variables) fork
    a child that installs the hooks and runs bot.__main__.main(), print "started <pid>", wait for it
    and print "exited <pid> <returncode>" (negative: the signal that ended it). A restart then costs
    the bot's own start-up, not the seconds of importing aiogram, SQLAlchemy and the handlers."""
    import bot.__main__  # noqa: F401  (the whole bot: handlers, services, models, aiogram, SQLAlchemy)

    assert threading.active_count() == 1, "nothing may run in threads before a fork"
    print("ready", flush=True)
    for line in sys.stdin:
        if not line.strip():
            continue
        env = json.loads(line)
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                _die_with_parent()
                os.environ.update(env)
                devnull = os.open(os.devnull, os.O_RDONLY)
                os.dup2(devnull, 0)
                log = os.open(env.get("KILL_LOG", os.devnull), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
                os.dup2(log, 1)
                os.dup2(log, 2)
                sys.stdin = open(os.devnull, encoding="utf-8")  # noqa: SIM115
                install_hooks()
                run_bot()
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 1
            except BaseException:  # noqa: BLE001  (reported through the log and the exit code)
                traceback.print_exc()
                code = 1
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        print(f"started {pid}", flush=True)
        _, status = os.waitpid(pid, 0)
        print(f"exited {pid} {os.waitstatus_to_exitcode(status)}", flush=True)


if __name__ == "__main__":
    if sys.argv[1:] == ["--zygote"]:
        zygote()
    else:
        install_hooks()
        run_bot()
