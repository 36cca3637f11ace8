"""Customer evaluation cards (第十条): the owner makes and manages cards and reads the report; the
customer rates through the card's link without registering; the office rules on held comments
and sees the flags."""

from datetime import date, timedelta
from typing import Any

from aiogram import Bot, F, Router
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.types import BufferedInputFile, CallbackQuery, InlineKeyboardButton, Message
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.callbacks import ActionFilter, CardAnswer, CardOpen, DeepLink, Menu
from handlers.keyboards import cancel_keyboard, keyboard, plain_button, token_button
from handlers.render import answer_target, t
from handlers.states import CardForm, CardSurvey
from models import ActionToken, EvaluationCard
from services import card_reports, cards, files, people, tokens
from services.actors import Actor
from services.errors import DomainError
from services.ports import Clock
from services.rules.satisfaction import ASPECTS, LEVELS

QUESTIONS = ("overall", *ASPECTS, "recommend", "comment")  # the survey's steps, in order
COMMENT_STEP = QUESTIONS.index("comment")
RECOMMEND_STEP = QUESTIONS.index("recommend")
SKIP = -1
MESSAGE_LIMIT = 3900


# The customer's rating ----------------------------------------------------------------------------


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
    card = await cards.open_for_rating(session, user.id, link, clock.now())
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
        rating = await cards.rate(
            session,
            telegram_id,
            data["card"],
            cards.Answers(overall=answers[0], aspects=tuple(answers[1:5]), recommend=answers[5]),
            comment,
            clock.now(),
        )
    except DomainError:
        # Refused (closed meanwhile, rated elsewhere): nothing was saved, and the survey is over.
        await session.rollback()
        await state.clear()
        await session.commit()
        raise
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


# The owner -----------------------------------------------------------------------------------------


async def list_cards(
    event: Message | CallbackQuery, actor: Actor, session: AsyncSession, state: FSMContext
) -> None:
    mine = await cards.owned(session, actor)
    message = await answer_target(event)
    if message is None:
        return
    await state.set_state(None)
    lines = [t("cards.list_title")] if mine else [t("cards.none_yet")]
    rows = []
    for card in mine:
        count = await cards.rating_count(session, card.id or 0)
        lines.append(
            t(
                "cards.list_line",
                id=card.id,
                name=card.subject_name,
                unit=card.unit,
                status_key=f"cards.status.{card.status}",
                count=count,
            )
        )
        rows.append(
            [plain_button(f"#{card.id} {card.subject_name}", CardOpen(card=card.id or 0, what="show").pack())]
        )
    rows.append(
        [
            plain_button(t("cards.new_person"), CardOpen(card=0, what="new-person").pack()),
            plain_button(t("cards.new_team"), CardOpen(card=0, what="new-team").pack()),
        ]
    )
    await message.answer("\n".join(lines), reply_markup=keyboard(rows))


async def subject_typed(message: Message, state: FSMContext) -> None:
    if not message.text:
        await message.answer(t("cards.ask_subject"), reply_markup=cancel_keyboard())
        return
    await state.update_data(subject=message.text)
    await state.set_state(CardForm.unit)
    await message.answer(t("cards.ask_unit"), reply_markup=cancel_keyboard())


async def unit_typed(
    message: Message, state: FSMContext, actor: Actor, session: AsyncSession, clock: Clock, bot: Bot
) -> None:
    if not message.text:
        await message.answer(t("cards.ask_unit"), reply_markup=cancel_keyboard())
        return
    data = await state.get_data()
    card = await cards.create(
        session,
        actor,
        kind=data.get("kind", "person"),
        subject_name=data.get("subject", ""),
        unit=message.text,
        now=clock.now(),
    )
    await state.clear()
    await message.answer(t("cards.created", name=card.subject_name))
    await send_card(message, card, bot)
    await message.answer(**await card_view(session, card, actor, clock))


async def _link(bot: Bot, card: EvaluationCard) -> str:
    me = await bot.me()
    return f"https://t.me/{me.username}?start={cards.link_payload(card)}"


async def send_card(message: Message, card: EvaluationCard, bot: Bot) -> None:
    """The QR code as a photo with the link, and the printable A6 card as a PDF."""
    link = await _link(bot, card)
    await message.answer_photo(
        BufferedInputFile(card_reports.qr_png(link), filename=f"card-{card.id}.png"),
        caption=t("cards.qr_caption", name=card.subject_name, unit=card.unit, link=link),
    )
    pdf = card_reports.card_pdf(card.subject_name, card.unit, link, t)
    await message.answer_document(
        BufferedInputFile(pdf, filename=f"card-{card.id}.pdf"), caption=t("cards.pdf_caption")
    )


