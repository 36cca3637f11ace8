"""Leaving a conversation (an FSM state of handlers/states.py): /cancel, its typed alias 取消, the
取消 button under a prompt, and any other command typed in the middle of one, which the
conversation middleware (bot/middlewares/conversation.py) turns into a leave before it runs."""

from aiogram import Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import StatesGroup
from aiogram.types import CallbackQuery, Message

from handlers import states
from handlers.callbacks import Cancel
from handlers.render import t
from handlers.start import AFTER_CONSENT

CANCEL = "cancel"
ALIASES = ("取消", "cancel")  # typed instead of /cancel
# FSM data that belongs to no conversation, kept when one ends: a deep link waiting for the privacy
# consent. (The language of someone not yet registered lives under its own destiny, untouched.)
KEPT = (AFTER_CONSENT,)

NAMES: dict[type[StatesGroup], str] = {
    states.RevokeRole: "conversation.revoke_role",
    states.SelfCheckFlow: "conversation.selfcheck",
    states.CampaignForm: "conversation.campaign",
    states.NominationForm: "conversation.nomination",
    states.Endorsing: "conversation.endorsing",
    states.HonourForms: "conversation.honour",
    states.ReviewInput: "conversation.review",
    states.ObjectionForm: "conversation.objection",
    states.Announcing: "conversation.announcing",
    states.PrecheckForm: "conversation.precheck",
    states.CardSurvey: "conversation.card_survey",
    states.CardForm: "conversation.card_form",
}
ANY = "conversation.any"  # a state no entry above names (a group added later)


def command_name(message: Message) -> str | None:
    """The command a message starts with ("start" for "/start@bot inv_x"), None if it is no command."""
    text = message.text or ""
    entity = message.entities[0] if message.entities else None
    if not text.startswith("/") and not (entity and entity.type == "bot_command" and entity.offset == 0):
        return None
    return text.split(maxsplit=1)[0].removeprefix("/").split("@", 1)[0].lower()


def conversation_name(raw_state: str) -> str:
    return next((key for group, key in NAMES.items() if raw_state in group), ANY)


async def leave(state: FSMContext) -> str | None:
    """End the open conversation and drop its data; the key naming it, or None if none was open."""
    current = await state.get_state()
    if current is None:
        return None
    data = await state.get_data()
    await state.set_state(None)
    await state.set_data({key: data[key] for key in KEPT if key in data})
    return conversation_name(current)


async def leave_for_command(message: Message, state: FSMContext) -> bool:
    """A command typed inside a conversation: leave it and say so; True if one was open."""
    left = await leave(state)
    if left is not None:
        await message.answer(t("conversation.left", name_key=left))
    return left is not None


async def is_alias(message: Message) -> bool:
    return (message.text or "").strip().casefold() in ALIASES


async def cancel(message: Message, state: FSMContext) -> None:
    left = await leave(state)
    if left is None:
        await message.answer(t("conversation.nothing_to_cancel"))
    else:
        await message.answer(t("conversation.cancelled", name_key=left))


async def cancel_pressed(query: CallbackQuery, state: FSMContext) -> None:
    left = await leave(state)
    if left is None:  # pressed twice, or after the conversation ended: nothing to edit or send
        await query.answer(t("conversation.nothing_to_cancel"), show_alert=True)
        return
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_text(t("conversation.cancelled", name_key=left))


def build() -> Router:
    router = Router(name=__name__)
    router.message.register(cancel, Command(CANCEL))
    router.message.register(cancel, is_alias)
    router.callback_query.register(cancel_pressed, Cancel.filter())
    return router
