"""An update's replies are kept with its decision. While an update is handled, every Bot API call
that changes what someone sees (a message, an edit, a deletion, the answer to a press) is not sent:
it is kept, exactly as made, and becomes an outbox row in the update's one commit. Right after that
commit the process sends the update's rows, in order; if it dies first, any outbox sender sends them
a little later. So a reply is never lost, and is sent twice only when a process died during the
send itself, which the row counts (`resends`). Calls that only read (a file download, getMe) go
out at once, and never while the update is in a database transaction (`no_transaction_across`).

The handler gets a stand-in result: the message it sent has no id yet (0). A handler that needs
the id of a message it shows takes it from the press on that message instead."""

import logging
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import aiogram.methods
from aiogram import Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.methods import (
    AnswerCallbackQuery,
    DeleteMessage,
    EditMessageCaption,
    EditMessageReplyMarkup,
    EditMessageText,
    SendDocument,
    SendMessage,
    SendPhoto,
    TelegramMethod,
)
from aiogram.methods.base import TelegramType
from aiogram.types import FSInputFile, InputFile, Message

from bot.storage import current_session
from models.db import Session as OwnedSession
from services.files.store import FileStore

log = logging.getLogger(__name__)
SHOWN = (SendMessage, SendDocument, SendPhoto, EditMessageText, EditMessageCaption, EditMessageReplyMarkup)
REPLIES = (*SHOWN, DeleteMessage, AnswerCallbackQuery)
STORED = "stored_file"  # a file field, kept in the file store: {"stored_file": sha256, "filename": …}


@dataclass
class Replies:
    """The calls an update made so far; `chat_id`: where answers to presses go, for the row."""

    chat_id: int
    store: FileStore
    calls: list[tuple[int, dict[str, Any]]] = field(default_factory=list)  # (chat id, call)


current_replies: ContextVar[Replies | None] = ContextVar("current_replies", default=None)


class KeepReplies(BaseRequestMiddleware):
    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Any:
        replies = current_replies.get()
        if replies is None or not isinstance(method, REPLIES):
            if replies is not None:
                await no_transaction_across(method)
            return await make_request(bot, method)
        session = current_session.get()
        if isinstance(session, OwnedSession) and session.owned:
            # What the person is told of stands: a refusal later in the update goes back no further
            # (a checkpoint, free when nothing was written since the last one). The reply itself is
            # kept inside the update's transaction, and committed with it.
            await session.checkpoint()
        call = await recorded(bot, method, replies.store)
        target = getattr(method, "chat_id", None)
        replies.calls.append((target if isinstance(target, int) else replies.chat_id, call))
        return _stand_in(method)


class TransactionAcrossTelegram(AssertionError):
    """A call that goes to Telegram while the update holds a write in its database transaction."""


STRICT = False  # the tests set it: there the call fails, here it is only logged


async def no_transaction_across(method: TelegramMethod[Any]) -> None:
    """A call that goes out at once (a download takes seconds) is never made inside the update's
    transaction: on SQLite every transaction holds the one write lock (BEGIN IMMEDIATE), so everyone
    else would wait for Telegram. One that has only read is ended here (nothing is lost); one that
    has written cannot be, short of a second commit, so that is the handler's mistake: it makes such
    calls before it writes (handlers/uploads.py receives a file first)."""
    session = current_session.get()
    if session is None or not session.in_transaction():
        return
    assert isinstance(session, OwnedSession)
    if not session.written:
        await session.rollback()  # only reads: the update's transaction begins again with its next one
        return
    problem = f"{type(method).__name__} sent to Telegram while the update's transaction holds a write"
    if STRICT:
        raise TransactionAcrossTelegram(problem)
    log.error(problem)


async def recorded(bot: Bot, method: TelegramMethod[Any], store: FileStore) -> dict[str, Any]:
    """The call as JSON, defaults applied as the Bot would, files moved into the file store."""
    files: dict[str, InputFile] = {}
    fields = bot.session.prepare_value(
        method.model_dump(warnings=False), bot=bot, files=files, _dumps_json=False
    )
    for name, value in list(fields.items()):
        if isinstance(value, str) and value.startswith("attach://"):
            file = files[value.removeprefix("attach://")]
            data = b"".join([chunk async for chunk in file.read(bot)])
            fields[name] = {STORED: store.put(data), "filename": file.filename}
    return {"method": type(method).__name__, "fields": fields}


def rebuilt(call: dict[str, Any], store: FileStore) -> TelegramMethod[Any]:
    kind = getattr(aiogram.methods, str(call["method"]), None)
    if not (isinstance(kind, type) and issubclass(kind, REPLIES)):
        raise ValueError(f"not a reply: {call['method']!r}")
    fields = dict(call["fields"])
    for name, value in fields.items():
        if isinstance(value, dict) and STORED in value:
            fields[name] = FSInputFile(store.path(value[STORED]), filename=value.get("filename"))
    return kind.model_validate(fields)


def _stand_in(method: TelegramMethod[Any]) -> Any:
    if not isinstance(method, SHOWN):
        return True
    chat_id = getattr(method, "chat_id", None)
    return Message(
        message_id=getattr(method, "message_id", None) or 0,
        date=datetime.now(UTC),
        chat={"id": chat_id if isinstance(chat_id, int) else 0, "type": "private"},
        text=getattr(method, "text", None),
    )
