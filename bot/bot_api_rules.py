"""Telegram's refusals, as a checker both in-process doubles and the HTTP emulator share, so the bot
is tried against the rules it meets in production (FACTS.md lists them): one answer per press,
"message is not modified", HTML that must parse, length and keyboard limits, blocked chats and
unknown file ids. The offline chat uses it too, so a trial behaves as Telegram would."""

from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

TEXT_LIMIT, CAPTION_LIMIT, ALERT_LIMIT = 4096, 1024, 200
CALLBACK_DATA_BYTES, BUTTONS_LIMIT, ROW_LIMIT = 64, 100, 8
TAGS = frozenset(
    {
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "span",
        "tg-spoiler",
        "a",
        "code",
        "pre",
        "blockquote",
        "tg-emoji",
    }
)
ENTITIES = frozenset({"lt", "gt", "amp", "quot"})
SENDS = frozenset({"sendMessage", "sendDocument", "sendPhoto", "copyMessage", "sendMediaGroup"})
EDITS = frozenset({"editMessageText", "editMessageReplyMarkup", "editMessageCaption"})
FILE_FIELDS = {"sendDocument": "document", "sendPhoto": "photo"}
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
QUERY_INVALID = "Bad Request: query is too old and response timeout expired or query ID is invalid"


class Refused(Exception):
    """What Telegram would answer instead of ok: an HTTP status and its description."""

    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status, self.description = status, description


