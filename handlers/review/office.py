"""The office: /rounds, progress, reminders, closing, results, and opening a round with its panel."""

from datetime import datetime
from fractions import Fraction
from typing import Any

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import BufferedInputFile, CallbackQuery, Message
from sqlmodel.ext.asyncio.session import AsyncSession

from documents import round_result
from handlers.callbacks import ActionFilter, Menu, PanelPick
from handlers.keyboards import cancel_keyboard, keyboard, plain_button, token_button
from handlers.payloads import Closing, OfRound
from handlers.render import answer_target, current_locale, local_minute, t
from handlers.states import ReviewInput
from models import Role
from services import campaigns, local_time, tokens
from services.actors import Actor
from services.errors import DomainError
from services.ports import Clock
from services.reviews import results, rounds, sweeps
from services.reviews.common import holders, nominee_name
from services.rules.campaign_phases import Action


async def office_rounds(
    event: Message | CallbackQuery, actor: Actor, session: AsyncSession, clock: Clock
) -> None:
    found = await results.rounds(session, actor)
    message = await answer_target(event)
    if message is None:
        return
    now = clock.now()

    async def button(label: str, action: str, round_id: int | None = None) -> Any:
        token = await tokens.issue(
            session, person_id=actor.person_id, action=action, now=now, round_id=round_id
        )
        return token_button(t(label), token)

    lines = [t("review.rounds_title")] if found else [t("review.no_rounds")]
    rows = []
    for review_round in found:
        state_key = "review.state.closed" if review_round.closed_at else "review.state.open"
        lines.append(
            t(
                "review.round_line",
                round=review_round.id,
                closes=local_minute(review_round.closes_at),
                state_key=state_key,
                ballot_key="review.ballot.open" if review_round.open_ballot else "review.ballot.secret",
            )
        )
        round_id = review_round.id
        if review_round.closed_at is None:
            rows.append(
                [
                    await button("review.show_progress", "review.progress", round_id),
                    await button("review.remind_now", "review.remind", round_id),
                ]
            )
            rows.append(
                [
                    await button("review.extend", "review.extend", round_id),
                    await button("review.close_now", "review.close", round_id),
                ]
            )
        else:
            rows.append([await button("review.show_result", "review.result", round_id)])
    rows.append([await button("review.open_round", "review.open")])
    await message.answer("\n".join(lines), reply_markup=keyboard(rows))


def _report_text(report: results.RoundReport) -> str:
    lines = [
        t(
            "review.report_title",
            round=report.round.id,
            panel=report.panel,
            quorum=report.quorum,
            passing=report.passing,
            ballot_key="review.ballot.open" if report.round.open_ballot else "review.ballot.secret",
        )
    ]
    for item in report.items:
        count = item.count
        outcome = item.outcome or (count.outcome.value if report.round.closed_at else "pending")
        lines.append(
            t(
                "review.report_line",
                id=item.nomination.id,
                honour_key=f"honour.{item.nomination.honour}",
                name=nominee_name(item.nomination),
                for_=count.for_,
                against=count.against,
                abstain=count.abstain,
                recused=count.recused,
                cast=count.cast,
                eligible=count.eligible,
                outcome_key=f"review.outcome.{outcome}",
            )
        )
        if item.not_voted and not report.round.closed_at:
            lines.append(t("review.report_not_voted", names="、".join(item.not_voted)))
        for name, reason in item.recusals:
            lines.append(
                t(
                    "review.report_recusal",
                    name=name,
                    reason=reason if not reason.startswith("auto.") else t(f"review.recusal.{reason}"),
                )
            )
        for name, text in item.comments:
            lines.append(t("review.report_comment", name=name or t("review.anonymous"), comment=text))
    return "\n".join(lines)


async def progress(query: CallbackQuery, payload: OfRound, actor: Actor, session: AsyncSession) -> None:
    report = await results.report(session, actor, payload.round_id)
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(_report_text(report))


