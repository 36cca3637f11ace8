"""Public verification of a certificate number and the public registry of current honours."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models import Honour
from services.honours.common import by_number
from services.rules import honour_validity as validity
from services.rules.honour_validity import Status

PAGE_SIZE = 10


@dataclass(frozen=True)
class Verified:
    number: str
    holder: str
    honour: str
    campaign_year: int
    status: Status
    valid_from: datetime
    valid_until: datetime
    unit: str


async def verify(session: AsyncSession, raw: str, now: datetime) -> Verified:
    """Anyone may check a number: no consent needed, nothing about the checker is stored."""
    honour = await by_number(session, raw)
    return Verified(
        honour.certificate_no,
        honour.holder_name,
        honour.honour,
        honour.campaign_year,
        validity.status_at(honour.status, honour.valid_until, now),
        honour.valid_from,
        honour.valid_until,
        honour.unit,
    )


@dataclass(frozen=True)
class RegistryPage:
    honours: list[Honour]
    total: int
    page: int
    pages: int


def _current(now: datetime) -> Any:
    return and_(col(Honour.status) == Status.VALID.value, col(Honour.valid_until) > now)


async def registry(
    session: AsyncSession,
    now: datetime,
    *,
    honour: str = "",
    city: str = "",
    page: int = 0,
    per_page: int = PAGE_SIZE,
) -> RegistryPage:
    condition = _current(now)
    if honour:
        condition = condition & (Honour.honour == honour)
    if city:
        condition = condition & (Honour.city == city)
    total = int((await session.exec(select(func.count()).select_from(Honour).where(condition))).one())
    pages = max(1, -(-total // per_page))
    page = min(max(0, page), pages - 1)
    rows = (
        await session.exec(
            select(Honour)
            .where(condition)
            .order_by(col(Honour.certificate_no))
            .offset(page * per_page)
            .limit(per_page)
        )
    ).all()
    return RegistryPage(list(rows), total, page, pages)


async def cities(session: AsyncSession, now: datetime, limit: int = 12) -> list[str]:
    rows = (
        await session.exec(
            select(Honour.city, func.count())
            .where(_current(now), Honour.city != "")
            .group_by(col(Honour.city))
            .order_by(func.count().desc(), col(Honour.city))
            .limit(limit)
        )
    ).all()
    return [city for city, _ in rows]
