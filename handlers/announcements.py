"""Announcements (第十七条第3项): the office composes text and optionally one image or document,
previews it exactly as recipients will see it, then confirms; the outbox sender delivers it and
edits the confirmation into live progress. Everyone chooses with /subscribe and /unsubscribe."""

from typing import Any

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, FSInputFile, Message
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers import uploads
from handlers.callbacks import ActionFilter, AnnounceStep, Menu, Subscription
from handlers.keyboards import keyboard, plain_button, token_button
from handlers.payloads import AnnouncementCancel, AnnouncementConfirm
from handlers.render import answer_target, t
from handlers.states import Announcing
from models import ActionToken
from services import broadcasts
from services.actors import Actor
from services.broadcasts import Draft
from services.files.store import FileStore
from services.ports import Clock


def _compose_keyboard():  # noqa: ANN202
    return keyboard(
        [
            [
                plain_button(t("announce.preview_button"), AnnounceStep(step="preview").pack()),
                plain_button(t("announce.cancel_button"), AnnounceStep(step="cancel").pack()),
            ]
        ]
    )


# Composing ---------------------------------------------------------------------------------------


async def start(event: Message | CallbackQuery, actor: Actor, state: FSMContext) -> None:
    broadcasts.require_office(actor)
    message = await answer_target(event)
    if message is None:
        return
    await state.set_state(Announcing.compose)
    await state.set_data({})
    await message.answer(t("announce.ask"), reply_markup=_compose_keyboard())


async def text_given(message: Message, actor: Actor, state: FSMContext) -> None:
    broadcasts.require_office(actor)
    text = (message.text or "").strip()
    if not text:
        await message.answer(t("announce.reask"), reply_markup=_compose_keyboard())
        return
    draft = broadcasts.check_draft(Draft.of({**await state.get_data(), "text": text}))
    await state.update_data(text=draft.text)
    await message.answer(t("announce.saved_text", chars=len(draft.text)), reply_markup=_compose_keyboard())


async def file_given(
    message: Message, actor: Actor, state: FSMContext, bot: Bot, file_store: FileStore
) -> None:
    broadcasts.require_office(actor)
    checked = await uploads.receive(message, bot)
    if checked is None:
        await message.answer(t("announce.reask"), reply_markup=_compose_keyboard())
        return
    kind = "photo" if message.photo else "document"  # a photo is shown as one, anything else attached
    data = await state.get_data()
    text = (message.caption or "").strip() or str(data.get("text") or "")  # a caption becomes the text
    draft = broadcasts.check_draft(Draft(text, checked.sha256, checked.safe_name, kind))
    file_store.put(checked.data)
    await state.update_data(**draft.as_dict())
    await message.answer(t("announce.saved_file", name=checked.safe_name), reply_markup=_compose_keyboard())


async def reask(message: Message) -> None:
    await message.answer(t("announce.reask"), reply_markup=_compose_keyboard())


async def drop_draft(query: CallbackQuery, state: FSMContext) -> None:
    await state.clear()
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_text(t("announce.cancelled"))


# Preview and confirmation ------------------------------------------------------------------------


async def show(message: Message, draft: Draft, file_store: FileStore) -> None:
    """The announcement exactly as the outbox sender will render it for every recipient."""
    text = t(broadcasts.TEMPLATE, text=draft.text)
    if draft.file_sha256 is None:
        await message.answer(text)
        return
    upload = FSInputFile(file_store.path(draft.file_sha256), filename=draft.file_name or "file")
    if draft.file_kind == "photo":
        await message.answer_photo(upload, caption=text or None)
    else:
        await message.answer_document(upload, caption=text or None)


async def preview(
    query: CallbackQuery,
    actor: Actor,
    session: AsyncSession,
    state: FSMContext,
    clock: Clock,
    settings: Any,
    file_store: FileStore,
) -> None:
    proposal = await broadcasts.propose(
        session, actor, Draft.of(await state.get_data()), settings.announcement_chat_id, clock.now()
    )
    await query.answer()
    if not isinstance(query.message, Message):
        return
    await query.message.answer(t("announce.preview_title"))
    await show(query.message, proposal.draft, file_store)
    question = "announce.confirm_with_channel" if settings.announcement_chat_id else "announce.confirm"
    await query.message.answer(
        t(question, count=proposal.recipients),
        reply_markup=keyboard(
            [
                [
                    token_button(t("announce.confirm_button"), proposal.confirm_token),
                    token_button(t("announce.cancel_button"), proposal.cancel_token),
                ]
            ]
        ),
    )