async def result(query: CallbackQuery, payload: OfRound, actor: Actor, session: AsyncSession) -> None:
    report = await results.report(session, actor, payload.round_id)
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(_report_text(report))
        sheet = round_result.workbook(report, current_locale())
        await query.message.answer_document(
            BufferedInputFile(sheet.data, filename=sheet.file_name),
            caption=t("review.workbook_caption", round=report.round.id),
        )


async def remind(
    query: CallbackQuery, payload: OfRound, actor: Actor, session: AsyncSession, clock: Clock
) -> None:
    sent = await sweeps.remind_now(session, actor, payload.round_id, clock.now())
    await query.answer(t("review.reminded", count=sent), show_alert=True)


async def close(
    query: CallbackQuery, payload: OfRound, actor: Actor, session: AsyncSession, clock: Clock
) -> None:
    report = await results.close_early(session, actor, payload.round_id, clock.now())
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(_report_text(report))


async def ask_closing(
    query: CallbackQuery,
    payload: Closing,
    actor: Actor,
    session: AsyncSession,
    state: FSMContext,
    clock: Clock,
) -> None:
    """Opening a round, or extending one (the payload names it): the closing time comes next. A
    round opens only in 评审: outside it the office is told so before it types anything."""
    if not payload.round_id:
        await campaigns.require_action(session, Action.OPEN_ROUND, clock.now())
    await query.answer()
    await state.set_state(ReviewInput.closing_time)
    await state.set_data({"extend": payload.round_id})
    if isinstance(query.message, Message):
        await query.message.answer(t("review.ask_closing"), reply_markup=cancel_keyboard())


def _round_options(words: list[str]) -> dict[str, Any] | None:
    """Options after the closing time: `open` (记名), `quorum=2/3`, `pass=1/2`, `honour=STAR`,
    `remind=48,24,2`. None when a word is not understood (the office is asked again)."""
    options: dict[str, Any] = {}
    try:
        for word in words:
            name, _, value = word.partition("=")
            if word.lower() in ("open", "公开", "记名"):
                options["open_ballot"] = True
            elif word.lower() in ("panel", "评审组"):
                options["pick_panel"] = True
            elif name in ("quorum", "pass") and value:
                options["quorum" if name == "quorum" else "passing"] = Fraction(value)
            elif name == "honour" and value:
                options["honour"] = value.upper()
            elif name == "remind" and value:
                options["reminder_hours"] = tuple(int(h) for h in value.split(","))
            else:
                return None
    except (ValueError, ZeroDivisionError):
        return None
    return options


async def closing_typed(
    message: Message, actor: Actor, session: AsyncSession, state: FSMContext, clock: Clock
) -> None:
    """`YYYY-MM-DD HH:MM` in Beijing time, then any options (see _round_options)."""
    parts = (message.text or "").split()
    try:
        closes = datetime.strptime(" ".join(parts[:2]), "%Y-%m-%d %H:%M").replace(tzinfo=local_time.zone())
    except ValueError:
        await message.answer(t("review.ask_closing"), reply_markup=cancel_keyboard())
        return
    now = clock.now()
    extending = (await state.get_data()).get("extend")
    if extending:
        extended = await rounds.extend(session, actor, extending, closes, now)
        await state.clear()
        await message.answer(t("review.extended", round=extended.id, closes=local_minute(extended.closes_at)))
        return
    options = _round_options(parts[2:])
    if options is None:
        await message.answer(t("review.ask_closing"), reply_markup=cancel_keyboard())
        return
    if options.pop("pick_panel", False):
        await _offer_panel(message, actor, session, state, closes, options)
        return
    await _open(message, actor, session, state, clock, closes, options, panel=None)


async def _open(
    message: Message,
    actor: Actor,
    session: AsyncSession,
    state: FSMContext,
    clock: Clock,
    closes: datetime,
    options: dict[str, Any],
    panel: list[int] | None,
) -> None:
    now = clock.now()
    campaign_id = await rounds.current_campaign_id(session, now)
    review_round = await rounds.open_round(
        session, actor, campaign_id=campaign_id, closes_at=closes, now=now, panel=panel, **options
    )
    await state.clear()
    report = await results.report(session, actor, review_round.id or 0)
    await message.answer(
        t(
            "review.round_opened",
            round=review_round.id,
            count=len(report.items),
            panel=report.panel,
            closes=local_minute(review_round.closes_at),
        )
        + "\n\n"
        + _report_text(report)
    )


