"""Nominations (第十六条第1项): the applicant's dossier and materials, the recommending body's
endorsement with its stamped opinion, and the office's preliminary check (初审).

Every stage change goes through `move`, which checks the one transition table, locks the row,
bumps its version, writes the history row and the audit record, in the caller's transaction."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

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
    ReturnSnapshot,
    Role,
    RoleAssignment,
    SelfCheck,
    Verification,
)
from services import audit, campaigns, outbox, people, tokens
from services.actors import Actor
from services.catalogue import load_catalogue
from services.errors import DomainError
from services.rules import dossier
from services.rules.campaign_phases import Action
from services.rules.nomination_flow import Mover, Stage, check_move, editable
from services.texts import translator

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


async def move(
    session: AsyncSession,
    nomination: Nomination,
    target: Stage,
    mover: Mover,
    actor_id: int | None,
    now: datetime,
    *,
    reason: str = "",
    deadline: datetime | None = None,
    article: str = "第十六条第1项",
    **details: object,
) -> None:
    """One move through the transition table, with its history row and an audit record citing the
    article the move comes from. The caller holds the row lock and commits."""
    current = Stage(nomination.stage)
    check_move(current, target, mover, reason=reason, deadline=deadline, now=now)
    nomination.stage, nomination.version, nomination.updated_at = target.value, nomination.version + 1, now
    session.add(nomination)
    session.add(
        NominationMove(
            nomination_id=nomination.id or 0,
            at=now,
            actor_id=actor_id,
            from_stage=current.value,
            to_stage=target.value,
            reason=reason,
        )
    )
    await audit.append(
        session,
        actor_id=actor_id,
        action="nomination.moved",
        subject=f"nomination:{nomination.id}",
        now=now,
        reason=reason,
        from_stage=current.value,
        to_stage=target.value,
        mover=mover.value,
        article=article,
        **details,
    )


# The applicant ------------------------------------------------------------------------------------


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
    nomination = Nomination(
        campaign_id=view.campaign.id or 0,
        honour=honour,
        applicant_id=actor.person_id or 0,
        stage=Stage.DRAFT.value,
        selfcheck_id=selfcheck_id,
        created_at=now,
        updated_at=now,
    )
    session.add(nomination)
    await session.flush()
    await audit.append(
        session,
        actor_id=actor.person_id,
        action="nomination.started",
        subject=f"nomination:{nomination.id}",
        now=now,
        honour=honour,
        selfcheck_id=selfcheck_id,
    )
    await session.commit()
    return nomination


async def _editable(
    session: AsyncSession, actor: Actor, nomination_id: int, item: str, now: datetime
) -> Nomination:
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


async def materials(session: AsyncSession, nomination_id: int) -> list[NominationMaterial]:
    return list(
        (
            await session.exec(
                select(NominationMaterial)
                .where(
                    NominationMaterial.nomination_id == nomination_id,
                    col(NominationMaterial.removed_at).is_(None),
                )
                .order_by(col(NominationMaterial.id))
            )
        ).all()
    )


def checklist(honour: str) -> list[Any]:
    """The materials a nomination for this honour may carry: the satisfaction report first."""
    catalogue = load_catalogue()
    seen: dict[str, Any] = {catalogue.satisfaction_report.id: catalogue.satisfaction_report}
    for criterion in catalogue.honours[honour].criteria:
        for material in criterion.materials:
            seen.setdefault(material.id, material)
    return list(seen.values())


async def consent_to_publish(
    session: AsyncSession, actor: Actor, nomination_id: int, now: datetime
) -> Nomination:
    """PIPL: publishing the name, unit and honour in 公示 and announcements needs its own agreement."""
    nomination = await _own(session, actor, nomination_id)
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
    nomination = await _own(session, actor, nomination_id)
    stage = Stage(nomination.stage)
    missing = missing_items(nomination, {m.slot for m in await materials(session, nomination_id)})
    if missing:
        raise DomainError("nomination.incomplete", items=", ".join(missing))
    if stage == Stage.RETURNED_FOR_SUPPLEMENT:
        await move(
            session,
            nomination,
            Stage.RESUBMITTED,
            Mover.APPLICANT,
            actor.person_id,
            now,
            deadline=nomination.supplement_deadline,
        )  # refuses after the deadline first
        if await _awaiting_endorsement(session, nomination):
            raise DomainError("nomination.awaiting_endorsement")  # nothing is committed
        await _notify_office(session, nomination, "nomination.resubmitted_notice", now)
    else:
        await campaigns.require_action(session, Action.START_NOMINATION, now)
        await move(session, nomination, Stage.SUBMITTED, Mover.APPLICANT, actor.person_id, now)
        await _notify_recommenders(session, nomination, now)
    await session.commit()
    return nomination


# The recommending body ----------------------------------------------------------------------------


async def _recommenders(session: AsyncSession, organisation_id: int) -> list[Person]:
    return list(
        (
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
    )


async def _notify_recommenders(session: AsyncSession, nomination: Nomination, now: datetime) -> None:
    for member in await _recommenders(session, nomination.organisation_id or 0):
        endorse = await tokens.issue(
            session,
            telegram_id=member.telegram_id,
            action="nomination.endorse",
            now=now,
            nomination_id=nomination.id,
        )
        send_back = await tokens.issue(
            session,
            telegram_id=member.telegram_id,
            action="nomination.return",
            now=now,
            nomination_id=nomination.id,
        )
        await outbox.enqueue(
            session,
            chat_id=member.telegram_id,
            template="nomination.new_for_recommender",
            now=now,
            protect=True,
            params={
                "id": nomination.id,
                "honour_key": f"honour.{nomination.honour}",
                "name": str(nomination.fields.get("name") or nomination.fields.get("team_name") or ""),
            },
            buttons=[
                [outbox.button("nomination.endorse", endorse), outbox.button("nomination.return", send_back)]
            ],
        )


async def _notify_office(session: AsyncSession, nomination: Nomination, template: str, now: datetime) -> None:
    office = (
        await session.exec(
            select(Person)
            .join(RoleAssignment, col(RoleAssignment.person_id) == Person.id)
            .where(RoleAssignment.role == Role.OFFICE, col(RoleAssignment.revoked_at).is_(None))
        )
    ).all()
    for member in office:
        await outbox.enqueue(
            session,
            chat_id=member.telegram_id,
            template=template,
            now=now,
            params={"id": nomination.id, "honour_key": f"honour.{nomination.honour}"},
        )


def _require_recommender_of(actor: Actor, nomination: Nomination) -> None:
    people.require_role(actor, Role.RECOMMENDER)
    if nomination.organisation_id not in actor.organisations(Role.RECOMMENDER):
        raise DomainError("nomination.other_organisation")
    if nomination.applicant_id == actor.person_id:
        raise DomainError("nomination.own_nomination")


async def require_with_recommender(session: AsyncSession, actor: Actor, nomination_id: int) -> Nomination:
    """Before the recommending body types an opinion or a reason: is the nomination still theirs to decide?"""
    nomination = await _load(session, nomination_id)
    _require_recommender_of(actor, nomination)
    if nomination.stage != Stage.SUBMITTED:
        raise DomainError(
            "nomination.not_with_recommender", id=nomination_id, stage_key=f"stage.{nomination.stage}"
        )
    return nomination


@dataclass(frozen=True)
class QuotaUse:
    places: int | None  # None: the office set no quota
    used: int

    @property
    def left(self) -> int | None:
        return None if self.places is None else max(0, self.places - self.used)


async def quota_use(session: AsyncSession, campaign_id: int, organisation_id: int, honour: str) -> QuotaUse:
    quota = (
        await session.exec(
            select(Quota).where(
                Quota.campaign_id == campaign_id,
                Quota.organisation_id == organisation_id,
                Quota.honour == honour,
            )
        )
    ).first()
    used = (
        await session.exec(
            select(func.count())
            .select_from(Nomination)
            .where(
                Nomination.campaign_id == campaign_id,
                Nomination.organisation_id == organisation_id,
                Nomination.honour == honour,
                col(Nomination.stage).in_([s.value for s in COUNTED]),
            )
        )
    ).one()
    return QuotaUse(quota.places if quota else None, int(used))


async def endorse(
    session: AsyncSession, actor: Actor, nomination_id: int, opinion: str, seal_sha256: str, now: datetime
) -> Nomination:
    nomination = await _load(session, nomination_id, lock=True)
    _require_recommender_of(actor, nomination)
    opinion = dossier.clean_text(opinion, 2000)
    await campaigns.require_action(session, Action.ENDORSE, now)
    use = await quota_use(session, nomination.campaign_id, nomination.organisation_id or 0, nomination.honour)
    if use.left == 0:
        raise DomainError("nomination.quota_full", places=use.places)
    await move(session, nomination, Stage.ENDORSED, Mover.RECOMMENDER, actor.person_id, now)
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
    await _notify_office(session, nomination, "nomination.endorsed_for_office", now)
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
    nomination = await _load(session, nomination_id, lock=lock)
    _require_recommender_of(actor, nomination)
    if nomination.stage != Stage.RETURNED_FOR_SUPPLEMENT.value or not set(ENDORSEMENT_ITEMS) & set(
        await open_deficiencies(session, nomination_id)
    ):
        raise DomainError("nomination.endorsement_not_reopened")
    if nomination.supplement_deadline is not None and nomination.supplement_deadline <= now:
        raise DomainError("nomination.deadline_passed")
    return nomination


async def _awaiting_endorsement(session: AsyncSession, nomination: Nomination) -> bool:
    """The opinion or seal is among the open items: the body has not given it again since the return."""
    return bool(set(ENDORSEMENT_ITEMS) & set(await open_deficiencies(session, nomination.id or 0)))


async def return_by_recommender(
    session: AsyncSession, actor: Actor, nomination_id: int, reason: str, now: datetime
) -> Nomination:
    nomination = await _load(session, nomination_id, lock=True)
    _require_recommender_of(actor, nomination)
    reason = dossier.clean_text(reason, 1000)
    await move(
        session,
        nomination,
        Stage.RETURNED_BY_RECOMMENDER,
        Mover.RECOMMENDER,
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


# The office: preliminary check ---------------------------------------------------------------------

SHANGHAI = ZoneInfo("Asia/Shanghai")
ITEMS_WITHOUT_FIELD = ("organisation",)
ENDORSEMENT_ITEMS = ("opinion", SEAL)  # the recommending body's part, listed after the applicant's


def deficiency_items(honour: str) -> list[str]:
    """Every item the office may tick in a return for supplement, in the dossier's order."""
    return [
        *(f"field:{f.id}" for f in dossier.FIELDS[honour]),
        *ITEMS_WITHOUT_FIELD,
        *(f"material:{m.id}" for m in checklist(honour)),
        *ENDORSEMENT_ITEMS,
    ]


