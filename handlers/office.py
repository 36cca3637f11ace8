"""Office staff: invite people into roles with one-time deep links, list role holders, revoke."""

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.callbacks import ActionFilter, InviteRole, Menu
from handlers.channel import links
from handlers.keyboards import cancel_keyboard, keyboard, plain_button, token_button
from handlers.payloads import Assignment
from handlers.render import answer_target, ask_for_text, organisation_name, role_name, t
from handlers.states import RevokeRole
from models import Role
from services import people, tokens
from services.actors import Actor
from services.errors import DomainError
from services.ports import Clock


async def choose_role(event: Message | CallbackQuery, actor: Actor) -> None:
    message = await answer_target(event)
    if message is None:
        return
    rows = [[plain_button(role_name(role), InviteRole(role=role.value).pack())] for role in Role]
    await message.answer(t("invite.choose_role"), reply_markup=keyboard(rows))


async def invite(
    query: CallbackQuery,
    callback_data: InviteRole,
    actor: Actor,
    session: AsyncSession,
    clock: Clock,
    bot: Bot,
) -> None:
    try:
        role = Role(callback_data.role)
    except ValueError:
        raise DomainError("button.unknown") from None
    await query.answer()
    if not isinstance(query.message, Message):
        return
    if role in people.ROLES_WITH_ORGANISATION and not callback_data.organisation_id:
        rows = [
            [
                plain_button(
                    organisation_name(o, actor.language),
                    InviteRole(role=role.value, organisation_id=o.id or 0).pack(),
                )
            ]
            for o in await people.organisations(session)
        ]
        await query.message.edit_text(t("invite.choose_organisation"), reply_markup=keyboard(rows))
        return
    invitation = await people.invite(
        session, actor, role=role, organisation_id=callback_data.organisation_id or None, now=clock.now()
    )
    link = (await links(bot)).invitation(invitation.token)
    await query.message.edit_text(
        t("invite.link", role=role_name(role), link=link, days=people.INVITATION_TTL.days)
    )


async def list_roles(
    event: Message | CallbackQuery, actor: Actor, session: AsyncSession, clock: Clock
) -> None:
    holders = await people.role_holders(session, actor)
    message = await answer_target(event)
    if message is None:
        return
    if not holders:
        await message.answer(t("roles.none"))
        return
    names = {o.id: organisation_name(o, actor.language) for o in await people.organisations(session)}
    lines, rows = [t("roles.title")], []
    for holder in holders:
        where = f" · {names.get(holder.organisation_id, '')}" if holder.organisation_id else ""
        lines.append(t("roles.line", name=holder.person_name, role=role_name(holder.role), where=where))
        token = await tokens.issue(
            session,
            person_id=actor.person_id,
            action="role.revoke",
            now=clock.now(),
            assignment_id=holder.assignment_id,
        )
        rows.append(
            [token_button(t("roles.revoke", name=holder.person_name, role=role_name(holder.role)), token)]
        )
    await message.answer("\n".join(lines), reply_markup=keyboard(rows))


async def ask_reason(query: CallbackQuery, payload: Assignment, actor: Actor, state: FSMContext) -> None:
    await ask_for_text(
        query, state, RevokeRole.reason, t("roles.ask_reason"), assignment_id=payload.assignment_id
    )


async def revoke(
    message: Message, actor: Actor, state: FSMContext, session: AsyncSession, clock: Clock
) -> None:
    reason = (message.text or "").strip()
    if not reason:
        await message.answer(t("roles.ask_reason"), reply_markup=cancel_keyboard())
        return
    assignment_id = (await state.get_data())["assignment_id"]
    holder = await people.revoke_role(session, actor, assignment_id, clock.now(), reason)
    await state.clear()
    await message.answer(t("roles.revoked", name=holder.person_name, role=role_name(holder.role)))


def build() -> Router:
    router = Router(name=__name__)
    router.message.register(choose_role, Command("invite"))
    router.callback_query.register(choose_role, Menu.filter(F.item == "invite"))
    router.callback_query.register(invite, InviteRole.filter())
    router.message.register(list_roles, Command("roles"))
    router.callback_query.register(list_roles, Menu.filter(F.item == "roles"))
    router.callback_query.register(ask_reason, ActionFilter("role.revoke"))
    router.message.register(revoke, RevokeRole.reason, F.text)
    return router