async def confirm(
    query: CallbackQuery,
    payload: AnnouncementConfirm,
    action_token: ActionToken,
    actor: Actor,
    session: AsyncSession,
    state: FSMContext,
    clock: Clock,
    settings: Any,
) -> None:
    # The confirmation message itself becomes the progress message the sender keeps editing.
    message = query.message if isinstance(query.message, Message) else None
    sending = await broadcasts.send(
        session,
        actor,
        action_token.token,
        payload.model_dump(),
        announcement_chat_id=settings.announcement_chat_id,
        progress_chat_id=message.chat.id if message else None,
        progress_message_id=message.message_id if message else None,
        now=clock.now(),
    )
    if not sending.created:
        await query.answer(t("announce.already_sent"), show_alert=True)
        return
    await query.answer()
    await state.clear()
    if message is not None:
        started = broadcasts.Progress(
            sending.broadcast.id or 0, sending.broadcast.total, {"pending": sending.broadcast.total}
        )
        await message.edit_text(t(started.template, **started.params))


async def cancel(
    query: CallbackQuery, payload: AnnouncementCancel, actor: Actor, session: AsyncSession, state: FSMContext
) -> None:
    await broadcasts.cancel(session, actor, payload.model_dump())
    await state.clear()
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_text(t("announce.cancelled"))


# Subscription ------------------------------------------------------------------------------------


async def subscribe(message: Message, actor: Actor, session: AsyncSession, clock: Clock) -> None:
    changed = await broadcasts.set_subscribed(session, actor, True, clock.now())
    await message.answer(t("subscribe.on" if changed else "subscribe.already_on"))


async def unsubscribe(message: Message, actor: Actor, session: AsyncSession, clock: Clock) -> None:
    changed = await broadcasts.set_subscribed(session, actor, False, clock.now())
    await message.answer(t("subscribe.off" if changed else "subscribe.already_off"))


async def subscription(event: Message | CallbackQuery, actor: Actor, session: AsyncSession) -> None:
    subscribed = await broadcasts.is_subscribed(session, actor)
    message = await answer_target(event)
    if message is None:
        return
    label = "subscribe.turn_off" if subscribed else "subscribe.turn_on"
    await message.answer(
        t("subscribe.status_on" if subscribed else "subscribe.status_off"),
        reply_markup=keyboard([[plain_button(t(label), Subscription(on=not subscribed).pack())]]),
    )


async def toggle(
    query: CallbackQuery, callback_data: Subscription, actor: Actor, session: AsyncSession, clock: Clock
) -> None:
    await broadcasts.set_subscribed(session, actor, callback_data.on, clock.now())
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_text(t("subscribe.on" if callback_data.on else "subscribe.off"))


def build() -> Router:
    router = Router(name=__name__)
    router.message.register(start, Command("announce"))
    router.callback_query.register(start, Menu.filter(F.item == "announce"))
    router.message.register(text_given, Announcing.compose, F.text)
    router.message.register(file_given, Announcing.compose, F.photo | F.document)
    router.message.register(reask, Announcing.compose)
    router.callback_query.register(preview, Announcing.compose, AnnounceStep.filter(F.step == "preview"))
    router.callback_query.register(drop_draft, AnnounceStep.filter(F.step == "cancel"))
    router.callback_query.register(confirm, ActionFilter("announce.confirm"))
    router.callback_query.register(cancel, ActionFilter("announce.cancel"))
    router.message.register(subscribe, Command("subscribe"))
    router.message.register(unsubscribe, Command("unsubscribe"))
    router.callback_query.register(subscription, Menu.filter(F.item == "subscribe"))
    router.callback_query.register(toggle, Subscription.filter())
    return router
