"""Resolves the action token behind a pressed button, refusing one issued to someone else or one
already spent; a one-time button is spent by the commit that carries its decision."""

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import CallbackQuery, TelegramObject
from sqlalchemy import event
from sqlalchemy.orm import Session

from bot.handled import HANDLED, WRITTEN
from handlers.callbacks import Act
from services import tokens
from services.errors import DomainError

SPEND = "spend_token"  # session.info: (token, now) of the one-time button this update was pressed for


@event.listens_for(Session, "before_commit")
def _spend_with_the_decision(session: Session) -> None:
    # The commit that marks the update handled is the one carrying its effects (database.py): a
    # commit of what was staged before the handler (commit_staged), or a checkpoint, holds that mark
    # back, so it does not spend it.
    if session.in_nested_transaction() or (HANDLED not in session.info and not session.info.get(WRITTEN)):
        return
    pressed = session.info.pop(SPEND, None)
    if pressed is None:
        return
    if session.exec(tokens.spend_statement(*pressed)).rowcount == 0:  # type: ignore[attr-defined]
        raise DomainError("button.used")  # the same button, pressed at the same moment, committed first


class ActionTokenMiddleware(BaseMiddleware):
    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        pressed = Act.parse(event.data) if isinstance(event, CallbackQuery) else None
        if pressed is None:
            return await handler(event, data)
        assert isinstance(event, CallbackQuery)
        session, now = data["session"], data["clock"].now()
        row = data["action_token"] = await tokens.resolve(
            session, pressed.token, person_id=data["actor"].person_id, now=now
        )
        if row.action in tokens.ONE_TIME:
            session.info[SPEND] = (row.token, now)
        try:
            return await handler(event, data)
        except BaseException:
            session.info.pop(SPEND, None)  # refused (or failed): nothing was decided, the button stays usable
            raise
