"""A Bot API emulator for end-to-end tests: an aiohttp server on 127.0.0.1 that speaks enough of
the Telegram Bot API for the bot to run against it unchanged (`TELEGRAM_API_BASE`).

It refuses what Telegram refuses (`bot.bot_api_rules`: one answer per press, "message is not
modified", HTML that does not parse, length and keyboard limits, unknown file ids, blocked chats).
It emulates: getMe; getUpdates with offset, long-poll timeout and redelivery until confirmed;
sending and editing messages, documents and photos (multipart uploads kept as files); callback
answers; getFile and file downloads; and faults: scripted errors (429 with retry_after, 5xx, ...),
a chat that blocked the bot (403), the same update delivered again, and a global rate limit.
Webhooks as Telegram runs them: once setWebhook names a URL, every update is POSTed there (with the
secret token header, over up to `max_connections` connections at once, 40 by default) and POSTed
again after `webhook_retry_delay` until a 2xx answers; getUpdates is then refused with 409, and
deleteWebhook hands what is undelivered back to getUpdates. Every call is kept in `timeline` with
the time it arrived, and every webhook delivery's attempts in `deliveries`.
It does not emulate groups, inline mode or payments."""

import asyncio
import dataclasses
import itertools
import json
import secrets
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web

from bot.bot_api_rules import BotAPIRules, Refused

BOT = {"id": 42, "is_bot": True, "first_name": "ServiceStar", "username": "servicestar_test_bot"}
TEXT_FIELDS = frozenset(
    {
        "text",
        "caption",
        "parse_mode",
        "callback_query_id",
        "file_id",
        "url",
        "secret_token",
        "description",
        "language_code",
        "inline_message_id",
    }
)
SENDS = frozenset({"sendMessage", "sendDocument", "sendPhoto", "copyMessage"})
FILE_FIELDS = {"sendDocument": "document", "sendPhoto": "photo"}
EDITS = frozenset({"editMessageText", "editMessageReplyMarkup", "editMessageCaption"})
MESSAGES = SENDS | EDITS  # what Telegram's ~30 messages a second counts
TRUE_METHODS = frozenset(
    {
        "setMyCommands",
        "deleteMyCommands",
        "setChatMenuButton",
        "answerCallbackQuery",
        "deleteMessage",
        "close",
        "logOut",
    }
)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
WEBHOOK_CONFLICT = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)


@dataclass
class ApiCall:
    """One Bot API request as the emulator answered it."""

    at: float  # time.monotonic() when the request arrived
    method: str
    chat_id: int | None
    status: int  # the HTTP status answered
    message_id: int | None = None  # of the message sent or edited, when it was accepted


@dataclass
class Delivery:
    """One update pushed to the webhook: when it was queued, and each attempt's HTTP status (or the
    name of the connection error); acknowledged at the first 2xx."""

    update_id: int
    queued_at: float
    attempts: list[tuple[float, int | str]] = dataclasses.field(default_factory=list)
    acknowledged_at: float | None = None


