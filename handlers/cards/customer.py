"""The customer rates a card through its link, without registering: the survey, step by step."""

from typing import Any

from aiogram import Bot, Router
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardButton, Message
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.callbacks import CardAnswer, DeepLink
from handlers.channel import CARD_PREFIX, address
from handlers.errors import refused_here
from handlers.keyboards import cancel_keyboard, keyboard, plain_button
from handlers.render import t
from handlers.states import CardSurvey
from services.cards import rating as card_rating
from services.errors import DomainError
from services.ports import Clock
from services.rules.satisfaction import ASPECTS, LEVELS

QUESTIONS = ("overall", *ASPECTS, "recommend", "comment")  # the survey's steps, in order
COMMENT_STEP = QUESTIONS.index("comment")
RECOMMEND_STEP = QUESTIONS.index("recommend")
SKIP = -1


def question(card_id: int, card_name: str, unit: str, step: int) -> dict[str, Any]:
    head = [
        t("cards.survey.head", name=card_name, unit=unit),
        t("cards.survey.kept"),
        t("cards.survey.progress", step=step + 1, steps=len(QUESTIONS)),
        t(f"cards.question.{QUESTIONS[step]}"),
    ]
    return {"text": "\n".join(head), "reply_markup": _answers_keyboard(card_id, step)}


def _answers_keyboard(card_id: int, step: int) -> Any:
    def answer(label: str, value: int) -> InlineKeyboardButton:
        return plain_button(label, CardAnswer(card=card_id, step=step, value=value).pack())

    if step == COMMENT_STEP:
        return keyboard([[answer(t("cards.survey.skip"), SKIP)]])
    if step == RECOMMEND_STEP:
        return keyboard([[answer(str(v), v) for v in range(0, 6)], [answer(str(v), v) for v in range(6, 11)]])
    return keyboard([[answer(t(f"cards.level.{code}"), i)] for i, code in enumerate(LEVELS)])


async def open_link(
    message: Message, link: str, state: FSMContext, session: AsyncSession, clock: Clock
) -> None:
    """`/start c-<token>`: no privacy-notice registration, no personal data asked."""
    user = message.from_user
    if user is None:
        return
    await state.set_state(None)
    card = await card_rating.open_for_rating(session, address(user.id), link, clock.now())
    await message.answer(**question(card.id or 0, card.subject_name, card.unit, 0))
    await state.set_state(CardSurvey.answering)
    # The question's message id is known from the first press on it (replies go out after the commit).
    await state.update_data(card=card.id, name=card.subject_name, unit=card.unit, step=0, answers=[])


async def answer_pressed(
    query: CallbackQuery,
    callback_data: CardAnswer,
    state: FSMContext,
    session: AsyncSession,
    clock: Clock,
    bot: Bot,
) -> None:
    data = await state.get_data()
    step = data.get("step")
    if (
        await state.get_state() is None
        or data.get("card") != callback_data.card
        or callback_data.step != step
    ):
        await query.answer(t("cards.survey.stale"), show_alert=True)
        return
    allowed = (
        range(0, 11) if step == RECOMMEND_STEP else ({SKIP} if step == COMMENT_STEP else range(len(LEVELS)))
    )
    if callback_data.value not in allowed:
        await query.answer(t("cards.survey.stale"), show_alert=True)
        return
    await query.answer()
    if isinstance(query.message, Message):
        data["message_id"] = query.message.message_id  # the question, edited in place step by step
    if step == COMMENT_STEP:
        await _finish(query.from_user.id, data, "", state, session, clock, bot)
        return
    answers = [*data["answers"], callback_data.value]
    step += 1
    await state.update_data(step=step, answers=answers, message_id=data.get("message_id"))
    if step == COMMENT_STEP:
        await state.set_state(CardSurvey.comment)
    if data.get("message_id"):
        await _edit(
            bot,
            query.from_user.id,
            data["message_id"],
            **question(data["card"], data["name"], data["unit"], step),
        )


async def _edit(bot: Bot, chat_id: int, message_id: int, **content: Any) -> None:
    await bot.edit_message_text(chat_id=chat_id, message_id=message_id, **content)


async def _finish(
    telegram_id: int,
    data: dict[str, Any],
    comment: str,
    state: FSMContext,
    session: AsyncSession,
    clock: Clock,
    bot: Bot,
    typed: Message | None = None,
) -> None:
    answers = data["answers"]
    try:
        rating = await card_rating.rate(
            session,
            address(telegram_id),
            data["card"],
            card_rating.Answers(overall=answers[0], aspects=tuple(answers[1:5]), recommend=answers[5]),
            comment,
            clock.now(),
        )
    except DomainError as error:
        # Refused (closed meanwhile, rated elsewhere): nothing was saved, and the survey is over,
        # which a raised refusal would take back with the rest of the update.
        await state.clear()
        await refused_here(error, typed)
        return
    await state.clear()
    thanks = t("cards.survey.thanks_held") if rating.comment_status == "held" else t("cards.survey.thanks")
    if typed is None and data.get("message_id"):
        await _edit(bot, telegram_id, data["message_id"], text=thanks)
        return
    # A typed comment sits below the question: thank below it, and take the Skip button away.
    if data.get("message_id"):
        await bot.edit_message_reply_markup(
            chat_id=telegram_id, message_id=data["message_id"], reply_markup=None
        )
    await (typed.answer(thanks) if typed is not None else bot.send_message(telegram_id, thanks))


async def comment_typed(
    message: Message, state: FSMContext, session: AsyncSession, clock: Clock, bot: Bot
) -> None:
    if not message.text or not message.text.strip():
        await message.answer(t("cards.survey.comment_as_text"), reply_markup=cancel_keyboard())
        return
    if message.from_user is None:
        return
    await _finish(
        message.from_user.id, await state.get_data(), message.text, state, session, clock, bot, message
    )


async def text_instead_of_button(message: Message, state: FSMContext) -> None:
    """Re-ask: the same question again, below the customer's message."""
    data = await state.get_data()
    if "card" not in data:
        await state.clear()
        raise SkipHandler
    await message.answer(t("cards.survey.use_buttons"))
    await message.answer(**question(data["card"], data["name"], data["unit"], data["step"]))


def build() -> Router:
    router = Router(name=__name__)
    router.message.register(open_link, DeepLink(CARD_PREFIX))
    router.callback_query.register(answer_pressed, CardAnswer.filter())
    router.message.register(comment_typed, CardSurvey.comment)
    router.message.register(text_instead_of_button, CardSurvey.answering)
    return router
