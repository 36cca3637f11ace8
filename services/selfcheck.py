"""The eligibility self-check (第十一条至第十五条): one question at a time, kept in the database so
it resumes exactly where it was after a restart or days later."""

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models import Campaign, Role, SelfCheck, SelfCheckStatus
from services import audit, campaigns, people
from services.actors import Actor
from services.catalogue import Criterion, CriterionKind, Honour, load_catalogue
from services.errors import DomainError
from services.rules.campaign_phases import Action
from services.rules.eligibility import Answer, Verdict, VerdictKind, evaluate


def honour(code: str) -> Honour:
    found = load_catalogue().honours.get(code)
    if found is None:
        raise DomainError("selfcheck.unknown_honour")
    return found


@dataclass(frozen=True)
class Question:
    selfcheck_id: int
    criterion: Criterion
    position: int  # 0-based
    total: int
    previous: Answer | None  # what was answered here before going back


def question(check: SelfCheck) -> Question:
    criteria = honour(check.honour).criteria
    criterion = criteria[check.position]
    previous = check.answers.get(criterion.id)
    return Question(
        check.id or 0, criterion, check.position, len(criteria), Answer(previous) if previous else None
    )


async def start(session: AsyncSession, actor: Actor, honour_code: str, now: datetime) -> SelfCheck:
    """A new self-check; one still in progress is cancelled (a person runs one at a time)."""
    people.require_registered(actor)
    honour(honour_code)
    for running in (
        await session.exec(
            select(SelfCheck).where(
                SelfCheck.person_id == actor.person_id, SelfCheck.status == SelfCheckStatus.IN_PROGRESS
            )
        )
    ).all():
        running.status = SelfCheckStatus.CANCELLED
        session.add(running)
    view = await campaigns.current(session, now)
    check = SelfCheck(
        person_id=actor.person_id or 0,
        campaign_id=view.campaign.id if view else None,
        honour=honour_code,
        catalogue_version=load_catalogue().version,
        started_at=now,
    )
    session.add(check)
    await session.commit()
    return check


async def running(session: AsyncSession, actor: Actor) -> SelfCheck | None:
    if actor.person_id is None:
        return None
    return (
        await session.exec(
            select(SelfCheck).where(
                SelfCheck.person_id == actor.person_id, SelfCheck.status == SelfCheckStatus.IN_PROGRESS
            )
        )
    ).first()


async def owned_running(session: AsyncSession, actor: Actor, selfcheck_id: int, position: int) -> SelfCheck:
    """The person's own self-check, still running, and still at the question the button was for."""
    people.require_registered(actor)
    check = (
        await session.exec(select(SelfCheck).where(SelfCheck.id == selfcheck_id).with_for_update())
    ).first()
    if check is None or check.person_id != actor.person_id:
        raise DomainError("selfcheck.not_yours")
    if check.status != SelfCheckStatus.IN_PROGRESS:
        raise DomainError("selfcheck.finished_already")
    if check.position != position:
        raise DomainError("selfcheck.stale_question")
    return check


async def answer(
    session: AsyncSession, actor: Actor, selfcheck_id: int, position: int, reply: str, now: datetime
) -> SelfCheck:
    try:
        given = Answer(reply)
    except ValueError:
        raise DomainError("selfcheck.bad_answer") from None
    check = await owned_running(session, actor, selfcheck_id, position)
    criteria = honour(check.honour).criteria
    check.answers = {**check.answers, criteria[position].id: given.value}
    check.position = position + 1
    if check.position == len(criteria):
        verdict = _verdict(check)
        check.status, check.verdict, check.finished_at = SelfCheckStatus.FINISHED, verdict.kind.value, now
        await audit.append(
            session,
            actor_id=actor.person_id,
            action="selfcheck.finished",
            subject=f"selfcheck:{check.id}",
            now=now,
            article="第十一条至第十五条",
            honour=check.honour,
            verdict=verdict.kind.value,
            catalogue_version=check.catalogue_version,
            failed=[c.id for c in verdict.failed],
            open=[c.id for c in verdict.open],
        )
    session.add(check)
    await session.commit()
    return check


