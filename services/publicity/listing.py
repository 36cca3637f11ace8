"""The list in 公示: the office publishes it, everyone subscribed reads it, its open cases.

Only nominations whose nominee agreed to publication (Nomination.publish_consent_at, PIPL) are
published; the announcement chat is a plain argument (the caller passes the configured one)."""

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models import Campaign, Nomination, Objection, Organisation, Person, PublicityList, ReviewRound, Role
from services import campaigns, outbox, people
from services.actors import Actor
from services.catalogue import load_catalogue
from services.errors import DomainError
from services.lifecycles.core import Party, create
from services.lifecycles.publicity import PUBLICITY
from services.local_time import minute_text
from services.reviews.common import nominee_name
from services.rules import publicity_rules as rules
from services.rules.nomination_flow import Stage
from services.rules.tally import RoundState

ARTICLE = "第十六条第2项"


@dataclass(frozen=True)
class Entry:
    nomination: Nomination
    organisation_zh: str
    organisation_en: str

    def line(self, language: str) -> str:
        honour = load_catalogue().honours[self.nomination.honour].name
        if language == "en":
            return f"{nominee_name(self.nomination)} · {self.organisation_en} · {honour.en}"
        return f"{nominee_name(self.nomination)} · {self.organisation_zh} · {honour.zh}"


async def entries(session: AsyncSession, listing: PublicityList) -> list[Entry]:
    found = []
    for nomination_id in listing.nomination_ids:
        nomination = await session.get(Nomination, nomination_id)
        if nomination is None or nomination.stage not in (Stage.SHORTLISTED.value, Stage.APPROVED.value):
            continue
        organisation = (
            await session.get(Organisation, nomination.organisation_id)
            if nomination.organisation_id
            else None
        )
        found.append(
            Entry(
                nomination,
                organisation.name_zh if organisation else "—",
                organisation.name_en if organisation else "—",
            )
        )
    return found


async def announce(
    session: AsyncSession, listing: PublicityList, now: datetime, announcement_chat_id: int | None
) -> int:
    """The list to everyone subscribed, and to the announcement channel if one is configured."""
    listed = await entries(session, listing)
    lines = {
        lang: "\n".join(f"{i}. {e.line(lang)}" for i, e in enumerate(listed, 1)) for lang in ("zh_CN", "en")
    }
    params = {"edition": listing.edition, "ends": minute_text(listing.ends_at), "count": len(listed)}
    readers = (
        await session.exec(
            select(Person).where(
                Person.subscribed == True,  # noqa: E712
                col(Person.blocked_at).is_(None),
            )
        )
    ).all()
    for reader in readers:
        await outbox.enqueue(
            session,
            person_id=reader.id,
            template="publicity.announcement",
            now=now,
            params={**params, "entries": lines["en" if reader.language == "en" else "zh_CN"]},
        )
    if announcement_chat_id:
        await outbox.enqueue(
            session,
            chat_id=announcement_chat_id,
            template="publicity.announcement",
            now=now,
            params={**params, "entries": lines["zh_CN"]},
        )
    return len(readers) + (1 if announcement_chat_id else 0)


async def publish(
    session: AsyncSession,
    actor: Actor,
    campaign_id: int,
    now: datetime,
    announcement_chat_id: int | None = None,
    override: str = "",
) -> PublicityList:
    """公示 starts when the office publishes: in 评审 once every round of the campaign has closed, or in
    公示; outside those the office may override with its reason."""
    people.require_role(actor, Role.OFFICE)
    campaign = await session.get(Campaign, campaign_id)
    if campaign is None:
        raise DomainError("campaign.not_found")
    phase = await campaigns.phase_of(session, campaign_id, now)
    PUBLICITY.check(None, "publish", Party.OFFICE, phase, override=override)  # the phase is named first
    if (await session.exec(select(PublicityList).where(PublicityList.campaign_id == campaign_id))).first():
        raise DomainError("publicity.already_published")
    still_open = select(ReviewRound.id).where(
        ReviewRound.campaign_id == campaign_id, ReviewRound.status == RoundState.OPEN
    )
    if (await session.exec(still_open)).first() is not None:
        raise DomainError("publicity.round_still_open")
    shortlisted = (
        await session.exec(
            select(Nomination)
            .where(
                Nomination.campaign_id == campaign_id,
                Nomination.stage == Stage.SHORTLISTED.value,
                col(Nomination.publish_consent_at).is_not(None),
            )
            .order_by(Nomination.honour, col(Nomination.id))
        )
    ).all()
    if not shortlisted:
        raise DomainError("publicity.nothing_to_publish")
    ends_at = rules.period_end(now, campaign.publicity_workdays, await campaigns.workdays(session))
    listing: PublicityList = await create(
        session,
        PUBLICITY,
        {
            "campaign_id": campaign_id,
            "nomination_ids": [n.id for n in shortlisted],
            "published_by": actor.person_id or 0,
            "published_at": now,
            "ends_at": ends_at,
        },
        "publish",
        party=Party.OFFICE,
        actor_id=actor.person_id,
        now=now,
        phase=phase,
        override=override,
        audit_action="publicity.published",
        nominations=[n.id for n in shortlisted],
        ends_at=ends_at.isoformat(),
        workdays=campaign.publicity_workdays,
    )
    await announce(session, listing, now, announcement_chat_id)
    await session.commit()
    return listing


async def latest(session: AsyncSession) -> PublicityList | None:
    return (await session.exec(select(PublicityList).order_by(col(PublicityList.id).desc()).limit(1))).first()


def objections_open(listing: PublicityList, now: datetime) -> bool:
    """Objections are taken while the publicity period runs."""
    return rules.in_period(listing.published_at, listing.ends_at, now)


async def locked_listing(session: AsyncSession, publicity_id: int) -> PublicityList:
    listing = (
        await session.exec(select(PublicityList).where(PublicityList.id == publicity_id).with_for_update())
    ).first()
    if listing is None:
        raise DomainError("publicity.not_found")
    return listing


async def open_cases(session: AsyncSession, publicity_id: int) -> int:
    return int(
        (
            await session.exec(
                select(func.count())
                .select_from(Objection)
                .where(
                    Objection.publicity_id == publicity_id, Objection.status == rules.CaseStatus.OPEN.value
                )
            )
        ).one()
    )
