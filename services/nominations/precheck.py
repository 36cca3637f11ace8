"""The office's preliminary check (初审): pass, return for supplement, reject; verifications (核实)."""

from datetime import date, datetime
from typing import Any

from sqlmodel import func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models import Deficiency, Nomination, Person, ReturnSnapshot, Role, Verification
from services import audit, campaigns, local_time, outbox, people, tokens
from services.actors import Actor
from services.errors import DomainError
from services.lifecycles.core import Party
from services.nominations.deficiencies import (
    ENDORSEMENT_ITEMS,
    deficiency_items,
    resolve_deficiencies,
)
from services.nominations.notices import recommenders
from services.nominations.queries import materials
from services.nominations.stages import load, move
from services.rules import dossier
from services.rules.campaign_phases import Action
from services.rules.nomination_flow import Stage

DECIDABLE = (Stage.ENDORSED.value, Stage.RESUBMITTED.value)


async def require_decidable(session: AsyncSession, actor: Actor, nomination_id: int) -> Nomination:
    """Before the office spends effort on a return or a reason: is the nomination still theirs to decide?"""
    people.require_role(actor, Role.OFFICE)
    nomination = await load(session, nomination_id)
    if nomination.stage not in DECIDABLE:
        raise DomainError("precheck.not_in_queue", id=nomination_id, stage_key=f"stage.{nomination.stage}")
    return nomination


def clean_note(note: str) -> str:
    return dossier.clean_text(note, 500)


def check_verification_day(day: date, now: datetime) -> date:
    if day > local_time.day_of(now):
        raise DomainError("precheck.verification_in_future")
    return day


async def precheck_pass(session: AsyncSession, actor: Actor, nomination_id: int, now: datetime) -> Nomination:
    return await _office_decision(session, actor, nomination_id, Stage.PASSED, "", now)


async def precheck_reject(
    session: AsyncSession, actor: Actor, nomination_id: int, reason: str, now: datetime
) -> Nomination:
    if not reason.strip():
        raise DomainError("nomination.reason_required")
    return await _office_decision(session, actor, nomination_id, Stage.REJECTED, reason, now)


async def precheck_return(
    session: AsyncSession,
    actor: Actor,
    nomination_id: int,
    items: list[tuple[str, str]],
    deadline: datetime,
    now: datetime,
) -> Nomination:
    """一次性告知: every deficiency at once, each with a note; only those items reopen. The applicant
    and the recommending body get one consolidated list, in their own language."""
    people.require_role(actor, Role.OFFICE)
    if not items:
        raise DomainError("nomination.no_deficiencies")
    # Only the honour here: loading the row unlocked would keep a stale stage in the session.
    honour = (await session.exec(select(Nomination.honour).where(Nomination.id == nomination_id))).first()
    if honour is None:
        raise DomainError("nomination.not_found")
    allowed = deficiency_items(honour)
    notes: dict[str, str] = {}
    for item, note in items:
        if item not in allowed:
            raise DomainError("precheck.unknown_item")
        notes[item] = dossier.clean_text(note, 500) if note.strip() else ""
    ordered = [(item, notes[item]) for item in allowed if item in notes]
    # The move keeps the items as ids with the office's notes; /mystatus says them in words.
    reason = "; ".join(item for item, _ in ordered)
    nomination, _ = await _staged_decision(
        session,
        actor,
        nomination_id,
        Stage.RETURNED_FOR_SUPPLEMENT,
        reason,
        now,
        deadline=deadline,
        items=[[item, note] for item, note in ordered],
    )
    rounds = (
        await session.exec(
            select(func.max(Deficiency.round)).where(Deficiency.nomination_id == nomination_id)
        )
    ).one()
    round_no = int(rounds or 0) + 1
    for item, note in ordered:
        session.add(Deficiency(nomination_id=nomination_id, round=round_no, item=item, note=note))
    session.add(
        ReturnSnapshot(
            nomination_id=nomination_id,
            round=round_no,
            fields=dict(nomination.fields),
            organisation_id=nomination.organisation_id,
            taken_at=now,
            materials=[[m.slot, m.sha256, m.file_name] for m in await materials(session, nomination_id)],
        )
    )
    nomination.supplement_deadline = deadline
    session.add(nomination)
    await _notify_return(session, nomination, ordered, deadline, now)
    await session.commit()
    return nomination