async def back(session: AsyncSession, actor: Actor, selfcheck_id: int, position: int) -> SelfCheck:
    check = await owned_running(session, actor, selfcheck_id, position)
    if check.position == 0:
        raise DomainError("selfcheck.at_first_question")
    check.position -= 1
    session.add(check)
    await session.commit()
    return check


async def cancel(session: AsyncSession, actor: Actor, selfcheck_id: int, position: int) -> None:
    check = await owned_running(session, actor, selfcheck_id, position)
    check.status = SelfCheckStatus.CANCELLED
    session.add(check)
    await session.commit()


def _verdict(check: SelfCheck) -> Verdict:
    answers = {cid: Answer(value) for cid, value in check.answers.items()}
    return evaluate(honour(check.honour), answers, load_catalogue().satisfaction_report)


@dataclass(frozen=True)
class Outcome:
    check: SelfCheck
    verdict: Verdict
    granted_this_year: bool | None  # None: no campaign under way
    next_campaign: Campaign | None
    can_nominate: bool  # the nomination window is open for this honour, and nothing failed


async def outcome(session: AsyncSession, check: SelfCheck, now: datetime) -> Outcome:
    view = await campaigns.current(session, now)
    granted = view.grants(check.honour) if view else None
    upcoming = None if view else await campaigns.upcoming(session, now)
    verdict = _verdict(check)
    can_nominate = bool(
        view and granted and view.allows(Action.START_NOMINATION) and verdict.kind != VerdictKind.NOT_ELIGIBLE
    )
    return Outcome(check, verdict, granted, upcoming, can_nominate)


async def history(session: AsyncSession, actor: Actor, limit: int = 10) -> list[SelfCheck]:
    people.require_registered(actor)
    return list(
        (
            await session.exec(
                select(SelfCheck)
                .where(SelfCheck.person_id == actor.person_id, SelfCheck.status == SelfCheckStatus.FINISHED)
                .order_by(col(SelfCheck.finished_at).desc())
                .limit(limit)
            )
        ).all()
    )


@dataclass(frozen=True)
class Statistics:
    campaign: Campaign
    per_honour: dict[str, int]
    verdicts: dict[str, Counter[str]]  # honour -> verdict kind -> count
    failed: Counter[str]  # criterion id -> times answered no
    unsure: Counter[str]  # criterion id -> times answered unsure


async def statistics(session: AsyncSession, actor: Actor, campaign_id: int) -> Statistics:
    people.require_role(actor, Role.OFFICE)
    campaign = await session.get(Campaign, campaign_id)
    if campaign is None:
        raise DomainError("campaign.not_found")
    checks = (
        await session.exec(
            select(SelfCheck).where(
                SelfCheck.campaign_id == campaign_id, SelfCheck.status == SelfCheckStatus.FINISHED
            )
        )
    ).all()
    per_honour: Counter[str] = Counter()
    verdicts: dict[str, Counter[str]] = {}
    failed: Counter[str] = Counter()
    unsure: Counter[str] = Counter()
    priority = {
        c.id
        for h in load_catalogue().honours.values()
        for c in h.criteria
        if c.kind == CriterionKind.PRIORITY
    }
    for check in checks:
        per_honour[check.honour] += 1
        verdicts.setdefault(check.honour, Counter())[check.verdict or ""] += 1
        for cid, value in check.answers.items():
            if cid in priority:
                continue  # a priority item answered "no" is not a shortfall
            if value == Answer.NO:
                failed[cid] += 1
            elif value == Answer.UNSURE:
                unsure[cid] += 1
    return Statistics(campaign, dict(per_honour), verdicts, failed, unsure)


__all__ = ["Answer", "Outcome", "Question", "Statistics", "VerdictKind"]
