"""A pytest plugin for bench/statements_bench.py: counts every SQL statement of the run by kind, and
those run while the Dispatcher handles an update, per update type; at the end writes them as JSON
to the file named by $STATEMENTS_BENCH_OUT. It imports no project code, so it measures whichever
tree it is loaded into (bench/ on PYTHONPATH after that tree, `-p statements_plugin`).

A statement is what goes to the database: what SQLAlchemy hands the cursor (SELECT, BEGIN,
SAVEPOINT...), and each COMMIT or ROLLBACK, which the driver sends itself."""

import functools
import json
import os
from collections import Counter
from contextvars import ContextVar
from typing import Any

import pytest

OUT = "STATEMENTS_BENCH_OUT"
KINDS = ("select", "insert", "update", "delete", "savepoint", "begin/commit/other")

_handling: ContextVar[str | None] = ContextVar("statements_bench_handling", default=None)
updates: Counter[str] = Counter()  # update type -> updates fed
in_updates: dict[str, Counter[str]] = {}  # update type -> kind -> statements
run: Counter[str] = Counter()  # kind -> every statement of the run, setup included
outcomes: Counter[str] = Counter()


def kind(statement: str) -> str:
    words = statement.split(None, 2)
    first = words[0].upper() if words else ""
    if first in ("SELECT", "WITH"):
        return "select"
    if first in ("INSERT", "UPDATE", "DELETE"):
        return first.lower()
    if first in ("SAVEPOINT", "RELEASE") or (first == "ROLLBACK" and len(words) > 1):  # ROLLBACK TO
        return "savepoint"
    return "begin/commit/other"


def count(statement_kind: str) -> None:
    run[statement_kind] += 1
    if (update_type := _handling.get()) is not None:
        in_updates.setdefault(update_type, Counter())[statement_kind] += 1


def _statement(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
    count(kind(statement))


def _ended(_conn: Any) -> None:  # a COMMIT or ROLLBACK
    count("begin/commit/other")


def _counting(feed_update: Any) -> Any:
    @functools.wraps(feed_update)
    async def wrapper(self: Any, bot: Any, update: Any, **kwargs: Any) -> Any:
        if _handling.get() is not None:  # fed from inside another update: that one's
            return await feed_update(self, bot, update, **kwargs)
        update_type = update.event_type
        updates[update_type] += 1
        token = _handling.set(update_type)
        try:
            return await feed_update(self, bot, update, **kwargs)
        finally:
            _handling.reset(token)

    return wrapper


def pytest_configure(config: pytest.Config) -> None:
    from aiogram import Dispatcher
    from sqlalchemy import event
    from sqlalchemy.engine import Engine  # the class: async engines' statements too

    event.listen(Engine, "before_cursor_execute", _statement)
    event.listen(Engine, "commit", _ended)
    event.listen(Engine, "rollback", _ended)
    Dispatcher.feed_update = _counting(Dispatcher.feed_update)  # type: ignore[method-assign]


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "call" or report.outcome != "passed":
        outcomes[report.outcome] += 1


def pytest_sessionfinish(session: pytest.Session) -> None:
    figures = {"updates": updates, "in_updates": in_updates, "run": run, "outcomes": outcomes}
    with open(os.environ[OUT], "w") as out:
        json.dump(figures, out, indent=1)
