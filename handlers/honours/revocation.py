"""The office revokes an honour: the reason, the document, the confirmation."""

from typing import Any

from aiogram import Bot, Router
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers import uploads
from handlers.callbacks import ActionFilter
from handlers.keyboards import cancel_keyboard, token_button
from handlers.payloads import HonourRevocation
from handlers.render import t
from handlers.states import HonourForms
from services import tokens
from services.actors import Actor
from services.files.store import FileStore
from services.honours import revocation
from services.ports import Clock


async def revoke_command(
    message: Message,
    command: CommandObject,
    actor: Actor,
    session: AsyncSession,
    clock: Clock,
    state: FSMContext,
) -> None:
    honour = await revocation.revocable(session, actor, command.args or "", clock.now())
    await state.set_state(HonourForms.revoke_reason)
    await state.update_data(honour_id=honour.id)
    await message.answer(
        t("honour.revoke_reason", number=honour.certificate_no, name=honour.holder_name),
        reply_markup=cancel_keyboard(),
    )


async def _confirm_revocation(
    message: Message, actor: Actor, session: AsyncSession, clock: Clock, data: dict[str, Any]
) -> None:
    token = await tokens.issue(
        session,
        person_id=actor.person_id,
        action="honour.revoke",
        now=clock.now(),
        honour_id=data["honour_id"],
        reason=data["reason"],
        document=data.get("document"),
    )
    await message.answer(
        t("honour.revoke_document"),
        reply_markup=cancel_keyboard([token_button(t("honour.revoke_confirm"), token)]),
    )


async def revoke_reason(
    message: Message, actor: Actor, session: AsyncSession, clock: Clock, state: FSMContext
) -> None:
    reason = (message.text or "").strip()
    if not reason:
        await message.answer(t("honour.revoke_reason_again"), reply_markup=cancel_keyboard())
        return
    await state.update_data(reason=reason)
    await state.set_state(HonourForms.revoke_document)
    await _confirm_revocation(message, actor, session, clock, await state.get_data())


async def revoke_document(
    message: Message,
    actor: Actor,
    session: AsyncSession,
    clock: Clock,
    state: FSMContext,
    bot: Bot,
    file_store: FileStore,
) -> None:
    checked = await uploads.receive(message, bot)
    if checked is None:
        await message.answer(t("honour.revoke_document"), reply_markup=cancel_keyboard())
        return
    await state.update_data(document=file_store.put(checked.data))
    await message.answer(t("honour.revoke_document_kept", name=checked.safe_name))
    await _confirm_revocation(message, actor, session, clock, await state.get_data())


async def revoke(
    query: CallbackQuery,
    payload: HonourRevocation,
    actor: Actor,
    session: AsyncSession,
    clock: Clock,
    state: FSMContext,
) -> None:
    honour = await revocation.revoke(
        session,
        actor,
        payload.honour_id,
        payload.reason,
        clock.now(),
        document_sha256=payload.document,
    )
    await state.clear()
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(t("honour.revoked", number=honour.certificate_no))


def build() -> Router:
    router = Router(name=__name__)
    router.message.register(revoke_command, Command("revoke"))
    router.message.register(revoke_reason, HonourForms.revoke_reason)
    router.message.register(revoke_document, HonourForms.revoke_document)
    router.callback_query.register(revoke, ActionFilter("honour.revoke"))
    return router
