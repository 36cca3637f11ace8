"""The annual campaign (第五条): which honours are granted this year, and its dated phases.

Services ask the campaign which phase it is in; nothing else compares dates."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models import Campaign, Role, WorkdayOverride
from services import audit, people
from services.actors import Actor
from services.catalogue import load_catalogue
from services.errors import DomainError
from services.rules.campaign_phases import (
    Action,
    CampaignCalendar,
    CampaignDates,
    DateField,
    Phase,
    phase_at,
    phase_windows,
    require,
)
from services.rules.workdays import WorkdayCalendar

DATE_FIELDS: tuple[DateField, ...] = (
    "nomination_opens",
    "nomination_closes",
    "precheck_deadline",
    "review_opens",
    "review_closes",
    "announcement_at",
)
# A campaign stays "current" this long after its announcement, so winners can still look it up.
AFTERGLOW = timedelta(days=60)


def calendar_of(campaign: Campaign) -> CampaignCalendar:
    return CampaignCalendar(
        **{name: getattr(campaign, name) for name in DATE_FIELDS},
        publicity_workdays=campaign.publicity_workdays,
    )


async def workdays(session: AsyncSession) -> WorkdayCalendar:
    overrides = (await session.exec(select(WorkdayOverride))).all()
    return WorkdayCalendar({o.day: o.is_workday for o in overrides})


@dataclass(frozen=True)
class CampaignView:
    campaign: Campaign
    phase: Phase
    windows: list[tuple[Phase, datetime, datetime | None]]
    workdays_known: bool  # False when a year of the calendar has neither package data nor overrides

    def grants(self, honour: str) -> bool:
        return honour in self.campaign.honours

    def window(self, phase: Phase) -> tuple[datetime, datetime | None] | None:
        return next(((start, end) for p, start, end in self.windows if p == phase), None)

    def current_deadline(self, now: datetime) -> tuple[datetime, int] | None:
        """When the current phase ends, and how many days are left (a part day counts as one)."""
        window = self.window(self.phase)
        if window is None or window[1] is None:
            return None
        left = window[1] - now
        return window[1], max(0, left.days + (1 if left.seconds or left.microseconds else 0))

    def allows(self, action: Action) -> bool:
        try:
            require(self.phase, action)
        except DomainError:
            return False
        return True


async def view(session: AsyncSession, campaign: Campaign, now: datetime) -> CampaignView:
    calendar = await workdays(session)
    dates = calendar_of(campaign)
    known = all(calendar.knows(year) for year in {campaign.review_closes.year, campaign.announcement_at.year})
    return CampaignView(campaign, phase_at(dates, now, calendar), phase_windows(dates, calendar), known)


async def current(session: AsyncSession, now: datetime) -> CampaignView | None:
    """The campaign under way (from its nomination opening until a while after its announcement)."""
    campaign = (
        await session.exec(
            select(Campaign)
            .where(col(Campaign.nomination_opens) <= now)
            .order_by(col(Campaign.nomination_opens).desc())
            .limit(1)
        )
    ).first()
    if campaign is None or campaign.announcement_at + AFTERGLOW < now:
        return None
    return await view(session, campaign, now)


async def upcoming(session: AsyncSession, now: datetime) -> Campaign | None:
    return (
        await session.exec(
            select(Campaign)
            .where(col(Campaign.nomination_opens) > now)
            .order_by(col(Campaign.nomination_opens))
            .limit(1)
        )
    ).first()


async def require_action(session: AsyncSession, action: Action, now: datetime) -> CampaignView:
    """The current campaign, if the action is allowed in its phase; else a DomainError naming the
    phase. Asked before anything else, so nobody fills in a form for an act refused at the end."""
    campaign = await current(session, now)
    if campaign is None:
        raise DomainError("campaign.none_open")
    require(campaign.phase, action)
    return campaign


async def phase_of(session: AsyncSession, campaign_id: int, now: datetime) -> Phase:
    """The phase a record's own campaign is in (the phase its lifecycle moves are gated on)."""
    campaign = await session.get(Campaign, campaign_id)
    if campaign is None:
        raise DomainError("campaign.not_found")
    return (await view(session, campaign, now)).phase


async def create(
    session: AsyncSession,
    actor: Actor,
    *,
    year: int,
    honours: list[str],
    dates: CampaignDates,
    publicity_workdays: int,
    now: datetime,
) -> Campaign:
    people.require_role(actor, Role.OFFICE)
    known = set(load_catalogue().honours)
    if not honours or set(honours) - known:
        raise DomainError("campaign.bad_honours")
    if not 1 <= publicity_workdays <= 30:
        raise DomainError("campaign.bad_publicity_days")
    if (await session.exec(select(Campaign).where(Campaign.year == year))).first() is not None:
        raise DomainError("campaign.year_exists", year=year)
    CampaignCalendar(**dates, publicity_workdays=publicity_workdays).validate()
    ordered = [code for code in load_catalogue().honours if code in honours]
    campaign = Campaign(
        year=year,
        honours=ordered,
        publicity_workdays=publicity_workdays,
        created_by=actor.person_id,
        created_at=now,
        **dates,
    )
    session.add(campaign)
    await session.flush()
    await audit.append(
        session,
        actor_id=actor.person_id,
        action="campaign.created",
        subject=f"campaign:{campaign.id}",
        now=now,
        article="第五条",
        year=year,
        honours=ordered,
        publicity_workdays=publicity_workdays,
        **{name: dates[name].isoformat() for name in DATE_FIELDS},
    )
    await session.commit()
    return campaign


async def change_date(
    session: AsyncSession,
    actor: Actor,
    campaign_id: int,
    field: str,
    value: datetime,
    reason: str,
    now: datetime,
) -> Campaign:
    people.require_role(actor, Role.OFFICE)
    if field not in DATE_FIELDS:
        raise DomainError("campaign.unknown_field")
    campaign = (
        await session.exec(select(Campaign).where(Campaign.id == campaign_id).with_for_update())
    ).first()
    if campaign is None:
        raise DomainError("campaign.not_found")
    before = getattr(campaign, field)
    setattr(campaign, field, value)
    calendar_of(campaign).validate()
    session.add(campaign)
    await audit.append(
        session,
        actor_id=actor.person_id,
        action="campaign.date_changed",
        subject=f"campaign:{campaign.id}",
        now=now,
        reason=reason,
        field=field,
        before=before.isoformat(),
        after=value.isoformat(),
    )
    await session.commit()
    return campaign


async def set_workday(
    session: AsyncSession, actor: Actor, day: date, is_workday: bool, note: str, now: datetime
) -> None:
    """Declare a day a working day or a holiday (for a year the calendar package does not know yet)."""
    people.require_role(actor, Role.OFFICE)
    override = await session.get(WorkdayOverride, day)
    details: dict[str, Any] = {
        "day": day.isoformat(),
        "is_workday": is_workday,
        "before": None if override is None else override.is_workday,
    }
    override = override or WorkdayOverride(day=day, is_workday=is_workday)
    override.is_workday, override.note, override.created_by = is_workday, note, actor.person_id
    session.add(override)
    await audit.append(
        session,
        actor_id=actor.person_id,
        action="workday.set",
        subject=f"day:{day.isoformat()}",
        now=now,
        reason=note,
        **details,
    )
    await session.commit()
