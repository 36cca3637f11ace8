"""What the office hands on, as facts: one nomination's dossier is `nominations.office_view`; the
campaign's nomination list (汇总表) is `campaign_list`. documents/ writes them as a ZIP archive and a
workbook in the committee's language."""

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models import Endorsement, Nomination, Organisation, Role, Verification
from services import campaigns, people
from services.actors import Actor
from services.errors import DomainError
from services.nominations import queries
from services.rules.nomination_flow import Stage

LISTED = [s.value for s in Stage if s not in (Stage.DRAFT, Stage.WITHDRAWN)]


def display_name(nomination: Nomination) -> str:
    return str(nomination.fields.get("name") or nomination.fields.get("team_name") or "")


def unit_of(nomination: Nomination) -> str:
    """The nominee's unit: its employer or enterprise; an enterprise is its own unit."""
    fields = nomination.fields
    return str(
        fields.get("employer")
        or fields.get("enterprise")
        or (fields.get("name") if nomination.honour == "ENTERPRISE" else "")
        or ""
    )


def position_of(nomination: Nomination) -> str:
    fields = nomination.fields
    return str(fields.get("position") or fields.get("title") or fields.get("team_type") or "")


@dataclass(frozen=True)
class ListedNomination:
    nomination: Nomination
    organisation: Organisation | None
    opinion: str  # the recommending body's, "" before it endorsed
    materials: int
    verifications: int


@dataclass(frozen=True)
class CampaignList:
    year: int
    honours: list[str]  # one sheet each, in the campaign's order
    nominations: list[ListedNomination]  # in order of id; drafts and withdrawn ones are not listed


async def campaign_list(session: AsyncSession, actor: Actor, now: datetime) -> CampaignList:
    people.require_role(actor, Role.OFFICE)
    view = await campaigns.current(session, now)
    if view is None:
        raise DomainError("campaign.none_open")
    campaign = view.campaign
    listed = (
        await session.exec(
            select(Nomination)
            .where(Nomination.campaign_id == campaign.id, col(Nomination.stage).in_(LISTED))
            .order_by(col(Nomination.id))
        )
    ).all()
    ids = [n.id for n in listed]
    organisations = {o.id: o for o in await people.organisations(session)}
    opinions = {
        e.nomination_id: e.opinion
        for e in (
            await session.exec(select(Endorsement).where(col(Endorsement.nomination_id).in_(ids)))
        ).all()
    }
    checks = dict(
        (
            await session.exec(
                select(Verification.nomination_id, func.count())
                .where(col(Verification.nomination_id).in_(ids))
                .group_by(col(Verification.nomination_id))
            )
        ).all()
    )
    return CampaignList(
        campaign.year,
        list(campaign.honours),
        [
            ListedNomination(
                nomination,
                organisations.get(nomination.organisation_id or 0),
                opinions.get(nomination.id or 0, ""),
                len(await queries.materials(session, nomination.id or 0)),
                int(checks.get(nomination.id or 0, 0)),
            )
            for nomination in listed
        ],
    )
