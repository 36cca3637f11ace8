"""What the office reads in the preliminary check: its queue, one nomination in full, what changed."""

from dataclasses import dataclass
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models import (
    Deficiency,
    Endorsement,
    Nomination,
    NominationMaterial,
    Organisation,
    ReturnSnapshot,
    Role,
    Verification,
)
from services import people
from services.actors import Actor
from services.nominations.deficiencies import ENDORSEMENT_ITEMS
from services.nominations.queries import materials
from services.nominations.stages import load
from services.rules import dossier
from services.rules.nomination_flow import Stage


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
    changes: Changes | None  # since the last return, while the supplement awaits the office

    @property
    def supplemented(self) -> bool:
        """Resubmitted after a return for supplement: the office reads what changed first."""
        return self.changes is not None and self.nomination.stage == Stage.RESUBMITTED


async def office_view(session: AsyncSession, actor: Actor, nomination_id: int) -> OfficeView:
    people.require_role(actor, Role.OFFICE)
    nomination = await load(session, nomination_id)
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
