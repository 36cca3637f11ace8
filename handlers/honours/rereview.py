"""Re-review (复议): the holder or their body starts it and sends evidence; the office decides."""

from typing import Any

from aiogram import Bot, Router
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers import uploads
from handlers.callbacks import ActionFilter
from handlers.honours.common import certificate_printer
from handlers.keyboards import cancel_keyboard, token_button
from handlers.payloads import OfHonour, OfRereview
from handlers.render import ask_for_text, local_date, t, typed_text
from handlers.states import HonourForms
from models import Role
from services import people, tokens
from services.actors import Actor
from services.files.store import FileStore
from services.honours import rereview
from services.honours.common import by_number
from services.ports import Clock

# Re-review (复议): the holder or their recommending body ------------------------------------------


async def _begin_rereview(
    message: Message, actor: Actor, session: AsyncSession, clock: Clock, state: FSMContext, honour_id: int
) -> None:
    review = await rereview.start_rereview(session, actor, honour_id, clock.now())
    submit = await tokens.issue(
        session,
        person_id=actor.person_id,
        action="honour.rereview_submit",
        now=clock.now(),
        review_id=review.id,
    )
    await state.set_state(HonourForms.rereview_upload)
    await state.update_data(review_id=review.id)
    await message.answer(
        t("honour.rereview_upload"),
        reply_markup=cancel_keyboard([token_button(t("honour.rereview_submit"), submit)]),
    )


async def rereview_command(
    message: Message,
    command: CommandObject,
    actor: Actor,
    session: AsyncSession,
    clock: Clock,
    state: FSMContext,
) -> None:
    people.require_registered(actor)
    honour = await by_number(session, command.args or "")
    await _begin_rereview(message, actor, session, clock, state, honour.id or 0)


async def rereview_button(
    query: CallbackQuery,
    payload: OfHonour,
    actor: Actor,
    session: AsyncSession,
    clock: Clock,
    state: FSMContext,
) -> None:
    await query.answer()
    if isinstance(query.message, Message):
        await _begin_rereview(query.message, actor, session, clock, state, payload.honour_id)


async def rereview_file(
    message: Message,
    actor: Actor,
    session: AsyncSession,
    state: FSMContext,
    clock: Clock,
    bot: Bot,
    file_store: FileStore,
) -> None:
    checked = await uploads.receive(message, bot)
    if checked is None:
        await message.answer(t("honour.rereview_send_file"), reply_markup=cancel_keyboard())
        return
    review = await rereview.add_rereview_evidence(
        session,
        actor,
        (await state.get_data())["review_id"],
        sha256=file_store.put(checked.data),
        file_name=checked.safe_name,
        kind=checked.kind,
        now=clock.now(),
    )
    slot = next(item["slot"] for item in review.evidence if item["sha256"] == checked.sha256)
    await message.answer(
        t("honour.rereview_file_kept", name=checked.safe_name, slot_key=f"honour.slot.{slot}")
    )


async def rereview_submit(
    query: CallbackQuery,
    payload: OfRereview,
    actor: Actor,
    session: AsyncSession,
    clock: Clock,
    state: FSMContext,
) -> None:
    await rereview.submit_rereview(session, actor, payload.review_id, clock.now())
    await state.clear()
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(t("honour.rereview_submitted"))


# Re-review decisions (office) --------------------------------------------------------------------


async def reconfirm(
    query: CallbackQuery,
    payload: OfRereview,
    actor: Actor,
    session: AsyncSession,
    clock: Clock,
    bot: Bot,
    file_store: FileStore,
    settings: Any,
) -> None:
    honour = await rereview.reconfirm(
        session,
        actor,
        payload.review_id,
        clock.now(),
        printer=await certificate_printer(bot),
        file_store=file_store,
        days=settings.rereview_reminder_days,
    )
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(
            t("honour.reconfirmed", number=honour.certificate_no, until=local_date(honour.valid_until))
        )


async def lapse_ask(query: CallbackQuery, payload: OfRereview, actor: Actor, state: FSMContext) -> None:
    people.require_role(actor, Role.OFFICE)
    await ask_for_text(
        query, state, HonourForms.lapse_reason, t("honour.lapse_reason"), review_id=payload.review_id
    )


async def lapse_reason(
    message: Message, actor: Actor, session: AsyncSession, clock: Clock, state: FSMContext
) -> None:
    text = await typed_text(message, t("honour.lapse_reason"))
    if text is None:
        return
    honour = await rereview.lapse(session, actor, (await state.get_data())["review_id"], text, clock.now())
    await state.clear()
    await message.answer(
        t("honour.lapsed", number=honour.certificate_no, until=local_date(honour.valid_until))
    )


def build() -> Router:
    router = Router(name=__name__)
    router.message.register(rereview_command, Command("rereview"))
    router.callback_query.register(rereview_button, ActionFilter("honour.rereview"))
    router.message.register(rereview_file, HonourForms.rereview_upload)
    router.callback_query.register(rereview_submit, ActionFilter("honour.rereview_submit"))
    router.callback_query.register(reconfirm, ActionFilter("honour.reconfirm"))
    router.callback_query.register(lapse_ask, ActionFilter("honour.lapse"))
    router.message.register(lapse_reason, HonourForms.lapse_reason)
    return router
