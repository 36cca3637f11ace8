"""People: consent, language, roles, one-time invitations, and the data a person may see or erase."""

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from models import (
    ActionToken,
    AuditRecord,
    ChannelAccount,
    FsmRecord,
    Invitation,
    Organisation,
    Person,
    Role,
    RoleAssignment,
)
from services import audit, outbox
from services.actors import Actor, Address, RoleGrant
from services.errors import DomainError

INVITATION_TTL = timedelta(days=7)
LANGUAGES = ("zh_CN", "en")
ROLES_WITH_ORGANISATION = frozenset({Role.RECOMMENDER})


def at(address: Address) -> SelectOfScalar[Person]:
    """The person with an account at this address."""
    return select(Person).where(col(Person.id).in_(_accounts(address)))


async def load_actor(session: AsyncSession, address: Address, *, fallback_language: str) -> Actor:
    person = (await session.exec(at(address))).first()
    if person is None:
        return Actor(address=address, language=fallback_language)
    grants = (
        await session.exec(
            select(RoleAssignment).where(
                RoleAssignment.person_id == person.id, col(RoleAssignment.revoked_at).is_(None)
            )
        )
    ).all()
    if person.blocked_at is not None:  # they write to the bot again: it reaches them again
        person.blocked_at = None  # staged: the caller commits it
        session.add(person)
    return Actor(
        address=address,
        person_id=person.id,
        name=person.name,
        language=person.language,
        grants=tuple(RoleGrant(g.role, g.organisation_id) for g in grants),
    )


async def mark_blocked(session: AsyncSession, address: Address, now: datetime) -> None:
    """The channel refused to deliver to this person: they blocked the bot. Commits."""
    await session.exec(
        update(Person)
        .where(col(Person.id).in_(_accounts(address)), col(Person.blocked_at).is_(None))
        .values(blocked_at=now)
        .execution_options(synchronize_session=False)
    )
    await session.commit()


def _accounts(address: Address) -> SelectOfScalar[int]:
    """The person id behind an address (one, or none)."""
    return select(ChannelAccount.person_id).where(
        ChannelAccount.channel == address.channel, ChannelAccount.address == address.id
    )


async def register(
    session: AsyncSession,
    *,
    address: Address,
    name: str,
    language: str,
    now: datetime,
    office: bool = False,
) -> Person:
    """Record consent. Only from here on is anything personal kept. Idempotent. `office`: the
    address is one the deployment names as the office's (OFFICE_IDS)."""
    person = (await session.exec(at(address))).first()
    if person is not None:
        return person
    person = Person(name=name[:128], language=_language(language), consent_at=now)
    session.add(person)
    await session.flush()
    assert person.id is not None  # the flush gave it one
    session.add(ChannelAccount(person_id=person.id, channel=address.channel, address=address.id))
    await audit.append(
        session, actor_id=person.id, action="person.consented", subject=f"person:{person.id}", now=now
    )
    if office:
        session.add(RoleAssignment(person_id=person.id, role=Role.OFFICE, granted_at=now))
        await audit.append(
            session,
            actor_id=None,
            action="role.granted",
            subject=f"person:{person.id}",
            now=now,
            reason="OFFICE_IDS",
            role=Role.OFFICE,
        )
    await session.commit()
    return person


async def set_language(session: AsyncSession, actor: Actor, language: str) -> None:
    person = await _person(session, actor)
    person.language = _language(language)
    session.add(person)
    await session.commit()


def _language(language: str) -> str:
    if language not in LANGUAGES:
        raise DomainError("language.unknown")
    return language


async def _person(session: AsyncSession, actor: Actor) -> Person:
    if actor.person_id is None:
        raise DomainError("consent.required")
    person = await session.get(Person, actor.person_id)
    if person is None:
        raise DomainError("consent.required")
    return person


def require_registered(actor: Actor) -> int:
    """The actor's person id; refused until they have agreed to the privacy notice."""
    if actor.person_id is None:
        raise DomainError("consent.required")
    return actor.person_id


