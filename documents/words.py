"""Words in documents, from the gettext catalogues the chat uses. A document's language is chosen
for it (the reader's, or Chinese for an official one), not taken from the update being handled, so
it is translated by locale here rather than through aiogram's context."""

from collections.abc import Callable
from functools import cache
from typing import Any

from documents import items
from locales import LOCALES, fill, read_catalogue
from models import Organisation

Translate = Callable[..., str]


@cache
def _catalogue(locale: str) -> dict[str, str]:
    return read_catalogue(locale if locale in LOCALES else LOCALES[0])


def translator(locale: str) -> Translate:
    """t(key, **params) in one language, filled as the chat's are (`x_key` params translated)."""
    catalogue = _catalogue(locale)

    def t(key: str, **params: Any) -> str:
        return fill(catalogue.get(key) or key, items.in_words(params, locale, t), t)

    return t


def organisation_name(organisation: Organisation | None, locale: str) -> str:
    if organisation is None:
        return ""
    return organisation.name_en if locale == "en" else organisation.name_zh
