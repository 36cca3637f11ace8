"""Domain errors answered in the user's language. Anything else is left to the inbox, which logs
it, retries the update a few times, then dead-letters it and tells the person."""

import logging
from typing import Any

from aiogram import Router
from aiogram.filters import ExceptionTypeFilter
from aiogram.types import ErrorEvent, Message, Update
from aiogram.utils.i18n import I18n

from handlers.presses import Press, current_press, tell
from handlers.render import t
from services.errors import DomainError

log = logging.getLogger(__name__)


async def refuse(update: Update, error: DomainError, data: dict[str, Any]) -> None:
    """Say why, in the person's language: the database middleware calls it inside the update, so
    the refusal is a reply kept with the update like any other."""
    await _say(update, error, data["i18n"], data.get("locale"), data.get("press"))


async def domain_error(
    event: ErrorEvent, i18n: I18n, locale: str | None = None, press: Press | None = None
) -> None:
    """A refusal from outside an update's handling (a middleware before the database one)."""
    assert isinstance(event.exception, DomainError)
    await _say(event.update, event.exception, i18n, locale, press)


async def refused_here(error: DomainError, message: Message | None) -> None:
    """A refusal a handler answers itself, in the update's language, when what it staged before must
    stay (a refusal raised would take it back): to the press being handled, else below `message`."""
    text = t(f"error.{error.code}", **error.params)
    press = current_press.get()
    if press is not None:
        await tell(press, text)
    elif message is not None:
        await message.answer(text)
    log.info("refused: %r", error)


async def _say(
    update: Update, error: DomainError, i18n: I18n, locale: str | None, press: Press | None
) -> None:
    with i18n.context(), i18n.use_locale(locale or i18n.default_locale):
        text = t(f"error.{error.code}", **error.params)
        if update.callback_query is not None:
            await tell(press or Press(update.callback_query), text)
        elif update.message is not None:
            await update.message.answer(text)
    log.info("refused update %s: %r", update.update_id, error)


def build() -> Router:
    router = Router(name=__name__)
    router.errors.register(domain_error, ExceptionTypeFilter(DomainError))
    return router