def require_role(actor: Actor, role: Role) -> int:
    """The actor's person id; refused unless they hold the role."""
    person_id = require_registered(actor)
    if not actor.has(role):
        raise DomainError("role.required", role_key=f"role.{role.value}")
    return person_id


# Invitations -------------------------------------------------------------------------------------


async def invite(
    session: AsyncSession, actor: Actor, *, role: Role, organisation_id: int | None, now: datetime
) -> Invitation:
    office_id = require_role(actor, Role.OFFICE)
    if role in ROLES_WITH_ORGANISATION:
        if organisation_id is None or await session.get(Organisation, organisation_id) is None:
            raise DomainError("invitation.organisation_required")
    else:
        organisation_id = None
    invitation = Invitation(
        token=secrets.token_urlsafe(24),
        role=role,
        organisation_id=organisation_id,
        created_by=office_id,
        created_at=now,
        expires_at=now + INVITATION_TTL,
    )
    session.add(invitation)
    await session.flush()
    await audit.append(
        session,
        actor_id=actor.person_id,
        action="invitation.created",
        subject=f"invitation:{invitation.id}",
        now=now,
        role=role,
        organisation_id=organisation_id,
    )
    await session.commit()
    return invitation


async def open_invitation(session: AsyncSession, token: str, now: datetime) -> Invitation:
    invitation = (await session.exec(select(Invitation).where(Invitation.token == token))).first()
    if invitation is None:
        raise DomainError("invitation.unknown")
    if invitation.used_at is not None:
        raise DomainError("invitation.used")
    if invitation.expires_at <= now:
        raise DomainError("invitation.expired")
    return invitation


async def accept_invitation(session: AsyncSession, actor: Actor, token: str, now: datetime) -> Invitation:
    person = await _person(session, actor)
    assert person.id is not None  # a stored row
    # The row lock makes two presses (or two people) race for one invitation: only one wins.
    invitation = (
        await session.exec(select(Invitation).where(Invitation.token == token).with_for_update())
    ).first()
    if invitation is None:
        raise DomainError("invitation.unknown")
    if invitation.used_at is not None:
        raise DomainError("invitation.used")
    if invitation.expires_at <= now:
        raise DomainError("invitation.expired")
    invitation.used_at, invitation.used_by = now, person.id
    session.add(invitation)
    if RoleGrant(invitation.role, invitation.organisation_id) not in actor.grants:
        session.add(
            RoleAssignment(
                person_id=person.id,
                role=invitation.role,
                organisation_id=invitation.organisation_id,
                granted_by=invitation.created_by,
                granted_at=now,
            )
        )
    await audit.append(
        session,
        actor_id=person.id,
        action="role.granted",
        subject=f"person:{person.id}",
        now=now,
        reason=f"invitation:{invitation.id}",
        role=invitation.role,
        organisation_id=invitation.organisation_id,
    )
    await outbox.notify_person(
        session,
        invitation.created_by,
        "invitation.accepted_notice",
        now,
        params={"name": person.name, "role_key": f"role.{invitation.role.value}"},
    )
    await session.commit()
    return invitation


# Roles -------------------------------------------------------------------------------------------


async def grant_role(
    session: AsyncSession,
    *,
    person_id: int,
    role: Role,
    organisation_id: int | None,
    granted_by: int | None,
    now: datetime,
    reason: str,
) -> None:
    """Grant a role directly (the local offline mode's demo identities); audited like any grant."""
    session.add(
        RoleAssignment(
            person_id=person_id,
            role=role,
            organisation_id=organisation_id,
            granted_by=granted_by,
            granted_at=now,
        )
    )
    await audit.append(
        session,
        actor_id=granted_by,
        action="role.granted",
        subject=f"person:{person_id}",
        now=now,
        reason=reason,
        role=role,
        organisation_id=organisation_id,
    )
    await session.commit()


@dataclass(frozen=True)
class RoleHolder:
    assignment_id: int
    person_name: str
    person_id: int
    role: Role
    organisation_id: int | None


