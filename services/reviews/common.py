"""Shared by every part of a review: a round's rows, names and times as shown, role holders, `advance`."""

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models import (
    Ballot,
    Nomination,
    PanelSeat,
    Person,
    Recusal,
    ReviewRound,
    Role,
    RoleAssignment,
    RoundNomination,
)
from services.errors import DomainError

ARTICLE = "第十六条第2项"


def nominee_name(nomination: Nomination) -> str:
    return str(nomination.fields.get("name") or nomination.fields.get("team_name") or "")


def employer_of(nomination: Nomination) -> str:
    """The dossier's employer: 工作单位 (STAR, TEAM), the enterprise (MANAGER), or the name itself
    (ENTERPRISE)."""
    fields = nomination.fields
    if nomination.honour == "ENTERPRISE":
        return str(fields.get("name") or "")
    return str(fields.get("employer") or fields.get("enterprise") or "")


async def holders(session: AsyncSession, role: Role) -> list[Person]:
    """People holding a role now, who have not blocked the bot, once each."""
    rows = (
        await session.exec(
            select(Person)
            .join(RoleAssignment, col(RoleAssignment.person_id) == Person.id)
            .where(
                RoleAssignment.role == role,
                col(RoleAssignment.revoked_at).is_(None),
                col(Person.blocked_at).is_(None),
            )
            .order_by(col(Person.id))
        )
    ).all()
    return list({p.id: p for p in rows}.values())


async def load_round(session: AsyncSession, round_id: int, *, lock: bool = False) -> ReviewRound:
    statement = select(ReviewRound).where(ReviewRound.id == round_id)
    found = (await session.exec(statement.with_for_update() if lock else statement)).first()
    if found is None:
        raise DomainError("review.round_not_found")
    return found


async def round_items(session: AsyncSession, round_id: int) -> list[RoundNomination]:
    return list(
        (
            await session.exec(
                select(RoundNomination)
                .where(RoundNomination.round_id == round_id)
                .order_by(col(RoundNomination.nomination_id))
            )
        ).all()
    )


async def round_panel(session: AsyncSession, round_id: int) -> list[int]:
    return list(
        (
            await session.exec(
                select(PanelSeat.reviewer_id)
                .where(PanelSeat.round_id == round_id)
                .order_by(col(PanelSeat.reviewer_id))
            )
        ).all()
    )


async def round_recusals(session: AsyncSession, round_id: int) -> list[Recusal]:
    return list(
        (
            await session.exec(select(Recusal).where(Recusal.round_id == round_id).order_by(col(Recusal.id)))
        ).all()
    )


async def round_ballots(session: AsyncSession, round_id: int) -> list[Ballot]:
    return list(
        (await session.exec(select(Ballot).where(Ballot.round_id == round_id).order_by(col(Ballot.id)))).all()
    )
