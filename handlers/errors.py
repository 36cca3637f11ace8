"""Domain errors answered in the user's language. Anything else is left to the inbox, which logs
it, retries the update a few times, then dead-letters it and tells the person."""

import logging

from aiogram import Router
from aiogram.filters import ExceptionTypeFilter
from aiogram.types import ErrorEvent
from aiogram.utils.i18n import I18n

from handlers.presses import Press, tell
from handlers.render import t
from services.errors import DomainError

log = logging.getLogger(__name__)


async def domain_error(event: ErrorEvent, i18n: I18n, locale: str | None = None, press: Press | None = None) -> None:
    error = event.exception
    assert isinstance(error, DomainError)
    with i18n.context(), i18n.use_locale(locale or i18n.default_locale):
        text = t(f"error.{error.code}", **error.params)
        update = event.update
        if update.callback_query is not None:
            await tell(press or Press(update.callback_query), text)
        elif update.message is not None:
            await update.message.answer(text)
    log.info("refused update %s: %r", update.update_id, error)


def build() -> Router:
    router = Router(name=__name__)
    router.errors.register(domain_error, ExceptionTypeFilter(DomainError))
    return router