async def card_view(
    session: AsyncSession, card: EvaluationCard, actor: Actor, clock: Clock
) -> dict[str, Any]:
    count = await cards.rating_count(session, card.id or 0)
    text = t(
        "cards.view",
        id=card.id,
        name=card.subject_name,
        unit=card.unit,
        kind_key=f"cards.kind.{card.subject_kind}",
        status_key=f"cards.status.{card.status}",
        count=count,
    )

    def nav(label_key: str, what: str) -> InlineKeyboardButton:
        return plain_button(t(label_key), CardOpen(card=card.id or 0, what=what).pack())

    rows = [
        [nav("cards.button.qr", "qr"), nav("cards.button.report", "report")],
        [nav("cards.button.report30", "report30"), nav("cards.button.unit", "unit")],
    ]
    if card.owner_id == actor.person_id:
        moves = {cards.ACTIVE: ("pause", "close"), cards.PAUSED: ("resume", "close")}.get(card.status, ())
        buttons = []
        for move in moves:
            token = await tokens.issue(
                session, telegram_id=actor.telegram_id, action=f"card.{move}", now=clock.now(), card=card.id
            )
            buttons.append(token_button(t(f"cards.button.{move}"), token))
        if buttons:
            rows.append(buttons)
            await session.commit()
    return {"text": text, "reply_markup": keyboard(rows)}


async def card_opened(
    query: CallbackQuery,
    callback_data: CardOpen,
    actor: Actor,
    session: AsyncSession,
    state: FSMContext,
    clock: Clock,
    bot: Bot,
) -> None:
    what = callback_data.what
    message = await answer_target(query)
    if message is None:
        return
    if what in ("new-person", "new-team"):
        people.require_registered(actor)
        await state.set_state(CardForm.subject)
        await state.update_data(kind=what.removeprefix("new-"))
        await message.answer(
            t(f"cards.ask_subject_{what.removeprefix('new-')}"), reply_markup=cancel_keyboard()
        )
        return
    card = await cards.viewable(session, actor, callback_data.card)
    if what == "show":
        await message.answer(**await card_view(session, card, actor, clock))
    elif what == "qr":
        await send_card(message, card, bot)
    elif what in ("report", "report30", "unit", "pdf", "pdf30", "pdfunit"):
        since = cards.local_day(clock.now()) - timedelta(days=29) if what.endswith("30") else None
        built = await cards.report(
            session,
            actor,
            now=clock.now(),
            card_id=None if "unit" in what else card.id,
            unit=card.unit if "unit" in what else None,
            since=since,
            until=cards.local_day(clock.now()) if since else None,
        )
        if what.startswith("pdf"):
            await send_pdf(message, built, card.id or 0)
        else:
            await send_report(
                message,
                built,
                card,
                actor,
                session,
                clock,
                pdf_what=what.replace("report", "pdf") if what != "unit" else "pdfunit",
            )
    else:
        raise DomainError("button.unknown")


async def send_pdf(message: Message, built: cards.CardReport, card_id: int) -> None:
    pdf = card_reports.report_pdf(built, t)
    await message.answer_document(
        BufferedInputFile(pdf, filename=f"satisfaction-{card_id}.pdf"), caption=t("cards.report.pdf_caption")
    )


async def send_report(
    message: Message,
    built: cards.CardReport,
    card: EvaluationCard,
    actor: Actor,
    session: AsyncSession,
    clock: Clock,
    pdf_what: str,
) -> None:
    """The chart as a photo, the figures as text, and buttons for the PDF and the nomination."""
    if built.summary.count:
        await message.answer_photo(
            BufferedInputFile(card_reports.chart_png(built, t), filename="chart.png"),
            caption=card_reports.report_lines(built, t)[0],
        )
    text = ""
    for line in card_reports.report_lines(built, t):
        if len(text) + len(line) + 1 > MESSAGE_LIMIT:
            break
        text += line + "\n"
    rows = [[plain_button(t("cards.button.pdf"), CardOpen(card=card.id or 0, what=pdf_what).pack())]]
    if built.scope == "card" and built.since is None and card.owner_id == actor.person_id:
        for nomination in await cards.attachable(session, actor):
            token = await tokens.issue(
                session,
                telegram_id=actor.telegram_id,
                action="card.attach",
                now=clock.now(),
                card=card.id,
                nomination=nomination.id,
            )
            rows.append([token_button(t("cards.button.attach", id=nomination.id), token)])
        await session.commit()
    await message.answer(text.rstrip(), reply_markup=keyboard(rows))


