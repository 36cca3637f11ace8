"""The leading group approves the final list (or the office on its behalf, with the document)."""

from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from models import Nomination, PublicityList, Role
from services import audit, outbox, tokens
from services.actors import Actor
from services.errors import DomainError
from services.publicity.listing import ARTICLE, latest, locked_listing, open_cases
from services.reviews.common import advance, holders
from services.rules import publicity_rules as rules
from services.rules.nomination_flow import Mover, Stage


async def awaiting_approval(session: AsyncSession, actor: Actor) -> tuple[PublicityList, int] | None:
    """The list the leading group (or the office on its behalf) is to approve, with its open objections."""
    if not (actor.has(Role.LEADING_GROUP) or actor.has(Role.OFFICE)):
        raise DomainError("role.required", role_key=f"role.{Role.LEADING_GROUP.value}")
    listing = await latest(session)
    if listing is None or listing.approved_at is not None:
        return None
    return listing, await open_cases(session, listing.id or 0)


async def forward_if_ready(session: AsyncSession, listing: PublicityList, now: datetime) -> bool:
    if not rules.may_forward(
        now=now,
        ends_at=listing.ends_at,
        open_cases=await open_cases(session, listing.id or 0),
        forwarded_at=listing.forwarded_at,
    ):
        return False
    listing.forwarded_at = now
    session.add(listing)
    await audit.append(
        session,
        actor_id=None,
        action="publicity.forwarded",
        subject=f"publicity:{listing.id}",
        now=now,
        reason=ARTICLE,
        nominations=listing.nomination_ids,
    )
    for member in await holders(session, Role.LEADING_GROUP):
        token = await tokens.issue(
            session,
            telegram_id=member.telegram_id,
            action="publicity.approve",
            now=now,
            publicity_id=listing.id,
        )
        await outbox.enqueue(
            session,
            chat_id=member.telegram_id,
            template="publicity.for_approval",
            now=now,
            params={"count": len(listing.nomination_ids), "edition": listing.edition},
            buttons=[[outbox.button("publicity.approve", token)]],
        )
    return True


async def require_unapproved(session: AsyncSession, publicity_id: int) -> None:
    """Before the office is asked for the approval document: a list approved already needs none."""
    listing = await session.get(PublicityList, publicity_id)
    if listing is None:
        raise DomainError("publicity.not_found")
    if listing.approved_at is not None:
        raise DomainError("publicity.already_approved")


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
        on_behalf = False
    elif actor.has(Role.OFFICE):
        if not approval_document:
            raise DomainError("publicity.document_required")
        on_behalf = True
    else:
        raise DomainError("role.required", role_key=f"role.{Role.LEADING_GROUP.value}")
    listing = await locked_listing(session, publicity_id)
    rules.check_approval(
        now=now,
        ends_at=listing.ends_at,
        open_cases=await open_cases(session, publicity_id),
        approved_at=listing.approved_at,
    )
    for nomination_id in listing.nomination_ids:
        nomination = await session.get(Nomination, nomination_id)
        if nomination is not None and nomination.stage == Stage.SHORTLISTED.value:
            await advance(
                session,
                nomination,
                Stage.APPROVED,
                Mover.LEADING_GROUP,
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
    session.add(listing)
    await audit.append(
        session,
        actor_id=actor.person_id,
        action="publicity.approved",
        subject=f"publicity:{listing.id}",
        now=now,
        reason=ARTICLE,
        on_behalf=on_behalf,
        document=approval_document,
        nominations=listing.nomination_ids,
    )
    for member in await holders(session, Role.OFFICE):
        await outbox.enqueue(
            session,
            chat_id=member.telegram_id,
            template="publicity.approved_office",
            now=now,
            params={"count": len(listing.nomination_ids)},
        )
    await session.commit()
    return listing
