"""公示 in chat (第十六条第2项): anyone reads the proposed list (/publicity) and may lodge a real-name
objection during the period; the office publishes, rules on objections; the leading group (or the
office on its behalf with the approval document) approves the final list (/approve)."""

from typing import Any

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers import uploads
from handlers.callbacks import ActionFilter, Menu, ObjectionStep, ObjectTo
from handlers.keyboards import cancel_keyboard, keyboard, plain_button, token_button
from handlers.payloads import OfObjection, OfPublicity
from handlers.render import answer_target, local_minute, refuse_asking_again, t, typed_text
from handlers.states import ObjectionForm
from models import Role
from services import tokens
from services.actors import Actor
from services.files.store import FileStore
from services.ports import Clock
from services.publicity import approval as publicity_approval
from services.publicity import listing as publicity_list
from services.publicity import objections
from services.reviews import rounds
from services.reviews.common import nominee_name


async def show(event: Message | CallbackQuery, actor: Actor, session: AsyncSession, clock: Clock) -> None:
    """The current list for anyone; the office also gets the publish button when nothing is published."""
    message = await answer_target(event)
    if message is None:
        return
    now = clock.now()
    listing = await publicity_list.latest(session)
    rows = []
    if listing is None:
        if actor.has(Role.OFFICE):
            token = await tokens.issue(
                session, person_id=actor.person_id, action="publicity.publish", now=now
            )
            rows.append([token_button(t("publicity.publish"), token)])
        await message.answer(t("publicity.none"), reply_markup=keyboard(rows) if rows else None)
        return
    listed = await publicity_list.entries(session, listing)
    lines = [
        t("publicity.title", edition=listing.edition, ends=local_minute(listing.ends_at), count=len(listed))
    ]
    lines += [f"{i}. " + t("publicity.entry", line=e.line(actor.language)) for i, e in enumerate(listed, 1)]
    running = publicity_list.objections_open(listing, now)
    lines.append(t("publicity.objection_hint" if running else "publicity.period_ended"))
    if running and actor.registered:
        rows = [
            [
                plain_button(
                    t("publicity.object_to", name=nominee_name(e.nomination)),
                    ObjectTo(nomination=e.nomination.id or 0).pack(),
                )
            ]
            for e in listed
        ]
    await message.answer("\n".join(lines), reply_markup=keyboard(rows) if rows else None)


async def publish(
    query: CallbackQuery, actor: Actor, session: AsyncSession, clock: Clock, settings: Any
) -> None:
    now = clock.now()
    listing = await publicity_list.publish(
        session,
        actor,
        await rounds.current_campaign_id(session, now),
        now,
        getattr(settings, "announcement_chat_id", None),
    )
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(
            t("publicity.published", count=len(listing.nomination_ids), ends=local_minute(listing.ends_at))
        )


# Objections ----------------------------------------------------------------------------------------


async def start_objection(query: CallbackQuery, callback_data: ObjectTo, state: FSMContext) -> None:
    await query.answer()
    await state.set_state(ObjectionForm.grounds)
    await state.set_data({"nomination": callback_data.nomination})
    if isinstance(query.message, Message):
        await query.message.answer(t("objection.ask_grounds"), reply_markup=cancel_keyboard())


async def grounds_typed(message: Message, state: FSMContext) -> None:
    text = await typed_text(message, t("objection.ask_grounds"))
    if text is None:
        return
    await state.update_data(grounds=text)
    await state.set_state(ObjectionForm.evidence)
    await message.answer(
        t("objection.ask_evidence"),
        reply_markup=cancel_keyboard([plain_button(t("objection.skip"), ObjectionStep(what="skip").pack())]),
    )


async def _store(message: Message, bot: Bot, file_store: FileStore) -> str | None:
    checked = await uploads.receive(message, bot)
    return None if checked is None else file_store.put(checked.data)


def _contact_prompt() -> tuple[str, Any]:
    return t("objection.ask_name"), cancel_keyboard(
        [plain_button(t("objection.anonymous"), ObjectionStep(what="anonymous").pack())]
    )


async def evidence_sent(message: Message, state: FSMContext, bot: Bot, file_store: FileStore) -> None:
    sha = await _store(message, bot, file_store)
    if sha is None:
        await message.answer(
            t("objection.ask_evidence"),
            reply_markup=cancel_keyboard(
                [plain_button(t("objection.skip"), ObjectionStep(what="skip").pack())]
            ),
        )
        return
    await state.update_data(evidence=sha)
    await state.set_state(ObjectionForm.contact_name)
    text, markup = _contact_prompt()
    await message.answer(text, reply_markup=markup)


