"""Exports: one nomination's dossier (ZIP) and the campaign's list (Excel)."""

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import BufferedInputFile, CallbackQuery, Message
from sqlmodel.ext.asyncio.session import AsyncSession

from documents import dossier, nomination_list
from handlers.callbacks import ActionFilter, typed_id
from handlers.payloads import OfNomination
from handlers.render import current_locale, t
from services import exports
from services.actors import Actor
from services.files.store import FileStore
from services.nominations import office_view
from services.ports import Clock


async def export_dossier(
    query: CallbackQuery,
    payload: OfNomination,
    actor: Actor,
    session: AsyncSession,
    file_store: FileStore,
) -> None:
    view = await office_view.office_view(session, actor, payload.nomination_id)
    export = dossier.archive(view, file_store, current_locale())
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer_document(
            BufferedInputFile(export.data, export.file_name),
            caption=t("precheck.zip_caption", id=payload.nomination_id),
            protect_content=True,
        )


async def export_command(
    message: Message,
    command: CommandObject,
    actor: Actor,
    session: AsyncSession,
    clock: Clock,
    file_store: FileStore,
) -> None:
    """/export: the campaign's list; /export <id>: one nomination's dossier."""
    argument = (command.args or "").strip()
    nomination_id = typed_id(argument)
    if argument and nomination_id is None:
        await message.answer(t("precheck.export_usage"))
        return
    if nomination_id is not None:
        view = await office_view.office_view(session, actor, nomination_id)
        export = dossier.archive(view, file_store, current_locale())
    else:
        listing = await exports.campaign_list(session, actor, clock.now())
        export = nomination_list.workbook(listing, current_locale())
    await message.answer_document(BufferedInputFile(export.data, export.file_name), protect_content=True)


def build() -> Router:
    router = Router(name=__name__)
    router.message.register(export_command, Command("export"))
    router.callback_query.register(export_dossier, ActionFilter("precheck.export"))
    return router
