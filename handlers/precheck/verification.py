"""核实: the office records a spot check or visit, its finding and files; the list's export button."""

from datetime import date

from aiogram import Bot, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import BufferedInputFile, CallbackQuery, Message
from sqlmodel.ext.asyncio.session import AsyncSession

from documents import nomination_list
from handlers import uploads
from handlers.callbacks import ActionFilter, PrecheckStep
from handlers.keyboards import cancel_keyboard, plain_button
from handlers.payloads import OfNomination
from handlers.precheck.common import parse_day
from handlers.render import current_locale, t, typed_text
from handlers.states import PrecheckForm
from services import exports
from services.actors import Actor
from services.errors import DomainError
from services.files.store import FileStore
from services.nominations import office_view, precheck
from services.ports import Clock


async def ask_verification(
    query: CallbackQuery, payload: OfNomination, actor: Actor, session: AsyncSession, state: FSMContext
) -> None:
    await office_view.office_view(session, actor, payload.nomination_id)
    await query.answer()
    await state.set_state(PrecheckForm.verify_date)
    await state.set_data({"nomination": payload.nomination_id, "files": []})
    if isinstance(query.message, Message):
        await query.message.answer(
            t("precheck.ask_verify_date", id=payload.nomination_id), reply_markup=cancel_keyboard()
        )


async def verification_date_typed(message: Message, state: FSMContext, clock: Clock) -> None:
    day = parse_day(message.text)
    if day is None:
        await message.answer(t("precheck.ask_deadline_format"), reply_markup=cancel_keyboard())
        return
    precheck.check_verification_day(day, clock.now())
    await state.update_data(on=day.isoformat())
    await state.set_state(PrecheckForm.verify_finding)
    await message.answer(t("precheck.ask_finding"), reply_markup=cancel_keyboard())


async def finding_typed(message: Message, state: FSMContext) -> None:
    text = await typed_text(message, t("precheck.ask_finding"))
    if text is None:
        return
    await state.update_data(finding=precheck.clean_note(text))
    await state.set_state(PrecheckForm.verify_files)
    await message.answer(
        t("precheck.ask_verify_files"),
        reply_markup=cancel_keyboard([plain_button(t("precheck.done"), PrecheckStep(what="done").pack())]),
    )


async def verification_file(message: Message, state: FSMContext, bot: Bot, file_store: FileStore) -> None:
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
        listing = await exports.campaign_list(session, actor, clock.now())
        export = nomination_list.workbook(listing, current_locale())
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
    check = await precheck.record_verification(
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


def build() -> Router:
    router = Router(name=__name__)
    router.callback_query.register(ask_verification, ActionFilter("precheck.verify"))
    router.callback_query.register(step, PrecheckStep.filter())
    router.message.register(verification_date_typed, PrecheckForm.verify_date)
    router.message.register(finding_typed, PrecheckForm.verify_finding)
    router.message.register(verification_file, PrecheckForm.verify_files)
    return router
