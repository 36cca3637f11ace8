"""The language of someone who has not agreed to the privacy notice yet.

Nothing is kept in the database about such a person, so the choice lives in the conversation
storage under its own destiny (untouched when a conversation is cleared)."""

from aiogram.fsm.context import FSMContext
from aiogram.fsm.storage.base import BaseStorage, StorageKey

PREFERENCES = "prefs"


def preferences_key(key: StorageKey) -> StorageKey:
    return StorageKey(bot_id=key.bot_id, chat_id=key.user_id, user_id=key.user_id, destiny=PREFERENCES)


async def remember_language(state: FSMContext, language: str) -> None:
    await state.storage.update_data(preferences_key(state.key), {"language": language})


async def stored_language(storage: BaseStorage, key: StorageKey) -> str | None:
    return (await storage.get_data(preferences_key(key))).get("language")
