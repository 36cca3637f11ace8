"""The eligibility self-check: choose the honour, answer one question at a time, get the verdict."""

from html import escape
from typing import Any

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.callbacks import HonourPick, Menu, Nominate, SelfCheckAnswer
from handlers.keyboards import keyboard, plain_button
from handlers.render import answer_target, current_locale, local_date, t
from handlers.states import SelfCheckFlow
from models import SelfCheck
from services import selfcheck
from services.actors import Actor
from services.catalogue import cite, load_catalogue
from services.ports import Clock
from services.rules.eligibility import VerdictKind

ANSWERS = ("yes", "no", "unsure")


async def choose_honour(event: Message | CallbackQuery, actor: Actor, session: AsyncSession) -> None:
    message = await answer_target(event)
    if message is None:
        return
    running = await selfcheck.running(session, actor)
    if running is not None:
        question = selfcheck.question(running)
        name = load_catalogue().honours[running.honour].name.get(current_locale())
        await message.answer(
            t("selfcheck.resume_offer", honour=name, position=question.position + 1, total=question.total),
            reply_markup=keyboard(
                [
                    [
                        plain_button(
                            t("selfcheck.resume"),
                            SelfCheckAnswer(
                                check=question.selfcheck_id, pos=question.position, reply="resume"
                            ).pack(),
                        ),
                        plain_button(
                            t("selfcheck.restart"),
                            SelfCheckAnswer(
                                check=question.selfcheck_id, pos=question.position, reply="restart"
                            ).pack(),
                        ),
                    ]
                ]
            ),
        )
        return
    await message.answer(honour_menu_text(), reply_markup=honour_keyboard())


def honour_menu_text() -> str:
    locale = current_locale()
    lines = [t("selfcheck.choose_honour")]
    lines += [
        t("selfcheck.honour_line", name=h.name.get(locale), who=h.who.get(locale))
        for h in load_catalogue().honours.values()
    ]
    return "\n".join(lines)


def honour_keyboard() -> InlineKeyboardMarkup:
    locale = current_locale()
    return keyboard(
        [
            [plain_button(h.name.get(locale), HonourPick(code=code).pack())]
            for code, h in load_catalogue().honours.items()
        ]
    )


async def pick_honour(
    query: CallbackQuery,
    callback_data: HonourPick,
    actor: Actor,
    session: AsyncSession,
    state: FSMContext,
    clock: Clock,
) -> None:
    check = await selfcheck.start(session, actor, callback_data.code, clock.now())
    await state.set_state(SelfCheckFlow.answering)
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_text(**question_view(check))


def question_view(check: SelfCheck, explain: bool = False) -> dict[str, Any]:
    """The question's text and buttons, as keyword arguments for answer() or edit_text()."""
    question = selfcheck.question(check)
    locale, criterion = current_locale(), question.criterion
    lines = [
        t(
            "selfcheck.progress",
            position=question.position + 1,
            total=question.total,
            cited=cite(criterion).get(locale),
        ),
        f"<b>{t_plain(criterion.question.get(locale))}</b>",
    ]
    if explain:
        lines.append(t_plain(criterion.explain.get(locale)))
    if question.previous is not None:
        lines.append(t("selfcheck.previous_answer", answer_key=f"selfcheck.answer.{question.previous.value}"))

    def button(reply: str, label: str) -> InlineKeyboardButton:
        return plain_button(
            label, SelfCheckAnswer(check=question.selfcheck_id, pos=question.position, reply=reply).pack()
        )

    rows = [
        [button(reply, t(f"selfcheck.answer.{reply}")) for reply in ANSWERS],
        [button("explain", t("selfcheck.explain"))],
        [button("back", t("selfcheck.back")), button("cancel", t("selfcheck.cancel"))],
    ]
    if question.position == 0:
        rows[2] = rows[2][1:]
    return {"text": "\n\n".join(lines), "reply_markup": keyboard(rows)}


def t_plain(text: str) -> str:
    """Catalogue text is the office's data: escape it like any text from outside the code."""
    return escape(text)


