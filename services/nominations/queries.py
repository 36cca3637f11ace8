"""What a nomination holds and has been through: its materials, the checklist, its history, one's own."""

from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models import Nomination, NominationMaterial, NominationMove
from services import people
from services.actors import Actor
from services.catalogue import load_catalogue


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