class _Html(HTMLParser):
    """Telegram's HTML: a few tags, properly nested, four named entities; counts the visible text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.open: list[str] = []
        self.length = 0  # UTF-16 code units of the text as shown

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in TAGS:
            raise Refused(400, f'Bad Request: can\'t parse entities: Unsupported start tag "{tag}"')
        self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open[-1] != tag:
            raise Refused(400, f'Bad Request: can\'t parse entities: Unexpected end tag "{tag}"')
        self.open.pop()

    def handle_data(self, data: str) -> None:
        if "<" in data:
            raise Refused(400, "Bad Request: can't parse entities: Unsupported start tag")
        self.length += len(data.encode("utf-16-le")) // 2

    def handle_entityref(self, name: str) -> None:
        if name not in ENTITIES:
            raise Refused(400, f'Bad Request: can\'t parse entities: Unsupported HTML entity "&{name};"')
        self.length += 1

    def handle_charref(self, name: str) -> None:
        self.length += 1

    def close(self) -> None:
        super().close()
        if self.rawdata:  # an unfinished tag such as "a <b"
            raise Refused(400, "Bad Request: can't parse entities: Unclosed start tag")
        if self.open:
            raise Refused(
                400,
                "Bad Request: can't parse entities: Can't find end tag corresponding to start tag "
                f'"{self.open[-1]}"',
            )


def shown_length(text: str, parse_mode: str | None) -> int:
    """The length Telegram counts (after parsing the markup), refusing markup that does not parse."""
    if (parse_mode or "").upper() != "HTML":
        return len(text.encode("utf-16-le")) // 2
    parser = _Html()
    parser.feed(text)
    parser.close()
    return parser.length


def _check_text(value: Any, parse_mode: str | None, limit: int, what: str, required: bool) -> None:
    if value is None:
        if required:
            raise Refused(400, "Bad Request: message text is empty")
        return
    length = shown_length(str(value), parse_mode)
    if required and length == 0:
        raise Refused(400, "Bad Request: message text is empty")
    if length > limit:
        raise Refused(400, f"Bad Request: {what} is too long")


def _check_keyboard(markup: Any) -> None:
    if not isinstance(markup, dict) or "inline_keyboard" not in markup:
        return
    rows = markup["inline_keyboard"]
    if sum(len(row) for row in rows) > BUTTONS_LIMIT:
        raise Refused(400, "Bad Request: too many inline keyboard buttons")
    for row in rows:
        if len(row) > ROW_LIMIT:
            raise Refused(400, "Bad Request: too many buttons in a row")
        for button in row:
            if not str(button.get("text") or "").strip():
                raise Refused(400, "Bad Request: BUTTON_TEXT_INVALID")
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode()) <= CALLBACK_DATA_BYTES:
                raise Refused(400, "Bad Request: BUTTON_DATA_INVALID")


def _key(params: dict[str, Any]) -> tuple[int, int] | None:
    try:
        return int(params["chat_id"]), int(params["message_id"])
    except (KeyError, TypeError, ValueError):
        return None


@dataclass
class BotAPIRules:
    """The state Telegram keeps that decides a refusal: presses answered, messages as last shown,
    blocked chats, file ids it knows."""

    answered: set[str] = field(default_factory=set)
    messages: dict[tuple[int, int], tuple[Any, Any]] = field(default_factory=dict)  # (text, markup) as shown
    blocked: set[int] = field(default_factory=set)
    files: dict[str, Any] = field(default_factory=dict)  # file_id -> content (the double's own store)
    refusals: list[tuple[str, str]] = field(default_factory=list)  # (method, description), for tests to read

    def shown(self, chat_id: int, message_id: int, text: Any, markup: Any = None) -> None:
        """A message as the person sees it (one the bot sent, or the one a press came from)."""
        self.messages[(chat_id, message_id)] = (text, markup or None)

    def check(self, method: str, params: dict[str, Any]) -> None:
        """Raise Refused when Telegram would refuse this call."""
        try:
            self._check(method, params)
        except Refused as refusal:
            self.refusals.append((method, refusal.description))
            raise

    def _check(self, method: str, params: dict[str, Any]) -> None:
        parse_mode = params.get("parse_mode")
        if method in SENDS or method in EDITS:
            chat_id = params.get("chat_id")
            if chat_id is not None and int(chat_id) in self.blocked:
                raise Refused(403, "Forbidden: bot was blocked by the user")
            _check_keyboard(params.get("reply_markup"))
        if method == "sendMessage":
            _check_text(params.get("text"), parse_mode, TEXT_LIMIT, "message", required=True)
        elif method == "editMessageText":
            _check_text(params.get("text"), parse_mode, TEXT_LIMIT, "message", required=True)
            self._check_modified(params, "text")
        elif method == "editMessageCaption":
            _check_text(params.get("caption"), parse_mode, CAPTION_LIMIT, "message caption", required=False)
            self._check_modified(params, "caption")
        elif method == "editMessageReplyMarkup":
            self._check_modified(params, None)
        elif method in FILE_FIELDS:
            _check_text(params.get("caption"), parse_mode, CAPTION_LIMIT, "message caption", required=False)
            file = params.get(FILE_FIELDS[method])
            if isinstance(file, str) and not file.startswith("attach://") and file not in self.files:
                raise Refused(400, "Bad Request: wrong file identifier/HTTP URL specified")
        elif method == "answerCallbackQuery":
            query_id = str(params.get("callback_query_id"))
            if query_id in self.answered:
                raise Refused(400, QUERY_INVALID)
            _check_text(params.get("text"), None, ALERT_LIMIT, "alert text", required=False)
        elif method == "getFile" and params.get("file_id") not in self.files:
            raise Refused(400, "Bad Request: invalid file_id")
        elif method == "deleteMessage" and _key(params) not in self.messages:
            raise Refused(400, "Bad Request: message to delete not found")

    def _check_modified(self, params: dict[str, Any], field_name: str | None) -> None:
        key = _key(params)
        if key is None or key not in self.messages:
            return  # a message this double never saw: nothing to compare with
        text, markup = self.messages[key]
        new_text = text if field_name is None else params.get(field_name)
        if new_text == text and (params.get("reply_markup") or None) == markup:
            raise Refused(400, NOT_MODIFIED)

    def accepted(self, method: str, params: dict[str, Any], result: Any) -> None:
        """Remember what an accepted call changed."""
        if method == "answerCallbackQuery":
            self.answered.add(str(params.get("callback_query_id")))
        elif method == "deleteMessage":
            self.messages.pop(_key(params), None)  # type: ignore[arg-type]
        elif isinstance(result, dict) and "message_id" in result:
            chat_id = int((result.get("chat") or {}).get("id") or params.get("chat_id") or 0)
            key = (chat_id, int(result["message_id"]))
            old_text, old_markup = self.messages.get(key, (None, None))
            if method == "editMessageReplyMarkup":
                self.messages[key] = (old_text, params.get("reply_markup") or None)
            else:
                self.messages[key] = (
                    result.get("text", result.get("caption")),
                    params.get("reply_markup") or None,
                )
            for name in ("document", "photo"):
                value = result.get(name)
                for item in value if isinstance(value, list) else [value] if value else []:
                    self.files.setdefault(item["file_id"], None)
