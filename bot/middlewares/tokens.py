"""Resolves the action token behind a pressed button, refusing one issued to someone else."""

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import CallbackQuery, TelegramObject

from handlers.callbacks import Act
from services import tokens


class ActionTokenMiddleware(BaseMiddleware):
    async def __call__(
        self, handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]], event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        if isinstance(event, CallbackQuery) and event.data and event.data.startswith(f"{Act.__prefix__}:"):
            token = event.data.split(":", 1)[1]
            data["action_token"] = await tokens.resolve(
                data["session"], token, telegram_id=event.from_user.id, now=data["clock"].now()
            )
        return await handler(event, data)
