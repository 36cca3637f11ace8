"""Every action a token is issued for has a payload class, and every handler of an action takes
exactly that class: read from the code that issues tokens and from the built routers."""

import ast
import typing
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiogram import Router
from pydantic import ValidationError

from handlers import build_routers
from handlers.callbacks import ActionFilter
from handlers.payloads import PAYLOADS, SupplementReturn, Vote

ROOT = Path(__file__).resolve().parents[2]
# Actions built at run time from a name the scan cannot follow (the card's moves).
DYNAMIC = {("handlers/cards/owner.py", "f'card.{move}'"): {"card.pause", "card.resume", "card.close"}}


def _action_argument(call: ast.Call) -> ast.expr | None:
    """The action of `tokens.issue(..., action=...)` or of `queued.token(chat, action, ...)`."""
    func = call.func
    if not isinstance(func, ast.Attribute):
        return None
    if func.attr == "issue" and isinstance(func.value, ast.Name) and func.value.id == "tokens":
        return next((k.value for k in call.keywords if k.arg == "action"), None)
    if func.attr == "token" and len(call.args) >= 2:
        return call.args[1]
    return None


def _constants(node: ast.AST) -> set[str]:
    return {n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)}


def _resolve(tree: ast.Module, parents: dict[ast.AST, ast.AST], name: str, at: ast.AST) -> set[str] | None:
    """The string constants a name can hold where it is used: a parameter of the enclosing function
    (the constants its callers in the module pass), or the target of a loop over literal tuples."""
    node: ast.AST | None = at
    while node is not None:
        if isinstance(node, ast.For) and isinstance(node.iter, ast.Tuple | ast.List):
            target = node.target
            if isinstance(target, ast.Name) and target.id == name:
                return _constants(node.iter)
            if isinstance(target, ast.Tuple):
                names = [e.id if isinstance(e, ast.Name) else None for e in target.elts]
                if name in names:
                    index = names.index(name)
                    rows = [e for e in node.iter.elts if isinstance(e, ast.Tuple)]
                    return {r.elts[index].value for r in rows if isinstance(r.elts[index], ast.Constant)}
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            params = [a.arg for a in node.args.args]
            if name in params:
                index, found = params.index(name), set()
                for call in (c for c in ast.walk(tree) if isinstance(c, ast.Call)):
                    if isinstance(call.func, ast.Name) and call.func.id == node.name:
                        value = call.args[index] if index < len(call.args) else None
                        value = next((k.value for k in call.keywords if k.arg == name), value)
                        if isinstance(value, ast.Constant) and isinstance(value.value, str):
                            found.add(value.value)
                return found or None
        node = parents.get(node)
    return None


def issued_actions() -> Iterator[tuple[str, str]]:
    """(file, action) for every token the services and handlers issue."""
    for path in sorted(p for package in ("services", "handlers") for p in ROOT.glob(f"{package}/**/*.py")):
        where = str(path.relative_to(ROOT))
        tree = ast.parse(path.read_text(encoding="utf-8"))
        parents = {child: parent for parent in ast.walk(tree) for child in ast.iter_child_nodes(parent)}
        for call in (c for c in ast.walk(tree) if isinstance(c, ast.Call)):
            action = _action_argument(call)
            if action is None:
                continue
            if isinstance(action, ast.Constant) and isinstance(action.value, str):
                yield where, action.value
                continue
            found = _resolve(tree, parents, action.id, call) if isinstance(action, ast.Name) else None
            found = found or DYNAMIC.get((where, ast.unparse(action)))
            assert found, f"{where}: cannot tell which action {ast.unparse(action)} issues"
            for value in sorted(found):
                yield where, value


def _routers(routers: list[Router]) -> Iterator[Router]:
    for router in routers:
        yield router
        yield from _routers(router.sub_routers)


def handled_actions() -> Iterator[tuple[str, object]]:
    """(action, handler callback) for every ActionFilter in the Dispatcher's routers."""
    for router in _routers(build_routers()):
        for handler in router.callback_query.handlers:
            for filter_ in handler.filters or []:
                if isinstance(filter_.callback, ActionFilter):
                    yield filter_.callback.action, handler.callback


def test_the_scan_finds_the_issuers() -> None:
    issued = {action for _, action in issued_actions()}
    assert {"review.vote", "review.files", "precheck.pass", "objection.dismiss", "card.pause"} <= issued
    assert "honour.rereview" in issued  # issued in bulk by the validity sweep


def test_every_issued_action_has_a_payload_class() -> None:
    missing = sorted({f"{where}: {action}" for where, action in issued_actions() if action not in PAYLOADS})
    assert not missing


def test_every_payload_class_is_issued_and_handled() -> None:
    issued = {action for _, action in issued_actions()}
    handled = {action for action, _ in handled_actions()}
    assert set(PAYLOADS) == issued, set(PAYLOADS) ^ issued
    assert set(PAYLOADS) == handled, set(PAYLOADS) ^ handled


def test_every_handler_takes_its_actions_payload_class() -> None:
    wrong = []
    for action, callback in handled_actions():
        hints = typing.get_type_hints(callback)
        if "payload" in hints and hints["payload"] is not PAYLOADS[action]:
            wrong.append(f"{action}: {getattr(callback, '__qualname__', callback)} takes {hints['payload']}")
        if "payload" not in hints and PAYLOADS[action].model_fields:
            wrong.append(f"{action}: {getattr(callback, '__qualname__', callback)} ignores its payload")
    assert not wrong


def test_payloads_refuse_rows_that_do_not_fit() -> None:
    vote = Vote.model_validate({"round_id": 1, "nomination_id": 2, "choice": "for"})
    assert (vote.round_id, vote.choice.value) == (1, "for")
    for forged in (
        {"round_id": 1, "nomination_id": 2, "choice": "maybe"},
        {"round_id": 1, "choice": "for"},
        {"round_id": 2**64, "nomination_id": 2, "choice": "for"},
        {"round_id": 1, "nomination_id": 2, "choice": "for", "weight": 9},
    ):
        with pytest.raises(ValidationError):
            Vote.model_validate(forged)
    returned = SupplementReturn.model_validate(
        {"nomination_id": 3, "items": [["photo", "blurred"]], "deadline": "2026-05-01T09:00:00+00:00"}
    )
    assert returned.items == (("photo", "blurred"),) and returned.deadline.tzinfo is not None
