"""Reminders before the nomination window closes (e.g. 7 days and 1 day before
Campaign.nomination_closes): applicants whose nomination is unfinished (a draft, or returned by the
recommending body) and recommending-body members with nominations waiting for them.

One periodic sweep; each reminder is a row with a UNIQUE key (recipient, subject, campaign, offset),
written with its outbox row in one transaction, so it is sent once even if the sweep runs twice or
late. A late sweep sends only the nearest reminder still ahead of the close, not every missed one."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models import Campaign, Nomination, NominationReminder, Person, Role, RoleAssignment
from services import local_time, outbox
from services.rules.nomination_flow import Stage

OFFSETS_DAYS = (7, 1)
UNFINISHED = (Stage.DRAFT.value, Stage.RETURNED_BY_RECOMMENDER.value)


def due_offset(closes: datetime, now: datetime, offsets: tuple[int, ...] = OFFSETS_DAYS) -> int | None:
    """The reminder due now: the smallest offset whose moment has come, while the window is open."""
    if now >= closes:
        return None
    reached = [days for days in offsets if closes - timedelta(days=days) <= now]
    return min(reached) if reached else None


async def sweep(session: AsyncSession, now: datetime) -> int:
    """Queue every reminder due now that was not sent before; returns how many were queued."""
    sent = 0
    open_now = (
        await session.exec(
            select(Campaign).where(
                col(Campaign.nomination_opens) <= now, col(Campaign.nomination_closes) > now
            )
        )
    ).all()
    # Plain values only: a rollback after a lost race expires every loaded row.
    work = []
    for campaign in open_now:
        offset = due_offset(campaign.nomination_closes, now)
        if offset is not None:
            work.append((campaign.id or 0, offset, await _due(session, campaign)))
    for campaign_id, offset, due in work:
        for reminder in due:
            sent += await _send_once(session, campaign_id, offset, reminder, now)
    return sent


@dataclass(frozen=True)
class Due:
    person_id: int
    subject: str
    template: str
    params: dict[str, Any]


async def _due(session: AsyncSession, campaign: Campaign) -> list[Due]:
    closes = local_time.minute_text(campaign.nomination_closes)
    due: list[Due] = []
    unfinished = (
        await session.exec(
            select(Nomination, Person)
            .join(Person, col(Person.id) == Nomination.applicant_id)
            .where(Nomination.campaign_id == campaign.id, col(Nomination.stage).in_(UNFINISHED))
            .order_by(col(Nomination.id))
        )
    ).all()
    for nomination, applicant in unfinished:
        if applicant.blocked_at is None:
            due.append(
                Due(
                    applicant.id or 0,
                    f"nomination:{nomination.id}",
                    "reminder.nomination_unfinished",
                    {"id": nomination.id, "honour_key": f"honour.{nomination.honour}", "closes": closes},
                )
            )
    waiting: dict[int, int] = defaultdict(int)
    for nomination in (
        await session.exec(
            select(Nomination).where(
                Nomination.campaign_id == campaign.id, Nomination.stage == Stage.SUBMITTED.value
            )
        )
    ).all():
        waiting[nomination.organisation_id or 0] += 1
    for organisation_id, count in sorted(waiting.items()):
        members = (
            await session.exec(
                select(Person)
                .join(RoleAssignment, col(RoleAssignment.person_id) == Person.id)
                .where(
                    RoleAssignment.role == Role.RECOMMENDER,
                    RoleAssignment.organisation_id == organisation_id,
                    col(RoleAssignment.revoked_at).is_(None),
                    col(Person.blocked_at).is_(None),
                )
            )
        ).all()
        for member in members:
            due.append(
                Due(
                    member.id or 0,
                    f"organisation:{organisation_id}",
                    "reminder.nomination_pending",
                    {"count": count, "closes": closes},
                )
            )
    return due


async def _send_once(session: AsyncSession, campaign_id: int, offset: int, due: Due, now: datetime) -> int:
    key = (
        NominationReminder.recipient_id == due.person_id,
        NominationReminder.subject == due.subject,
        NominationReminder.campaign_id == campaign_id,
        NominationReminder.offset_days == offset,
    )
    if (await session.exec(select(NominationReminder.id).where(*key))).first() is not None:
        return 0
    try:
        session.add(
            NominationReminder(
                recipient_id=due.person_id,
                subject=due.subject,
                campaign_id=campaign_id,
                offset_days=offset,
                sent_at=now,
            )
        )
        await outbox.enqueue(
            session,
            person_id=due.person_id,
            template=due.template,
            now=now,
            params={**due.params, "days": offset},
        )
        await session.commit()
    except IntegrityError:  # a concurrent sweep took it first: that one sends it
        await session.rollback()
        return 0
    return 1
