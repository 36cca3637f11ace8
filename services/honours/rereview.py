"""Re-review (复议): sought by the holder or their body with new evidence, decided by the office."""

from datetime import datetime

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from models import Honour, HonourReview, Role
from services import outbox, people, tokens
from services.actors import Actor
from services.certificates import Printer
from services.errors import DomainError
from services.files.store import FileStore
from services.honours.common import (
    day,
    load,
    office_people,
    recommender_people,
    render_certificate,
    require_valid,
    send_certificate,
    tell_holder_and_body,
)
from services.lifecycles.core import Party, apply, create
from services.lifecycles.honour import REREVIEW, RereviewStatus
from services.rules import honour_validity as validity
from services.rules.dossier import clean_text
from services.rules.honour_validity import DEFAULT_REMINDER_DAYS, Status

SATISFACTION_REPORT = "satisfaction_report"
EVIDENCE = "evidence"


def _seeker(actor: Actor, honour: Honour) -> Party:
    """The holder, or their recommending body, seeks the re-review."""
    people.require_registered(actor)
    if actor.person_id == honour.holder_id:
        return Party.HOLDER
    if honour.organisation_id in actor.organisations(Role.RECOMMENDER):
        return Party.RECOMMENDER
    raise DomainError("honour.not_holder")


async def start_rereview(session: AsyncSession, actor: Actor, honour_id: int, now: datetime) -> HonourReview:
    honour = await load(session, honour_id, lock=True)
    party = _seeker(actor, honour)
    require_valid(honour, now)
    started = (
        await session.exec(
            select(HonourReview).where(
                HonourReview.honour_id == honour_id, HonourReview.period_end == honour.valid_until
            )
        )
    ).first()
    if started is not None:
        if started.status != RereviewStatus.STARTED:
            raise DomainError("honour.rereview_already", number=honour.certificate_no)
        return started  # carry on with the one already started for this period
    review: HonourReview = await create(
        session,
        REREVIEW,
        {
            "honour_id": honour_id,
            "period_end": honour.valid_until,
            "started_by": actor.person_id or 0,
            "started_at": now,
        },
        "start",
        party=party,
        actor_id=actor.person_id,
        now=now,
        phase=None,
        subject=f"honour:{honour_id}",
        audit_action="honour.rereview_started",
    )
    await session.commit()
    return review


async def _open_review(session: AsyncSession, actor: Actor, review_id: int) -> tuple[HonourReview, Honour]:
    review = (
        await session.exec(select(HonourReview).where(HonourReview.id == review_id).with_for_update())
    ).first()
    if review is None:
        raise DomainError("honour.review_not_found")
    honour = await load(session, review.honour_id)
    _seeker(actor, honour)
    if review.submitted_at is not None:
        raise DomainError("honour.rereview_already", number=honour.certificate_no)
    return review, honour


async def add_rereview_evidence(
    session: AsyncSession,
    actor: Actor,
    review_id: int,
    *,
    sha256: str,
    file_name: str,
    kind: str,
    now: datetime,
) -> HonourReview:
    """The first file is the new satisfaction evaluation report; later ones are further evidence."""
    review, _ = await _open_review(session, actor, review_id)
    if any(item["sha256"] == sha256 for item in review.evidence):
        return review
    has_report = any(item["slot"] == SATISFACTION_REPORT for item in review.evidence)
    review.evidence = [
        *review.evidence,
        {
            "slot": EVIDENCE if has_report else SATISFACTION_REPORT,
            "sha256": sha256,
            "file_name": file_name,
            "kind": kind,
            "at": now.isoformat(),
        },
    ]
    session.add(review)
    await session.commit()
    return review