# A panel per round (评审组): every active reviewer starts ticked; the office unticks who does not sit.


def _panel_keyboard(names: list[str], ticked: list[bool]) -> Any:
    rows = [
        [plain_button(("☑️ " if on else "⬜ ") + name, PanelPick(index=i).pack())]
        for i, (name, on) in enumerate(zip(names, ticked, strict=True))
    ]
    rows.append([plain_button(t("review.panel_open", count=sum(ticked)), PanelPick(index=-1).pack())])
    return keyboard(rows)


async def _offer_panel(
    message: Message,
    actor: Actor,
    session: AsyncSession,
    state: FSMContext,
    closes: datetime,
    options: dict[str, Any],
) -> None:
    reviewers = await holders(session, Role.REVIEWER)
    if not reviewers:
        raise DomainError("review.no_reviewers")
    names, ids = [r.name for r in reviewers], [r.id for r in reviewers]
    await state.set_state(ReviewInput.panel)
    await state.set_data(
        {
            "closes": closes.isoformat(),
            "ids": ids,
            "names": names,
            "ticked": [True] * len(ids),
            "options": {k: str(v) if isinstance(v, Fraction) else v for k, v in options.items()},
        }
    )
    await message.answer(t("review.pick_panel"), reply_markup=_panel_keyboard(names, [True] * len(ids)))


async def panel_pressed(
    query: CallbackQuery,
    callback_data: PanelPick,
    actor: Actor,
    session: AsyncSession,
    state: FSMContext,
    clock: Clock,
) -> None:
    data = await state.get_data()
    if await state.get_state() != ReviewInput.panel.state or not -1 <= callback_data.index < len(data["ids"]):
        raise DomainError("button.unknown")
    ticked = list(data["ticked"])
    if callback_data.index >= 0:
        ticked[callback_data.index] = not ticked[callback_data.index]
        await state.update_data(ticked=ticked)
        await query.answer()
        if isinstance(query.message, Message):
            await query.message.edit_reply_markup(reply_markup=_panel_keyboard(data["names"], ticked))
        return
    await query.answer()
    if not isinstance(query.message, Message):
        return
    options = {k: Fraction(v) if k in ("quorum", "passing") else v for k, v in data["options"].items()}
    if "reminder_hours" in options:
        options["reminder_hours"] = tuple(options["reminder_hours"])
    chosen = [person for person, on in zip(data["ids"], ticked, strict=True) if on]
    await _open(
        query.message,
        actor,
        session,
        state,
        clock,
        datetime.fromisoformat(data["closes"]),
        options,
        panel=chosen,
    )


async def panel_reask(message: Message, state: FSMContext) -> None:
    data = await state.get_data()
    await message.answer(t("review.pick_panel"), reply_markup=_panel_keyboard(data["names"], data["ticked"]))


def build() -> Router:
    router = Router(name=__name__)
    router.message.register(office_rounds, Command("rounds"))
    router.callback_query.register(office_rounds, Menu.filter(F.item == "rounds"))
    router.callback_query.register(progress, ActionFilter("review.progress"))
    router.callback_query.register(result, ActionFilter("review.result"))
    router.callback_query.register(remind, ActionFilter("review.remind"))
    router.callback_query.register(close, ActionFilter("review.close"))
    router.callback_query.register(ask_closing, ActionFilter("review.open"))
    router.callback_query.register(ask_closing, ActionFilter("review.extend"))
    router.message.register(closing_typed, ReviewInput.closing_time)
    router.callback_query.register(panel_pressed, PanelPick.filter())
    router.message.register(panel_reask, ReviewInput.panel)
    return router
