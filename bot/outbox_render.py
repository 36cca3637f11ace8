"""Outbox rows into text and buttons, in the recipient's language."""

from typing import Any

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import I18n

from documents import items
from handlers.keyboards import keyboard, token_button
from locales import fill
from models import OutboxMessage


def outbox_renderer(i18n: I18n):  # noqa: ANN201  (returns the render callable the sender takes)
    def render(row: OutboxMessage, locale: str) -> tuple[str, InlineKeyboardMarkup | None]:
        def translate(key: str) -> str:
            return i18n.gettext(key, locale=locale)

        text = fill(translate(row.template), items.in_words(dict(row.params), locale, translate), translate)
        rows: list[list[Any]] = [
            [
                token_button(fill(translate(b["label"]), dict(b.get("params") or {}), translate), b["token"])
                for b in line
            ]
            for line in row.buttons
        ]
        return text, keyboard(rows) if rows else None

    return render
