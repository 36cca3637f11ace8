"""The queue by honour, and one nomination's dossier with its files and the office's buttons."""

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.types import BufferedInputFile, CallbackQuery, InlineKeyboardButton, Message
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.callbacks import Menu, PrecheckOpen, PrecheckStep
from handlers.keyboards import keyboard, plain_button, token_button
from handlers.precheck.common import TOKEN_TTL
from handlers.render import answer_target, current_locale, item_label, local_minute, organisation_name, t
from models import Nomination, Organisation
from services import exports, tokens
from services.actors import Actor
from services.files import kinds
from services.files.store import FileStore
from services.nominations import office_view, precheck
from services.ports import Clock
from services.rules.dossier import FIELDS


def _name(nomination: Nomination) -> str:
    return exports.display_name(nomination) or "—"


def _organisation(organisation: Organisation | None) -> str:
    return organisation_name(organisation, current_locale()) if organisation else "—"


# The queue -----------------------------------------------------------------------------------------


async def queue(event: Message | CallbackQuery, actor: Actor, session: AsyncSession) -> None:
    waiting = await office_view.office_queue(session, actor)
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


def _summary(view: office_view.OfficeView) -> str:
    nomination = view.nomination
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
                at=local_minute(view.endorsement.endorsed_at),
            )
        )
    lines.append(t("precheck.materials_line", count=len(view.materials)))
    lines += [
        t(
            "precheck.material_line",
            what=item_label(f"material:{m.slot}"),
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
    if view.supplemented and view.changes is not None:
        lines += _changes(view.changes)
    return "\n".join(lines)


def _changes(changes: office_view.Changes) -> list[str]:
    lines = [t("precheck.changes_title")]
    lines += [
        t("precheck.changes_item", what=item_label(item), note=note or "—")
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
        t("precheck.changes_added", what=item_label(f"material:{slot}"), name=name)
        for slot, name in changes.added
    ]
    lines += [
        t("precheck.changes_removed", what=item_label(f"material:{slot}"), name=name)
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
    file_store: FileStore,
) -> None:
    view = await office_view.office_view(session, actor, callback_data.nomination)
    await query.answer()
    chat_id = query.from_user.id
    await bot.send_message(chat_id, _summary(view))
    # Dossiers go out protected: they cannot be forwarded or saved from the chat.
    for material in view.materials:
        await bot.send_document(
            chat_id,
            BufferedInputFile(file_store.get(material.sha256), material.file_name),
            caption=item_label(f"material:{material.slot}"),
            protect_content=True,
        )
    if view.endorsement is not None:
        seal = file_store.get(view.endorsement.seal_sha256)
        kind = kinds.sniff(seal) or "pdf"
        await bot.send_document(
            chat_id,
            BufferedInputFile(seal, f"seal{kinds.EXTENSIONS[kind][0]}"),
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
            person_id=actor.person_id,
            action=action,
            now=clock.now(),
            ttl=TOKEN_TTL,
            nomination_id=nomination.id,
        )
        return token_button(t(label), token)

    rows = []
    if nomination.stage in precheck.DECIDABLE:
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
    return rows


def build() -> Router:
    router = Router(name=__name__)
    router.message.register(queue, Command("precheck"))
    router.callback_query.register(queue, Menu.filter(F.item == "precheck"))
    router.callback_query.register(open_nomination, PrecheckOpen.filter())
    return router
