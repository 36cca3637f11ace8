"""National recommendation (第十七条第4项): the office marks honours and exports the list."""

from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models import Honour, Role
from services import audit, people
from services.actors import Actor
from services.honours.common import ARTICLE_NATIONAL, by_number, require_valid


async def recommend_national(session: AsyncSession, actor: Actor, raw: str, now: datetime) -> Honour:
    people.require_role(actor, Role.OFFICE)
    honour = await by_number(session, raw, lock=True)
    require_valid(honour, now)
    if honour.national_at is None:
        honour.national_at, honour.national_by = now, actor.person_id
        session.add(honour)
        await audit.append(
            session,
            actor_id=actor.person_id,
            action="honour.national",
            subject=f"honour:{honour.id}",
            now=now,
            article=ARTICLE_NATIONAL,
            number=honour.certificate_no,
        )
        await session.commit()
    return honour


async def national_list(session: AsyncSession, actor: Actor) -> list[Honour]:
    """The honours recommended to the national programme, for the office's list."""
    people.require_role(actor, Role.OFFICE)
    recommended = select(Honour).where(col(Honour.national_at).is_not(None))
    statement = recommended.order_by(col(Honour.certificate_no))
    return list((await session.exec(statement)).all())
