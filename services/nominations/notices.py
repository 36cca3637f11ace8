"""Who hears of a nomination: the recommending body's members and the office."""

from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models import Nomination, Person, Role, RoleAssignment
from services import outbox, tokens


async def recommenders(session: AsyncSession, organisation_id: int) -> list[Person]:
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


async def notify_recommenders(session: AsyncSession, nomination: Nomination, now: datetime) -> None:
    for member in await recommenders(session, nomination.organisation_id or 0):
        endorse = await tokens.issue(
            session,
            person_id=member.id,
            action="nomination.endorse",
            now=now,
            nomination_id=nomination.id,
        )
        send_back = await tokens.issue(
            session,
            person_id=member.id,
            action="nomination.return",
            now=now,
            nomination_id=nomination.id,
        )
        await outbox.enqueue(
            session,
            person_id=member.id,
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


async def notify_office(session: AsyncSession, nomination: Nomination, template: str, now: datetime) -> None:
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
            person_id=member.id,
            template=template,
            now=now,
            params={"id": nomination.id, "honour_key": f"honour.{nomination.honour}"},
        )
