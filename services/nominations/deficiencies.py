"""The items of a return for supplement (一次性告知): which there are, the deadline, which are open."""

from datetime import UTC, date, datetime, time

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models import Deficiency, Nomination
from services import local_time
from services.errors import DomainError
from services.nominations.queries import checklist
from services.rules import dossier
from services.rules.nomination_flow import Stage

SEAL = "seal"
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


def deadline_from_day(day: date, now: datetime) -> datetime:
    """The office types a day: the supplement is due by the end of it, Beijing time."""
    deadline = local_time.at(day, time(23, 59)).astimezone(UTC)
    if deadline <= now:
        raise DomainError("precheck.deadline_past")
    return deadline


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


async def resolve_deficiencies(session: AsyncSession, nomination_id: int, now: datetime) -> None:
    for row in (
        await session.exec(
            select(Deficiency).where(
                Deficiency.nomination_id == nomination_id, col(Deficiency.resolved_at).is_(None)
            )
        )
    ).all():
        row.resolved_at = now
        session.add(row)
