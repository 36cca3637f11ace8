"""通过 / 退回补充 / 不通过: the office's decision on a nomination.

退回补充 is 一次性告知: the office ticks every deficient item in one keyboard (edited in place), adds
a note to each, sets the deadline, and confirms; the confirmation button carries exactly what was
shown, so the decision is what the office read."""

from typing import Any

from aiogram import Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.callbacks import ActionFilter, PrecheckTick
from handlers.keyboards import cancel_keyboard, keyboard, plain_button, token_button
from handlers.payloads import OfNomination, SupplementReturn
from handlers.precheck.common import TOKEN_TTL, parse_day
from handlers.render import item_label, local_minute, refuse_asking_again, t, typed_text
from handlers.states import PrecheckForm
from services import tokens
from services.actors import Actor
from services.errors import DomainError
from services.nominations import deficiencies, precheck
from services.ports import Clock

NEXT, CANCEL = -1, -2


# 通过 / 不通过 ------------------------------------------------------------------------------------


async def do_pass(
    query: CallbackQuery, payload: OfNomination, actor: Actor, session: AsyncSession, clock: Clock
) -> None:
    nomination = await precheck.precheck_pass(session, actor, payload.nomination_id, clock.now())
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(t("precheck.passed", id=nomination.id))


async def ask_reason(
    query: CallbackQuery, payload: OfNomination, actor: Actor, session: AsyncSession, state: FSMContext
) -> None:
    await precheck.require_decidable(session, actor, payload.nomination_id)
    await refuse_asking_again(state, PrecheckForm.reason, nomination=payload.nomination_id)
    await query.answer()
    await state.set_state(PrecheckForm.reason)
    await state.set_data({"nomination": payload.nomination_id})
    if isinstance(query.message, Message):
        await query.message.answer(
            t("precheck.ask_reason", id=payload.nomination_id), reply_markup=cancel_keyboard()
        )


async def reason_typed(
    message: Message, actor: Actor, session: AsyncSession, state: FSMContext, clock: Clock
) -> None:
    text = await typed_text(message, t("precheck.ask_reason_text"))
    if text is None:
        return
    data = await state.get_data()
    nomination = await precheck.precheck_reject(session, actor, data["nomination"], text, clock.now())
    await state.clear()
    await message.answer(t("precheck.rejected", id=nomination.id))


# 退回补充 (一次性告知) -------------------------------------------------------------------------------


def _tick_keyboard(items: list[str], ticked: list[str]) -> Any:
    rows = [
        [
            plain_button(
                ("☑️ " if item in ticked else "⬜ ") + item_label(item),
                PrecheckTick(index=index).pack(),
            )
        ]
        for index, item in enumerate(items)
    ]
    rows.append(
        [
            plain_button(t("precheck.next"), PrecheckTick(index=NEXT).pack()),
            plain_button(t("precheck.cancel"), PrecheckTick(index=CANCEL).pack()),
        ]
    )
    return keyboard(rows)


async def ask_items(
    query: CallbackQuery, payload: OfNomination, actor: Actor, session: AsyncSession, state: FSMContext
) -> None:
    nomination = await precheck.require_decidable(session, actor, payload.nomination_id)
    await refuse_asking_again(state, PrecheckForm.ticking, nomination=nomination.id)
    await query.answer()
    items = deficiencies.deficiency_items(nomination.honour)
    await state.set_state(PrecheckForm.ticking)
    await state.set_data({"nomination": nomination.id, "items": items, "ticked": []})
    if isinstance(query.message, Message):
        await query.message.answer(
            t("precheck.tick_items", id=nomination.id), reply_markup=_tick_keyboard(items, [])
        )


