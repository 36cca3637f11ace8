"""The applicant's nomination: start it (from a self-check or the menu), fill in the dossier,
choose the recommending body, upload materials, agree to publication, submit."""

from html import escape
from typing import Any

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardButton, Message
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers import uploads
from handlers.callbacks import Menu, Nominate, NominationChoice, NominationEdit
from handlers.keyboards import cancel_keyboard, keyboard, plain_button
from handlers.render import answer_target, current_locale, item_label, organisation_name, t
from handlers.states import NominationForm
from models import Nomination
from services import people
from services.actors import Actor
from services.catalogue import load_catalogue
from services.errors import DomainError
from services.files.store import FileStore
from services.nominations import deficiencies, dossier, queries
from services.ports import Clock
from services.rules.dossier import FIELDS
from services.rules.nomination_flow import Stage, editable


async def choose_honour(event: Message | CallbackQuery, actor: Actor) -> None:
    people.require_registered(actor)
    message = await answer_target(event)
    if message is None:
        return
    locale = current_locale()
    rows = [
        [plain_button(h.name.get(locale), Nominate(code=code).pack())]
        for code, h in load_catalogue().honours.items()
    ]
    await message.answer(t("nomination.choose_honour"), reply_markup=keyboard(rows))


async def start(
    query: CallbackQuery, callback_data: Nominate, actor: Actor, session: AsyncSession, clock: Clock
) -> None:
    nomination = await dossier.start(
        session, actor, callback_data.code, clock.now(), selfcheck_id=callback_data.selfcheck or None
    )
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(**await card(session, nomination, actor))


def button(nomination: Nomination, what: str, label: str) -> InlineKeyboardButton:
    return plain_button(label, NominationEdit(nomination=nomination.id or 0, what=what).pack())


def choice_button(nomination: Nomination, label: str, **choice: Any) -> InlineKeyboardButton:
    return plain_button(label, NominationChoice(nomination=nomination.id or 0, **choice).pack())


async def card(session: AsyncSession, nomination: Nomination, actor: Actor) -> dict:  # type: ignore[type-arg]
    """The dossier at a glance, with a button for each thing still to do."""
    locale = current_locale()
    present = await queries.materials(session, nomination.id or 0)
    organisations = {o.id: o for o in await people.organisations(session)}
    lines = [
        t(
            "nomination.card_title",
            id=nomination.id,
            honour_key=f"honour.{nomination.honour}",
            stage_key=f"stage.{nomination.stage}",
        )
    ]
    for spec in FIELDS[nomination.honour]:
        value = nomination.fields.get(spec.id)
        lines.append(
            t(
                "nomination.field_line",
                mark="✅" if value is not None else "⬜",
                field_key=f"dossier.field.{spec.id}",
                value=str(value) if value is not None else "—",
            )
        )
    chosen = organisations.get(nomination.organisation_id)
    lines.append(
        t(
            "nomination.organisation_line",
            mark="✅" if chosen else "⬜",
            organisation=organisation_name(chosen, locale) if chosen else "—",
        )
    )
    lines.append(t("nomination.materials_line", count=len(present)))
    lines += [f"  • {escape(m.file_name)}" for m in present]
    lines.append(t("nomination.consent_line", mark="✅" if nomination.publish_consent_at else "⬜"))
    reopened = await deficiencies.reopened(session, nomination)
    if reopened is not None:  # returned for supplement: say what to supplement, offer only that
        lines.append(t("nomination.supplement_title"))
        lines += [
            t("nomination.supplement_item", what=item_label(item), note=note or "—")
            for item, note in reopened.items()
        ]
    rows: list[list[InlineKeyboardButton]] = []
    if editable(Stage(nomination.stage)):
        fields = [
            button(nomination, spec.id, t(f"dossier.field.{spec.id}"))
            for spec in FIELDS[nomination.honour]
            if reopened is None or f"field:{spec.id}" in reopened
        ]
        rows += [fields[i : i + 3] for i in range(0, len(fields), 3)]
        steps = (
            [button(nomination, "org", t("nomination.choose_organisation"))]
            if reopened is None or "organisation" in reopened
            else []
        )
        if reopened is None or any(item.startswith("material:") for item in reopened):
            steps.append(button(nomination, "files", t("nomination.upload")))
        rows += [steps] if steps else []
        if nomination.publish_consent_at is None:
            rows.append([button(nomination, "consent", t("nomination.consent"))])
        rows.append([button(nomination, "submit", t("nomination.submit"))])
    return {"text": "\n".join(lines), "reply_markup": keyboard(rows) if rows else None}


