"""National recommendation (第十七条第4项): the office marks honours and exports the list."""

from datetime import datetime
from io import BytesIO

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models import Honour, Role
from services import audit, certificates, people
from services.actors import Actor
from services.honours.common import ARTICLE_NATIONAL, by_number, day, require_valid
from services.texts import translator


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


NATIONAL_COLUMNS = (
    "number",
    "holder",
    "honour",
    "unit",
    "city",
    "year",
    "valid_until",
    "status",
    "recommended_on",
)


async def export_national(session: AsyncSession, actor: Actor, locale: str) -> bytes:
    """The national recommendation list as a workbook. Text that starts with '=' (or '+', '-', '@')
    is written as a string, never a formula: names and units are typed by applicants."""
    from openpyxl import Workbook  # imported here: only this export needs it

    people.require_role(actor, Role.OFFICE)
    rows = (
        await session.exec(
            select(Honour).where(col(Honour.national_at).is_not(None)).order_by(col(Honour.certificate_no))
        )
    ).all()
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    words = translator(locale)
    sheet.title = words("honour.national_sheet")
    sheet.append([words(f"honour.national_column.{column}") for column in NATIONAL_COLUMNS])
    for honour in rows:
        sheet.append(
            [
                honour.certificate_no,
                honour.holder_name,
                certificates.honour_name(honour.honour, locale),
                honour.unit,
                honour.city,
                honour.campaign_year,
                day(honour.valid_until),
                words(f"honour.status.{honour.status}"),
                day(honour.national_at) if honour.national_at else "",
            ]
        )
    for line in sheet.iter_rows(min_row=2):
        for cell in line:
            if isinstance(cell.value, str) and cell.value.startswith(("=", "+", "-", "@")):
                cell.data_type = "s"
    buffer = BytesIO()
    book.save(buffer)
    return buffer.getvalue()