class BotAPIEmulator:
    def __init__(self) -> None:
        self._ids = itertools.count(1)
        self._message_ids = itertools.count(100)
        self.queue: list[dict[str, Any]] = []  # updates not yet confirmed by an offset
        self._arrived = asyncio.Event()
        self._sent: dict[int, list[dict[str, Any]]] = defaultdict(list)
        self._new_message = asyncio.Condition()
        self._calls: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.files: dict[str, bytes] = {}
        self.rules = BotAPIRules(files=self.files)
        self._faults: dict[str, deque[dict[str, Any]]] = defaultdict(deque)
        self._duplicate_next = False
        self._redeliver: list[dict[str, Any]] = []
        self._rate: float | None = None
        self._recent_sends: deque[float] = deque()
        self.rate_limited = 0
        self.timeline: list[ApiCall] = []
        self._chat_calls: dict[int, list[ApiCall]] = defaultdict(list)  # the timeline, by chat
        # Webhook (push) mode: on while setWebhook's URL is set.
        self.webhook: dict[str, Any] | None = None
        self.webhook_retry_delay = 1.0  # seconds between a failed delivery and the next attempt
        self.webhook_timeout = 10.0  # seconds Telegram waits for the webhook's answer
        self.deliveries: dict[int, Delivery] = {}
        self._push_slots: asyncio.Semaphore | None = None
        self._pushing: set[asyncio.Task[None]] = set()
        self._push_session: aiohttp.ClientSession | None = None
        self._stopping = False
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    # Lifecycle ------------------------------------------------------------------------------------

    async def start(self) -> "BotAPIEmulator":
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base_url = f"http://127.0.0.1:{port}"
        return self

    async def stop(self) -> None:
        self._stopping = True
        for task in list(self._pushing):
            task.cancel()
        await asyncio.gather(*self._pushing, return_exceptions=True)
        if self._push_session is not None:
            await self._push_session.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def __aenter__(self) -> "BotAPIEmulator":
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # What the test does as users ------------------------------------------------------------------

    def _user(self, user_id: int, first_name: str, language_code: str) -> dict[str, Any]:
        return {"id": user_id, "is_bot": False, "first_name": first_name, "language_code": language_code}

    def _queue(self, body: dict[str, Any]) -> int:
        update = {"update_id": next(self._ids), **body}
        twice, self._duplicate_next = self._duplicate_next, False
        if self.webhook is not None:
            self._push(update, twice=twice)
            return update["update_id"]
        self.queue.append(update)
        if twice:
            self._redeliver.append(update)
        self._arrived.set()
        return update["update_id"]

    def _message(self, user_id: int, first_name: str, language_code: str, **content: Any) -> dict[str, Any]:
        return {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": {"id": user_id, "type": "private"},
            "from": self._user(user_id, first_name, language_code),
            **content,
        }

    def user_sends_text(
        self, user_id: int, text: str, first_name: str = "测试用户", language_code: str = "zh-hans"
    ) -> int:
        content: dict[str, Any] = {"text": text}
        if text.startswith("/"):
            content["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        return self._queue({"message": self._message(user_id, first_name, language_code, **content)})

    def user_presses(
        self,
        user_id: int,
        message: dict[str, Any],
        callback_data: str,
        first_name: str = "测试用户",
        language_code: str = "zh-hans",
    ) -> int:
        query = {
            "id": secrets.token_hex(8),
            "from": self._user(user_id, first_name, language_code),
            "chat_instance": "e2e",
            "message": message,
            "data": callback_data,
        }
        return self._queue({"callback_query": query})

    def press_button(self, user_id: int, message: dict[str, Any], label: str, **user: Any) -> int:
        for row in (message.get("reply_markup") or {}).get("inline_keyboard", []):
            for button in row:
                if button.get("text") == label:
                    return self.user_presses(user_id, message, button["callback_data"], **user)
        raise AssertionError(f"no button {label!r} in {message.get('text')!r}")

    def _store_file(self, data: bytes) -> dict[str, Any]:
        file_id = "file-" + secrets.token_hex(8)
        self.files[file_id] = data
        return {"file_id": file_id, "file_unique_id": file_id[5:], "file_size": len(data)}

    def user_sends_document(
        self,
        user_id: int,
        file_name: str,
        data: bytes,
        mime_type: str,
        first_name: str = "测试用户",
        language_code: str = "zh-hans",
    ) -> int:
        document = {**self._store_file(data), "file_name": file_name, "mime_type": mime_type}
        return self._queue({"message": self._message(user_id, first_name, language_code, document=document)})

    def user_sends_photo(
        self, user_id: int, data: bytes, first_name: str = "测试用户", language_code: str = "zh-hans"
    ) -> int:
        photo = [{**self._store_file(data), "width": 100, "height": 100}]
        return self._queue({"message": self._message(user_id, first_name, language_code, photo=photo)})

    # Fault injection ------------------------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        error_code: int = 429,
        retry_after: int | None = None,
        description: str | None = None,
        times: int = 1,
    ) -> None:
        for _ in range(times):
            self._faults[method].append(
                {
                    "error_code": error_code,
                    "retry_after": retry_after,
                    "description": description or _describe(error_code),
                }
            )

    def block(self, chat_id: int) -> None:
        self.rules.blocked.add(chat_id)

    def duplicate_next_update(self) -> None:
        """The next update is delivered again after the bot confirmed it, as Telegram may."""
        self._duplicate_next = True

    def rate_limit(self, per_second: float | None) -> None:
        self._rate = per_second

    # What the test reads --------------------------------------------------------------------------

    def sent(self, chat_id: int) -> list[dict[str, Any]]:
        return list(self._sent[chat_id])

    def all_sent(self) -> list[dict[str, Any]]:
        return [m for messages in self._sent.values() for m in messages]

    def calls(self, method: str) -> list[dict[str, Any]]:
        return list(self._calls[method])

    def message_times(self, chat_id: int | None = None, accepted_only: bool = False) -> list[float]:
        """When sends and edits (what Telegram's message limits count) arrived, in order; to one
        chat if given, only those accepted (200) if asked."""
        calls = self.timeline if chat_id is None else self._chat_calls.get(chat_id, [])
        return [
            call.at for call in calls if call.method in MESSAGES and (not accepted_only or call.status == 200)
        ]

    async def wait_for(
        self, chat_id: int, predicate: Callable[[dict[str, Any]], bool] | None = None, timeout: float = 5.0
    ) -> dict[str, Any]:
        """The first message to chat_id, sent or edited from now on, that matches predicate."""
        seen = len(self._sent[chat_id])

        def match() -> dict[str, Any] | None:
            for message in self._sent[chat_id][seen:]:
                if predicate is None or predicate(message):
                    return message
            return None

        async with self._new_message:
            await asyncio.wait_for(self._new_message.wait_for(lambda: match() is not None), timeout)
        found = match()
        assert found is not None
        return found

    # The HTTP side --------------------------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.Response:
        arrived = time.monotonic()
        method = request.match_info["method"]
        params = await _params(request)
        self._calls[method].append(params)
        call = ApiCall(arrived, method, _int(params.get("chat_id")), 200)
        self.timeline.append(call)
        if call.chat_id is not None:
            self._chat_calls[call.chat_id].append(call)
        response = await self._respond(method, params, call)
        call.status = response.status
        return response

    async def _respond(self, method: str, params: dict[str, Any], call: ApiCall) -> web.Response:
        fault = self._fault_for(method, params)
        if fault is not None:
            return fault
        try:
            self.rules.check(method, params)
        except Refused as refusal:
            return _error(refusal.status, refusal.description)
        response = await self._answer(method, params)
        if response.status == 200 and response.body is not None:
            result = json.loads(response.body)["result"]  # type: ignore[arg-type]
            self.rules.accepted(method, params, result)
            if isinstance(result, dict) and isinstance(result.get("message_id"), int):
                call.message_id = result["message_id"]
        return response

    async def _answer(self, method: str, params: dict[str, Any]) -> web.Response:
        if method == "getUpdates":
            if self.webhook is not None:
                return _error(409, WEBHOOK_CONFLICT)
            return _ok(await self._get_updates(params))
        if method == "setWebhook":
            self._set_webhook(params)
            return _ok(True)
        if method == "deleteWebhook":
            self._delete_webhook()
            return _ok(True)
        if method == "getWebhookInfo":
            hook = self.webhook or {}
            pending = sum(1 for d in self.deliveries.values() if d.acknowledged_at is None)
            return _ok(
                {
                    "url": hook.get("url", ""),
                    "has_custom_certificate": False,
                    "pending_update_count": pending if hook else len(self.queue),
                    "max_connections": hook.get("max_connections", 40),
                }
            )
        if method == "getMe":
            return _ok(BOT)
        if method == "getFile":
            file_id = params.get("file_id", "")
            if file_id not in self.files:
                return _error(400, "Bad Request: invalid file_id")
            return _ok(
                {
                    "file_id": file_id,
                    "file_unique_id": file_id[5:],
                    "file_size": len(self.files[file_id]),
                    "file_path": f"documents/{file_id}",
                }
            )
        if method in TRUE_METHODS:
            return _ok(True)
        if method in SENDS or method in ("editMessageText", "editMessageReplyMarkup", "editMessageCaption"):
            return _ok(await self._record(method, params))
        return _error(404, "Not Found: method not found")

    def _fault_for(self, method: str, params: dict[str, Any]) -> web.Response | None:
        if self._faults[method]:
            fault = self._faults[method].popleft()
            return _error(fault["error_code"], fault["description"], fault["retry_after"])
        if method in SENDS and self._rate is not None:
            now = time.monotonic()
            while self._recent_sends and now - self._recent_sends[0] >= 1.0:
                self._recent_sends.popleft()
            if len(self._recent_sends) >= self._rate:
                self.rate_limited += 1
                return _error(429, "Too Many Requests: retry after 1", 1)
            self._recent_sends.append(now)
        return None

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = _int(params.get("offset")) or 0
        if offset:
            self.queue = [u for u in self.queue if u["update_id"] >= offset]
            if self._redeliver and all(u["update_id"] < offset for u in self._redeliver):
                self.queue[:0], self._redeliver = self._redeliver, []  # delivered again, same update_id
        if not self.queue:
            self._arrived.clear()
            try:
                await asyncio.wait_for(
                    self._arrived.wait(), timeout=min(float(_int(params.get("timeout")) or 0), 25)
                )
            except TimeoutError:
                return []
        limit = _int(params.get("limit")) or 100
        return self.queue[:limit]

    async def _record(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = _int(params.get("chat_id")) or 0
        message: dict[str, Any] = {
            "message_id": _int(params.get("message_id")) or next(self._message_ids),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private"},
            "from": BOT,
        }
        for field in ("text", "caption", "reply_markup", "protect_content"):
            if params.get(field) is not None:
                message[field] = params[field]
        if method in FILE_FIELDS:
            upload = params.get(FILE_FIELDS[method])
            stored = (
                self._store_file(upload)
                if isinstance(upload, bytes)
                else {
                    "file_id": upload,
                    "file_unique_id": str(upload)[5:],
                    "file_size": len(self.files.get(upload, b"")),
                }
            )
            if method == "sendDocument":
                message["document"] = {**stored, "file_name": params.get("_file_name", "document")}
            else:
                message["photo"] = [{**stored, "width": 100, "height": 100}]
        async with self._new_message:
            self._sent[chat_id].append(message)
            self._new_message.notify_all()
        return message

    # Webhook (push) mode ---------------------------------------------------------------------------

    def _set_webhook(self, params: dict[str, Any]) -> None:
        url = str(params.get("url") or "")
        if not url:  # setWebhook with an empty URL removes it, as deleteWebhook does
            self._delete_webhook()
            return
        connections = min(max(_int(params.get("max_connections")) or 40, 1), 100)
        if self._push_slots is None or self.webhook is None or self.webhook["max_connections"] != connections:
            self._push_slots = asyncio.Semaphore(connections)
        self.webhook = {
            "url": url,
            "secret_token": params.get("secret_token"),
            "max_connections": connections,
        }
        if self._push_session is None:
            self._push_session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
        waiting, self.queue = self.queue, []  # not yet confirmed through getUpdates: pushed now
        redeliver, self._redeliver = self._redeliver, []
        for update in waiting:
            self._push(update, twice=update in redeliver)

    def _delete_webhook(self) -> None:
        """Undelivered updates go back to getUpdates (their deliveries see the webhook gone)."""
        self.webhook = None

    def _push(self, update: dict[str, Any], twice: bool = False) -> None:
        self.deliveries.setdefault(update["update_id"], Delivery(update["update_id"], time.monotonic()))
        task = asyncio.get_running_loop().create_task(self._deliver(update, twice))
        self._pushing.add(task)
        task.add_done_callback(self._pushing.discard)

    async def _deliver(self, update: dict[str, Any], twice: bool) -> None:
        """POST until a 2xx; `twice`: once more after that, with the same update_id, as Telegram may."""
        record = self.deliveries[update["update_id"]]
        while not self._stopping:
            hook, slots = self.webhook, self._push_slots
            if hook is None or slots is None:  # the webhook was deleted: getUpdates hands it out
                self.queue.append(update)
                self._arrived.set()
                return
            async with slots:
                outcome = await self._post(hook, update)
            record.attempts.append((time.monotonic(), outcome))
            if isinstance(outcome, int) and 200 <= outcome < 300:
                if record.acknowledged_at is None:
                    record.acknowledged_at = record.attempts[-1][0]
                if not twice:
                    return
                twice = False
                continue
            await asyncio.sleep(self.webhook_retry_delay)

    async def _post(self, hook: dict[str, Any], update: dict[str, Any]) -> int | str:
        assert self._push_session is not None
        headers = {"Content-Type": "application/json"}
        if hook["secret_token"]:
            headers[SECRET_HEADER] = str(hook["secret_token"])
        try:
            async with self._push_session.post(
                hook["url"],
                data=json.dumps(update),
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=self.webhook_timeout),
            ) as response:
                await response.read()
                return response.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            return type(exc).__name__

    async def _download(self, request: web.Request) -> web.Response:
        file_id = request.match_info["path"].rsplit("/", 1)[-1]
        if file_id not in self.files:
            return web.Response(status=404)
        return web.Response(body=self.files[file_id])


