"""How many SQL statements the bot runs per Telegram update, over one nomination's whole year
(tests/handlers/test_whole_year.py on SQLite, through the production Dispatcher), in this tree and
in a baseline commit checked out beside it, each measured with its own code and its own test.

    .venv/bin/python -m bench.statements_bench [--baseline REF]

Prints updates, statements in updates and per update (all, per message, per press, and per kind),
and the statements of the whole run (setup outside updates included), with the ratio
current/baseline. REF defaults to a5adc68; it is checked out in a temporary git worktree, removed
afterwards. The counting is bench/statements_plugin.py, loaded into both runs."""

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.statements_plugin import KINDS, OUT

BENCH = Path(__file__).resolve().parent
TREE = BENCH.parent
JOURNEY = ["tests/handlers/test_whole_year.py", "-k", "sqlite"]


def git(*args: str | Path) -> str:
    done = subprocess.run(["git", "-C", TREE, *args], check=True, capture_output=True, text=True)
    return done.stdout.strip()


@contextmanager
def worktree(ref: str) -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "baseline"
        git("worktree", "add", "--detach", "--quiet", path, ref)
        try:
            yield path
        finally:
            git("worktree", "remove", "--force", path)


def measure(tree: Path) -> dict[str, Any]:
    """The plugin's figures for the journey run by `tree`'s own code and tests."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "figures.json"
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tree), str(BENCH)]), OUT: str(out)}
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "statements_plugin"]
        subprocess.run([*command, *JOURNEY], cwd=tree, env=env, check=True)
        figures = json.loads(out.read_text())
    if figures["outcomes"] != {"passed": 1} or not figures["updates"]:
        sys.exit(f"{tree}: the journey did not pass once: {figures['outcomes']}")
    return figures


def rows(figures: dict[str, Any]) -> list[tuple[str, int | float]]:
    updates, in_updates = figures["updates"], figures["in_updates"]

    def statements(*types: str, kinds: tuple[str, ...] = KINDS) -> int:
        return sum(in_updates.get(t, {}).get(k, 0) for t in types for k in kinds)

    def per(*types: str, kinds: tuple[str, ...] = KINDS) -> float:
        fed = sum(updates.get(t, 0) for t in types)
        return statements(*types, kinds=kinds) / fed if fed else 0.0

    every = tuple(updates)
    return [
        ("updates", sum(updates.values())),
        ("  messages", updates.get("message", 0)),
        ("  presses", updates.get("callback_query", 0)),
        ("statements in updates", statements(*every)),
        ("per update", per(*every)),
        ("  per message", per("message")),
        ("  per press", per("callback_query")),
        *((f"  per update: {kind}", per(*every, kinds=(kind,))) for kind in KINDS),
        ("statements of the run", sum(figures["run"].values())),
        ("  outside updates", sum(figures["run"].values()) - statements(*every)),
    ]


def cell(value: float) -> str:
    return f"{value:,}" if isinstance(value, int) else f"{value:,.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline", default="a5adc68", help="the commit to compare with")
    args = parser.parse_args()
    with worktree(args.baseline) as baseline_tree:
        baseline = measure(baseline_tree)
    current = measure(TREE)

    names = (f"baseline {args.baseline}", f"current {git('describe', '--always', '--dirty')}")
    print(f"\n{'':34}{names[0]:>24}{names[1]:>24}{'current/baseline':>18}")
    for (label, before), (_, after) in zip(rows(baseline), rows(current), strict=True):
        ratio = f"{after / before:.2f}" if before else "-"
        print(f"{label:34}{cell(before):>24}{cell(after):>24}{ratio:>18}")


if __name__ == "__main__":
    main()
