"""The applicant: starts a nomination, fills in the dossier and its materials, consents, submits."""

from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models import Nomination, NominationMaterial, Organisation, SelfCheck
from services import audit, campaigns, people
from services.actors import Actor
from services.errors import DomainError
from services.lifecycles.core import Party, create
from services.lifecycles.nomination import NOMINATION
from services.nominations.deficiencies import ENDORSEMENT_ITEMS, open_deficiencies
from services.nominations.notices import notify_office, notify_recommenders
from services.nominations.queries import checklist, materials
from services.nominations.stages import move, own
from services.rules import dossier
from services.rules.campaign_phases import Action
from services.rules.nomination_flow import Stage, editable

SATISFACTION_REPORT = "satisfaction_report"


async def start(
    session: AsyncSession, actor: Actor, honour: str, now: datetime, selfcheck_id: int | None = None
) -> Nomination:
    people.require_registered(actor)
    view = await campaigns.require_action(session, Action.START_NOMINATION, now)
    if not view.grants(honour):
        raise DomainError("nomination.honour_not_granted")
    if selfcheck_id is not None:
        carried = await session.get(SelfCheck, selfcheck_id)
        if carried is None or carried.person_id != actor.person_id or carried.honour != honour:
            raise DomainError("selfcheck.not_yours")
    existing = (
        await session.exec(
            select(Nomination).where(
                Nomination.applicant_id == actor.person_id,
                Nomination.campaign_id == view.campaign.id,
                Nomination.honour == honour,
                col(Nomination.stage).not_in([Stage.WITHDRAWN.value, Stage.REJECTED.value]),
            )
        )
    ).first()
    if existing is not None:
        return existing  # one nomination per honour and campaign: carry on with it
    nomination: Nomination = await create(
        session,
        NOMINATION,
        {
            "campaign_id": view.campaign.id or 0,
            "honour": honour,
            "applicant_id": actor.person_id or 0,
            "selfcheck_id": selfcheck_id,
            "created_at": now,
            "updated_at": now,
        },
        "start",
        party=Party.APPLICANT,
        actor_id=actor.person_id,
        now=now,
        phase=view.phase,
        audit_action="nomination.started",
        honour=honour,
        selfcheck_id=selfcheck_id,
    )
    await session.commit()
    return nomination


async def _editable(
    session: AsyncSession, actor: Actor, nomination_id: int, item: str, now: datetime
) -> Nomination:
    nomination = await own(session, actor, nomination_id)
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


async def set_field(
    session: AsyncSession, actor: Actor, nomination_id: int, field_id: str, raw: str, now: datetime
) -> Nomination:
    nomination = await _editable(session, actor, nomination_id, f"field:{field_id}", now)
    spec = next((f for f in dossier.FIELDS[nomination.honour] if f.id == field_id), None)
    if spec is None:
        raise DomainError("nomination.unknown_field")
    nomination.fields = {**nomination.fields, field_id: dossier.validate_field(spec, raw)}
    nomination.updated_at = now
    session.add(nomination)
    await session.commit()
    return nomination


async def choose_organisation(
    session: AsyncSession, actor: Actor, nomination_id: int, organisation_id: int, now: datetime
) -> Nomination:
    nomination = await _editable(session, actor, nomination_id, "organisation", now)
    if await session.get(Organisation, organisation_id) is None:
        raise DomainError("nomination.unknown_organisation")
    nomination.organisation_id, nomination.updated_at = organisation_id, now
    session.add(nomination)
    await session.commit()
    return nomination


async def add_material(
    session: AsyncSession,
    actor: Actor,
    nomination_id: int,
    slot: str,
    *,
    sha256: str,
    file_name: str,
    kind: str,
    size: int,
    now: datetime,
) -> NominationMaterial:
    nomination = await _editable(session, actor, nomination_id, f"material:{slot}", now)
    if slot not in {m.id for m in checklist(nomination.honour)}:
        raise DomainError("nomination.unknown_material")
    same = (
        await session.exec(
            select(NominationMaterial).where(
                NominationMaterial.nomination_id == nomination_id,
                NominationMaterial.slot == slot,
                NominationMaterial.sha256 == sha256,
                col(NominationMaterial.removed_at).is_(None),
            )
        )
    ).first()
    if same is not None:
        return same  # the same file twice is kept once
    material = NominationMaterial(
        nomination_id=nomination_id,
        slot=slot,
        sha256=sha256,
        file_name=file_name,
        kind=kind,
        size=size,
        uploaded_at=now,
    )
    session.add(material)
    nomination.updated_at = now
    session.add(nomination)
    await session.commit()
    return material


async def remove_material(
    session: AsyncSession, actor: Actor, nomination_id: int, material_id: int, now: datetime
) -> None:
    material = await session.get(NominationMaterial, material_id)
    if material is None or material.nomination_id != nomination_id or material.removed_at is not None:
        raise DomainError("nomination.material_not_found")
    await _editable(session, actor, nomination_id, f"material:{material.slot}", now)
    material.removed_at = now
    session.add(material)
    await session.commit()


async def consent_to_publish(
    session: AsyncSession, actor: Actor, nomination_id: int, now: datetime
) -> Nomination:
    """PIPL: publishing the name, unit and honour in 公示 and announcements needs its own agreement."""
    nomination = await own(session, actor, nomination_id)
    if nomination.publish_consent_at is not None:
        raise DomainError("nomination.consent_given")  # given once, recorded once
    nomination.publish_consent_at = now
    session.add(nomination)
    await audit.append(
        session,
        actor_id=actor.person_id,
        action="nomination.publish_consent",
        subject=f"nomination:{nomination.id}",
        now=now,
    )
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
    nomination = await own(session, actor, nomination_id)
    stage = Stage(nomination.stage)
    missing = missing_items(nomination, {m.slot for m in await materials(session, nomination_id)})
    if missing:
        raise DomainError("nomination.incomplete", items=missing)  # ids; the edge says them
    if stage == Stage.RETURNED_FOR_SUPPLEMENT:
        await move(
            session,
            nomination,
            Stage.RESUBMITTED,
            Party.APPLICANT,
            actor.person_id,
            now,
            deadline=nomination.supplement_deadline,
        )  # refuses after the deadline first
        if await _awaiting_endorsement(session, nomination):
            raise DomainError("nomination.awaiting_endorsement")  # nothing is committed
        await notify_office(session, nomination, "nomination.resubmitted_notice", now)
    else:
        view = await campaigns.require_action(session, Action.START_NOMINATION, now)
        await move(
            session, nomination, Stage.SUBMITTED, Party.APPLICANT, actor.person_id, now, phase=view.phase
        )
        await notify_recommenders(session, nomination, now)
    await session.commit()
    return nomination


async def _awaiting_endorsement(session: AsyncSession, nomination: Nomination) -> bool:
    """The opinion or seal is among the open items: the body has not given it again since the return."""
    return bool(set(ENDORSEMENT_ITEMS) & set(await open_deficiencies(session, nomination.id or 0)))