async def submit_rereview(session: AsyncSession, actor: Actor, review_id: int, now: datetime) -> HonourReview:
    review, honour = await _open_review(session, actor, review_id)
    require_valid(honour, now)
    if not any(item["slot"] == SATISFACTION_REPORT for item in review.evidence):
        raise DomainError("honour.rereview_needs_report")
    review.submitted_at = now
    await apply(
        session,
        REREVIEW,
        review,
        "submit",
        party=_seeker(actor, honour),
        actor_id=actor.person_id,
        now=now,
        phase=None,
        subject=f"honour:{honour.id}",
        audit_action="honour.rereview_submitted",
        review_id=review.id,
        evidence=[item["sha256"] for item in review.evidence],
    )
    for person_id in await office_people(session):
        confirm = await tokens.issue(
            session, person_id=person_id, action="honour.reconfirm", now=now, review_id=review.id
        )
        lapse_ = await tokens.issue(
            session, person_id=person_id, action="honour.lapse", now=now, review_id=review.id
        )
        await outbox.enqueue(
            session,
            person_id=person_id,
            template="honour.rereview_for_office",
            now=now,
            params={
                "number": honour.certificate_no,
                "name": honour.holder_name,
                "honour_key": f"honour.{honour.honour}",
                "files": len(review.evidence),
                "until": day(honour.valid_until),
            },
            buttons=[[outbox.button("honour.reconfirm", confirm), outbox.button("honour.lapse", lapse_)]],
        )
    await session.commit()
    return review


async def _decidable(session: AsyncSession, actor: Actor, review_id: int) -> tuple[HonourReview, Honour]:
    people.require_role(actor, Role.OFFICE)
    review = (
        await session.exec(select(HonourReview).where(HonourReview.id == review_id).with_for_update())
    ).first()
    if review is None:
        raise DomainError("honour.review_not_found")
    if review.status != RereviewStatus.SUBMITTED:
        raise DomainError("honour.review_not_pending")
    return review, await load(session, review.honour_id, lock=True)


async def reconfirm(
    session: AsyncSession,
    actor: Actor,
    review_id: int,
    now: datetime,
    *,
    printer: Printer,
    file_store: FileStore,
    days: tuple[int, ...] = DEFAULT_REMINDER_DAYS,
) -> Honour:
    """重新确认: a further three years from the old expiry, and a new certificate."""
    review, honour = await _decidable(session, actor, review_id)
    require_valid(honour, now)
    old_until = honour.valid_until
    honour.valid_until = validity.reconfirmed_until(old_until)
    honour.reminded_days, honour.next_due_at = None, validity.next_due(honour.valid_until, None, now, days)
    honour.certificate_sha256 = render_certificate(honour, printer, file_store)
    review.decided_by, review.decided_at, review.new_until = actor.person_id, now, honour.valid_until
    session.add(honour)
    await apply(
        session,
        REREVIEW,
        review,
        "reconfirm",
        party=Party.OFFICE,
        actor_id=actor.person_id,
        now=now,
        phase=None,
        subject=f"honour:{honour.id}",
        audit_action="honour.reconfirmed",
        review_id=review.id,
        old_until=old_until,
        new_until=honour.valid_until,
    )
    await send_certificate(session, honour, "honour.reconfirmed_holder", now)
    for person_id in await recommender_people(session, honour.organisation_id):
        await outbox.enqueue(
            session,
            person_id=person_id,
            template="honour.reconfirmed_body",
            now=now,
            params={
                "number": honour.certificate_no,
                "name": honour.holder_name,
                "until": day(honour.valid_until),
            },
        )
    await session.commit()
    return honour


async def lapse(session: AsyncSession, actor: Actor, review_id: int, reason: str, now: datetime) -> Honour:
    """不予重新确认: the honour runs to its end and the sweep then expires it; no more reminders."""
    review, honour = await _decidable(session, actor, review_id)
    reason = clean_text(reason, 1000)
    review.decided_by, review.decided_at, review.reason = actor.person_id, now, reason
    if honour.status == Status.VALID.value:
        honour.reminded_days, honour.next_due_at = 0, honour.valid_until
    session.add(honour)
    await apply(
        session,
        REREVIEW,
        review,
        "lapse",
        party=Party.OFFICE,
        actor_id=actor.person_id,
        now=now,
        phase=None,
        reason=reason,
        subject=f"honour:{honour.id}",
        audit_action="honour.lapsed",
        review_id=review.id,
    )
    await tell_holder_and_body(
        session, honour, "honour.lapsed_notice", now, reason=reason, until=day(honour.valid_until)
    )
    await session.commit()
    return honour