async def evidence_skipped(query: CallbackQuery, state: FSMContext) -> None:
    await query.answer()
    await state.set_state(ObjectionForm.contact_name)
    text, markup = _contact_prompt()
    if isinstance(query.message, Message):
        await query.message.answer(text, reply_markup=markup)


async def name_typed(message: Message, state: FSMContext) -> None:
    if not (message.text or "").strip():
        text, markup = _contact_prompt()
        await message.answer(text, reply_markup=markup)
        return
    await state.update_data(contact_name=message.text)
    await state.set_state(ObjectionForm.contact_phone)
    await message.answer(t("objection.ask_phone"), reply_markup=cancel_keyboard())


async def phone_typed(message: Message, state: FSMContext) -> None:
    text = await typed_text(message, t("objection.ask_phone"))
    if text is None:
        return
    objections.normalise_phone(text)  # a bad number is refused here, and asked again
    await state.update_data(contact_phone=text)
    await state.set_state(ObjectionForm.organisation)
    await _ask_as(message)


async def _ask_as(message: Message) -> None:
    await message.answer(
        t("objection.ask_as"),
        reply_markup=cancel_keyboard(
            [
                plain_button(t("objection.as_person"), ObjectionStep(what="person").pack()),
                plain_button(t("objection.as_organisation"), ObjectionStep(what="organisation").pack()),
            ]
        ),
    )


async def as_reasked(message: Message) -> None:
    await _ask_as(message)


async def _lodge(
    target: Message, actor: Actor, session: AsyncSession, state: FSMContext, clock: Clock, **overrides: Any
) -> None:
    data = {**await state.get_data(), **overrides}
    objection = await objections.lodge_objection(
        session,
        actor,
        data["nomination"],
        grounds=data.get("grounds", ""),
        contact_name=data.get("contact_name", ""),
        contact_phone=data.get("contact_phone", ""),
        now=clock.now(),
        organisation=data.get("organisation", ""),
        letter_sha256=data.get("letter"),
        evidence_sha256=data.get("evidence"),
    )
    await state.clear()  # a refusal keeps the form where it was, so the person can fix what was missing
    await target.answer(t("objection.lodged", case=objection.id, deadline=local_minute(objection.deadline)))


async def step_chosen(
    query: CallbackQuery,
    callback_data: ObjectionStep,
    actor: Actor,
    session: AsyncSession,
    state: FSMContext,
    clock: Clock,
) -> None:
    await query.answer()
    if not isinstance(query.message, Message):
        return
    if callback_data.what == "anonymous":
        await _lodge(query.message, actor, session, state, clock, contact_name="", contact_phone="")
    elif callback_data.what == "person":
        await _lodge(query.message, actor, session, state, clock)
    elif callback_data.what == "organisation":
        await state.set_state(ObjectionForm.letter)
        await query.message.answer(t("objection.ask_organisation"), reply_markup=cancel_keyboard())


async def organisation_or_letter(
    message: Message,
    actor: Actor,
    session: AsyncSession,
    state: FSMContext,
    clock: Clock,
    bot: Bot,
    file_store: FileStore,
) -> None:
    """An organisation names itself, then sends its letter bearing the official seal."""
    data = await state.get_data()
    if not data.get("organisation"):
        text = await typed_text(message, t("objection.ask_organisation"))
        if text is None:
            return
        await state.update_data(organisation=text)
        await message.answer(t("objection.ask_letter"), reply_markup=cancel_keyboard())
        return
    sha = await _store(message, bot, file_store)
    if sha is None:
        await message.answer(t("objection.ask_letter"), reply_markup=cancel_keyboard())
        return
    await _lodge(message, actor, session, state, clock, letter=sha)


# The office's ruling --------------------------------------------------------------------------------


async def ask_ruling(
    query: CallbackQuery,
    payload: OfObjection,
    action_token: Any,
    actor: Actor,
    session: AsyncSession,
    state: FSMContext,
) -> None:
    await objections.open_case(session, actor, payload.objection_id)
    upheld = action_token.action == "objection.uphold"
    await refuse_asking_again(state, ObjectionForm.ruling, case=payload.objection_id, upheld=upheld)
    await query.answer()
    await state.set_state(ObjectionForm.ruling)
    await state.set_data({"case": payload.objection_id, "upheld": upheld})
    if isinstance(query.message, Message):
        await query.message.answer(
            t("objection.ask_ruling", case=payload.objection_id), reply_markup=cancel_keyboard()
        )


async def ruling_typed(
    message: Message, actor: Actor, session: AsyncSession, state: FSMContext, clock: Clock, settings: Any
) -> None:
    text = await typed_text(message, t("objection.ask_ruling", case=(await state.get_data()).get("case")))
    if text is None:
        return
    data = await state.get_data()
    objection = await objections.rule(
        session,
        actor,
        data["case"],
        data["upheld"],
        text,
        clock.now(),
        getattr(settings, "announcement_chat_id", None),
    )
    await state.clear()
    await message.answer(
        t("objection.ruled", case=objection.id, status_key=f"objection.status.{objection.status}")
    )


