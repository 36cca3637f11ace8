"""The owner makes cards, shows their QR code and printable card, reads reports, pauses and closes them."""

from datetime import date, timedelta
from typing import Any

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.types import BufferedInputFile, CallbackQuery, InlineKeyboardButton, Message
from sqlmodel.ext.asyncio.session import AsyncSession

from documents import cards as card_reports
from handlers.callbacks import ActionFilter, CardOpen, Menu
from handlers.channel import links
from handlers.keyboards import cancel_keyboard, keyboard, plain_button, token_button
from handlers.payloads import CardAttachment, OfCard
from handlers.render import answer_target, t
from handlers.states import CardForm
from models import ActionToken, EvaluationCard
from services import people, tokens
from services.actors import Actor
from services.cards import evidence, owner, reports
from services.cards.common import ACTIVE, CLOSED, PAUSED
from services.errors import DomainError
from services.files.store import FileStore
from services.local_time import day_of
from services.ports import Clock

MESSAGE_LIMIT = 3900


async def list_cards(
    event: Message | CallbackQuery, actor: Actor, session: AsyncSession, state: FSMContext
) -> None:
    mine = await owner.owned(session, actor)
    message = await answer_target(event)
    if message is None:
        return
    await state.set_state(None)
    lines = [t("cards.list_title")] if mine else [t("cards.none_yet")]
    rows = []
    for card in mine:
        count = await owner.rating_count(session, card.id or 0)
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
    card = await owner.create(
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
    return (await links(bot)).card(card.token)


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
    count = await owner.rating_count(session, card.id or 0)
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
        moves = {ACTIVE: ("pause", "close"), PAUSED: ("resume", "close")}.get(card.status, ())
        buttons = []
        for move in moves:
            token = await tokens.issue(
                session, person_id=actor.person_id, action=f"card.{move}", now=clock.now(), card=card.id
            )
            buttons.append(token_button(t(f"cards.button.{move}"), token))
        if buttons:
            rows.append(buttons)
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
    card = await owner.viewable(session, actor, callback_data.card)
    if what == "show":
        await message.answer(**await card_view(session, card, actor, clock))
    elif what == "qr":
        await send_card(message, card, bot)
    elif what in ("report", "report30", "unit", "pdf", "pdf30", "pdfunit"):
        since = day_of(clock.now()) - timedelta(days=29) if what.endswith("30") else None
        built = await reports.report(
            session,
            actor,
            now=clock.now(),
            card_id=None if "unit" in what else card.id,
            unit=card.unit if "unit" in what else None,
            since=since,
            until=day_of(clock.now()) if since else None,
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


async def send_pdf(message: Message, built: reports.CardReport, card_id: int) -> None:
    pdf = card_reports.report_pdf(built, t)
    await message.answer_document(
        BufferedInputFile(pdf, filename=f"satisfaction-{card_id}.pdf"), caption=t("cards.report.pdf_caption")
    )


async def send_report(
    message: Message,
    built: reports.CardReport,
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
        for nomination in await evidence.attachable(session, actor):
            token = await tokens.issue(
                session,
                person_id=actor.person_id,
                action="card.attach",
                now=clock.now(),
                card=card.id,
                nomination=nomination.id,
            )
            rows.append([token_button(t("cards.button.attach", id=nomination.id), token)])
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
    built = await reports.report(session, actor, now=clock.now(), card_id=card_id, since=since, until=until)
    card = await owner.viewable(session, actor, card_id)
    await send_report(message, built, card, actor, session, clock, pdf_what="pdf")


async def status_pressed(
    query: CallbackQuery,
    payload: OfCard,
    action_token: ActionToken,
    actor: Actor,
    session: AsyncSession,
    clock: Clock,
) -> None:
    if action_token.action == "card.close":  # final: its link stops working for good, so ask once more
        card = await owner.viewable(session, actor, payload.card)
        confirm = await tokens.issue(
            session,
            person_id=actor.person_id,
            action="card.close_confirmed",
            now=clock.now(),
            card=card.id,
        )
        await query.answer()
        if isinstance(query.message, Message):
            await query.message.answer(
                t("cards.confirm_close", name=card.subject_name),
                reply_markup=keyboard([[token_button(t("cards.button.confirm_close"), confirm)]]),
            )
        return
    target = {
        "card.pause": PAUSED,
        "card.resume": ACTIVE,
        "card.close_confirmed": CLOSED,
    }[action_token.action]
    card = await owner.set_status(session, actor, payload.card, target, clock.now())
    await query.answer(t("cards.status_changed", status_key=f"cards.status.{card.status}"))
    if isinstance(query.message, Message):
        await query.message.answer(**await card_view(session, card, actor, clock))


async def attach_pressed(
    query: CallbackQuery,
    payload: CardAttachment,
    actor: Actor,
    session: AsyncSession,
    clock: Clock,
    file_store: FileStore,
) -> None:
    # The report is dated, so a second press would attach a second file: the button is one-time.
    await evidence.attach_report(
        session,
        actor,
        payload.card,
        payload.nomination,
        render=lambda built: card_reports.report_pdf(built, t),
        file_store=file_store,
        now=clock.now(),
        file_name=f"evaluation-cards-{payload.card}.pdf",
    )
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(t("cards.attached", id=payload.nomination))


def build() -> Router:
    router = Router(name=__name__)
    router.message.register(list_cards, Command("cards"))
    router.callback_query.register(list_cards, Menu.filter(F.item == "cards"))
    router.message.register(report_command, Command("cardreport"))
    router.callback_query.register(card_opened, CardOpen.filter())
    router.message.register(subject_typed, CardForm.subject)
    router.message.register(unit_typed, CardForm.unit)
    for action in ("card.pause", "card.resume", "card.close", "card.close_confirmed"):
        router.callback_query.register(status_pressed, ActionFilter(action))
    router.callback_query.register(attach_pressed, ActionFilter("card.attach"))
    return router
