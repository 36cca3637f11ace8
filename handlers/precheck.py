"""The office's preliminary check (初审): the queue of endorsed and resubmitted nominations by
honour; a nomination's dossier with its files (sent protected); 通过 / 退回补充 / 不通过; a
verification (核实); exports of one dossier (ZIP) and of the campaign's list (Excel).

退回补充 is 一次性告知: the office ticks every deficient item in one keyboard (edited in place), adds
a note to each, sets the deadline, and confirms; the confirmation button carries exactly what was
shown, so the decision is what the office read."""

import re
from datetime import date, datetime, timedelta
from typing import Any

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.types import BufferedInputFile, CallbackQuery, InlineKeyboardButton, Message
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers import uploads
from handlers.callbacks import ActionFilter, Menu, PrecheckOpen, PrecheckStep, PrecheckTick, typed_id
from handlers.keyboards import cancel_keyboard, keyboard, plain_button, token_button
from handlers.render import (
    answer_target,
    current_locale,
    organisation_name,
    refuse_asking_again,
    t,
    typed_text,
)
from handlers.states import PrecheckForm
from models import Nomination, Organisation, Role
from services import exports, files, nominations, people, tokens
from services.actors import Actor
from services.errors import DomainError
from services.ports import Clock
from services.rules.dossier import FIELDS

NEXT, CANCEL = -1, -2
DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
TOKEN_TTL = timedelta(days=30)


def _name(nomination: Nomination) -> str:
    return exports.display_name(nomination) or "—"


def _organisation(organisation: Organisation | None) -> str:
    return organisation_name(organisation, current_locale()) if organisation else "—"


def _parse_day(text: str | None) -> date | None:
    value = (text or "").strip()
    if not DAY.fullmatch(value):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


# The queue -----------------------------------------------------------------------------------------


async def queue(event: Message | CallbackQuery, actor: Actor, session: AsyncSession) -> None:
    waiting = await nominations.office_queue(session, actor)
    message = await answer_target(event)
    if message is None:
        return
    export = [plain_button(t("precheck.export_list"), PrecheckStep(what="xlsx").pack())]
    if not waiting:
        await message.answer(t("precheck.queue_empty"), reply_markup=keyboard([export]))
        return
    lines, rows, honour = [t("precheck.queue_title", count=len(waiting))], [], ""
    for nomination in waiting:
        if nomination.honour != honour:
            honour = nomination.honour
            lines.append(t("precheck.queue_honour", honour_key=f"honour.{honour}"))
        line = t(
            "precheck.queue_line",
            id=nomination.id,
            name=_name(nomination),
            stage_key=f"stage.{nomination.stage}",
        )
        lines.append(line)
        rows.append([plain_button(line, PrecheckOpen(nomination=nomination.id or 0).pack())])
    rows.append(export)
    await message.answer("\n".join(lines), reply_markup=keyboard(rows))


# One nomination ------------------------------------------------------------------------------------


def _summary(view: nominations.OfficeView) -> str:
    nomination, locale = view.nomination, current_locale()
    lines = [
        t(
            "precheck.card_title",
            id=nomination.id,
            honour_key=f"honour.{nomination.honour}",
            stage_key=f"stage.{nomination.stage}",
        )
    ]
    for spec in FIELDS[nomination.honour]:
        value = nomination.fields.get(spec.id)
        lines.append(
            t(
                "precheck.field_line",
                field_key=f"dossier.field.{spec.id}",
                value=str(value) if value is not None else "—",
            )
        )
    lines.append(t("precheck.organisation_line", organisation=_organisation(view.organisation)))
    if view.endorsement is not None:
        lines.append(
            t(
                "precheck.opinion_line",
                opinion=view.endorsement.opinion,
                at=nominations.local_deadline(view.endorsement.endorsed_at),
            )
        )
    lines.append(t("precheck.materials_line", count=len(view.materials)))
    lines += [
        t(
            "precheck.material_line",
            what=nominations.item_label(f"material:{m.slot}", locale),
            name=m.file_name,
        )
        for m in view.materials
    ]
    for check in view.verifications:
        lines.append(
            t(
                "precheck.verification_line",
                on=check.on.isoformat(),
                finding=check.finding,
                count=len(check.files),
            )
        )
    if view.changes is not None and nomination.stage == "resubmitted":
        lines += _changes(view.changes)
    return "\n".join(lines)


