"""The recommending body: endorses with its stamped opinion (again, when asked), or returns."""

from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models import Deficiency, Endorsement, Nomination, Role
from services import audit, campaigns, outbox, people
from services.actors import Actor
from services.errors import DomainError
from services.lifecycles.core import Party
from services.nominations.deficiencies import ENDORSEMENT_ITEMS, open_deficiencies
from services.nominations.notices import notify_office
from services.nominations.quotas import quota_use
from services.nominations.stages import load, move
from services.rules import dossier
from services.rules.campaign_phases import Action
from services.rules.nomination_flow import Stage


def _require_recommender_of(actor: Actor, nomination: Nomination) -> None:
    people.require_role(actor, Role.RECOMMENDER)
    if nomination.organisation_id not in actor.organisations(Role.RECOMMENDER):
        raise DomainError("nomination.other_organisation")
    if nomination.applicant_id == actor.person_id:
        raise DomainError("nomination.own_nomination")


async def require_with_recommender(session: AsyncSession, actor: Actor, nomination_id: int) -> Nomination:
    """Before the recommending body types an opinion or a reason: is the nomination still theirs to decide?"""
    nomination = await load(session, nomination_id)
    _require_recommender_of(actor, nomination)
    if nomination.stage != Stage.SUBMITTED:
        raise DomainError(
            "nomination.not_with_recommender", id=nomination_id, stage_key=f"stage.{nomination.stage}"
        )
    return nomination


async def endorse(
    session: AsyncSession, actor: Actor, nomination_id: int, opinion: str, seal_sha256: str, now: datetime
) -> Nomination:
    nomination = await load(session, nomination_id, lock=True)
    _require_recommender_of(actor, nomination)
    opinion = dossier.clean_text(opinion, 2000)
    view = await campaigns.require_action(session, Action.ENDORSE, now)
    use = await quota_use(session, nomination.campaign_id, nomination.organisation_id or 0, nomination.honour)
    if use.left == 0:
        raise DomainError("nomination.quota_full", places=use.places)
    await move(session, nomination, Stage.ENDORSED, Party.RECOMMENDER, actor.person_id, now, phase=view.phase)
    session.add(
        Endorsement(
            nomination_id=nomination_id,
            opinion=opinion,
            seal_sha256=seal_sha256,
            endorsed_by=actor.person_id or 0,
            endorsed_at=now,
        )
    )
    await outbox.notify_person(
        session, nomination.applicant_id, "nomination.endorsed_notice", now, params={"id": nomination_id}
    )
    await notify_office(session, nomination, "nomination.endorsed_for_office", now)
    await session.commit()
    return nomination


async def reendorse(
    session: AsyncSession, actor: Actor, nomination_id: int, opinion: str, seal_sha256: str, now: datetime
) -> Nomination:
    """The office returned the opinion or its seal for supplement (一次性告知): the recommending body
    gives them again. The applicant resubmits the nomination as a whole once this is done."""
    nomination = await require_reendorsable(session, actor, nomination_id, now, lock=True)
    endorsement = (
        await session.exec(select(Endorsement).where(Endorsement.nomination_id == nomination_id))
    ).one()
    before = endorsement.seal_sha256
    endorsement.opinion, endorsement.seal_sha256 = dossier.clean_text(opinion, 2000), seal_sha256
    endorsement.endorsed_by, endorsement.endorsed_at = actor.person_id or 0, now
    session.add(endorsement)
    for row in (
        await session.exec(
            select(Deficiency).where(  # supplied: no longer open
                Deficiency.nomination_id == nomination_id,
                col(Deficiency.item).in_(ENDORSEMENT_ITEMS),
                col(Deficiency.resolved_at).is_(None),
            )
        )
    ).all():
        row.resolved_at = now
        session.add(row)
    await audit.append(
        session,
        actor_id=actor.person_id,
        action="nomination.reendorsed",
        subject=f"nomination:{nomination_id}",
        now=now,
        article="第十六条第1项",
        seal_before=before,
        seal_after=seal_sha256,
    )
    await outbox.notify_person(
        session, nomination.applicant_id, "nomination.reendorsed_notice", now, params={"id": nomination_id}
    )
    await session.commit()
    return nomination


async def require_reendorsable(
    session: AsyncSession, actor: Actor, nomination_id: int, now: datetime, *, lock: bool = False
) -> Nomination:
    nomination = await load(session, nomination_id, lock=lock)
    _require_recommender_of(actor, nomination)
    if nomination.stage != Stage.RETURNED_FOR_SUPPLEMENT.value or not set(ENDORSEMENT_ITEMS) & set(
        await open_deficiencies(session, nomination_id)
    ):
        raise DomainError("nomination.endorsement_not_reopened")
    if nomination.supplement_deadline is not None and nomination.supplement_deadline <= now:
        raise DomainError("nomination.deadline_passed")
    return nomination


async def return_by_recommender(
    session: AsyncSession, actor: Actor, nomination_id: int, reason: str, now: datetime
) -> Nomination:
    nomination = await load(session, nomination_id, lock=True)
    _require_recommender_of(actor, nomination)
    reason = dossier.clean_text(reason, 1000)
    await move(
        session,
        nomination,
        Stage.RETURNED_BY_RECOMMENDER,
        Party.RECOMMENDER,
        actor.person_id,
        now,
        reason=reason,
    )
    await outbox.notify_person(
        session,
        nomination.applicant_id,
        "nomination.returned_notice",
        now,
        params={"id": nomination_id, "reason": reason},
    )
    await session.commit()
    return nomination


async def pending_for(session: AsyncSession, actor: Actor) -> list[Nomination]:
    people.require_role(actor, Role.RECOMMENDER)
    return list(
        (
            await session.exec(
                select(Nomination)
                .where(
                    col(Nomination.organisation_id).in_(actor.organisations(Role.RECOMMENDER)),
                    Nomination.stage == Stage.SUBMITTED.value,
                )
                .order_by(col(Nomination.id))
            )
        ).all()
    )
