"""Words for what is written outside a chat (outbox lists, exports, certificates), from the same
gettext catalogues the handlers use, in a given person's or document's language."""

from collections.abc import Callable
from functools import cache

from locales import LOCALES, read_catalogue


@cache
def _catalogue(locale: str) -> dict[str, str]:
    return read_catalogue(locale if locale in LOCALES else LOCALES[0])


def translator(locale: str) -> Callable[[str], str]:
    catalogue = _catalogue(locale)
    return lambda key: catalogue.get(key) or key