async def _params(request: web.Request) -> dict[str, Any]:
    if request.content_type == "application/json":
        return dict(await request.json())
    form = await request.post() if request.can_read_body else request.query
    params: dict[str, Any] = {}
    attachments: dict[str, Any] = {}
    for key, value in form.items():
        if isinstance(value, web.FileField):
            attachments[key] = value
            continue
        params[key] = value if key in TEXT_FIELDS else _json(value)
    for key, value in list(params.items()):
        if isinstance(value, str) and value.startswith("attach://"):
            field = attachments[value.removeprefix("attach://")]
            params[key] = field.file.read()
            params["_file_name"] = field.filename
    return params


def _json(value: Any) -> Any:
    try:
        return json.loads(value)
    except (TypeError, ValueError):
        return value


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _ok(result: Any) -> web.Response:
    return web.json_response({"ok": True, "result": result})


def _describe(code: int) -> str:
    return {
        429: "Too Many Requests: retry later",
        403: "Forbidden: bot was blocked by the user",
        400: "Bad Request",
        500: "Internal Server Error",
        502: "Bad Gateway",
    }.get(code, "Error")


def _error(code: int, description: str, retry_after: int | None = None) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if retry_after is not None:
        body["parameters"] = {"retry_after": retry_after}
    return web.json_response(body, status=code)
