"""A card's report attached to the owner's nomination as supporting evidence (第十二条第6项)."""

from collections.abc import Callable
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models import Nomination, NominationMaterial
from services import audit, people
from services.actors import Actor
from services.cards.reports import CardReport, report
from services.errors import DomainError
from services.files.store import FileStore
from services.nominations import dossier, queries
from services.rules.nomination_flow import Stage, editable

EVIDENCE_SLOT = "evaluation_cards"  # 用户（顾客）评价卡汇总结果 in the checklist of 第十二条/第十三条第6项


async def attachable(session: AsyncSession, actor: Actor) -> list[Nomination]:
    """The actor's nominations that are still editable and list customer evaluation cards."""
    people.require_registered(actor)
    own = (
        await session.exec(
            select(Nomination).where(Nomination.applicant_id == actor.person_id).order_by(col(Nomination.id))
        )
    ).all()
    return [
        n
        for n in own
        if editable(Stage(n.stage)) and EVIDENCE_SLOT in {m.id for m in queries.checklist(n.honour)}
    ]


async def attach_report(
    session: AsyncSession,
    actor: Actor,
    card_id: int,
    nomination_id: int,
    *,
    render: Callable[[CardReport], bytes],
    file_store: FileStore,
    now: datetime,
    file_name: str = "evaluation-cards.pdf",
) -> NominationMaterial:
    """Store the card's report PDF and add it to the nomination as 用户（顾客）评价卡汇总结果 — supporting
    evidence only: the formal report of 第十六条第1项 is a separate material."""
    built = await report(session, actor, card_id=card_id, now=now)
    nomination = await session.get(Nomination, nomination_id)
    if nomination is None or nomination.applicant_id != actor.person_id:
        raise DomainError("nomination.not_yours")
    if EVIDENCE_SLOT not in {m.id for m in queries.checklist(nomination.honour)}:
        raise DomainError("card.no_evidence_slot")
    data = render(built)
    sha = file_store.put(data)
    await audit.append(
        session,
        actor_id=actor.person_id,
        action="card.report_attached",
        subject=f"nomination:{nomination_id}",
        now=now,
        article="第十二条第6项",
        card=card_id,
        sha256=sha,
        ratings=built.summary.count,
    )
    return await dossier.add_material(
        session,
        actor,
        nomination_id,
        EVIDENCE_SLOT,
        sha256=sha,
        file_name=file_name,
        kind="pdf",
        size=len(data),
        now=now,
    )
