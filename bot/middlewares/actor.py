"""Loads the acting person and their roles as a plain value, and picks their language."""

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.fsm.context import FSMContext
from aiogram.types import TelegramObject, User
from aiogram.utils.i18n import I18n, I18nMiddleware

from bot.handled import commit_staged
from handlers.channel import address
from handlers.preferences import stored_language
from services import people
from services.actors import Actor


def telegram_language(code: str | None, default: str) -> str:
    if not code:
        return default
    return "en" if code.lower().startswith("en") else "zh_CN"


class ActorMiddleware(BaseMiddleware):
    def __init__(self, default_locale: str) -> None:
        self.default_locale = default_locale

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        user: User | None = data.get("event_from_user")
        if user is None:
            return await handler(event, data)
        actor = await people.load_actor(
            data["session"],
            address(user.id),
            fallback_language=telegram_language(user.language_code, self.default_locale),
        )
        if not actor.registered:
            preferences = await _preferences(data)
            if preferences.get("language"):
                actor = Actor(address=actor.address, language=preferences["language"])
        if data["session"].dirty:  # a person who blocked the bot writes again: kept, whatever comes next
            await commit_staged(data["session"])
        data["actor"] = actor
        return await handler(event, data)


async def _preferences(data: dict[str, Any]) -> dict[str, Any]:
    state: FSMContext | None = data.get("state")
    if state is None:
        return {}
    language = await stored_language(state.storage, state.key)
    return {"language": language} if language else {}


class LanguageMiddleware(I18nMiddleware):
    def __init__(self, i18n: I18n) -> None:
        super().__init__(i18n)

    async def get_locale(self, event: TelegramObject, data: dict[str, Any]) -> str:
        actor: Actor | None = data.get("actor")
        locale = actor.language if actor else self.i18n.default_locale
        data["locale"] = locale  # the errors router answers after this middleware has returned
        return locale