async def _notify_return(
    session: AsyncSession,
    nomination: Nomination,
    items: list[tuple[str, str]],
    deadline: datetime,
    now: datetime,
) -> None:
    applicant = await session.get(Person, nomination.applicant_id)
    recipients = [("precheck.returned_notice", applicant)] if applicant else []
    recipients += [
        ("precheck.returned_notice_recommender", member)
        for member in await recommenders(session, nomination.organisation_id or 0)
    ]
    endorsement_reopened = bool(set(ENDORSEMENT_ITEMS) & {item for item, _ in items})
    for template, person in recipients:
        if person is None or person.blocked_at is not None:
            continue
        buttons = []
        if endorsement_reopened and template == "precheck.returned_notice_recommender":
            token = await tokens.issue(
                session,
                person_id=person.id,
                action="nomination.reendorse",
                now=now,
                nomination_id=nomination.id,
            )
            buttons = [[outbox.button("nomination.reendorse", token)]]
        await outbox.enqueue(
            session,
            person_id=person.id,
            template=template,
            now=now,
            buttons=buttons,
            params={
                "id": nomination.id,
                "count": len(items),
                "deadline": local_time.minute_text(deadline),
                "deficiencies": [[item, note] for item, note in items],
            },
        )


async def _office_decision(
    session: AsyncSession, actor: Actor, nomination_id: int, target: Stage, reason: str, now: datetime
) -> Nomination:
    """Pass or reject: the move, the notices to the applicant and the recommending body, one commit."""
    nomination, reason = await _staged_decision(session, actor, nomination_id, target, reason, now)
    template = f"nomination.precheck_{target.value}"
    params: dict[str, Any] = {"id": nomination_id, "reason": reason}
    await outbox.notify_person(session, nomination.applicant_id, template, now, params=params)
    for member in await recommenders(session, nomination.organisation_id or 0):
        await outbox.enqueue(session, person_id=member.id, template=template, now=now, params=params)
    await session.commit()
    return nomination


async def _staged_decision(
    session: AsyncSession,
    actor: Actor,
    nomination_id: int,
    target: Stage,
    reason: str,
    now: datetime,
    deadline: datetime | None = None,
    items: list[list[str]] | None = None,
) -> tuple[Nomination, str]:
    """The office's move, staged for the caller's one commit (the caller tells whom it concerns);
    with the reason as kept."""
    people.require_role(actor, Role.OFFICE)
    view = await campaigns.require_action(session, Action.PRELIMINARY_CHECK, now)
    nomination = await load(session, nomination_id, lock=True)
    if reason:
        reason = dossier.clean_text(reason, 2000)
    await move(
        session,
        nomination,
        target,
        Party.OFFICE,
        actor.person_id,
        now,
        reason=reason,
        deadline=deadline,
        items=items,
        phase=view.phase,
    )
    await resolve_deficiencies(session, nomination_id, now)  # a return opens a fresh round
    return nomination, reason


async def record_verification(
    session: AsyncSession,
    actor: Actor,
    nomination_id: int,
    on: date,
    finding: str,
    file_hashes: list[str],
    now: datetime,
) -> Verification:
    """核实: a spot check or on-site visit the office made, on a day that has already come."""
    people.require_role(actor, Role.OFFICE)
    await load(session, nomination_id)
    check_verification_day(on, now)
    finding = dossier.clean_text(finding, 2000)
    check = Verification(
        nomination_id=nomination_id,
        on=on,
        finding=finding,
        files=list(dict.fromkeys(file_hashes)),
        recorded_by=actor.person_id or 0,
        recorded_at=now,
    )
    session.add(check)
    await session.flush()
    await audit.append(
        session,
        actor_id=actor.person_id,
        action="nomination.verified",
        subject=f"nomination:{nomination_id}",
        now=now,
        on=on.isoformat(),
        finding=finding,
        files=check.files,
        article="第十六条第2项",
    )
    await session.commit()
    return check
