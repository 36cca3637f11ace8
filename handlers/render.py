"""Service results into words: translation helpers shared by the handlers."""

from datetime import datetime
from typing import Any

from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import get_i18n, gettext

from documents import items
from documents.words import organisation_name  # noqa: F401  (one name for both edges)
from locales import fill
from models import Role
from services import local_time
from services.errors import DomainError


def t(key: str, **params: Any) -> str:
    """Translate a key, then fill it. A parameter named `x_key` holds a translation key and fills
    `{x}` translated; every other string is user text and is escaped for HTML."""
    return fill(gettext(key), items.in_words(params, current_locale(), gettext), gettext)


def role_name(role: Role | str) -> str:
    return gettext(f"role.{Role(role).value}")


def current_locale() -> str:
    return get_i18n().current_locale


def item_label(item: str) -> str:
    """A dossier item ("field:phone", "material:…", "seal") in the reader's words."""
    return items.item_label(item, current_locale(), gettext)


def local_date(moment: datetime) -> str:
    return local_time.day_text(moment)


def local_minute(moment: datetime) -> str:
    return local_time.minute_text(moment)


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
