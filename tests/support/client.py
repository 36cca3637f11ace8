"""Tests that act like a person: send text, press a button by its label, upload a file, through the
production Dispatcher, with a Bot whose session records every request and answers in FIFO order."""

import itertools
from collections import deque
from datetime import UTC, datetime
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.methods import TelegramMethod
from aiogram.types import (
    CallbackQuery,
    Chat,
    Document,
    InlineKeyboardMarkup,
    Message,
    MessageEntity,
    Update,
    User,
)

from bot.local_api import LocalSession
from bot.storage import current_session

_update_ids = itertools.count(1)
_query_ids = itertools.count(1)


class RecordingSession(LocalSession):
    """Answers scripted results or errors first-in-first-out, then plausible defaults."""

    def __init__(self) -> None:
        super().__init__()
        self.scripted: deque[Any] = deque()
        # Calls made while an update's transaction was open (on SQLite that holds everyone's write
        # lock for a round trip): the world fixture fails a test that made one.
        self.in_transaction: list[str] = []

    async def make_request(self, bot: Any, method: TelegramMethod[Any], timeout: int | None = None) -> Any:
        session = current_session.get()
        if session is not None and session.in_transaction():
            self.in_transaction.append(method.__api_method__)
        return await super().make_request(bot, method, timeout)

    def script(self, *answers: Any) -> None:
        self.scripted.extend(answers)

    async def answer(self, method: TelegramMethod[Any]) -> Any:
        if self.scripted:
            answer = self.scripted.popleft()
            if isinstance(answer, BaseException):
                raise answer
            return answer
        return await super().answer(method)


class UserClient:
    def __init__(
        self,
        dispatcher: Dispatcher,
        bot: Bot,
        user_id: int,
        first_name: str = "张伟",
        language_code: str = "zh-hans",
    ) -> None:
        self.dispatcher, self.bot = dispatcher, bot
        self.user = User(id=user_id, is_bot=False, first_name=first_name, language_code=language_code)
        self.chat = Chat(id=user_id, type="private")
        self.replies: list[TelegramMethod[Any]] = []

    @property
    def session(self) -> RecordingSession:
        assert isinstance(self.bot.session, RecordingSession)
        return self.bot.session

    async def feed(self, update: Update) -> list[TelegramMethod[Any]]:
        before = len(self.session.requests)
        await self.dispatcher.feed_update(self.bot, update)
        self.replies = self.session.requests[before:]
        return self.replies

    def message(self, **fields: Any) -> Message:
        return Message(
            message_id=next(_update_ids),
            date=datetime.now(UTC),
            chat=self.chat,
            from_user=self.user,
            **fields,
        )

    async def send(self, text: str) -> list[TelegramMethod[Any]]:
        entities = None
        if text.startswith("/"):
            entities = [MessageEntity(type="bot_command", offset=0, length=len(text.split()[0]))]
        return await self.feed(
            Update(update_id=next(_update_ids), message=self.message(text=text, entities=entities))
        )

    async def upload(
        self, file_name: str, content: bytes, mime_type: str = "application/pdf"
    ) -> list[TelegramMethod[Any]]:
        file_id = f"upload-{next(_update_ids)}"
        self.session.files[file_id] = content
        document = Document(
            file_id=file_id,
            file_unique_id=file_id,
            file_name=file_name,
            mime_type=mime_type,
            file_size=len(content),
        )
        return await self.feed(Update(update_id=next(_update_ids), message=self.message(document=document)))

    async def press(self, label: str, *, contains: bool = False) -> list[TelegramMethod[Any]]:
        """Press the newest button with this label (or containing it) sent to this chat, on the
        message that carried it, as Telegram delivers a press."""
        for method, result in zip(
            reversed(self.session.requests), reversed(self.session.results), strict=True
        ):
            markup = getattr(method, "reply_markup", None)
            if getattr(method, "chat_id", None) != self.chat.id or not isinstance(
                markup, InlineKeyboardMarkup
            ):
                continue
            for row in markup.inline_keyboard:
                for button in row:
                    if button.text == label or (contains and label in button.text):
                        message = Message.model_validate(result) if isinstance(result, dict) else None
                        return await self.press_data(
                            button.callback_data or "", text=getattr(method, "text", ""), message=message
                        )
        raise AssertionError(f"no button {label!r} in this chat; sent: {self.texts(all_requests=True)[-5:]}")

    async def press_data(
        self, data: str, text: str = "", message: Message | None = None
    ) -> list[TelegramMethod[Any]]:
        """Press a button carrying `data`, as Telegram would deliver it (or as a forger would)."""
        if message is None:
            message = Message(
                message_id=next(_update_ids), date=datetime.now(UTC), chat=self.chat, text=text or "…"
            )
            self.session.rules.shown(self.chat.id, message.message_id, message.text)
        query = CallbackQuery(
            id=str(next(_query_ids)), from_user=self.user, chat_instance="1", message=message, data=data
        )
        self.last_query_id = query.id
        self.last_press = (data, message)
        return await self.feed(Update(update_id=next(_update_ids), callback_query=query))

    async def press_again(self) -> list[TelegramMethod[Any]]:
        """The last press once more, on the same message: a double tap, or Telegram re-sending a press
        whose answer it lost (a new update id and a new query id)."""
        data, message = self.last_press
        return await self.press_data(data, message=message)

    def texts(self, all_requests: bool = False) -> list[str]:
        """What this person saw: message texts, captions, and alert texts, in order."""
        requests = self.session.requests if all_requests else self.replies
        seen = []
        for method in requests:
            for field in ("text", "caption"):
                value = getattr(method, field, None)
                if isinstance(value, str) and (getattr(method, "chat_id", self.chat.id) == self.chat.id):
                    seen.append(value)
        return seen

    @property
    def last_text(self) -> str:
        texts = self.texts()
        assert texts, "the bot said nothing"
        return texts[-1]

    def buttons(self) -> list[str]:
        """Labels of the buttons in the newest keyboard of the last reply."""
        for method in reversed(self.replies):
            markup = getattr(method, "reply_markup", None)
            if isinstance(markup, InlineKeyboardMarkup):
                return [b.text for row in markup.inline_keyboard for b in row]
        return []


async def sent_file(client: UserClient, method: Any) -> bytes:
    """The content of the file a sendDocument or sendPhoto carried."""
    file = getattr(method, "document", None) or getattr(method, "photo", None)
    assert file is not None and not isinstance(file, str), f"no file sent in {method!r}"
    return b"".join([chunk async for chunk in file.read(client.session)])
