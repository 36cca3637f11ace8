"""Words read by services from the gettext catalogues: left only for services/honours.py and
services/nominations.py, until those leave the words to the edges (documents/words.py translates
documents). Nothing new should use it: services speak in facts."""

from collections.abc import Callable
from functools import cache

from locales import LOCALES, read_catalogue


@cache
def _catalogue(locale: str) -> dict[str, str]:
    return read_catalogue(locale if locale in LOCALES else LOCALES[0])


def translator(locale: str) -> Callable[[str], str]:
    catalogue = _catalogue(locale)
    return lambda key: catalogue.get(key) or key
