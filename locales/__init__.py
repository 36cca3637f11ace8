"""Translations: gettext catalogues, one folder per locale, any number of .po files in each.

Several .po files per locale let each journey keep its own strings; they are merged into one
`messages.mo` per locale when the bot or the tests start."""

import os
import tempfile
from collections.abc import Callable
from html import escape
from pathlib import Path
from typing import Any

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

HERE = Path(__file__).parent
LOCALES = ("zh_CN", "en")
DOMAIN = "messages"


def po_files(locale: str) -> list[Path]:
    return sorted((HERE / locale / "LC_MESSAGES").glob("*.po"))


def read_catalogue(locale: str) -> dict[str, str]:
    """Every message id of a locale with its translation ("" where it has none)."""
    merged: dict[str, str] = {}
    for path in po_files(locale):
        with path.open("rb") as handle:
            for message in read_po(
                handle, locale=locale, abort_invalid=True
            ):  # a malformed line fails loudly
                if message.id:
                    merged[str(message.id)] = str(message.string or "")
    return merged


def fill(text: str, params: dict[str, Any], translate: Callable[[str], str]) -> str:
    """A translation filled in: a parameter named `x_key` holds a translation key and fills `{x}`
    translated; every other string is user text, escaped for HTML (Telegram's and reportlab's)."""
    if not params:
        return text
    values: dict[str, Any] = {}
    for name, value in params.items():
        if name.endswith("_key") and isinstance(value, str):
            values[name.removesuffix("_key")] = translate(value)
        else:
            values[name] = escape(value) if isinstance(value, str) else value
    return text.format(**values)


def compile_catalogues(target: Path) -> Path:
    """Write target/<locale>/LC_MESSAGES/messages.mo for each locale; returns target."""
    for locale in LOCALES:
        catalog = Catalog(locale=locale, domain=DOMAIN)
        for msgid, msgstr in read_catalogue(locale).items():
            catalog.add(msgid, msgstr)
        out = target / locale / "LC_MESSAGES"
        out.mkdir(parents=True, exist_ok=True)
        # Workers starting together on one data directory: each reads a whole file, old or new.
        with tempfile.NamedTemporaryFile(dir=out, prefix=f".{DOMAIN}.", delete=False) as handle:
            write_mo(handle, catalog)
        os.replace(handle.name, out / f"{DOMAIN}.mo")
    return target
