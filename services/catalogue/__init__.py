"""The criteria catalogue (第十二条至第十五条), loaded from `criteria.toml`: data the office can
review without reading Python. Validated on load, so a broken edit stops start-up, naming the item."""

import tomllib
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib import resources
from typing import Any

CHINESE_NUMERALS = {11: "十一", 12: "十二", 13: "十三", 14: "十四", 15: "十五", 16: "十六", 17: "十七"}


class CriterionKind(StrEnum):
    GATE = "gate"
    DECLARATION = "declaration"
    EVIDENCE = "evidence"
    PRIORITY = "priority"


@dataclass(frozen=True)
class Text:
    zh: str
    en: str

    def get(self, locale: str) -> str:
        return self.en if locale == "en" else self.zh


@dataclass(frozen=True)
class Material:
    id: str
    name: Text


@dataclass(frozen=True)
class Criterion:
    id: str
    article: int
    item: int
    kind: CriterionKind
    regulation_zh: str
    question: Text
    explain: Text
    materials: tuple[Material, ...] = ()


@dataclass(frozen=True)
class Honour:
    code: str
    article: int
    name: Text
    who: Text
    criteria: tuple[Criterion, ...]


@dataclass(frozen=True)
class Catalogue:
    version: str
    honours: dict[str, Honour]
    satisfaction_report: Material


def cite(criterion: Criterion) -> Text:
    """第十二条第1项 / Art. 12, item 1."""
    article = CHINESE_NUMERALS.get(criterion.article, str(criterion.article))
    return Text(f"第{article}条第{criterion.item}项", f"Art. {criterion.article}, item {criterion.item}")


def _text(entry: dict[str, Any], field: str, where: str) -> Text:
    zh, en = entry.get(f"{field}_zh", ""), entry.get(f"{field}_en", "")
    if not zh or not en:
        raise ValueError(f"criteria catalogue: {where} lacks {field} in Chinese or English")
    return Text(zh, en)


def _material(entry: dict[str, Any], where: str) -> Material:
    if not entry.get("id") or not entry.get("zh") or not entry.get("en"):
        raise ValueError(f"criteria catalogue: a material of {where} needs id, zh and en")
    return Material(entry["id"], Text(entry["zh"], entry["en"]))


def _criterion(entry: dict[str, Any], honour: str) -> Criterion:
    where = f"{honour} {entry.get('id', '?')}"
    try:
        kind = CriterionKind(entry["kind"])
    except (KeyError, ValueError):
        raise ValueError(f"criteria catalogue: {where} has an unknown kind") from None
    if entry.get("id") != f"{entry.get('article')}.{entry.get('item')}":
        raise ValueError(f"criteria catalogue: {where}: id must be article.item")
    materials = tuple(_material(m, where) for m in entry.get("materials", []))
    if kind in (CriterionKind.EVIDENCE, CriterionKind.PRIORITY) and not materials:
        raise ValueError(f"criteria catalogue: {where} is {kind} and needs materials")
    if not entry.get("regulation_zh"):
        raise ValueError(f"criteria catalogue: {where} lacks regulation_zh")
    return Criterion(
        entry["id"],
        int(entry["article"]),
        int(entry["item"]),
        kind,
        entry["regulation_zh"],
        _text(entry, "question", where),
        _text(entry, "explain", where),
        materials,
    )


def parse(data: dict[str, Any]) -> Catalogue:
    honours: dict[str, Honour] = {}
    seen: set[str] = set()
    for entry in data["honours"]:
        code = entry["code"]
        criteria = tuple(_criterion(c, code) for c in entry["criteria"])
        for criterion in criteria:
            if criterion.id in seen:
                raise ValueError(f"criteria catalogue: {criterion.id} appears twice")
            seen.add(criterion.id)
        honours[code] = Honour(
            code, int(entry["article"]), _text(entry, "name", code), _text(entry, "who", code), criteria
        )
    return Catalogue(
        str(data["version"]), honours, _material(data["satisfaction_report"], "satisfaction_report")
    )


@cache
def load_catalogue() -> Catalogue:
    with resources.files(__package__).joinpath("criteria.toml").open("rb") as handle:
        return parse(tomllib.load(handle))


def honour_name(code: str, locale: str) -> str:
    """An honour's name in a language; a code the catalogue no longer has, as it is."""
    honour = load_catalogue().honours.get(code)
    return honour.name.get(locale) if honour else code


def regulation_text() -> str:
    return resources.files(__package__).joinpath("regulation.txt").read_text(encoding="utf-8")
