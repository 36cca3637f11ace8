"""The local offline mode: a terminal chat with the real Dispatcher, database and scheduler.

Choose who you are; inline buttons are shown numbered and pressed by typing the number; a file is
sent by typing its path; messages the bot sends to other people are shown with their name."""

import asyncio
import html
import itertools
import re
import time
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

from aiogram.methods import TelegramMethod

from bot.app import App, build_app, register_commands
from bot.config import Settings
from bot.local_api import LocalSession
from handlers.channel import address
from models import Role
from services import people

# Who you can be: a Telegram id each, the role it holds once it has agreed, and its organisation.
IDENTITIES: dict[str, tuple[int, Role | None, int | None]] = {
    "applicant": (100001, None, None),
    "recommender": (200001, Role.RECOMMENDER, 1),
    "office": (300001, Role.OFFICE, None),
    "reviewer": (400001, Role.REVIEWER, None),
    "leading_group": (500001, Role.LEADING_GROUP, None),
    "customer": (600001, None, None),  # opens an evaluation card's link to rate
}
TAGS = re.compile(r"<[^>]+>")


class Terminal:
    def __init__(self) -> None:
        self.identity = "applicant"
        self.buttons: dict[int, list[tuple[str, str, dict[str, Any]]]] = {}  # chat -> (label, data, message)
        self.ids = itertools.count(int(time.time()))
        self.app: App | None = None

    @property
    def user_id(self) -> int:
        return IDENTITIES[self.identity][0]

    def show(self, method: TelegramMethod[Any], result: dict[str, Any]) -> None:
        chat_id = getattr(method, "chat_id", None)
        text = getattr(method, "text", None) or getattr(method, "caption", None)
        if method.__api_method__ == "answerCallbackQuery" and text:
            print(f"  ⚠ {text}")
            return
        if text is None and method.__api_method__ != "sendDocument":
            return
        who = next((name for name, (uid, _, _) in IDENTITIES.items() if uid == chat_id), str(chat_id))
        prefix = "" if chat_id == self.user_id else f"  → [{self._label(who)}] "
        print(prefix + html.unescape(TAGS.sub("", text or "")).replace("\n", "\n" + " " * len(prefix)))
        if method.__api_method__ == "sendDocument":
            print(f"{prefix}  📎 {getattr(method.document, 'filename', 'file')}")
        markup = getattr(method, "reply_markup", None)
        if markup is not None and hasattr(markup, "inline_keyboard") and isinstance(chat_id, int):
            flat = [(b.text, b.callback_data or "", result) for row in markup.inline_keyboard for b in row]
            self.buttons[chat_id] = flat
            if chat_id == self.user_id:
                for number, (label, _, _) in enumerate(flat, 1):
                    print(f"   [{number}] {label}")

    def _label(self, identity: str) -> str:
        assert self.app is not None
        return self.app.i18n.gettext(f"offline.identity.{identity}", locale=self.app.settings.default_locale)

    def update_for(self, line: str, session: LocalSession) -> dict[str, Any] | None:
        user = {
            "id": self.user_id,
            "is_bot": False,
            "first_name": self._label(self.identity),
            "language_code": "zh-hans",
        }
        chat = {"id": self.user_id, "type": "private"}
        base = {"message_id": next(self.ids), "date": int(time.time()), "chat": chat, "from": user}
        buttons = self.buttons.get(self.user_id, [])
        if line.isdigit() and 1 <= int(line) <= len(buttons):
            _, data, message = buttons[int(line) - 1]
            message = message or {"message_id": next(self.ids), "date": int(time.time()), "chat": chat}
            return {
                "update_id": next(self.ids),
                "callback_query": {
                    "id": str(next(self.ids)),
                    "from": user,
                    "chat_instance": "local",
                    "message": message,
                    "data": data,
                },
            }
        path = Path(line).expanduser()
        if line and path.is_file():
            file_id = f"local-{next(self.ids)}"
            session.files[file_id] = path.read_bytes()
            document = {
                "file_id": file_id,
                "file_unique_id": file_id,
                "file_name": path.name,
                "file_size": path.stat().st_size,
            }
            return {"update_id": next(self.ids), "message": {**base, "document": document}}
        entities = (
            [{"type": "bot_command", "offset": 0, "length": len(line.split()[0])}]
            if line.startswith("/")
            else None
        )
        message = {**base, "text": line, **({"entities": entities} if entities else {})}
        return {"update_id": next(self.ids), "message": message}


async def run_offline(settings: Settings) -> None:
    terminal = Terminal()
    office_ids = tuple({*settings.office_ids, IDENTITIES["office"][0]})
    settings = settings.model_copy(update={"office_ids": office_ids})
    session = LocalSession(on_request=terminal.show)
    app = await build_app(settings, session=session, token="1:OFFLINE-LOCAL-MODE-NO-NETWORK")
    terminal.app = app
    t = lambda key: app.i18n.gettext(key, locale=settings.default_locale)  # noqa: E731
    async with AsyncExitStack() as stack:
        stack.push_async_callback(app.engine.dispose)
        await register_commands(app)
        await app.run_background(stack)
        print(t("offline.banner"))
        await choose_identity(terminal, t)
        while True:
            try:
                line = (await asyncio.to_thread(input, f"[{terminal._label(terminal.identity)}] > ")).strip()
            except (EOFError, KeyboardInterrupt):
                break
            if line in ("/quit", "/exit"):
                break
            if line == "/as":
                await choose_identity(terminal, t)
                continue
            if not line:
                continue
            update = terminal.update_for(line, session)
            if update is not None:
                await app.inbox.store([update])
                await app.inbox.process_pending()
                await grant_identity_role(app, terminal)
                await asyncio.sleep(0.3)  # let the outbox deliver what this caused


async def choose_identity(terminal: Terminal, t: Any) -> None:
    names = list(IDENTITIES)
    print(t("offline.choose"))
    for number, name in enumerate(names, 1):
        print(f"   [{number}] {terminal._label(name)}")
    try:
        answer = (await asyncio.to_thread(input, "> ")).strip()
    except (EOFError, KeyboardInterrupt):
        answer = "1"
    if answer.isdigit() and 1 <= int(answer) <= len(names):
        terminal.identity = names[int(answer) - 1]
    print(t("offline.hint"))


async def grant_identity_role(app: App, terminal: Terminal) -> None:
    """Once a demo identity has agreed to the privacy notice, it gets the role it stands for."""
    telegram_id, role, organisation_id = IDENTITIES[terminal.identity]
    if role is None or role is Role.OFFICE:  # office comes from OFFICE_IDS at consent
        return
    async with app.sessions() as session:
        actor = await people.load_actor(
            session, address(telegram_id), fallback_language=app.settings.default_locale
        )
        if actor.registered and not actor.has(role):
            assert actor.person_id is not None
            await people.grant_role(
                session,
                person_id=actor.person_id,
                role=role,
                organisation_id=organisation_id,
                granted_by=None,
                now=app.clock.now(),
                reason="local offline mode",
            )