async def on_answer(
    query: CallbackQuery,
    callback_data: SelfCheckAnswer,
    actor: Actor,
    session: AsyncSession,
    state: FSMContext,
    clock: Clock,
) -> None:
    reply, check_id, position = callback_data.reply, callback_data.check, callback_data.pos
    message = query.message if isinstance(query.message, Message) else None
    if reply == "cancel":
        await selfcheck.cancel(session, actor, check_id, position)
        await state.clear()
        await query.answer()
        if message:
            await message.edit_text(t("selfcheck.cancelled"))
        return
    if reply == "restart":
        await selfcheck.cancel(session, actor, check_id, position)
        await state.clear()
        await query.answer()
        if message:
            await message.edit_text(honour_menu_text(), reply_markup=honour_keyboard())
        return
    if reply in ("explain", "resume"):
        check = await selfcheck.owned_running(session, actor, check_id, position)
        await state.set_state(SelfCheckFlow.answering)
        await query.answer()
        if message:
            await message.edit_text(**question_view(check, explain=reply == "explain"))
        return
    if reply == "back":
        check = await selfcheck.back(session, actor, check_id, position)
    else:
        check = await selfcheck.answer(session, actor, check_id, position, reply, clock.now())
    await query.answer()
    if check.verdict is None:
        if message:
            await message.edit_text(**question_view(check))
        return
    await state.clear()
    outcome = await selfcheck.outcome(session, check, clock.now())
    next_step = None
    if outcome.can_nominate:
        # The next step carries the self-check over into the nomination.
        next_step = keyboard(
            [
                [
                    plain_button(
                        t("selfcheck.start_nomination"),
                        Nominate(code=check.honour, selfcheck=check.id or 0).pack(),
                    )
                ]
            ]
        )
    if message:
        await message.edit_text(render_verdict(outcome), reply_markup=next_step)


def render_verdict(outcome: selfcheck.Outcome) -> str:
    locale, verdict = current_locale(), outcome.verdict
    honour = load_catalogue().honours[outcome.check.honour]
    parts = [
        t("selfcheck.verdict_title", honour=honour.name.get(locale)),
        t(f"selfcheck.verdict.{verdict.kind.value}"),
    ]
    if verdict.failed:
        parts.append(
            t("selfcheck.failed_title")
            + "\n"
            + "\n".join(
                f"• {cite(c).get(locale)}：{t_plain(c.regulation_zh)}"
                if locale == "zh_CN"
                else f"• {cite(c).get(locale)}: {t_plain(c.question.get(locale))}"
                for c in verdict.failed
            )
        )
    if verdict.open:
        parts.append(
            t("selfcheck.open_title")
            + "\n"
            + "\n".join(f"• {cite(c).get(locale)}: {t_plain(c.explain.get(locale))}" for c in verdict.open)
        )
    if verdict.kind != VerdictKind.NOT_ELIGIBLE:
        parts.append(
            t("selfcheck.checklist_title")
            + "\n"
            + "\n".join(f"☐ {t_plain(m.name.get(locale))}" for m in verdict.checklist)
        )
    if verdict.priority:
        parts.append(t("selfcheck.priority", items="、".join(cite(c).get(locale) for c in verdict.priority)))
    if outcome.granted_this_year is False:
        parts.append(t("selfcheck.not_granted_this_year"))
    elif outcome.granted_this_year is None:
        parts.append(
            t("selfcheck.next_campaign", date=local_date(outcome.next_campaign.nomination_opens))
            if outcome.next_campaign
            else t("selfcheck.no_campaign")
        )
    return "\n\n".join(parts)


async def not_a_button(message: Message, actor: Actor, session: AsyncSession) -> None:
    """Text typed where a button is expected: ask the same question again, with its buttons."""
    running = await selfcheck.running(session, actor)
    if running is None:
        await message.answer(t("fallback.not_understood"))
        return
    await message.answer(t("selfcheck.use_buttons"))
    await message.answer(**question_view(running))


def build() -> Router:
    router = Router(name=__name__)
    router.message.register(choose_honour, Command("selfcheck"))
    router.callback_query.register(choose_honour, Menu.filter(F.item == "selfcheck"))
    router.callback_query.register(pick_honour, HonourPick.filter())
    router.callback_query.register(on_answer, SelfCheckAnswer.filter())
    router.message.register(not_a_button, SelfCheckFlow.answering)
    return router