def item_label(item: str, locale: str, translate: Callable[[str], str] | None = None) -> str:
    """An item id ("field:phone", "material:…", "seal", "consent") in words."""
    translate = translate or translator(locale)
    kind, _, rest = item.partition(":")
    if kind == "field":
        return translate(f"dossier.field.{rest}")
    if kind == "material":
        catalogue = load_catalogue()
        names = {catalogue.satisfaction_report.id: catalogue.satisfaction_report.name}
        for honour in catalogue.honours.values():
            for criterion in honour.criteria:
                names.update({m.id: m.name for m in criterion.materials})
        return names[rest].get(locale) if rest in names else rest
    return translate(f"precheck.item.{item}")


def local_deadline(deadline: datetime) -> str:
    return deadline.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


def deadline_from_day(day: date, now: datetime) -> datetime:
    """The office types a day: the supplement is due by the end of it, Beijing time."""
    deadline = datetime.combine(day, time(23, 59), tzinfo=SHANGHAI).astimezone(UTC)
    if deadline <= now:
        raise DomainError("precheck.deadline_past")
    return deadline


async def office_queue(session: AsyncSession, actor: Actor) -> list[Nomination]:
    people.require_role(actor, Role.OFFICE)
    return list(
        (
            await session.exec(
                select(Nomination)
                .where(col(Nomination.stage).in_([Stage.ENDORSED.value, Stage.RESUBMITTED.value]))
                .order_by(Nomination.honour, col(Nomination.id))
            )
        ).all()
    )


