"""A command typed inside a conversation leaves it, then runs as if no conversation were open, so
it is never taken as an answer (a dossier field, a reason) nor refused as "use the buttons"."""

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.fsm.context import FSMContext
from aiogram.types import Message, TelegramObject

from handlers.conversation import CANCEL, command_name, leave_for_command


class LeaveOnCommand(BaseMiddleware):
    """Message-level and outer: aiogram's FSM middleware has already read the state into
    data["raw_state"], which StateFilter checks while routing, so clearing the state in a handler
    would come too late for this update. /cancel is left to its handler, which says "cancelled"."""

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        state: FSMContext | None = data.get("state")
        if not isinstance(event, Message) or state is None or data.get("raw_state") is None:
            return await handler(event, data)
        if command_name(event) not in (None, CANCEL) and await leave_for_command(event, state):
            data["raw_state"] = None
        return await handler(event, data)