async def role_holders(session: AsyncSession, actor: Actor) -> list[RoleHolder]:
    require_role(actor, Role.OFFICE)
    rows = (
        await session.exec(
            select(RoleAssignment, Person)
            .join(Person, col(Person.id) == RoleAssignment.person_id)
            .where(col(RoleAssignment.revoked_at).is_(None))
            .order_by(RoleAssignment.role, Person.name)
        )
    ).all()
    holders = []
    for a, p in rows:
        assert a.id is not None  # a stored row
        holders.append(RoleHolder(a.id, p.name, a.person_id, a.role, a.organisation_id))
    return holders


async def revoke_role(
    session: AsyncSession, actor: Actor, assignment_id: int, now: datetime, reason: str
) -> RoleHolder:
    require_role(actor, Role.OFFICE)
    assignment = (
        await session.exec(select(RoleAssignment).where(RoleAssignment.id == assignment_id).with_for_update())
    ).first()
    if assignment is None or assignment.revoked_at is not None:
        raise DomainError("role.not_found")
    if assignment.role == Role.OFFICE:
        others = (
            await session.exec(
                select(RoleAssignment.id).where(
                    RoleAssignment.role == Role.OFFICE,
                    col(RoleAssignment.revoked_at).is_(None),
                    RoleAssignment.id != assignment_id,
                )
            )
        ).first()
        if others is None:
            raise DomainError("role.last_office")
    assignment.revoked_at, assignment.revoked_by = now, actor.person_id
    session.add(assignment)
    person = await session.get(Person, assignment.person_id)
    await audit.append(
        session,
        actor_id=actor.person_id,
        action="role.revoked",
        subject=f"person:{assignment.person_id}",
        now=now,
        reason=reason,
        role=assignment.role,
        organisation_id=assignment.organisation_id,
    )
    await outbox.notify_person(
        session,
        assignment.person_id,
        "roles.revoked_notice",
        now,
        params={"role_key": f"role.{assignment.role.value}", "reason": reason},
    )
    await session.commit()
    assert person is not None
    return RoleHolder(
        assignment_id, person.name, assignment.person_id, assignment.role, assignment.organisation_id
    )


async def organisations(session: AsyncSession) -> list[Organisation]:
    return list((await session.exec(select(Organisation).order_by(col(Organisation.id)))).all())


# The person's own data (PIPL) ---------------------------------------------------------------------


async def export_data(session: AsyncSession, actor: Actor) -> dict[str, Any]:
    person = await _person(session, actor)
    roles = (await session.exec(select(RoleAssignment).where(RoleAssignment.person_id == person.id))).all()
    records = (
        await session.exec(
            select(AuditRecord).where(AuditRecord.actor_id == person.id).order_by(col(AuditRecord.seq))
        )
    ).all()
    accounts = (await session.exec(select(ChannelAccount).where(ChannelAccount.person_id == person.id))).all()
    return {
        "person": person.model_dump(mode="json"),
        "accounts": [{"channel": a.channel, "address": a.address} for a in accounts],
        "roles": [r.model_dump(mode="json") for r in roles],
        "audit_records": [r.model_dump(mode="json") for r in records],
    }


async def forget(session: AsyncSession, actor: Actor, now: datetime) -> None:
    """Erase what identifies the person. The row stays, emptied, because decisions they took
    (audit records, invitations they issued) must stay accountable under a bare person number."""
    person = await _person(session, actor)
    accounts = (await session.exec(select(ChannelAccount).where(ChannelAccount.person_id == person.id))).all()
    await session.exec(delete(RoleAssignment).where(col(RoleAssignment.person_id) == person.id))
    await session.exec(delete(ActionToken).where(col(ActionToken.person_id) == person.id))
    for account in accounts:  # conversation keys name the address they are held for
        await session.exec(delete(FsmRecord).where(col(FsmRecord.key).contains(f":{account.address}:")))
        await session.delete(account)
    person.name, person.subscribed, person.blocked_at = "", False, now
    session.add(person)
    await audit.append(
        session, actor_id=person.id, action="person.forgotten", subject=f"person:{person.id}", now=now
    )
    await session.commit()
