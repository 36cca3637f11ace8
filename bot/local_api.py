"""A Bot API that answers in-process: the offline terminal mode and the handler tests both use it.

It records every request and answers with a plausible, fully typed result, so handlers run exactly
as they would against Telegram, without a network."""

import itertools
import json
import secrets
import time
from collections.abc import AsyncGenerator, Callable
from typing import Any

from aiogram import Bot
from aiogram.client.session.base import BaseSession
from aiogram.methods import TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import InputFile

from bot.bot_api_rules import BotAPIRules, Refused

BOT_USER = {"id": 42, "is_bot": True, "first_name": "服务明星助手", "username": "servicestar_bot"}
SENDS_WITH_FILE = {"sendDocument": "document", "sendPhoto": "photo"}


class LocalSession(BaseSession):
    def __init__(
        self, on_request: Callable[[TelegramMethod[Any], dict[str, Any]], None] | None = None
    ) -> None:
        super().__init__()
        self.requests: list[TelegramMethod[Any]] = []
        self.results: list[Any] = []  # what each request returned (a refusal as its Refused)
        self.on_request = on_request
        self.files: dict[str, bytes] = {}  # file_id -> content, for getFile and downloads
        self.rules = BotAPIRules(files=self.files)
        self._message_ids = itertools.count(1000)

    async def make_request(
        self, bot: Bot, method: TelegramMethod[TelegramType], timeout: int | None = None
    ) -> TelegramType:
        self.requests.append(method)
        name = method.__api_method__
        params = self.prepare_value(method.model_dump(warnings=False), bot=bot, files={}, _dumps_json=False)
        try:
            self.rules.check(name, params)
        except Refused as refusal:
            self.results.append(refusal)
            body = {"ok": False, "error_code": refusal.status, "description": refusal.description}
            self.check_response(bot, method, refusal.status, json.dumps(body))  # raises as aiogram would
            raise AssertionError("unreachable") from refusal
        result = await self.answer(method)
        self.rules.accepted(name, params, result)
        self.results.append(result)
        if self.on_request is not None:
            self.on_request(method, result if isinstance(result, dict) else {})
        response = self.check_response(bot, method, 200, json.dumps({"ok": True, "result": result}))
        return response.result  # type: ignore[return-value]

    async def answer(self, method: TelegramMethod[Any]) -> Any:
        name = method.__api_method__
        if name == "getMe":
            return BOT_USER
        if name == "getFile":
            return {
                "file_id": method.file_id,
                "file_unique_id": method.file_id[:16],
                "file_path": method.file_id,
                "file_size": len(self.files.get(method.file_id, b"")),
            }
        if (
            name in ("sendMessage", "editMessageText", "editMessageReplyMarkup", "editMessageCaption")
            or name in SENDS_WITH_FILE
        ):
            return await self._message(method, name)
        return True

    async def _message(self, method: TelegramMethod[Any], name: str) -> dict[str, Any]:
        message: dict[str, Any] = {
            "message_id": getattr(method, "message_id", None) or next(self._message_ids),
            "date": int(time.time()),
            "chat": {"id": getattr(method, "chat_id", 0) or 0, "type": "private"},
            "from": BOT_USER,
        }
        if getattr(method, "text", None) is not None:
            message["text"] = method.text
        if getattr(method, "caption", None) is not None:
            message["caption"] = method.caption
        markup = getattr(method, "reply_markup", None)
        if markup is not None:
            message["reply_markup"] = markup.model_dump(mode="json", exclude_none=True)
        if name in SENDS_WITH_FILE:
            file_id = await self._keep_file(getattr(method, SENDS_WITH_FILE[name]))
            if name == "sendDocument":
                message["document"] = {"file_id": file_id, "file_unique_id": file_id[:16]}
            else:
                message["photo"] = [
                    {"file_id": file_id, "file_unique_id": file_id[:16], "width": 1, "height": 1}
                ]
        return message

    async def _keep_file(self, file: InputFile | str) -> str:
        if isinstance(file, str):
            return file
        chunks = [chunk async for chunk in file.read(self)]
        file_id = "local-" + secrets.token_hex(8)
        self.files[file_id] = b"".join(chunks)
        return file_id

    async def stream_content(
        self,
        url: str,
        headers: dict[str, Any] | None = None,
        timeout: int = 30,
        chunk_size: int = 65536,
        raise_for_status: bool = True,
    ) -> AsyncGenerator[bytes, None]:
        file_id = url.rsplit("/", 1)[-1]
        yield self.files.get(file_id, b"")

    async def close(self) -> None:
        return None