@dataclass(frozen=True)
class Changes:
    """What the applicant changed since the office returned the nomination for supplement."""

    items: dict[str, str]  # the items that return listed, with the office's notes
    fields: list[tuple[str, Any, Any]]  # (field id, before, after)
    organisation: tuple[int | None, int | None] | None
    added: list[tuple[str, str]]  # (slot, file name)
    removed: list[tuple[str, str]]
    endorsement_renewed: bool = False  # the recommending body gave its opinion and seal again


@dataclass(frozen=True)
class OfficeView:
    nomination: Nomination
    organisation: Organisation | None
    materials: list[NominationMaterial]
    endorsement: Endorsement | None
    verifications: list[Verification]
    changes: Changes | None


async def office_view(session: AsyncSession, actor: Actor, nomination_id: int) -> OfficeView:
    people.require_role(actor, Role.OFFICE)
    nomination = await _load(session, nomination_id)
    organisation = (
        await session.get(Organisation, nomination.organisation_id) if nomination.organisation_id else None
    )
    endorsement = (
        await session.exec(select(Endorsement).where(Endorsement.nomination_id == nomination_id))
    ).first()
    checks = list(
        (
            await session.exec(
                select(Verification)
                .where(Verification.nomination_id == nomination_id)
                .order_by(col(Verification.id))
            )
        ).all()
    )
    present = await materials(session, nomination_id)
    return OfficeView(
        nomination, organisation, present, endorsement, checks, await _changes(session, nomination, present)
    )