def _changes(changes: nominations.Changes) -> list[str]:
    locale = current_locale()
    lines = [t("precheck.changes_title")]
    lines += [
        t("precheck.changes_item", what=nominations.item_label(item, locale), note=note or "—")
        for item, note in changes.items.items()
    ]
    lines += [
        t(
            "precheck.changes_field",
            field_key=f"dossier.field.{field}",
            before=str(before or "—"),
            after=str(after or "—"),
        )
        for field, before, after in changes.fields
    ]
    if changes.organisation is not None:
        lines.append(t("precheck.changes_organisation"))
    lines += [
        t("precheck.changes_added", what=nominations.item_label(f"material:{slot}", locale), name=name)
        for slot, name in changes.added
    ]
    lines += [
        t("precheck.changes_removed", what=nominations.item_label(f"material:{slot}", locale), name=name)
        for slot, name in changes.removed
    ]
    if changes.endorsement_renewed:
        lines.append(t("precheck.changes_endorsement"))
    if len(lines) == 1 + len(changes.items):
        lines.append(t("precheck.changes_none"))
    return lines


async def open_nomination(
    query: CallbackQuery,
    callback_data: PrecheckOpen,
    actor: Actor,
    session: AsyncSession,
    clock: Clock,
    bot: Bot,
    file_store: files.FileStore,
) -> None:
    view = await nominations.office_view(session, actor, callback_data.nomination)
    await query.answer()
    chat_id = actor.telegram_id
    await bot.send_message(chat_id, _summary(view))
    # Dossiers go out protected: they cannot be forwarded or saved from the chat.
    locale = current_locale()
    for material in view.materials:
        await bot.send_document(
            chat_id,
            BufferedInputFile(file_store.get(material.sha256), material.file_name),
            caption=nominations.item_label(f"material:{material.slot}", locale),
            protect_content=True,
        )
    if view.endorsement is not None:
        seal = file_store.get(view.endorsement.seal_sha256)
        kind = files.sniff(seal) or "pdf"
        await bot.send_document(
            chat_id,
            BufferedInputFile(seal, f"seal{files.EXTENSIONS[kind][0]}"),
            caption=t("precheck.item.seal"),
            protect_content=True,
        )
    await bot.send_message(
        chat_id,
        t("precheck.choose_action", id=view.nomination.id),
        reply_markup=keyboard(await _actions(session, actor, view.nomination, clock)),
    )


async def _actions(
    session: AsyncSession, actor: Actor, nomination: Nomination, clock: Clock
) -> list[list[InlineKeyboardButton]]:
    async def button(label: str, action: str) -> InlineKeyboardButton:
        token = await tokens.issue(
            session,
            telegram_id=actor.telegram_id,
            action=action,
            now=clock.now(),
            ttl=TOKEN_TTL,
            nomination_id=nomination.id,
        )
        return token_button(t(label), token)

    rows = []
    if nomination.stage in nominations.DECIDABLE:
        rows.append(
            [
                await button("precheck.pass", "precheck.pass"),
                await button("precheck.return", "precheck.return"),
                await button("precheck.reject", "precheck.reject"),
            ]
        )
    rows.append(
        [
            await button("precheck.verify", "precheck.verify"),
            await button("precheck.export", "precheck.export"),
        ]
    )
    await session.commit()
    return rows


# 通过 / 不通过 ------------------------------------------------------------------------------------


async def do_pass(
    query: CallbackQuery, payload: dict[str, Any], actor: Actor, session: AsyncSession, clock: Clock
) -> None:
    nomination = await nominations.precheck_pass(session, actor, payload["nomination_id"], clock.now())
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(t("precheck.passed", id=nomination.id))


async def ask_reason(
    query: CallbackQuery, payload: dict[str, Any], actor: Actor, session: AsyncSession, state: FSMContext
) -> None:
    await nominations.require_decidable(session, actor, payload["nomination_id"])
    await refuse_asking_again(state, PrecheckForm.reason, nomination=payload["nomination_id"])
    await query.answer()
    await state.set_state(PrecheckForm.reason)
    await state.set_data({"nomination": payload["nomination_id"]})
    if isinstance(query.message, Message):
        await query.message.answer(
            t("precheck.ask_reason", id=payload["nomination_id"]), reply_markup=cancel_keyboard()
        )


async def reason_typed(
    message: Message, actor: Actor, session: AsyncSession, state: FSMContext, clock: Clock
) -> None:
    text = await typed_text(message, t("precheck.ask_reason_text"))
    if text is None:
        return
    data = await state.get_data()
    nomination = await nominations.precheck_reject(session, actor, data["nomination"], text, clock.now())
    await state.clear()
    await message.answer(t("precheck.rejected", id=nomination.id))


# 退回补充 (一次性告知) -------------------------------------------------------------------------------


