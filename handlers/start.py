"""First contact: introduction, privacy notice and consent, invitations, and a person's own data."""

import json

from aiogram import F, Router
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.types import BufferedInputFile, CallbackQuery, Message
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.callbacks import ActionFilter, Confirm, Consent, Menu, StartLink
from handlers.channel import INVITATION_PREFIX
from handlers.keyboards import consent_keyboard, keyboard, menu_keyboard, plain_button, token_button
from handlers.payloads import Invitation
from handlers.render import answer_target, organisation_name, role_name, t
from models import Organisation
from services import people, tokens
from services.actors import Actor
from services.menu import menu_items
from services.ports import Clock

AFTER_CONSENT = "after_consent"  # FSM data: the deep-link payload to continue with once agreed


async def start(
    message: Message,
    command: CommandObject,
    actor: Actor,
    state: FSMContext,
    session: AsyncSession,
    clock: Clock,
) -> None:
    payload = command.args or ""
    if not actor.registered:
        await state.update_data({AFTER_CONSENT: payload})
        await message.answer(t("start.intro"))
        await message.answer(t("privacy.notice"), reply_markup=consent_keyboard())
        return
    if await continue_deep_link(message, payload, actor, session, clock):
        return
    await message.answer(
        t("start.welcome_back", name=actor.name), reply_markup=menu_keyboard(menu_items(actor))
    )


async def continue_deep_link(
    message: Message, payload: str, actor: Actor, session: AsyncSession, clock: Clock
) -> bool:
    link = StartLink.parse(payload)
    if link is not None and link.kind == INVITATION_PREFIX:
        await show_invitation(message, link.rest, actor, session, clock)
        return True
    return False


async def show_invitation(
    message: Message, token: str, actor: Actor, session: AsyncSession, clock: Clock
) -> None:
    invitation = await people.open_invitation(session, token, clock.now())
    organisation = (
        await session.get(Organisation, invitation.organisation_id) if invitation.organisation_id else None
    )
    accept = await tokens.issue(
        session, person_id=actor.person_id, action="invite.accept", now=clock.now(), invitation=token
    )
    where = (
        t("invitation.of_organisation", organisation=organisation_name(organisation, actor.language))
        if organisation
        else ""
    )
    await message.answer(
        t("invitation.offer", role=role_name(invitation.role), where=where),
        reply_markup=keyboard([[token_button(t("invitation.accept"), accept)]]),
    )


async def accept_invitation(
    query: CallbackQuery, payload: Invitation, actor: Actor, session: AsyncSession, clock: Clock
) -> None:
    invitation = await people.accept_invitation(session, actor, payload.invitation, clock.now())
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_text(t("invitation.accepted", role=role_name(invitation.role)))


async def agree(
    query: CallbackQuery,
    actor: Actor,
    state: FSMContext,
    session: AsyncSession,
    clock: Clock,
    office_ids: tuple[int, ...],
) -> None:
    if actor.registered:  # a second tap, or the old notice pressed later: nothing to redo, nothing to resend
        await query.answer(t("consent.already_given"), show_alert=True)
        return
    await query.answer()
    user = query.from_user
    person = await people.register(
        session,
        address=actor.address,
        name=user.full_name,
        language=actor.language,
        now=clock.now(),
        office=user.id in office_ids,
    )
    actor = await people.load_actor(session, actor.address, fallback_language=person.language)
    payload = (await state.get_data()).get(AFTER_CONSENT) or ""  # None once used: a second tap finds nothing
    await state.update_data({AFTER_CONSENT: None})
    if isinstance(query.message, Message):
        await query.message.edit_text(t("consent.thanks"))
        if await continue_deep_link(query.message, payload, actor, session, clock):
            return
        await query.message.answer(t("menu.title"), reply_markup=menu_keyboard(menu_items(actor)))


async def decline(query: CallbackQuery) -> None:
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_text(t("consent.declined"))


async def privacy(event: Message | CallbackQuery, actor: Actor) -> None:
    message = await answer_target(event)
    if message is None:
        return
    await message.answer(t("privacy.notice"), reply_markup=None if actor.registered else consent_keyboard())


async def my_data(message: Message, actor: Actor, session: AsyncSession) -> None:
    data = await people.export_data(session, actor)
    body = json.dumps(data, ensure_ascii=False, indent=2).encode()
    await message.answer_document(
        BufferedInputFile(body, filename="my-data.json"), caption=t("mydata.caption")
    )


async def forget_ask(message: Message, actor: Actor) -> None:
    people.require_registered(actor)
    await message.answer(
        t("forget.confirm"),
        reply_markup=keyboard(
            [
                [
                    plain_button(t("forget.yes"), Confirm(what="forget", yes=True).pack()),
                    plain_button(t("forget.no"), Confirm(what="forget", yes=False).pack()),
                ]
            ]
        ),
    )


async def forget_answer(
    query: CallbackQuery,
    callback_data: Confirm,
    actor: Actor,
    session: AsyncSession,
    state: FSMContext,
    clock: Clock,
) -> None:
    await query.answer()
    if not callback_data.yes:
        if isinstance(query.message, Message):
            await query.message.edit_text(t("forget.kept"))
        return
    await people.forget(session, actor, clock.now())
    await state.clear()
    if isinstance(query.message, Message):
        await query.message.edit_text(t("forget.done"))


def build() -> Router:
    router = Router(name=__name__)
    router.message.register(start, CommandStart())
    router.callback_query.register(accept_invitation, ActionFilter("invite.accept"))
    router.callback_query.register(agree, Consent.filter(F.agree))
    router.callback_query.register(decline, Consent.filter(~F.agree))
    router.callback_query.register(privacy, Menu.filter(F.item == "consent"))
    router.callback_query.register(privacy, Menu.filter(F.item == "privacy"))
    router.message.register(privacy, Command("privacy"))
    router.message.register(my_data, Command("mydata"))
    router.message.register(forget_ask, Command("forget"))
    router.callback_query.register(forget_answer, Confirm.filter(F.what == "forget"))
    return router