async def _changes(
    session: AsyncSession, nomination: Nomination, present: list[NominationMaterial]
) -> Changes | None:
    snapshot = (
        await session.exec(
            select(ReturnSnapshot)
            .where(ReturnSnapshot.nomination_id == nomination.id)
            .order_by(col(ReturnSnapshot.round).desc())
        )
    ).first()
    if snapshot is None:
        return None
    rows = (
        await session.exec(
            select(Deficiency)
            .where(Deficiency.nomination_id == nomination.id, Deficiency.round == snapshot.round)
            .order_by(col(Deficiency.id))
        )
    ).all()
    items = {row.item: row.note for row in rows}
    renewed = any(row.item in ENDORSEMENT_ITEMS and row.resolved_at is not None for row in rows)
    before, after = snapshot.fields, nomination.fields
    fields = [
        (f.id, before.get(f.id), after.get(f.id))
        for f in dossier.FIELDS[nomination.honour]
        if before.get(f.id) != after.get(f.id)
    ]
    organisation = (
        (snapshot.organisation_id, nomination.organisation_id)
        if snapshot.organisation_id != nomination.organisation_id
        else None
    )
    old = {(slot, sha): name for slot, sha, name in snapshot.materials}
    new = {(m.slot, m.sha256): m.file_name for m in present}
    added = [(key[0], name) for key, name in new.items() if key not in old]
    removed = [(key[0], name) for key, name in old.items() if key not in new]
    return Changes(items, fields, organisation, added, removed, renewed)


DECIDABLE = (Stage.ENDORSED.value, Stage.RESUBMITTED.value)


async def require_decidable(session: AsyncSession, actor: Actor, nomination_id: int) -> Nomination:
    """Before the office spends effort on a return or a reason: is the nomination still theirs to decide?"""
    people.require_role(actor, Role.OFFICE)
    nomination = await _load(session, nomination_id)
    if nomination.stage not in DECIDABLE:
        raise DomainError("precheck.not_in_queue", id=nomination_id, stage_key=f"stage.{nomination.stage}")
    return nomination


def clean_note(note: str) -> str:
    return dossier.clean_text(note, 500)


def check_verification_day(day: date, now: datetime) -> date:
    if day > now.astimezone(SHANGHAI).date():
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
    found = (
        await session.exec(
            select(Nomination.honour, Person.language)
            .join(Person, col(Person.id) == Nomination.applicant_id)
            .where(Nomination.id == nomination_id)
        )
    ).first()
    if found is None:
        raise DomainError("nomination.not_found")
    honour, language = found
    allowed = deficiency_items(honour)
    notes: dict[str, str] = {}
    for item, note in items:
        if item not in allowed:
            raise DomainError("precheck.unknown_item")
        notes[item] = dossier.clean_text(note, 500) if note.strip() else ""
    ordered = [(item, notes[item]) for item in allowed if item in notes]
    # The move's reason is what /mystatus shows the applicant: the items in words, in their language.
    reason = deficiency_list(ordered, language).replace("\n", "; ")[:2000]
    nomination = await _office_decision(
        session,
        actor,
        nomination_id,
        Stage.RETURNED_FOR_SUPPLEMENT,
        reason,
        now,
        deadline=deadline,
        commit=False,
        notify=False,
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


def deficiency_list(honour_items: list[tuple[str, str]], locale: str) -> str:
    """The consolidated list, one numbered line per item: "1. 联系电话：号码无法接通"."""
    translate = translator(locale)
    lines = []
    for number, (item, note) in enumerate(honour_items, 1):
        label = item_label(item, locale, translate)
        lines.append(f"{number}. {label}" + (translate("precheck.note_separator") + note if note else ""))
    return "\n".join(lines)


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
        for member in await _recommenders(session, nomination.organisation_id or 0)
    ]
    endorsement_reopened = bool(set(ENDORSEMENT_ITEMS) & {item for item, _ in items})
    for template, person in recipients:
        if person is None or person.blocked_at is not None:
            continue
        buttons = []
        if endorsement_reopened and template == "precheck.returned_notice_recommender":
            token = await tokens.issue(
                session,
                telegram_id=person.telegram_id,
                action="nomination.reendorse",
                now=now,
                nomination_id=nomination.id,
            )
            buttons = [[outbox.button("nomination.reendorse", token)]]
        await outbox.enqueue(
            session,
            chat_id=person.telegram_id,
            template=template,
            now=now,
            buttons=buttons,
            params={
                "id": nomination.id,
                "count": len(items),
                "deadline": local_deadline(deadline),
                "items": deficiency_list(items, person.language),
            },
        )


