"""Nominations (第十六条第1项): the applicant's dossier and materials, the recommending body's
endorsement with its stamped opinion, and the office's preliminary check (初审).

Every stage change goes through `_move`, which checks the one transition table, locks the row,
bumps its version, writes the history row and the audit record, in the caller's transaction."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models import (
    Deficiency,
    Endorsement,
    Nomination,
    NominationMaterial,
    NominationMove,
    Organisation,
    Person,
    Quota,
    Role,
    RoleAssignment,
    SelfCheck,
)
from services import audit, campaigns, outbox, people, tokens
from services.actors import Actor
from services.catalogue import load_catalogue
from services.errors import DomainError
from services.rules import dossier
from services.rules.campaign_phases import Action
from services.rules.nomination_flow import Mover, Stage, check_move, editable

SATISFACTION_REPORT = "satisfaction_report"
SEAL = "seal"
COUNTED = (Stage.ENDORSED, Stage.RETURNED_FOR_SUPPLEMENT, Stage.RESUBMITTED, Stage.PASSED)


async def _load(session: AsyncSession, nomination_id: int, *, lock: bool = False) -> Nomination:
    statement = select(Nomination).where(Nomination.id == nomination_id)
    nomination = (await session.exec(statement.with_for_update() if lock else statement)).first()
    if nomination is None:
        raise DomainError("nomination.not_found")
    return nomination


async def _own(session: AsyncSession, actor: Actor, nomination_id: int) -> Nomination:
    people.require_registered(actor)
    nomination = await _load(session, nomination_id, lock=True)
    if nomination.applicant_id != actor.person_id:
        raise DomainError("nomination.not_yours")
    return nomination


async def _move(
    session: AsyncSession, nomination: Nomination, target: Stage, mover: Mover, actor: Actor, now: datetime,
    reason: str = "", deadline: datetime | None = None,
) -> None:
    current = Stage(nomination.stage)
    check_move(current, target, mover, reason=reason, deadline=deadline, now=now)
    nomination.stage, nomination.version, nomination.updated_at = target.value, nomination.version + 1, now
    session.add(nomination)
    session.add(NominationMove(nomination_id=nomination.id or 0, at=now, actor_id=actor.person_id,
                               from_stage=current.value, to_stage=target.value, reason=reason))
    await audit.append(session, actor_id=actor.person_id, action="nomination.moved", subject=f"nomination:{nomination.id}",
                       now=now, reason=reason, from_stage=current.value, to_stage=target.value, mover=mover.value,
                       article="第十六条第1项")


# The applicant ------------------------------------------------------------------------------------

async def start(session: AsyncSession, actor: Actor, honour: str, now: datetime,
                selfcheck_id: int | None = None) -> Nomination:
    people.require_registered(actor)
    view = await campaigns.require_action(session, Action.START_NOMINATION, now)
    if not view.grants(honour):
        raise DomainError("nomination.honour_not_granted")
    if selfcheck_id is not None:
        carried = await session.get(SelfCheck, selfcheck_id)
        if carried is None or carried.person_id != actor.person_id or carried.honour != honour:
            raise DomainError("selfcheck.not_yours")
    existing = (await session.exec(select(Nomination).where(
        Nomination.applicant_id == actor.person_id, Nomination.campaign_id == view.campaign.id,
        Nomination.honour == honour, col(Nomination.stage).not_in([Stage.WITHDRAWN.value, Stage.REJECTED.value]),
    ))).first()
    if existing is not None:
        return existing  # one nomination per honour and campaign: carry on with it
    nomination = Nomination(campaign_id=view.campaign.id or 0, honour=honour, applicant_id=actor.person_id or 0,
                            stage=Stage.DRAFT.value, selfcheck_id=selfcheck_id, created_at=now, updated_at=now)
    session.add(nomination)
    await session.flush()
    await audit.append(session, actor_id=actor.person_id, action="nomination.started",
                       subject=f"nomination:{nomination.id}", now=now, honour=honour, selfcheck_id=selfcheck_id)
    await session.commit()
    return nomination


async def _editable(session: AsyncSession, actor: Actor, nomination_id: int, item: str, now: datetime) -> Nomination:
    nomination = await _own(session, actor, nomination_id)
    stage = Stage(nomination.stage)
    if not editable(stage):
        raise DomainError("nomination.locked")
    await campaigns.require_action(session, Action.EDIT_DOSSIER, now)
    if stage == Stage.RETURNED_FOR_SUPPLEMENT:
        if nomination.supplement_deadline is not None and nomination.supplement_deadline <= now:
            raise DomainError("nomination.deadline_passed")
        if item not in await open_deficiencies(session, nomination.id or 0):
            raise DomainError("nomination.item_not_reopened")
    return nomination


async def set_field(session: AsyncSession, actor: Actor, nomination_id: int, field_id: str, raw: str,
                    now: datetime) -> Nomination:
    nomination = await _editable(session, actor, nomination_id, f"field:{field_id}", now)
    spec = next((f for f in dossier.FIELDS[nomination.honour] if f.id == field_id), None)
    if spec is None:
        raise DomainError("nomination.unknown_field")
    nomination.fields = {**nomination.fields, field_id: dossier.validate_field(spec, raw)}
    nomination.updated_at = now
    session.add(nomination)
    await session.commit()
    return nomination


async def choose_organisation(session: AsyncSession, actor: Actor, nomination_id: int, organisation_id: int,
                              now: datetime) -> Nomination:
    nomination = await _editable(session, actor, nomination_id, "organisation", now)
    if await session.get(Organisation, organisation_id) is None:
        raise DomainError("nomination.unknown_organisation")
    nomination.organisation_id, nomination.updated_at = organisation_id, now
    session.add(nomination)
    await session.commit()
    return nomination


async def add_material(session: AsyncSession, actor: Actor, nomination_id: int, slot: str, *, sha256: str,
                       file_name: str, kind: str, size: int, now: datetime) -> NominationMaterial:
    nomination = await _editable(session, actor, nomination_id, f"material:{slot}", now)
    if slot not in {m.id for m in checklist(nomination.honour)}:
        raise DomainError("nomination.unknown_material")
    same = (await session.exec(select(NominationMaterial).where(
        NominationMaterial.nomination_id == nomination_id, NominationMaterial.slot == slot,
        NominationMaterial.sha256 == sha256, col(NominationMaterial.removed_at).is_(None),
    ))).first()
    if same is not None:
        return same  # the same file twice is kept once
    material = NominationMaterial(nomination_id=nomination_id, slot=slot, sha256=sha256, file_name=file_name,
                                  kind=kind, size=size, uploaded_at=now)
    session.add(material)
    nomination.updated_at = now
    session.add(nomination)
    await session.commit()
    return material


async def remove_material(session: AsyncSession, actor: Actor, nomination_id: int, material_id: int,
                          now: datetime) -> None:
    material = await session.get(NominationMaterial, material_id)
    if material is None or material.nomination_id != nomination_id or material.removed_at is not None:
        raise DomainError("nomination.material_not_found")
    await _editable(session, actor, nomination_id, f"material:{material.slot}", now)
    material.removed_at = now
    session.add(material)
    await session.commit()


async def materials(session: AsyncSession, nomination_id: int) -> list[NominationMaterial]:
    return list((await session.exec(select(NominationMaterial).where(
        NominationMaterial.nomination_id == nomination_id, col(NominationMaterial.removed_at).is_(None)
    ).order_by(col(NominationMaterial.id)))).all())


def checklist(honour: str) -> list[Any]:
    """The materials a nomination for this honour may carry: the satisfaction report first."""
    catalogue = load_catalogue()
    seen: dict[str, Any] = {catalogue.satisfaction_report.id: catalogue.satisfaction_report}
    for criterion in catalogue.honours[honour].criteria:
        for material in criterion.materials:
            seen.setdefault(material.id, material)
    return list(seen.values())


async def consent_to_publish(session: AsyncSession, actor: Actor, nomination_id: int, now: datetime) -> Nomination:
    """PIPL: publishing the name, unit and honour in 公示 and announcements needs its own agreement."""
    nomination = await _own(session, actor, nomination_id)
    nomination.publish_consent_at = now
    session.add(nomination)
    await audit.append(session, actor_id=actor.person_id, action="nomination.publish_consent",
                       subject=f"nomination:{nomination.id}", now=now)
    await session.commit()
    return nomination


def missing_items(nomination: Nomination, present_slots: set[str]) -> list[str]:
    """What still stops submission, as item ids ("field:phone", "organisation", "material:…", "consent")."""
    missing = [f"field:{f.id}" for f in dossier.FIELDS[nomination.honour] if f.id not in nomination.fields]
    if nomination.organisation_id is None:
        missing.append("organisation")
    if SATISFACTION_REPORT not in present_slots:
        missing.append(f"material:{SATISFACTION_REPORT}")
    if nomination.publish_consent_at is None:
        missing.append("consent")
    return missing


async def submit(session: AsyncSession, actor: Actor, nomination_id: int, now: datetime) -> Nomination:
    nomination = await _own(session, actor, nomination_id)
    stage = Stage(nomination.stage)
    missing = missing_items(nomination, {m.slot for m in await materials(session, nomination_id)})
    if missing:
        raise DomainError("nomination.incomplete", items=", ".join(missing))
    if stage == Stage.RETURNED_FOR_SUPPLEMENT:
        await _move(session, nomination, Stage.RESUBMITTED, Mover.APPLICANT, actor, now,
                    deadline=nomination.supplement_deadline)
        await _notify_office(session, nomination, "nomination.resubmitted_notice", now)
    else:
        await campaigns.require_action(session, Action.START_NOMINATION, now)
        await _move(session, nomination, Stage.SUBMITTED, Mover.APPLICANT, actor, now)
        await _notify_recommenders(session, nomination, now)
    await session.commit()
    return nomination


# The recommending body ----------------------------------------------------------------------------

async def _recommenders(session: AsyncSession, organisation_id: int) -> list[Person]:
    return list((await session.exec(
        select(Person).join(RoleAssignment, col(RoleAssignment.person_id) == Person.id).where(
            RoleAssignment.role == Role.RECOMMENDER, RoleAssignment.organisation_id == organisation_id,
            col(RoleAssignment.revoked_at).is_(None), col(Person.blocked_at).is_(None),
        ))).all())


async def _notify_recommenders(session: AsyncSession, nomination: Nomination, now: datetime) -> None:
    for member in await _recommenders(session, nomination.organisation_id or 0):
        endorse = await tokens.issue(session, telegram_id=member.telegram_id, action="nomination.endorse", now=now,
                                     nomination_id=nomination.id)
        send_back = await tokens.issue(session, telegram_id=member.telegram_id, action="nomination.return", now=now,
                                       nomination_id=nomination.id)
        await outbox.enqueue(
            session, chat_id=member.telegram_id, template="nomination.new_for_recommender", now=now, protect=True,
            params={"id": nomination.id, "honour_key": f"honour.{nomination.honour}",
                    "name": str(nomination.fields.get("name") or nomination.fields.get("team_name") or "")},
            buttons=[[outbox.button("nomination.endorse", endorse), outbox.button("nomination.return", send_back)]],
        )


async def _notify_office(session: AsyncSession, nomination: Nomination, template: str, now: datetime) -> None:
    office = (await session.exec(
        select(Person).join(RoleAssignment, col(RoleAssignment.person_id) == Person.id).where(
            RoleAssignment.role == Role.OFFICE, col(RoleAssignment.revoked_at).is_(None))
    )).all()
    for member in office:
        await outbox.enqueue(session, chat_id=member.telegram_id, template=template, now=now,
                             params={"id": nomination.id, "honour_key": f"honour.{nomination.honour}"})


def _require_recommender_of(actor: Actor, nomination: Nomination) -> None:
    people.require_role(actor, Role.RECOMMENDER)
    if nomination.organisation_id not in actor.organisations(Role.RECOMMENDER):
        raise DomainError("nomination.other_organisation")
    if nomination.applicant_id == actor.person_id:
        raise DomainError("nomination.own_nomination")


@dataclass(frozen=True)
class QuotaUse:
    places: int | None  # None: the office set no quota
    used: int

    @property
    def left(self) -> int | None:
        return None if self.places is None else max(0, self.places - self.used)


async def quota_use(session: AsyncSession, campaign_id: int, organisation_id: int, honour: str) -> QuotaUse:
    quota = (await session.exec(select(Quota).where(
        Quota.campaign_id == campaign_id, Quota.organisation_id == organisation_id, Quota.honour == honour))).first()
    used = (await session.exec(select(func.count()).select_from(Nomination).where(
        Nomination.campaign_id == campaign_id, Nomination.organisation_id == organisation_id,
        Nomination.honour == honour, col(Nomination.stage).in_([s.value for s in COUNTED])))).one()
    return QuotaUse(quota.places if quota else None, int(used))


async def endorse(session: AsyncSession, actor: Actor, nomination_id: int, opinion: str, seal_sha256: str,
                  now: datetime) -> Nomination:
    nomination = await _load(session, nomination_id, lock=True)
    _require_recommender_of(actor, nomination)
    opinion = dossier.clean_text(opinion, 2000)
    await campaigns.require_action(session, Action.ENDORSE, now)
    use = await quota_use(session, nomination.campaign_id, nomination.organisation_id or 0, nomination.honour)
    if use.left == 0:
        raise DomainError("nomination.quota_full", places=use.places)
    await _move(session, nomination, Stage.ENDORSED, Mover.RECOMMENDER, actor, now)
    session.add(Endorsement(nomination_id=nomination_id, opinion=opinion, seal_sha256=seal_sha256,
                            endorsed_by=actor.person_id or 0, endorsed_at=now))
    await outbox.notify_person(session, nomination.applicant_id, "nomination.endorsed_notice", now,
                               params={"id": nomination_id})
    await _notify_office(session, nomination, "nomination.endorsed_for_office", now)
    await session.commit()
    return nomination


async def return_by_recommender(session: AsyncSession, actor: Actor, nomination_id: int, reason: str,
                                now: datetime) -> Nomination:
    nomination = await _load(session, nomination_id, lock=True)
    _require_recommender_of(actor, nomination)
    reason = dossier.clean_text(reason, 1000)
    await _move(session, nomination, Stage.RETURNED_BY_RECOMMENDER, Mover.RECOMMENDER, actor, now, reason=reason)
    await outbox.notify_person(session, nomination.applicant_id, "nomination.returned_notice", now,
                               params={"id": nomination_id, "reason": reason})
    await session.commit()
    return nomination


async def pending_for(session: AsyncSession, actor: Actor) -> list[Nomination]:
    people.require_role(actor, Role.RECOMMENDER)
    return list((await session.exec(select(Nomination).where(
        col(Nomination.organisation_id).in_(actor.organisations(Role.RECOMMENDER)),
        Nomination.stage == Stage.SUBMITTED.value).order_by(col(Nomination.id)))).all())


# The office: preliminary check ---------------------------------------------------------------------

async def office_queue(session: AsyncSession, actor: Actor) -> list[Nomination]:
    people.require_role(actor, Role.OFFICE)
    return list((await session.exec(select(Nomination).where(
        col(Nomination.stage).in_([Stage.ENDORSED.value, Stage.RESUBMITTED.value])
    ).order_by(Nomination.honour, col(Nomination.id)))).all())


async def precheck_pass(session: AsyncSession, actor: Actor, nomination_id: int, now: datetime) -> Nomination:
    return await _office_decision(session, actor, nomination_id, Stage.PASSED, "", now)


async def precheck_reject(session: AsyncSession, actor: Actor, nomination_id: int, reason: str,
                          now: datetime) -> Nomination:
    return await _office_decision(session, actor, nomination_id, Stage.REJECTED, reason, now)


async def precheck_return(session: AsyncSession, actor: Actor, nomination_id: int,
                          items: list[tuple[str, str]], deadline: datetime, now: datetime) -> Nomination:
    """一次性告知: every deficiency at once, each with a note; only those items reopen."""
    if not items:
        raise DomainError("nomination.no_deficiencies")
    nomination = await _office_decision(session, actor, nomination_id, Stage.RETURNED_FOR_SUPPLEMENT,
                                        "; ".join(f"{item}: {note}" for item, note in items), now,
                                        deadline=deadline, commit=False)
    rounds = (await session.exec(select(func.max(Deficiency.round)).where(
        Deficiency.nomination_id == nomination_id))).one()
    for item, note in items:
        session.add(Deficiency(nomination_id=nomination_id, round=int(rounds or 0) + 1, item=item,
                               note=dossier.clean_text(note, 500) if note else ""))
    nomination.supplement_deadline = deadline
    session.add(nomination)
    await session.commit()
    return nomination


async def _office_decision(session: AsyncSession, actor: Actor, nomination_id: int, target: Stage, reason: str,
                           now: datetime, deadline: datetime | None = None, commit: bool = True) -> Nomination:
    people.require_role(actor, Role.OFFICE)
    await campaigns.require_action(session, Action.PRELIMINARY_CHECK, now)
    nomination = await _load(session, nomination_id, lock=True)
    if reason:
        reason = dossier.clean_text(reason, 2000)
    await _move(session, nomination, target, Mover.OFFICE, actor, now, reason=reason, deadline=deadline)
    await _resolve_deficiencies(session, nomination_id, now)  # a return opens a fresh round
    template = f"nomination.precheck_{target.value}"
    params: dict[str, Any] = {"id": nomination_id, "reason": reason}
    await outbox.notify_person(session, nomination.applicant_id, template, now, params=params)
    for member in await _recommenders(session, nomination.organisation_id or 0):
        await outbox.enqueue(session, chat_id=member.telegram_id, template=template, now=now, params=params)
    if commit:
        await session.commit()
    return nomination


async def open_deficiencies(session: AsyncSession, nomination_id: int) -> dict[str, str]:
    rows = (await session.exec(select(Deficiency).where(
        Deficiency.nomination_id == nomination_id, col(Deficiency.resolved_at).is_(None)))).all()
    return {row.item: row.note for row in rows}


async def _resolve_deficiencies(session: AsyncSession, nomination_id: int, now: datetime) -> None:
    for row in (await session.exec(select(Deficiency).where(
            Deficiency.nomination_id == nomination_id, col(Deficiency.resolved_at).is_(None)))).all():
        row.resolved_at = now
        session.add(row)


async def history(session: AsyncSession, nomination_id: int) -> list[NominationMove]:
    return list((await session.exec(select(NominationMove).where(NominationMove.nomination_id == nomination_id)
                                    .order_by(col(NominationMove.id)))).all())


async def mine(session: AsyncSession, actor: Actor) -> list[Nomination]:
    people.require_registered(actor)
    return list((await session.exec(select(Nomination).where(Nomination.applicant_id == actor.person_id)
                                    .order_by(col(Nomination.id).desc()))).all())


async def set_quota(session: AsyncSession, actor: Actor, campaign_id: int, organisation_id: int, honour: str,
                    places: int, now: datetime) -> None:
    people.require_role(actor, Role.OFFICE)
    if places < 0:
        raise DomainError("nomination.bad_quota")
    quota = (await session.exec(select(Quota).where(
        Quota.campaign_id == campaign_id, Quota.organisation_id == organisation_id, Quota.honour == honour))).first()
    before = quota.places if quota else None
    quota = quota or Quota(campaign_id=campaign_id, organisation_id=organisation_id, honour=honour, places=places)
    quota.places = places
    session.add(quota)
    await audit.append(session, actor_id=actor.person_id, action="quota.set", subject=f"organisation:{organisation_id}",
                       now=now, campaign_id=campaign_id, honour=honour, before=before, after=places)
    await session.commit()