# Approval ---------------------------------------------------------------------------------------------


async def approval(event: Message | CallbackQuery, actor: Actor, session: AsyncSession, clock: Clock) -> None:
    message = await answer_target(event)
    if message is None:
        return
    waiting = await publicity_approval.awaiting_approval(session, actor, clock.now())
    if waiting is None:
        await message.answer(t("publicity.nothing_to_approve"))
        return
    listing, open_cases = waiting
    listed = await publicity_list.entries(session, listing)
    lines = [t("publicity.approval_title", count=len(listed), open=open_cases)]
    lines += [f"{i}. " + t("publicity.entry", line=e.line(actor.language)) for i, e in enumerate(listed, 1)]
    label = "publicity.approve" if actor.has(Role.LEADING_GROUP) else "publicity.approve_on_behalf"
    token = await tokens.issue(
        session,
        person_id=actor.person_id,
        action="publicity.approve",
        now=clock.now(),
        publicity_id=listing.id,
    )
    await message.answer("\n".join(lines), reply_markup=keyboard([[token_button(t(label), token)]]))


async def approve(
    query: CallbackQuery,
    payload: OfPublicity,
    actor: Actor,
    session: AsyncSession,
    state: FSMContext,
    clock: Clock,
) -> None:
    if not actor.has(Role.LEADING_GROUP) and actor.has(Role.OFFICE):
        await publicity_approval.require_unapproved(session, payload.publicity_id, clock.now())
        await refuse_asking_again(state, ObjectionForm.approval_document, publicity=payload.publicity_id)
        await query.answer()
        await state.set_state(ObjectionForm.approval_document)
        await state.set_data({"publicity": payload.publicity_id})
        if isinstance(query.message, Message):
            await query.message.answer(t("publicity.ask_document"), reply_markup=cancel_keyboard())
        return
    listing = await publicity_approval.approve(session, actor, payload.publicity_id, clock.now())
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(t("publicity.approved", count=len(listing.nomination_ids)))


async def document_sent(
    message: Message,
    actor: Actor,
    session: AsyncSession,
    state: FSMContext,
    clock: Clock,
    bot: Bot,
    file_store: FileStore,
) -> None:
    sha = await _store(message, bot, file_store)
    if sha is None:
        await message.answer(t("publicity.ask_document"), reply_markup=cancel_keyboard())
        return
    data = await state.get_data()
    await state.clear()
    listing = await publicity_approval.approve(
        session, actor, data["publicity"], clock.now(), approval_document=sha
    )
    await message.answer(t("publicity.approved", count=len(listing.nomination_ids)))


def build() -> Router:
    router = Router(name=__name__)
    router.message.register(show, Command("publicity"))
    router.callback_query.register(show, Menu.filter(F.item == "publicity"))
    router.callback_query.register(start_objection, ObjectTo.filter())
    router.callback_query.register(
        evidence_skipped, ObjectionStep.filter(F.what == "skip"), ObjectionForm.evidence
    )
    router.callback_query.register(
        step_chosen, ObjectionStep.filter(F.what == "anonymous"), ObjectionForm.contact_name
    )
    router.callback_query.register(
        step_chosen, ObjectionStep.filter(F.what.in_({"person", "organisation"})), ObjectionForm.organisation
    )
    router.message.register(grounds_typed, ObjectionForm.grounds)
    router.message.register(evidence_sent, ObjectionForm.evidence)
    router.message.register(name_typed, ObjectionForm.contact_name)
    router.message.register(phone_typed, ObjectionForm.contact_phone)
    router.message.register(organisation_or_letter, ObjectionForm.letter)
    router.message.register(as_reasked, ObjectionForm.organisation)
    return router


def build_office() -> Router:
    router = Router(name=f"{__name__}.office")
    router.callback_query.register(publish, ActionFilter("publicity.publish"))
    router.callback_query.register(ask_ruling, ActionFilter("objection.uphold"))
    router.callback_query.register(ask_ruling, ActionFilter("objection.dismiss"))
    router.message.register(ruling_typed, ObjectionForm.ruling)
    return router


def build_approval() -> Router:
    router = Router(name=f"{__name__}.approval")
    router.message.register(approval, Command("approve"))
    router.callback_query.register(approval, Menu.filter(F.item == "approve"))
    router.callback_query.register(approve, ActionFilter("publicity.approve"))
    router.message.register(document_sent, ObjectionForm.approval_document)
    return router
