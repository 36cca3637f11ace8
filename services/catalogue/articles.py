"""The regulation, findable: for each article and item of chapters 3 and 4, what implements it (the
criteria, the campaign's acts, the lifecycle moves, the modules that cite it) and the tests that
prove it (test modules marked `pytest.mark.article("第十六条第2项", …)`).

    .venv/bin/python -m services.catalogue.articles

Generated from the tables and the marks, so it cannot drift from the code."""

import ast
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from services.catalogue import CHINESE_NUMERALS, cite, load_catalogue
from services.lifecycles.campaign import ACTS
from services.lifecycles.catalogue import LIFECYCLES
from services.lifecycles.core import Lifecycle, Move
from services.rules.campaign_phases import ARTICLES

ROOT = Path(__file__).resolve().parents[2]
ITEMS = {16: 3, 17: 4}  # chapter 4's items; chapter 3's come from the criteria catalogue


@dataclass
class Entry:
    citation: str  # 第十六条第2项
    article: str  # 第十六条
    implements: list[str] = field(default_factory=list)
    tests: list[str] = field(default_factory=list)


def article_of(number: int) -> str:
    return f"第{CHINESE_NUMERALS[number]}条"


def _entries() -> list[Entry]:
    entries = [Entry(article_of(11), article_of(11))]
    for honour in load_catalogue().honours.values():
        entries += [
            Entry(cite(c).zh, article_of(c.article), [f"criterion {c.id} ({c.kind.value})"])
            for c in honour.criteria
        ]
    for number, count in ITEMS.items():
        entries += [
            Entry(f"{article_of(number)}第{item}项", article_of(number)) for item in range(1, count + 1)
        ]
    return entries


def _cited_by_code(citation: str) -> list[str]:
    found = []
    for path in sorted((ROOT / "services").rglob("*.py")):
        if path.name != "articles.py" and citation in path.read_text(encoding="utf-8"):
            found.append(str(path.relative_to(ROOT)))
    return found


def _marks(path: Path) -> list[str]:
    """The citations of every `mark.article(...)` in a test module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        arg.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "article"
        for arg in node.args
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str)
    ]


def _move_line(lifecycle: Lifecycle[Any], move: Move[Any]) -> str:
    sources = "|".join(sorted(s.value if s is not None else "none" for s in move.sources))
    return (
        f"{lifecycle.name} {move.action}: {sources} → {move.target.value} by {'/'.join(sorted(move.parties))}"
    )


def index() -> list[Entry]:
    entries = _entries()
    marked = {str(p.relative_to(ROOT)): _marks(p) for p in sorted((ROOT / "tests").rglob("test_*.py"))}
    for entry in entries:
        if entry.citation == article_of(11):
            entry.implements.append("the four honours of the criteria catalogue")
        entry.implements += [
            f"campaign act {act.value} by {'/'.join(sorted(ACTS[act]))}"
            for act, article in ARTICLES.items()
            if article == entry.citation
        ]
        entry.implements += [
            _move_line(lifecycle, move)
            for lifecycle in LIFECYCLES
            for move in lifecycle.moves
            if move.article == entry.citation
        ]
        entry.implements += _cited_by_code(entry.citation)
        entry.tests = [
            path for path, cited in marked.items() if entry.citation in cited or entry.article in cited
        ]
    return entries


def main() -> int:
    for entry in index():
        print(entry.citation)
        for line in entry.implements or ["(nothing implements it)"]:
            print(f"  ▸ {line}")
        for line in entry.tests or ["(no test proves it)"]:
            print(f"  ✓ {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
