"""Award (第十七条第1项): approved nominations become honours with their certificates."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models import Campaign, Honour, Nomination, Role
from services import campaigns, outbox, people
from services.actors import Actor
from services.certificates import Printer
from services.errors import DomainError
from services.files.store import FileStore
from services.honours.common import (
    by_number,
    recommender_people,
    render_certificate,
    send_certificate,
)
from services.lifecycles.core import Party, create
from services.lifecycles.honour import HONOUR
from services.rules import honour_validity as validity
from services.rules.honour_validity import DEFAULT_REMINDER_DAYS
from services.rules.nomination_flow import Stage


def _dossier(nomination: Nomination) -> tuple[str, str, str]:
    """Holder's display name, unit and city, as the applicant gave them in the dossier."""
    fields = nomination.fields
    name = str(fields.get("name") or fields.get("team_name") or "")
    unit = str(fields.get("employer") or fields.get("enterprise") or "")
    return name[:100], unit[:200], str(fields.get("city") or "")[:30]


async def certificate_of(session: AsyncSession, actor: Actor, raw: str) -> Honour:
    """The stored certificate, for its holder and for the office."""
    people.require_registered(actor)
    honour = await by_number(session, raw)
    if actor.person_id != honour.holder_id and not actor.has(Role.OFFICE):
        raise DomainError("honour.certificate_not_yours")
    return honour


@dataclass(frozen=True)
class Awardable:
    campaign_id: int
    year: int
    count: int


async def awardable(session: AsyncSession, actor: Actor, now: datetime) -> list[Awardable]:
    """Campaigns with approved nominations that are not honours yet, in a phase that awards; when
    there are some but none may be awarded yet, the refusal that names the phase."""
    people.require_role(actor, Role.OFFICE)
    rows = (
        await session.exec(
            select(Campaign.id, Campaign.year, func.count(col(Nomination.id)))
            .join(Nomination, col(Nomination.campaign_id) == Campaign.id)
            .outerjoin(Honour, col(Honour.nomination_id) == Nomination.id)
            .where(Nomination.stage == Stage.APPROVED.value, col(Honour.id).is_(None))
            .group_by(col(Campaign.id), col(Campaign.year))
            .order_by(col(Campaign.year))
        )
    ).all()
    found = [Awardable(int(cid or 0), int(year), int(count)) for cid, year, count in rows]
    phases = [await campaigns.phase_of(session, a.campaign_id, now) for a in found]
    ready = [
        a
        for a, phase in zip(found, phases, strict=True)
        if HONOUR.permits(None, "award", Party.OFFICE, phase)
    ]
    if found and not ready:
        HONOUR.check(None, "award", Party.OFFICE, phases[0])  # the refusal that names the phase
    return ready


async def award(
    session: AsyncSession,
    actor: Actor,
    campaign_id: int,
    now: datetime,
    *,
    printer: Printer,
    file_store: FileStore,
    days: tuple[int, ...] = DEFAULT_REMINDER_DAYS,
    override: str = "",
) -> list[Honour]:
    """Every approved nomination of the campaign becomes an honour, once (UNIQUE nomination_id):
    from 审定 on, unless the office overrides the phase with its reason."""
    people.require_role(actor, Role.OFFICE)
    if await session.get(Campaign, campaign_id) is None:
        raise DomainError("honour.unknown_campaign")
    phase = await campaigns.phase_of(session, campaign_id, now)
    HONOUR.check(None, "award", Party.OFFICE, phase, override=override)  # the phase is named first
    # Locking the campaign serialises two awards of it, so certificate numbers never collide.
    campaign = (
        await session.exec(select(Campaign).where(Campaign.id == campaign_id).with_for_update())
    ).first()
    if campaign is None:
        raise DomainError("honour.unknown_campaign")
    pending = (
        await session.exec(
            select(Nomination)
            .outerjoin(Honour, col(Honour.nomination_id) == Nomination.id)
            .where(
                Nomination.campaign_id == campaign_id,
                Nomination.stage == Stage.APPROVED.value,
                col(Honour.id).is_(None),
            )
            .order_by(Nomination.honour, col(Nomination.id))
        )
    ).all()
    issued: dict[str, int] = {}
    awarded: list[Honour] = []
    for nomination in pending:
        code = nomination.honour
        if code not in issued:
            issued[code] = int(
                (
                    await session.exec(
                        select(func.count())
                        .select_from(Honour)
                        .where(Honour.campaign_year == campaign.year, Honour.honour == code)
                    )
                ).one()
            )
        issued[code] += 1
        name, unit, city = _dossier(nomination)
        until = validity.validity_end(now)
        honour: Honour = await create(
            session,
            HONOUR,
            {
                "certificate_no": f"GD-{campaign.year}-{code}-{issued[code]:04d}",
                "nomination_id": nomination.id or 0,
                "campaign_id": campaign_id,
                "campaign_year": campaign.year,
                "honour": code,
                "holder_id": nomination.applicant_id,
                "holder_name": name,
                "unit": unit,
                "city": city,
                "organisation_id": nomination.organisation_id,
                "valid_from": now,
                "valid_until": until,
                "next_due_at": validity.next_due(until, None, now, days),
                "awarded_by": actor.person_id,
                "awarded_at": now,
            },
            "award",
            party=Party.OFFICE,
            actor_id=actor.person_id,
            now=now,
            phase=phase,
            override=override,
            audit_action="honour.awarded",
            number=f"GD-{campaign.year}-{code}-{issued[code]:04d}",
            nomination_id=nomination.id,
            valid_until=until,
        )
        honour.certificate_sha256 = render_certificate(honour, printer, file_store)
        session.add(honour)
        await send_certificate(session, honour, "honour.awarded_holder", now)
        for person_id in await recommender_people(session, honour.organisation_id):
            await outbox.enqueue(
                session,
                person_id=person_id,
                template="honour.awarded_body",
                now=now,
                params={"number": honour.certificate_no, "name": name, "honour_key": f"honour.{code}"},
            )
        awarded.append(honour)
    await session.commit()
    return awarded
