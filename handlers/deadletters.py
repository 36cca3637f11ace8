"""The office's dead letters: updates the bot gave up on, listed newest first, and replayed one by
one once the cause is fixed."""

from collections.abc import Callable

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.callbacks import ActionFilter
from handlers.keyboards import keyboard, token_button
from handlers.payloads import Replay
from handlers.render import t
from services import inbox, local_time, tokens
from services.actors import Actor
from services.inbox import DeadLetter
from services.ports import Clock

KINDS = frozenset({"message", "edited_message", "callback_query"})  # the kinds with a name of their own
ERROR_SHOWN = 80  # characters of the error in a line; the row keeps it all


def line(letter: DeadLetter) -> str:
    if letter.kind is None:
        kind = t("deadletters.kind_unknown")
    else:
        kind = t(f"deadletters.kind.{letter.kind}") if letter.kind in KINDS else letter.kind
    if letter.chat_id is None:
        chat = t("deadletters.chat_unknown")
    else:
        chat = t("deadletters.chat", chat_id=letter.chat_id)
    error = letter.last_error
    if len(error) > ERROR_SHOWN:
        error = error[: ERROR_SHOWN - 1] + "…"
    received = local_time.local(letter.received_at).strftime("%m-%d %H:%M")
    return t(
        "deadletters.line",
        update_id=letter.update_id,
        received=received,
        kind=kind,
        chat=chat,
        attempts=letter.attempts,
        error=error,
    )


async def list_dead(message: Message, actor: Actor, session: AsyncSession, clock: Clock) -> None:
    letters = await inbox.dead_letters(session, actor)
    if not letters.newest:
        await message.answer(t("deadletters.none"))
        return
    lines, rows = [t("deadletters.title", shown=len(letters.newest), total=letters.total)], []
    for letter in letters.newest:
        lines.append(line(letter))
        token = await tokens.issue(
            session,
            person_id=actor.person_id,
            action="deadletter.replay",
            now=clock.now(),
            update_id=letter.update_id,
        )
        rows.append([token_button(t("deadletters.replay", update_id=letter.update_id), token)])
    await message.answer("\n".join(lines), reply_markup=keyboard(rows))


async def replay(
    query: CallbackQuery,
    payload: Replay,
    actor: Actor,
    session: AsyncSession,
    clock: Clock,
    wake_inbox: Callable[[], None] | None = None,
) -> None:
    update_id = payload.update_id
    if not await inbox.replay(session, actor, update_id, clock.now()):
        # Pressed twice, or a colleague was first: say so on the press, and change nothing.
        await query.answer(t("deadletters.not_dead", update_id=update_id), show_alert=True)
        return
    await query.answer(t("deadletters.replayed", update_id=update_id))
    if wake_inbox is not None:  # the processor of this process takes it now, others on their next pass
        wake_inbox()


def build() -> Router:
    router = Router(name=__name__)
    router.message.register(list_dead, Command("deadletters"))
    router.callback_query.register(replay, ActionFilter("deadletter.replay"))
    return router