async def report_command(
    message: Message, command: CommandObject, actor: Actor, session: AsyncSession, clock: Clock
) -> None:
    """/cardreport <card> [<from> <to>]: a card's report over a date range (local dates, included)."""
    parts = (command.args or "").split()
    try:
        card_id = int(parts[0])
        since, until = (
            (date.fromisoformat(parts[1]), date.fromisoformat(parts[2])) if len(parts) == 3 else (None, None)
        )
        if len(parts) not in (1, 3):
            raise ValueError
    except (IndexError, ValueError):
        await message.answer(t("cards.report.usage"))
        return
    built = await cards.report(session, actor, now=clock.now(), card_id=card_id, since=since, until=until)
    card = await cards.viewable(session, actor, card_id)
    await send_report(message, built, card, actor, session, clock, pdf_what="pdf")


async def status_pressed(
    query: CallbackQuery,
    payload: dict[str, Any],
    action_token: ActionToken,
    actor: Actor,
    session: AsyncSession,
    clock: Clock,
) -> None:
    if action_token.action == "card.close":  # final: its link stops working for good, so ask once more
        card = await cards.viewable(session, actor, int(payload["card"]))
        confirm = await tokens.issue(
            session,
            telegram_id=actor.telegram_id,
            action="card.close_confirmed",
            now=clock.now(),
            card=card.id,
        )
        await session.commit()
        await query.answer()
        if isinstance(query.message, Message):
            await query.message.answer(
                t("cards.confirm_close", name=card.subject_name),
                reply_markup=keyboard([[token_button(t("cards.button.confirm_close"), confirm)]]),
            )
        return
    target = {"card.pause": cards.PAUSED, "card.resume": cards.ACTIVE, "card.close_confirmed": cards.CLOSED}[
        action_token.action
    ]
    card = await cards.set_status(session, actor, int(payload["card"]), target, clock.now())
    await query.answer(t("cards.status_changed", status_key=f"cards.status.{card.status}"))
    if isinstance(query.message, Message):
        await query.message.answer(**await card_view(session, card, actor, clock))


async def attach_pressed(
    query: CallbackQuery,
    payload: dict[str, Any],
    actor: Actor,
    session: AsyncSession,
    clock: Clock,
    file_store: files.FileStore,
) -> None:
    # The report is dated, so a second press would attach a second file: the button is one-time.
    await cards.attach_report(
        session,
        actor,
        int(payload["card"]),
        int(payload["nomination"]),
        render=lambda built: card_reports.report_pdf(built, t),
        file_store=file_store,
        now=clock.now(),
        file_name=f"evaluation-cards-{payload['card']}.pdf",
    )
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(t("cards.attached", id=payload["nomination"]))


# The office ----------------------------------------------------------------------------------------


async def show_flags(message: Message, actor: Actor, session: AsyncSession, *, quiet: bool = False) -> None:
    """Cards with ratings that look staged (/cardflags; also at the top of /heldcomments)."""
    flagged = await cards.flagged_cards(session, actor)
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
    waiting = await cards.held_comments(session, actor)
    message = await answer_target(event)
    if message is None:
        return
    await show_flags(message, actor, session, quiet=True)
    if not waiting:
        await message.answer(t("cards.held_none"))
        return
    for rating, card in waiting[:20]:
        release = await tokens.issue(
            session, telegram_id=actor.telegram_id, action="card.release", now=clock.now(), rating=rating.id
        )
        reject = await tokens.issue(
            session, telegram_id=actor.telegram_id, action="card.reject", now=clock.now(), rating=rating.id
        )
        await session.commit()
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
    payload: dict[str, Any],
    action_token: ActionToken,
    actor: Actor,
    session: AsyncSession,
    clock: Clock,
) -> None:
    rating = await cards.rule_comment(
        session, actor, int(payload["rating"]), action_token.action == "card.release", clock.now()
    )
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_text(t(f"cards.comment_{rating.comment_status}"))


def build() -> Router:
    router = Router(name=__name__)
    router.message.register(open_link, DeepLink(cards.LINK_PREFIX))
    router.callback_query.register(answer_pressed, CardAnswer.filter())
    router.message.register(comment_typed, CardSurvey.comment)
    router.message.register(text_instead_of_button, CardSurvey.answering)
    router.message.register(list_cards, Command("cards"))
    router.callback_query.register(list_cards, Menu.filter(F.item == "cards"))
    router.message.register(report_command, Command("cardreport"))
    router.callback_query.register(card_opened, CardOpen.filter())
    router.message.register(subject_typed, CardForm.subject)
    router.message.register(unit_typed, CardForm.unit)
    for action in ("card.pause", "card.resume", "card.close", "card.close_confirmed"):
        router.callback_query.register(status_pressed, ActionFilter(action))
    router.callback_query.register(attach_pressed, ActionFilter("card.attach"))
    router.message.register(held, Command("heldcomments"))
    router.message.register(flags_command, Command("cardflags"))
    router.callback_query.register(held, Menu.filter(F.item == "heldcomments"))
    for action in ("card.release", "card.reject"):
        router.callback_query.register(ruling_pressed, ActionFilter(action))
    return router
