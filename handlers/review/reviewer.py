"""Reviewers: /review, votes from the prompts, the dossier's files, comments and recusals."""

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State
from aiogram.types import CallbackQuery, FSInputFile, Message
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.callbacks import ActionFilter, Menu
from handlers.payloads import Ballot, Vote
from handlers.render import answer_target, ask_for_text, t, typed_text
from handlers.states import ReviewInput
from services.actors import Actor
from services.files.store import FileStore
from services.ports import Clock
from services.reviews import voting
from services.reviews.common import nominee_name


def _choice_key(choice: str | None) -> str:
    return f"review.choice.{choice}" if choice else "review.choice.none"


async def waiting(event: Message | CallbackQuery, actor: Actor, session: AsyncSession) -> None:
    found = await voting.waiting(session, actor)
    message = await answer_target(event)
    if message is None:
        return
    if not found.items:
        await message.answer(t("review.nothing_waiting"))
        return
    lines = [t("review.waiting_title", voted=found.voted, total=found.total)]
    for item in found.items:
        lines.append(
            t(
                "review.waiting_line",
                round=item.round_id,
                id=item.nomination.id,
                honour_key=f"honour.{item.nomination.honour}",
                name=nominee_name(item.nomination),
                choice_key="review.choice.recused" if item.recused else _choice_key(item.choice),
            )
        )
    await message.answer("\n".join(lines))


async def vote(
    query: CallbackQuery, payload: Vote, actor: Actor, session: AsyncSession, clock: Clock
) -> None:
    result = await voting.cast_vote(
        session, actor, payload.round_id, payload.nomination_id, payload.choice, clock.now()
    )
    if result.same:  # nothing changed: say so on the press, send nothing
        await query.answer(
            t("review.vote_same", id=result.nomination_id, choice_key=_choice_key(result.choice)),
            show_alert=True,
        )
        return
    key = "review.vote_changed" if result.changed else "review.vote_recorded"
    text = t(
        key,
        id=result.nomination_id,
        choice_key=_choice_key(result.choice),
        voted=result.voted,
        total=result.total,
    )
    await query.answer(text)
    if isinstance(query.message, Message):
        await query.message.answer(text + ("\n" + t("review.round_complete") if result.closed else ""))


async def send_files(
    query: CallbackQuery,
    payload: Ballot,
    actor: Actor,
    session: AsyncSession,
    clock: Clock,
    bot: Bot,
    file_store: FileStore,
) -> None:
    materials = await voting.materials_for(
        session, actor, payload.round_id, payload.nomination_id, clock.now()
    )
    await query.answer()
    if not materials:
        await bot.send_message(query.from_user.id, t("review.no_files"))
    for material in materials:
        # protect_content: the dossier may not be forwarded or saved out of the chat
        await bot.send_document(
            query.from_user.id,
            FSInputFile(file_store.path(material.sha256), filename=material.file_name),
            protect_content=True,
        )


async def _ask_text(
    query: CallbackQuery,
    payload: Ballot,
    actor: Actor,
    session: AsyncSession,
    state: FSMContext,
    clock: Clock,
    waiting: State,
    prompt: str,
) -> None:
    """A prompt's button that asks for words next (a comment, a recusal reason): only for a
    reviewer still on that nomination's panel."""
    await voting.materials_for(session, actor, payload.round_id, payload.nomination_id, clock.now())
    await ask_for_text(
        query,
        state,
        waiting,
        t(prompt, id=payload.nomination_id),
        round_id=payload.round_id,
        nomination_id=payload.nomination_id,
    )


async def ask_comment(
    query: CallbackQuery,
    payload: Ballot,
    actor: Actor,
    session: AsyncSession,
    state: FSMContext,
    clock: Clock,
) -> None:
    await _ask_text(query, payload, actor, session, state, clock, ReviewInput.comment, "review.ask_comment")


async def comment_typed(
    message: Message, actor: Actor, session: AsyncSession, state: FSMContext, clock: Clock
) -> None:
    text = await typed_text(message, t("review.ask_comment_text"))
    if text is None:
        return
    data = await state.get_data()
    await state.clear()
    await voting.comment(session, actor, data["round_id"], data["nomination_id"], text, clock.now())
    await message.answer(t("review.comment_saved", id=data["nomination_id"]))


async def ask_recusal(
    query: CallbackQuery,
    payload: Ballot,
    actor: Actor,
    session: AsyncSession,
    state: FSMContext,
    clock: Clock,
) -> None:
    await _ask_text(
        query, payload, actor, session, state, clock, ReviewInput.recusal_reason, "review.ask_recusal"
    )


async def recusal_typed(
    message: Message, actor: Actor, session: AsyncSession, state: FSMContext, clock: Clock
) -> None:
    text = await typed_text(message, t("review.ask_recusal_text"))
    if text is None:
        return
    data = await state.get_data()
    await state.clear()
    await voting.declare_recusal(session, actor, data["round_id"], data["nomination_id"], text, clock.now())
    await message.answer(t("review.recusal_recorded", id=data["nomination_id"]))


def build() -> Router:
    router = Router(name=__name__)
    router.message.register(waiting, Command("review"))
    router.callback_query.register(waiting, Menu.filter(F.item == "review"))
    router.callback_query.register(vote, ActionFilter("review.vote"))
    router.callback_query.register(send_files, ActionFilter("review.files"))
    router.callback_query.register(ask_comment, ActionFilter("review.comment"))
    router.callback_query.register(ask_recusal, ActionFilter("review.recuse"))
    router.message.register(comment_typed, ReviewInput.comment)
    router.message.register(recusal_typed, ReviewInput.recusal_reason)
    return router
