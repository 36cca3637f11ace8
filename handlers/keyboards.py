"""Inline keyboards."""

from collections.abc import Iterable, Sequence

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from handlers.callbacks import Act, Cancel, Consent, Lang, Menu
from handlers.render import t


def keyboard(rows: Iterable[Sequence[InlineKeyboardButton]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[list(row) for row in rows])


def plain_button(text: str, data: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=data)


def token_button(text: str, token: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=Act(token=token).pack())


def consent_keyboard() -> InlineKeyboardMarkup:
    return keyboard(
        [
            [
                InlineKeyboardButton(text=t("consent.agree"), callback_data=Consent(agree=True).pack()),
                InlineKeyboardButton(text=t("consent.decline"), callback_data=Consent(agree=False).pack()),
            ]
        ]
    )


def language_keyboard() -> InlineKeyboardMarkup:
    return keyboard(
        [
            [
                InlineKeyboardButton(text="中文", callback_data=Lang(code="zh_CN").pack()),
                InlineKeyboardButton(text="English", callback_data=Lang(code="en").pack()),
            ]
        ]
    )


def menu_keyboard(items: Sequence[str]) -> InlineKeyboardMarkup:
    """Two buttons a row; each item is a menu entry whose label is `menu.<item>`."""
    buttons = [
        InlineKeyboardButton(text=t(f"menu.{item}"), callback_data=Menu(item=item).pack()) for item in items
    ]
    return keyboard(buttons[i : i + 2] for i in range(0, len(buttons), 2))


def cancel_keyboard(*rows: Sequence[InlineKeyboardButton]) -> InlineKeyboardMarkup:
    """A prompt waiting for typed words or a file: its own rows, if any, then 取消 to leave it."""
    return keyboard([*rows, [plain_button(t("conversation.cancel"), Cancel().pack())]])
