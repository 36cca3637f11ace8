"""Recommending bodies: each new nomination arrives with buttons to endorse or return it.
Endorsing takes the recommendation opinion and a scan of it bearing the official seal (加盖公章)."""

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers import uploads
from handlers.callbacks import ActionFilter, Menu
from handlers.keyboards import cancel_keyboard
from handlers.payloads import OfNomination
from handlers.render import answer_target, ask_for_text, t, typed_text
from handlers.states import Endorsing
from services.actors import Actor
from services.files import kinds
from services.files.store import FileStore
from services.nominations import recommender
from services.ports import Clock


async def pending(event: Message | CallbackQuery, actor: Actor, session: AsyncSession) -> None:
    waiting = await recommender.pending_for(session, actor)
    message = await answer_target(event)
    if message is None:
        return
    if not waiting:
        await message.answer(t("recommender.none_pending"))
        return
    lines = [t("recommender.pending_title")]
    lines += [
        t(
            "recommender.pending_line",
            id=n.id,
            honour_key=f"honour.{n.honour}",
            name=str(n.fields.get("name") or n.fields.get("team_name") or ""),
        )
        for n in waiting
    ]
    await message.answer("\n".join(lines))


async def ask_opinion(
    query: CallbackQuery,
    payload: OfNomination,
    actor: Actor,
    session: AsyncSession,
    state: FSMContext,
) -> None:
    await recommender.require_with_recommender(session, actor, payload.nomination_id)
    await ask_for_text(
        query,
        state,
        Endorsing.opinion,
        t("recommender.ask_opinion", id=payload.nomination_id),
        nomination=payload.nomination_id,
    )


async def opinion_typed(message: Message, state: FSMContext) -> None:
    text = await typed_text(message, t("recommender.ask_opinion_text"))
    if text is None:
        return
    await state.update_data(opinion=text)
    await state.set_state(Endorsing.seal)
    await message.answer(t("recommender.ask_seal"), reply_markup=cancel_keyboard())


async def seal_sent(
    message: Message,
    actor: Actor,
    session: AsyncSession,
    state: FSMContext,
    clock: Clock,
    bot: Bot,
    file_store: FileStore,
) -> None:
    """The stamped opinion: a scan (PDF or image) or a photo of it, checked like any material."""
    checked = await uploads.receive(message, bot, kinds.SCAN_KINDS, photo_name="seal")
    if checked is None:
        await message.answer(t("recommender.ask_seal"), reply_markup=cancel_keyboard())
        return
    data = await state.get_data()
    give = recommender.reendorse if data.get("again") else recommender.endorse
    nomination = await give(
        session, actor, data["nomination"], data["opinion"], file_store.put(checked.data), clock.now()
    )
    await state.clear()
    await message.answer(
        t("recommender.reendorsed" if data.get("again") else "recommender.endorsed", id=nomination.id)
    )


async def ask_opinion_again(
    query: CallbackQuery,
    payload: OfNomination,
    actor: Actor,
    session: AsyncSession,
    state: FSMContext,
    clock: Clock,
) -> None:
    """The office returned the opinion or its seal for supplement: the same two steps once more."""
    await recommender.require_reendorsable(session, actor, payload.nomination_id, clock.now())
    await ask_for_text(
        query,
        state,
        Endorsing.opinion,
        t("recommender.ask_opinion", id=payload.nomination_id),
        nomination=payload.nomination_id,
        again=True,
    )


async def ask_reason(
    query: CallbackQuery,
    payload: OfNomination,
    actor: Actor,
    session: AsyncSession,
    state: FSMContext,
) -> None:
    await recommender.require_with_recommender(session, actor, payload.nomination_id)
    await ask_for_text(
        query,
        state,
        Endorsing.return_reason,
        t("recommender.ask_reason", id=payload.nomination_id),
        nomination=payload.nomination_id,
    )


async def reason_typed(
    message: Message, actor: Actor, session: AsyncSession, state: FSMContext, clock: Clock
) -> None:
    data = await state.get_data()
    nomination = await recommender.return_by_recommender(
        session, actor, data["nomination"], message.text or "", clock.now()
    )
    await state.clear()
    await message.answer(t("recommender.returned", id=nomination.id))


def build() -> Router:
    router = Router(name=__name__)
    router.message.register(pending, Command("pending"))
    router.callback_query.register(pending, Menu.filter(F.item == "pending"))
    router.callback_query.register(ask_opinion, ActionFilter("nomination.endorse"))
    router.callback_query.register(ask_reason, ActionFilter("nomination.return"))
    router.callback_query.register(ask_opinion_again, ActionFilter("nomination.reendorse"))
    router.message.register(opinion_typed, Endorsing.opinion)
    router.message.register(seal_sent, Endorsing.seal)
    router.message.register(reason_typed, Endorsing.return_reason)
    return router