def _tick_keyboard(items: list[str], ticked: list[str]) -> Any:
    locale = current_locale()
    rows = [
        [
            plain_button(
                ("☑️ " if item in ticked else "⬜ ") + nominations.item_label(item, locale),
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
    query: CallbackQuery, payload: dict[str, Any], actor: Actor, session: AsyncSession, state: FSMContext
) -> None:
    nomination = await nominations.require_decidable(session, actor, payload["nomination_id"])
    await refuse_asking_again(state, PrecheckForm.ticking, nomination=nomination.id)
    await query.answer()
    items = nominations.deficiency_items(nomination.honour)
    await state.set_state(PrecheckForm.ticking)
    await state.set_data({"nomination": nomination.id, "items": items, "ticked": []})
    if isinstance(query.message, Message):
        await query.message.answer(
            t("precheck.tick_items", id=nomination.id), reply_markup=_tick_keyboard(items, [])
        )


async def tick(query: CallbackQuery, callback_data: PrecheckTick, actor: Actor, state: FSMContext) -> None:
    people.require_role(actor, Role.OFFICE)
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
        what=nominations.item_label(ticked[position], current_locale()),
    )


async def note_typed(message: Message, state: FSMContext) -> None:
    data = await state.get_data()
    ticked, notes = data["ticked"], dict(data["notes"])
    position = len(notes)
    if not message.text:
        await message.answer(_ask_note(ticked, position), reply_markup=cancel_keyboard())
        return
    notes[ticked[position]] = nominations.clean_note(message.text)
    await state.update_data(notes=notes)
    if len(notes) < len(ticked):
        await message.answer(_ask_note(ticked, len(notes)), reply_markup=cancel_keyboard())
        return
    await state.set_state(PrecheckForm.deadline)
    await message.answer(t("precheck.ask_deadline"), reply_markup=cancel_keyboard())


async def deadline_typed(
    message: Message, actor: Actor, session: AsyncSession, state: FSMContext, clock: Clock
) -> None:
    day = _parse_day(message.text)
    if day is None:
        await message.answer(t("precheck.ask_deadline_format"), reply_markup=cancel_keyboard())
        return
    deadline = nominations.deadline_from_day(day, clock.now())
    data = await state.get_data()
    items = [[item, data["notes"][item]] for item in data["ticked"]]
    confirm = await tokens.issue(
        session,
        telegram_id=actor.telegram_id,
        action="precheck.return_confirm",
        now=clock.now(),
        ttl=TOKEN_TTL,
        nomination_id=data["nomination"],
        items=items,
        deadline=deadline.isoformat(),
    )
    await session.commit()
    await state.clear()
    listing = nominations.deficiency_list([(i, n) for i, n in items], current_locale())
    await message.answer(
        t(
            "precheck.confirm_return",
            id=data["nomination"],
            count=len(items),
            items=listing,
            deadline=nominations.local_deadline(deadline),
        ),
        reply_markup=keyboard([[token_button(t("precheck.confirm"), confirm)]]),
    )


async def do_return(
    query: CallbackQuery, payload: dict[str, Any], actor: Actor, session: AsyncSession, clock: Clock
) -> None:
    nomination = await nominations.precheck_return(
        session,
        actor,
        payload["nomination_id"],
        [(item, note) for item, note in payload["items"]],
        datetime.fromisoformat(payload["deadline"]),
        clock.now(),
    )
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(t("precheck.returned", id=nomination.id, count=len(payload["items"])))


# 核实 ----------------------------------------------------------------------------------------------


async def ask_verification(
    query: CallbackQuery, payload: dict[str, Any], actor: Actor, session: AsyncSession, state: FSMContext
) -> None:
    await nominations.office_view(session, actor, payload["nomination_id"])
    await query.answer()
    await state.set_state(PrecheckForm.verify_date)
    await state.set_data({"nomination": payload["nomination_id"], "files": []})
    if isinstance(query.message, Message):
        await query.message.answer(
            t("precheck.ask_verify_date", id=payload["nomination_id"]), reply_markup=cancel_keyboard()
        )


async def verification_date_typed(message: Message, state: FSMContext, clock: Clock) -> None:
    day = _parse_day(message.text)
    if day is None:
        await message.answer(t("precheck.ask_deadline_format"), reply_markup=cancel_keyboard())
        return
    nominations.check_verification_day(day, clock.now())
    await state.update_data(on=day.isoformat())
    await state.set_state(PrecheckForm.verify_finding)
    await message.answer(t("precheck.ask_finding"), reply_markup=cancel_keyboard())


async def finding_typed(message: Message, state: FSMContext) -> None:
    text = await typed_text(message, t("precheck.ask_finding"))
    if text is None:
        return
    await state.update_data(finding=nominations.clean_note(text))
    await state.set_state(PrecheckForm.verify_files)
    await message.answer(
        t("precheck.ask_verify_files"),
        reply_markup=cancel_keyboard([plain_button(t("precheck.done"), PrecheckStep(what="done").pack())]),
    )


async def verification_file(
    message: Message, state: FSMContext, bot: Bot, file_store: files.FileStore
) -> None:
    """A document or a photo taken on site: checked with limits like every upload."""
    checked = await uploads.receive(message, bot, photo_name="verification")
    if checked is None:
        await message.answer(t("precheck.ask_verify_files"), reply_markup=cancel_keyboard())
        return
    data = await state.get_data()
    await state.update_data(files=[*data["files"], file_store.put(checked.data)])
    await message.answer(t("precheck.verify_file_kept", name=checked.safe_name))


async def step(
    query: CallbackQuery,
    callback_data: PrecheckStep,
    actor: Actor,
    session: AsyncSession,
    state: FSMContext,
    clock: Clock,
) -> None:
    if callback_data.what == "xlsx":
        export = await exports.nomination_list(session, actor, clock.now(), current_locale())
        await query.answer()
        if isinstance(query.message, Message):
            await query.message.answer_document(
                BufferedInputFile(export.data, export.file_name),
                caption=t("precheck.list_caption"),
                protect_content=True,
            )
        return
    if callback_data.what != "done" or await state.get_state() != PrecheckForm.verify_files.state:
        raise DomainError("precheck.form_closed")
    data = await state.get_data()
    check = await nominations.record_verification(
        session,
        actor,
        data["nomination"],
        date.fromisoformat(data["on"]),
        data["finding"],
        data["files"],
        clock.now(),
    )
    await state.clear()
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(t("precheck.verified", id=check.nomination_id, count=len(check.files)))


# Exports -------------------------------------------------------------------------------------------


async def export_dossier(
    query: CallbackQuery,
    payload: dict[str, Any],
    actor: Actor,
    session: AsyncSession,
    file_store: files.FileStore,
) -> None:
    export = await exports.dossier_zip(session, actor, payload["nomination_id"], file_store, current_locale())
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer_document(
            BufferedInputFile(export.data, export.file_name),
            caption=t("precheck.zip_caption", id=payload["nomination_id"]),
            protect_content=True,
        )


async def export_command(
    message: Message,
    command: CommandObject,
    actor: Actor,
    session: AsyncSession,
    clock: Clock,
    file_store: files.FileStore,
) -> None:
    """/export: the campaign's list; /export <id>: one nomination's dossier."""
    argument = (command.args or "").strip()
    nomination_id = typed_id(argument)
    if argument and nomination_id is None:
        await message.answer(t("precheck.export_usage"))
        return
    if nomination_id is not None:
        export = await exports.dossier_zip(session, actor, nomination_id, file_store, current_locale())
    else:
        export = await exports.nomination_list(session, actor, clock.now(), current_locale())
    await message.answer_document(BufferedInputFile(export.data, export.file_name), protect_content=True)


def build() -> Router:
    router = Router(name=__name__)
    router.message.register(queue, Command("precheck"))
    router.callback_query.register(queue, Menu.filter(F.item == "precheck"))
    router.message.register(export_command, Command("export"))
    router.callback_query.register(open_nomination, PrecheckOpen.filter())
    router.callback_query.register(do_pass, ActionFilter("precheck.pass"))
    router.callback_query.register(ask_reason, ActionFilter("precheck.reject"))
    router.callback_query.register(ask_items, ActionFilter("precheck.return"))
    router.callback_query.register(do_return, ActionFilter("precheck.return_confirm"))
    router.callback_query.register(ask_verification, ActionFilter("precheck.verify"))
    router.callback_query.register(export_dossier, ActionFilter("precheck.export"))
    router.callback_query.register(tick, PrecheckTick.filter())
    router.callback_query.register(step, PrecheckStep.filter())
    router.message.register(reason_typed, PrecheckForm.reason)
    router.message.register(still_ticking, PrecheckForm.ticking)
    router.message.register(note_typed, PrecheckForm.note)
    router.message.register(deadline_typed, PrecheckForm.deadline)
    router.message.register(verification_date_typed, PrecheckForm.verify_date)
    router.message.register(finding_typed, PrecheckForm.verify_finding)
    router.message.register(verification_file, PrecheckForm.verify_files)
    return router