async def edit(
    query: CallbackQuery,
    callback_data: NominationEdit | NominationChoice,
    actor: Actor,
    session: AsyncSession,
    state: FSMContext,
    clock: Clock,
) -> None:
    nomination_id, what = callback_data.nomination, callback_data.what
    choice = callback_data if isinstance(callback_data, NominationChoice) else None
    nomination = await session.get(Nomination, nomination_id)
    if nomination is None or nomination.applicant_id != actor.person_id:
        raise DomainError("nomination.not_yours")
    if what == "consent" and nomination.publish_consent_at is not None:
        raise DomainError(
            "nomination.consent_given"
        )  # pressed again: refused with an alert, before answering
    await query.answer()
    message = query.message if isinstance(query.message, Message) else None
    if message is None:
        return
    locale = current_locale()
    if what == "card":
        await state.clear()
        await message.answer(**await card(session, nomination, actor))
    elif what == "org" and choice is None:
        rows = [
            [choice_button(nomination, organisation_name(o, locale), what="org", organisation=o.id)]
            for o in await people.organisations(session)
        ]
        await message.answer(t("nomination.choose_organisation"), reply_markup=keyboard(rows))
    elif what == "org" and choice is not None:
        chosen = await dossier.choose_organisation(
            session, actor, nomination_id, choice.organisation, clock.now()
        )
        await message.answer(**await card(session, chosen, actor))
    elif what == "files":
        reopened = await deficiencies.reopened(session, nomination)
        rows = [
            [choice_button(nomination, m.name.get(locale), what="slot", material=m.id)]
            for m in queries.checklist(nomination.honour)
            if reopened is None or f"material:{m.id}" in reopened
        ]
        await message.answer(t("nomination.choose_material"), reply_markup=keyboard(rows))
    elif what == "slot" and choice is not None and choice.material:
        await state.set_state(NominationForm.upload)
        await state.update_data(nomination=nomination_id, slot=choice.material)
        await message.answer(
            t("nomination.send_files"),
            reply_markup=cancel_keyboard([button(nomination, "card", t("nomination.done"))]),
        )
    elif what == "consent":
        agreed = await dossier.consent_to_publish(session, actor, nomination_id, clock.now())
        await message.answer(**await card(session, agreed, actor))
    elif what == "submit":
        submitted = await dossier.submit(session, actor, nomination_id, clock.now())
        await message.answer(t("nomination.submitted", id=submitted.id))
    elif any(spec.id == what for spec in FIELDS[nomination.honour]):
        await state.set_state(NominationForm.field)
        await state.update_data(nomination=nomination_id, field=what)
        await message.answer(
            t("nomination.ask_field", field_key=f"dossier.field.{what}"), reply_markup=cancel_keyboard()
        )
    else:
        raise DomainError("button.unknown")


async def field_typed(
    message: Message, actor: Actor, session: AsyncSession, state: FSMContext, clock: Clock
) -> None:
    if not message.text:
        await message.answer(t("nomination.type_text"), reply_markup=cancel_keyboard())
        return
    data = await state.get_data()
    nomination = await dossier.set_field(
        session, actor, data["nomination"], data["field"], message.text, clock.now()
    )
    await state.clear()
    await message.answer(**await card(session, nomination, actor))


async def file_sent(
    message: Message,
    actor: Actor,
    session: AsyncSession,
    state: FSMContext,
    clock: Clock,
    bot: Bot,
    file_store: FileStore,
) -> None:
    """Each file of an album arrives as its own message: each is checked and kept."""
    checked = await uploads.receive(message, bot)
    if checked is None:
        await message.answer(t("nomination.send_a_file"), reply_markup=cancel_keyboard())
        return
    sha = file_store.put(checked.data)
    state_data = await state.get_data()
    await dossier.add_material(
        session,
        actor,
        state_data["nomination"],
        state_data["slot"],
        sha256=sha,
        file_name=checked.safe_name,
        kind=checked.kind,
        size=len(checked.data),
        now=clock.now(),
    )
    await message.answer(t("nomination.file_kept", name=checked.safe_name))


def build() -> Router:
    router = Router(name=__name__)
    router.message.register(choose_honour, Command("nominate"))
    router.callback_query.register(choose_honour, Menu.filter(F.item == "nominate"))
    router.callback_query.register(start, Nominate.filter())
    router.callback_query.register(edit, NominationEdit.filter())
    router.callback_query.register(edit, NominationChoice.filter())
    router.message.register(field_typed, NominationForm.field)
    router.message.register(file_sent, NominationForm.upload)
    return router
