"""The periodic job of 公示: case owners reminded before their deadline, ended lists forwarded."""

from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models import Objection, Person, PublicityList
from services import outbox
from services.local_time import minute_text
from services.publicity.approval import forward_if_ready
from services.publicity.listing import locked_listing

REMIND_BEFORE = timedelta(days=1)  # the case's owner hears once, a day before its deadline


async def sweep(session: AsyncSession, now: datetime) -> int:
    """The periodic job: each open case's owner is reminded once before its deadline; lists whose
    period ended with no open objection go to the leading group."""
    await _remind_owners(session, now)
    forwarded = 0
    for listing in (
        await session.exec(
            select(PublicityList).where(
                col(PublicityList.forwarded_at).is_(None), col(PublicityList.ends_at) <= now
            )
        )
    ).all():
        forwarded += await forward_if_ready(session, await locked_listing(session, listing.id or 0), now)
        await session.commit()
    return forwarded


async def _remind_owners(session: AsyncSession, now: datetime) -> None:
    due = (
        await session.exec(
            select(Objection, Person)
            .join(Person, col(Person.id) == Objection.owner_id)
            .where(
                Objection.status == "open",
                col(Objection.reminded_at).is_(None),
                col(Objection.deadline) <= now + REMIND_BEFORE,
            )
        )
    ).all()
    for objection, owner in due:
        # Claimed by the update itself, so two sweeps at once remind the owner once.
        claimed = await session.exec(
            update(Objection)
            .where(col(Objection.id) == objection.id, col(Objection.reminded_at).is_(None))
            .values(reminded_at=now)
        )
        if claimed.rowcount == 1:
            await outbox.notify_person(
                session,
                owner.id or 0,
                "objection.deadline_reminder",
                now,
                params={"case": objection.id, "deadline": minute_text(objection.deadline)},
            )
        await session.commit()
