"""A dossier's items in words: services name them by id ("field:phone", "material:…", "seal",
"consent"), and every edge (the chat, the outbox, documents) says them in the reader's language.

Two parameters carry items through a translation: `items`, a list of ids ("缺少：联系电话、盖章"),
and `deficiencies`, a list of (id, note) pairs (the numbered list of a return for supplement)."""

from collections.abc import Callable
from typing import Any

from services.catalogue import load_catalogue

Translate = Callable[[str], str]


def item_label(item: str, locale: str, translate: Translate) -> str:
    kind, _, rest = item.partition(":")
    if kind == "field":
        return translate(f"dossier.field.{rest}")
    if kind == "material":
        catalogue = load_catalogue()
        names = {catalogue.satisfaction_report.id: catalogue.satisfaction_report.name}
        for honour in catalogue.honours.values():
            for criterion in honour.criteria:
                names.update({m.id: m.name for m in criterion.materials})
        return names[rest].get(locale) if rest in names else rest
    return translate(f"precheck.item.{item}")


def deficiency_list(pairs: list[tuple[str, str]] | list[list[str]], locale: str, translate: Translate) -> str:
    """One numbered line per item: "1. 联系电话：号码无法接通"."""
    return "\n".join(
        f"{number}. {item_label(item, locale, translate)}"
        + (translate("precheck.note_separator") + note if note else "")
        for number, (item, note) in enumerate(pairs, 1)
    )


def in_words(params: dict[str, Any], locale: str, translate: Translate) -> dict[str, Any]:
    """The parameters with their item lists said in words (the rest untouched)."""
    if not isinstance(params.get("items"), list) and not isinstance(params.get("deficiencies"), list):
        return params
    said = dict(params)
    if isinstance(said.get("items"), list):
        labels = [item_label(str(item), locale, translate) for item in said["items"]]
        said["items"] = translate("precheck.list_separator").join(labels)
    if isinstance(said.get("deficiencies"), list):
        said["deficiencies"] = deficiency_list(said["deficiencies"], locale, translate)
    return said
