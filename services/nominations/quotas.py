"""Places per recommending body and honour: the office sets them, endorsements use them."""

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models import Nomination, Quota, Role
from services import audit, people
from services.actors import Actor
from services.errors import DomainError
from services.rules.nomination_flow import Stage

COUNTED = (Stage.ENDORSED, Stage.RETURNED_FOR_SUPPLEMENT, Stage.RESUBMITTED, Stage.PASSED)


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
