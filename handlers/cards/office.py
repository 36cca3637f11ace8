"""The office: ratings flagged as staged, and held comments released or rejected."""

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.callbacks import ActionFilter, Menu
from handlers.keyboards import keyboard, token_button
from handlers.payloads import OfRating
from handlers.render import answer_target, t
from models import ActionToken
from services import tokens
from services.actors import Actor
from services.cards import moderation, reports
from services.ports import Clock


async def show_flags(message: Message, actor: Actor, session: AsyncSession, *, quiet: bool = False) -> None:
    """Cards with ratings that look staged (/cardflags; also at the top of /heldcomments)."""
    flagged = await reports.flagged_cards(session, actor)
    if flagged:
        lines = [t("cards.flags_title")]
        lines += [
            t(
                "cards.flags_line",
                id=card.id,
                name=card.subject_name,
                unit=card.unit,
                count=count,
                burst=found["burst"],
                new=found["new_raters"],
                same=found["same_comment"],
            )
            for card, count, found in flagged
        ]
        await message.answer("\n".join(lines))
    elif not quiet:
        await message.answer(t("cards.flags_none"))


async def flags_command(message: Message, actor: Actor, session: AsyncSession) -> None:
    await show_flags(message, actor, session)


async def held(event: Message | CallbackQuery, actor: Actor, session: AsyncSession, clock: Clock) -> None:
    waiting = await moderation.held_comments(session, actor)
    message = await answer_target(event)
    if message is None:
        return
    await show_flags(message, actor, session, quiet=True)
    if not waiting:
        await message.answer(t("cards.held_none"))
        return
    for rating, card in waiting[:20]:
        release = await tokens.issue(
            session, person_id=actor.person_id, action="card.release", now=clock.now(), rating=rating.id
        )
        reject = await tokens.issue(
            session, person_id=actor.person_id, action="card.reject", now=clock.now(), rating=rating.id
        )
        await message.answer(
            t("cards.held_line", id=card.id, name=card.subject_name, text=rating.comment),
            reply_markup=keyboard(
                [
                    [
                        token_button(t("cards.button.release"), release),
                        token_button(t("cards.button.reject"), reject),
                    ]
                ]
            ),
        )


async def ruling_pressed(
    query: CallbackQuery,
    payload: OfRating,
    action_token: ActionToken,
    actor: Actor,
    session: AsyncSession,
    clock: Clock,
) -> None:
    rating = await moderation.rule_comment(
        session, actor, payload.rating, action_token.action == "card.release", clock.now()
    )
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_text(t(f"cards.comment_{rating.comment_status}"))


def build() -> Router:
    router = Router(name=__name__)
    router.message.register(held, Command("heldcomments"))
    router.message.register(flags_command, Command("cardflags"))
    router.callback_query.register(held, Menu.filter(F.item == "heldcomments"))
    for action in ("card.release", "card.reject"):
        router.callback_query.register(ruling_pressed, ActionFilter(action))
    return router
