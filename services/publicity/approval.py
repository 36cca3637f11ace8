"""The leading group approves the final list (or the office on its behalf, with the document)."""

from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from models import Nomination, PublicityList, Role
from services import campaigns, outbox, tokens
from services.actors import Actor
from services.errors import DomainError
from services.lifecycles.core import Party, apply
from services.lifecycles.publicity import PUBLICITY, ListStatus
from services.nominations import stages
from services.publicity.listing import latest, locked_listing, open_cases
from services.reviews.common import holders
from services.rules import publicity_rules as rules
from services.rules.campaign_phases import Phase
from services.rules.nomination_flow import Stage


async def awaiting_approval(
    session: AsyncSession, actor: Actor, now: datetime
) -> tuple[PublicityList, int] | None:
    """The list the leading group (or the office on its behalf) is to approve, with its open
    objections; before 审定, the refusal that says so."""
    if not (actor.has(Role.LEADING_GROUP) or actor.has(Role.OFFICE)):
        raise DomainError("role.required", role_key=f"role.{Role.LEADING_GROUP.value}")
    listing = await latest(session)
    if listing is None or listing.approved_at is not None:
        return None
    await _require_phase(session, listing, Party.LEADING_GROUP, now)
    return listing, await open_cases(session, listing.id or 0)


async def forward_if_ready(session: AsyncSession, listing: PublicityList, now: datetime) -> bool:
    if listing.status != ListStatus.PUBLISHED or not rules.may_forward(
        now=now,
        ends_at=listing.ends_at,
        open_cases=await open_cases(session, listing.id or 0),
        forwarded_at=listing.forwarded_at,
    ):
        return False
    listing.forwarded_at = now
    await apply(
        session,
        PUBLICITY,
        listing,
        "forward",
        party=Party.SYSTEM,
        actor_id=None,
        now=now,
        phase=None,
        audit_action="publicity.forwarded",
        nominations=listing.nomination_ids,
    )
    for member in await holders(session, Role.LEADING_GROUP):
        token = await tokens.issue(
            session,
            person_id=member.id,
            action="publicity.approve",
            now=now,
            publicity_id=listing.id,
        )
        await outbox.enqueue(
            session,
            person_id=member.id,
            template="publicity.for_approval",
            now=now,
            params={"count": len(listing.nomination_ids), "edition": listing.edition},
            buttons=[[outbox.button("publicity.approve", token)]],
        )
    return True


async def require_unapproved(session: AsyncSession, publicity_id: int, now: datetime) -> None:
    """Before the office is asked for the approval document: not before 审定, and a list approved
    already needs none."""
    listing = await session.get(PublicityList, publicity_id)
    if listing is None:
        raise DomainError("publicity.not_found")
    await _require_phase(session, listing, Party.OFFICE, now)
    if listing.approved_at is not None:
        raise DomainError("publicity.already_approved")


async def _require_phase(session: AsyncSession, listing: PublicityList, party: Party, now: datetime) -> Phase:
    phase = await campaigns.phase_of(session, listing.campaign_id, now)
    if listing.status != ListStatus.APPROVED:
        PUBLICITY.check(ListStatus(listing.status), "approve", party, phase)
    return phase


async def approve(
    session: AsyncSession,
    actor: Actor,
    publicity_id: int,
    now: datetime,
    approval_document: str | None = None,
) -> PublicityList:
    """The leading group approves the final list; the office may do it on its behalf, with the
    approval document attached. Each nomination on the list becomes APPROVED."""
    if actor.has(Role.LEADING_GROUP):
        party = Party.LEADING_GROUP
    elif actor.has(Role.OFFICE):
        if not approval_document:
            raise DomainError("publicity.document_required")
        party = Party.OFFICE
    else:
        raise DomainError("role.required", role_key=f"role.{Role.LEADING_GROUP.value}")
    on_behalf = party == Party.OFFICE
    listing = await locked_listing(session, publicity_id)
    phase = await _require_phase(session, listing, party, now)
    rules.check_approval(
        now=now,
        ends_at=listing.ends_at,
        open_cases=await open_cases(session, publicity_id),
        approved_at=listing.approved_at,
    )
    for nomination_id in listing.nomination_ids:
        nomination = await session.get(Nomination, nomination_id)
        if nomination is not None and nomination.stage == Stage.SHORTLISTED.value:
            await stages.move(
                session,
                nomination,
                Stage.APPROVED,
                party,
                actor.person_id,
                now,
                on_behalf=on_behalf,
                publicity_id=publicity_id,
            )
            await outbox.notify_person(
                session,
                nomination.applicant_id,
                "publicity.approved_notice",
                now,
                params={"id": nomination_id, "honour_key": f"honour.{nomination.honour}"},
            )
    listing.approved_at, listing.approved_by, listing.approval_document = (
        now,
        actor.person_id,
        approval_document,
    )
    await apply(
        session,
        PUBLICITY,
        listing,
        "approve",
        party=party,
        actor_id=actor.person_id,
        now=now,
        phase=phase,
        audit_action="publicity.approved",
        on_behalf=on_behalf,
        document=approval_document,
        nominations=listing.nomination_ids,
    )
    for member in await holders(session, Role.OFFICE):
        await outbox.enqueue(
            session,
            person_id=member.id,
            template="publicity.approved_office",
            now=now,
            params={"count": len(listing.nomination_ids)},
        )
    await session.commit()
    return listing
