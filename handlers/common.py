"""Language, help and the menu: what this person's roles allow."""

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.callbacks import Lang, Menu
from handlers.keyboards import language_keyboard, menu_keyboard
from handlers.preferences import remember_language
from handlers.render import answer_target, t
from services import people
from services.actors import Actor
from services.menu import menu_items


async def choose_language(event: Message | CallbackQuery) -> None:
    message = await answer_target(event)
    if message is None:
        return
    await message.answer(t("language.choose"), reply_markup=language_keyboard())


async def set_language(
    query: CallbackQuery,
    callback_data: Lang,
    actor: Actor,
    session: AsyncSession,
    state: FSMContext,
    i18n: I18n,
) -> None:
    if callback_data.code not in people.LANGUAGES:
        await query.answer(t("error.language.unknown"), show_alert=True)
        return
    if actor.registered:
        await people.set_language(session, actor, callback_data.code)
    else:
        await remember_language(state, callback_data.code)
    with i18n.use_locale(callback_data.code):
        await query.answer()
        if isinstance(query.message, Message):
            await query.message.edit_text(t("language.set"))


async def show_help(event: Message | CallbackQuery, actor: Actor) -> None:
    message = await answer_target(event)
    if message is None:
        return
    sections = [t("help.everyone")] + [t(f"help.{role.value}") for role in sorted(actor.roles)]
    await message.answer("\n\n".join(sections))


async def show_menu(message: Message, actor: Actor) -> None:
    await message.answer(t("menu.title"), reply_markup=menu_keyboard(menu_items(actor)))


def build() -> Router:
    router = Router(name=__name__)
    router.message.register(choose_language, Command("lang"))
    router.callback_query.register(choose_language, Menu.filter(F.item == "language"))
    router.callback_query.register(set_language, Lang.filter())
    router.message.register(show_help, Command("help"))
    router.callback_query.register(show_help, Menu.filter(F.item == "help"))
    router.message.register(show_menu, Command("menu"))
    return router