async def tick(query: CallbackQuery, callback_data: PrecheckTick, actor: Actor, state: FSMContext) -> None:
    if await state.get_state() != PrecheckForm.ticking.state:
        raise DomainError("precheck.form_closed")
    data = await state.get_data()
    items, ticked = data["items"], list(data["ticked"])
    if callback_data.index == CANCEL:
        await state.clear()
        await query.answer(t("precheck.cancelled"))
        if isinstance(query.message, Message):
            await query.message.edit_reply_markup(reply_markup=None)
        return
    if callback_data.index == NEXT:
        if not ticked:
            await query.answer(t("precheck.tick_one"), show_alert=True)
            return
        await query.answer()
        await state.update_data(notes={})
        await state.set_state(PrecheckForm.note)
        if isinstance(query.message, Message):
            await query.message.edit_reply_markup(reply_markup=None)
            await query.message.answer(_ask_note(ticked, 0), reply_markup=cancel_keyboard())
        return
    if not 0 <= callback_data.index < len(items):
        raise DomainError("button.unknown")
    item = items[callback_data.index]
    ticked = [i for i in items if (i in ticked) != (i == item)]  # toggled, kept in the dossier's order
    await state.update_data(ticked=ticked)
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=_tick_keyboard(items, ticked))


async def still_ticking(message: Message) -> None:
    await message.answer(t("precheck.use_ticks"))


def _ask_note(ticked: list[str], position: int) -> str:
    return t(
        "precheck.ask_note",
        number=position + 1,
        count=len(ticked),
        what=item_label(ticked[position]),
    )


async def note_typed(message: Message, state: FSMContext) -> None:
    data = await state.get_data()
    ticked, notes = data["ticked"], dict(data["notes"])
    position = len(notes)
    if not message.text:
        await message.answer(_ask_note(ticked, position), reply_markup=cancel_keyboard())
        return
    notes[ticked[position]] = precheck.clean_note(message.text)
    await state.update_data(notes=notes)
    if len(notes) < len(ticked):
        await message.answer(_ask_note(ticked, len(notes)), reply_markup=cancel_keyboard())
        return
    await state.set_state(PrecheckForm.deadline)
    await message.answer(t("precheck.ask_deadline"), reply_markup=cancel_keyboard())


async def deadline_typed(
    message: Message, actor: Actor, session: AsyncSession, state: FSMContext, clock: Clock
) -> None:
    day = parse_day(message.text)
    if day is None:
        await message.answer(t("precheck.ask_deadline_format"), reply_markup=cancel_keyboard())
        return
    deadline = deficiencies.deadline_from_day(day, clock.now())
    data = await state.get_data()
    items = [[item, data["notes"][item]] for item in data["ticked"]]
    confirm = await tokens.issue(
        session,
        person_id=actor.person_id,
        action="precheck.return_confirm",
        now=clock.now(),
        ttl=TOKEN_TTL,
        nomination_id=data["nomination"],
        items=items,
        deadline=deadline.isoformat(),
    )
    await state.clear()
    await message.answer(
        t(
            "precheck.confirm_return",
            id=data["nomination"],
            count=len(items),
            deficiencies=[[i, n] for i, n in items],
            deadline=local_minute(deadline),
        ),
        reply_markup=keyboard([[token_button(t("precheck.confirm"), confirm)]]),
    )


async def do_return(
    query: CallbackQuery, payload: SupplementReturn, actor: Actor, session: AsyncSession, clock: Clock
) -> None:
    nomination = await precheck.precheck_return(
        session,
        actor,
        payload.nomination_id,
        list(payload.items),
        payload.deadline,
        clock.now(),
    )
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(t("precheck.returned", id=nomination.id, count=len(payload.items)))


def build() -> Router:
    router = Router(name=__name__)
    router.callback_query.register(do_pass, ActionFilter("precheck.pass"))
    router.callback_query.register(ask_reason, ActionFilter("precheck.reject"))
    router.callback_query.register(ask_items, ActionFilter("precheck.return"))
    router.callback_query.register(do_return, ActionFilter("precheck.return_confirm"))
    router.callback_query.register(tick, PrecheckTick.filter())
    router.message.register(reason_typed, PrecheckForm.reason)
    router.message.register(still_ticking, PrecheckForm.ticking)
    router.message.register(note_typed, PrecheckForm.note)
    router.message.register(deadline_typed, PrecheckForm.deadline)
    return router
