"""The one place a button press gets its answer: at most once, and at the end if nobody did."""

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.exceptions import TelegramBadRequest
from aiogram.methods import (
    AnswerCallbackQuery,
    EditMessageCaption,
    EditMessageReplyMarkup,
    EditMessageText,
    TelegramMethod,
)
from aiogram.methods.base import TelegramType
from aiogram.types import TelegramObject, Update

from handlers.presses import Press, current_press, tell

log = logging.getLogger(__name__)
EDITS = (EditMessageText, EditMessageReplyMarkup, EditMessageCaption)


class PressMiddleware(BaseMiddleware):
    """Update-level, so the errors router (which runs outside it) finds the same Press in `press`."""

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        if not isinstance(event, Update) or event.callback_query is None:
            return await handler(event, data)
        press = data["press"] = Press(event.callback_query)
        token = current_press.set(press)
        try:
            result = await handler(event, data)
        finally:
            current_press.reset(token)
        if not press.answered:  # a press left unanswered spins on the person's screen
            press.answered = True
            await event.callback_query.answer()
        return result


class AnswerOnce(BaseRequestMiddleware):
    """A second answer to a press is not made (Telegram would refuse it): its text, if any, reaches
    the person as a message instead. The answer itself is a reply (bot/replies.py): sent after the
    update's commit, where one that comes too late is handled (bot/notifier.py)."""

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Any:
        press = current_press.get()
        if (
            not isinstance(method, AnswerCallbackQuery)
            or press is None
            or method.callback_query_id != press.query.id
        ):
            return await make_request(bot, method)
        if press.answered:
            log.info("press %s already answered; a second answer goes as a message", press.query.id)
            if method.text:
                await tell(press, method.text)
            return True
        press.answered = True
        return await make_request(bot, method)


class NotModifiedIsDone(BaseRequestMiddleware):
    """An edit that changes nothing (a double tap re-rendering the same screen) is refused by
    Telegram as "message is not modified": the message already shows what we meant, so it is done."""

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Any:
        try:
            return await make_request(bot, method)
        except TelegramBadRequest as error:
            if isinstance(method, EDITS) and "message is not modified" in error.message:
                return True  # type: ignore[return-value]  # the chain passes results, not Responses
            raise