async def _office_decision(
    session: AsyncSession,
    actor: Actor,
    nomination_id: int,
    target: Stage,
    reason: str,
    now: datetime,
    deadline: datetime | None = None,
    commit: bool = True,
    notify: bool = True,
) -> Nomination:
    people.require_role(actor, Role.OFFICE)
    await campaigns.require_action(session, Action.PRELIMINARY_CHECK, now)
    nomination = await _load(session, nomination_id, lock=True)
    if reason:
        reason = dossier.clean_text(reason, 2000)
    await move(
        session, nomination, target, Mover.OFFICE, actor.person_id, now, reason=reason, deadline=deadline
    )
    await _resolve_deficiencies(session, nomination_id, now)  # a return opens a fresh round
    if notify:
        template = f"nomination.precheck_{target.value}"
        params: dict[str, Any] = {"id": nomination_id, "reason": reason}
        await outbox.notify_person(session, nomination.applicant_id, template, now, params=params)
        for member in await _recommenders(session, nomination.organisation_id or 0):
            await outbox.enqueue(
                session, chat_id=member.telegram_id, template=template, now=now, params=params
            )
    if commit:
        await session.commit()
    return nomination


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
    await _load(session, nomination_id)
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


async def open_deficiencies(session: AsyncSession, nomination_id: int) -> dict[str, str]:
    rows = (
        await session.exec(
            select(Deficiency).where(
                Deficiency.nomination_id == nomination_id, col(Deficiency.resolved_at).is_(None)
            )
        )
    ).all()
    return {row.item: row.note for row in rows}


async def reopened(session: AsyncSession, nomination: Nomination) -> dict[str, str] | None:
    """While returned for supplement, only the items the office listed may change (一次性告知):
    those items with the office's notes. None while everything may change (a draft, or a return by
    the recommending body)."""
    if nomination.stage != Stage.RETURNED_FOR_SUPPLEMENT.value:
        return None
    return await open_deficiencies(session, nomination.id or 0)


async def _resolve_deficiencies(session: AsyncSession, nomination_id: int, now: datetime) -> None:
    for row in (
        await session.exec(
            select(Deficiency).where(
                Deficiency.nomination_id == nomination_id, col(Deficiency.resolved_at).is_(None)
            )
        )
    ).all():
        row.resolved_at = now
        session.add(row)


async def history(session: AsyncSession, nomination_id: int) -> list[NominationMove]:
    return list(
        (
            await session.exec(
                select(NominationMove)
                .where(NominationMove.nomination_id == nomination_id)
                .order_by(col(NominationMove.id))
            )
        ).all()
    )


async def mine(session: AsyncSession, actor: Actor) -> list[Nomination]:
    people.require_registered(actor)
    return list(
        (
            await session.exec(
                select(Nomination)
                .where(Nomination.applicant_id == actor.person_id)
                .order_by(col(Nomination.id).desc())
            )
        ).all()
    )


async def set_quota(
    session: AsyncSession,
    actor: Actor,
    campaign_id: int,
    organisation_id: int,
    honour: str,
    places: int,
    now: datetime,
) -> None:
    people.require_role(actor, Role.OFFICE)
    if places < 0:
        raise DomainError("nomination.bad_quota")
    quota = (
        await session.exec(
            select(Quota).where(
                Quota.campaign_id == campaign_id,
                Quota.organisation_id == organisation_id,
                Quota.honour == honour,
            )
        )
    ).first()
    before = quota.places if quota else None
    quota = quota or Quota(
        campaign_id=campaign_id, organisation_id=organisation_id, honour=honour, places=places
    )
    quota.places = places
    session.add(quota)
    await audit.append(
        session,
        actor_id=actor.person_id,
        action="quota.set",
        subject=f"organisation:{organisation_id}",
        now=now,
        campaign_id=campaign_id,
        honour=honour,
        before=before,
        after=places,
    )
    await session.commit()
