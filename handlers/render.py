"""Service results into words: translation helpers shared by the handlers."""

from collections.abc import Callable
from datetime import datetime
from html import escape
from typing import Any
from zoneinfo import ZoneInfo

from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import get_i18n, gettext

from models import Organisation, Role
from services.errors import DomainError


def t(key: str, **params: Any) -> str:
    """Translate a key, then fill it. A parameter named `x_key` holds a translation key and fills
    `{x}` translated; every other string is user text and is escaped for HTML."""
    return fill(gettext(key), params, gettext)


def fill(text: str, params: dict[str, Any], translate: Callable[[str], str]) -> str:
    if not params:
        return text
    values: dict[str, Any] = {}
    for name, value in params.items():
        if name.endswith("_key") and isinstance(value, str):
            values[name.removesuffix("_key")] = translate(value)
        else:
            values[name] = escape(value) if isinstance(value, str) else value
    return text.format(**values)


def role_name(role: Role | str) -> str:
    return gettext(f"role.{Role(role).value}")


def organisation_name(organisation: Organisation, locale: str) -> str:
    return organisation.name_en if locale == "en" else organisation.name_zh


def current_locale() -> str:
    return get_i18n().current_locale


def local_date(moment: datetime, zone: str = "Asia/Shanghai") -> str:
    return moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d")


async def answer_target(event: Message | CallbackQuery) -> Message | None:
    """Commands and menu buttons share handlers: acknowledge a press, and return the message to
    answer in (None when Telegram no longer has it)."""
    if isinstance(event, CallbackQuery):
        await event.answer()
        return event.message if isinstance(event.message, Message) else None
    return event


async def ask_for_text(
    query: CallbackQuery, state: FSMContext, waiting: State, prompt: str, **data: Any
) -> None:
    """A button whose next step is typed words (a reason, a comment, an opinion): acknowledge the
    press, remember what it was about, and ask."""
    await refuse_asking_again(state, waiting, **data)
    await query.answer()
    await state.set_state(waiting)
    await state.update_data(**data)
    if isinstance(query.message, Message):
        await query.message.answer(prompt, reply_markup=_cancel_keyboard())


async def refuse_asking_again(state: FSMContext, waiting: State, **about: Any) -> None:
    """The same button pressed again while its question waits for an answer (a double tap, a press
    Telegram re-sent): refused with an alert, so the question is not asked twice."""
    if await state.get_state() == waiting.state:
        asked = await state.get_data()
        if all(asked.get(key) == value for key, value in about.items()):
            raise DomainError("button.waiting")


async def typed_text(message: Message, prompt: str, **answer: Any) -> str | None:
    """The words typed in answer to a question, or None after asking it again (a sticker, a photo,
    only spaces)."""
    text = (message.text or "").strip()
    if not text:
        await message.answer(prompt, **{"reply_markup": _cancel_keyboard(), **answer})
        return None
    return text


def _cancel_keyboard() -> InlineKeyboardMarkup:
    from handlers.keyboards import cancel_keyboard  # here, not on top: keyboards imports this module

    return cancel_keyboard()
