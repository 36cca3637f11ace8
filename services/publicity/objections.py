"""Objections: anyone lodges one under their real name; the office member who owns the case rules on it."""

from datetime import datetime

from sqlmodel import func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models import Nomination, Objection, PublicityList, Role
from services import audit, campaigns, outbox, people, tokens
from services.actors import Actor
from services.errors import DomainError
from services.lifecycles.core import Party, apply, create
from services.lifecycles.objection import OBJECTION
from services.local_time import minute_text
from services.nominations import stages
from services.publicity.approval import forward_if_ready
from services.publicity.listing import ARTICLE, announce, locked_listing
from services.reviews.common import holders, nominee_name
from services.rules import dossier
from services.rules import publicity_rules as rules
from services.rules.nomination_flow import Stage


def normalise_phone(raw: str) -> str:
    """The objector's phone, normalised (full-width digits and spaces allowed), or a refusal."""
    return str(dossier.validate_field(dossier.FieldSpec("phone", dossier.Kind.PHONE), raw))


async def lodge_objection(
    session: AsyncSession,
    actor: Actor,
    nomination_id: int,
    *,
    grounds: str,
    contact_name: str,
    contact_phone: str,
    now: datetime,
    organisation: str = "",
    letter_sha256: str | None = None,
    evidence_sha256: str | None = None,
) -> Objection:
    people.require_registered(actor)
    nomination = await session.get(Nomination, nomination_id)
    listing = (
        await session.exec(
            select(PublicityList).where(
                PublicityList.campaign_id == (nomination.campaign_id if nomination else -1)
            )
        )
    ).first()
    if nomination is None or listing is None:
        raise DomainError("publicity.not_on_list")
    rules.check_objection(
        now=now,
        published_at=listing.published_at,
        ends_at=listing.ends_at,
        on_list=nomination_id in listing.nomination_ids and nomination.stage == Stage.SHORTLISTED,
        grounds=grounds,
        contact_name=contact_name,
        contact_phone=contact_phone,
        organisation=organisation,
        letter=letter_sha256,
    )
    phone = normalise_phone(contact_phone)
    office = await holders(session, Role.OFFICE)
    if not office:
        raise DomainError("publicity.no_office")
    load = {
        p.id: int(
            (
                await session.exec(
                    select(func.count())
                    .select_from(Objection)
                    .where(Objection.owner_id == p.id, Objection.status == rules.CaseStatus.OPEN.value)
                )
            ).one()
        )
        for p in office
    }
    owner = min(office, key=lambda p: (load[p.id], p.id or 0))  # the least busy office member owns the case
    deadline = rules.case_deadline(now, await campaigns.workdays(session))
    organisation = dossier.clean_text(organisation, 128) if organisation.strip() else ""
    objection: Objection = await create(
        session,
        OBJECTION,
        {
            "publicity_id": listing.id or 0,
            "nomination_id": nomination_id,
            "lodged_by": actor.person_id or 0,
            "contact_name": dossier.clean_text(contact_name, 64),
            "contact_phone": phone,
            "organisation": organisation,
            "letter_sha256": letter_sha256,
            "evidence_sha256": evidence_sha256,
            "grounds": dossier.clean_text(grounds, 2000),
            "lodged_at": now,
            "owner_id": owner.id,
            "deadline": deadline,
        },
        "lodge",
        party=Party.PUBLIC,
        actor_id=actor.person_id,
        now=now,
        phase=None,
        audit_action="objection.lodged",
        nomination_id=nomination_id,
        owner_id=owner.id,
        deadline=deadline.isoformat(),
        organisation=organisation,
    )
    buttons = []
    for action, label in (
        ("objection.uphold", "objection.uphold"),
        ("objection.dismiss", "objection.dismiss"),
    ):
        token = await tokens.issue(
            session, person_id=owner.id, action=action, now=now, objection_id=objection.id
        )
        buttons.append(outbox.button(label, token))
    await outbox.enqueue(
        session,
        person_id=owner.id,
        template="objection.new_case",
        now=now,
        buttons=[buttons],
        params={
            "case": objection.id,
            "id": nomination_id,
            "name": nominee_name(nomination),
            "grounds": objection.grounds,
            "contact": objection.contact_name,
            "phone": objection.contact_phone,
            "organisation": objection.organisation or "—",
            "deadline": minute_text(objection.deadline),
        },
    )
    await session.commit()
    return objection


async def open_case(session: AsyncSession, actor: Actor, objection_id: int) -> Objection:
    """The case the office is about to rule on, refused at once if it was ruled already."""
    people.require_role(actor, Role.OFFICE)
    objection = await session.get(Objection, objection_id)
    if objection is None:
        raise DomainError("publicity.case_not_found")
    if objection.status != rules.CaseStatus.OPEN:
        raise DomainError("publicity.already_ruled")
    return objection


async def rule(
    session: AsyncSession,
    actor: Actor,
    objection_id: int,
    upheld: bool,
    reason: str,
    now: datetime,
    announcement_chat_id: int | None = None,
) -> Objection:
    people.require_role(actor, Role.OFFICE)
    objection = (
        await session.exec(select(Objection).where(Objection.id == objection_id).with_for_update())
    ).first()
    if objection is None:
        raise DomainError("publicity.case_not_found")
    rules.check_ruling(objection.status, reason)
    reason = dossier.clean_text(reason, 2000)
    listing = await locked_listing(session, objection.publicity_id)
    objection.ruling, objection.ruled_by, objection.ruled_at = reason, actor.person_id, now
    ruling = await apply(
        session,
        OBJECTION,
        objection,
        "uphold" if upheld else "dismiss",
        party=Party.OFFICE,
        actor_id=actor.person_id,
        now=now,
        phase=None,
        reason=reason,
        audit_action=f"objection.{'upheld' if upheld else 'dismissed'}",
        nomination_id=objection.nomination_id,
    )
    status = ruling.target
    nomination = await session.get(Nomination, objection.nomination_id)
    assert nomination is not None
    if upheld and nomination.stage == Stage.SHORTLISTED.value:
        await stages.move(
            session,
            nomination,
            Stage.WITHDRAWN_ON_OBJECTION,
            Party.OFFICE,
            actor.person_id,
            now,
            reason=reason,
            objection_id=objection.id,
        )
        listing.nomination_ids = [n for n in listing.nomination_ids if n != nomination.id]
        listing.edition += 1
        session.add(listing)
        await audit.append(
            session,
            actor_id=actor.person_id,
            action="publicity.republished",
            subject=f"publicity:{listing.id}",
            now=now,
            article=ARTICLE,
            edition=listing.edition,
            nominations=listing.nomination_ids,
        )
        await announce(session, listing, now, announcement_chat_id)
        await outbox.notify_person(
            session,
            nomination.applicant_id,
            "objection.withdrawn_notice",
            now,
            params={"id": nomination.id, "reason": reason},
        )
    await outbox.notify_person(
        session,
        objection.lodged_by,
        "objection.ruled_notice",
        now,
        params={"case": objection.id, "status_key": f"objection.status.{status.value}", "reason": reason},
    )
    await forward_if_ready(session, listing, now)
    await session.commit()
    return objection
