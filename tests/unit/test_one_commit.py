"""One owner per transaction: an update's middleware commits it once, a use case at most once at its
end; handlers never end a transaction, and use cases are not composed through flags that turn their
commit or their notices off (the composer calls the part that only stages)."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ENDS_A_TRANSACTION = {"commit", "commit_owned", "rollback", "rollback_owned", "checkpoint"}


def calls(folder: str, names: set[str]) -> list[str]:
    found = []
    for path in sorted((ROOT / folder).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            called = node.func if isinstance(node, ast.Call) else None
            if isinstance(called, ast.Attribute) and called.attr in names:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} {called.attr}()")
    return found


def test_handlers_never_commit_nor_roll_back() -> None:
    assert calls("handlers", ENDS_A_TRANSACTION) == []


def test_use_cases_are_not_composed_through_commit_or_notify_flags() -> None:
    flags = []
    for path in sorted((ROOT / "services").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                arguments = [*node.args.args, *node.args.kwonlyargs]
                flags += [
                    f"{path.relative_to(ROOT)}:{node.lineno} {node.name}({a.arg})"
                    for a in arguments
                    if a.arg in ("commit", "notify")
                ]
    assert flags == []


def test_the_scan_sees_a_commit() -> None:
    assert any(line.startswith("services/") for line in calls("services", {"commit"}))
