"""Last in line: anything no journey understood gets a clear answer instead of silence."""

from aiogram import Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from handlers.render import t


async def stale_button(query: CallbackQuery) -> None:
    await query.answer(t("fallback.stale_button"), show_alert=True)


async def not_understood(message: Message, state: FSMContext) -> None:
    if message.text and message.text.startswith("/"):
        await message.answer(t("fallback.unknown_command"))
    elif await state.get_state() is not None:
        await message.answer(t("fallback.use_buttons"))
    else:
        await message.answer(t("fallback.not_understood"))


def build() -> Router:
    router = Router(name=__name__)
    router.callback_query.register(stale_button)
    router.message.register(not_understood)
    return router
