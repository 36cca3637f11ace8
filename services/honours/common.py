"""What every part of the honours uses: articles, numbers, dates, certificates, who is told."""

import re
import unicodedata
from datetime import datetime
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models import Honour, Person, Role, RoleAssignment
from services import local_time, outbox
from services.certificates import CertificateText, Printer
from services.errors import DomainError
from services.files.store import FileStore
from services.rules import honour_validity as validity
from services.rules.honour_validity import Status

ARTICLE_AWARD = "第十七条第1项"
ARTICLE_VALIDITY = "第十七条第2项"
ARTICLE_NATIONAL = "第十七条第4项"
NUMBER = re.compile(r"GD-(\d{4})-(STAR|TEAM|MANAGER|ENTERPRISE)-(\d{4,6})")


def parse_number(raw: str) -> str:
    """A certificate number as typed or scanned: full-width characters and case forgiven."""
    text = unicodedata.normalize("NFKC", raw or "").strip().upper()
    if not NUMBER.fullmatch(text):
        raise DomainError("honour.malformed_number", example="GD-2026-STAR-0001")
    return text


def day(moment: datetime) -> str:
    """A date as people in Guangdong read it (stored UTC, shown in Beijing time)."""
    return local_time.day_text(moment)


def certificate_path(sha256: str) -> str:
    """Where the outbox sender finds a stored file, relative to the file store's root."""
    return f"{sha256[:2]}/{sha256}"


async def load(session: AsyncSession, honour_id: int, *, lock: bool = False) -> Honour:
    statement = select(Honour).where(Honour.id == honour_id)
    honour = (await session.exec(statement.with_for_update() if lock else statement)).first()
    if honour is None:
        raise DomainError("honour.not_found")
    return honour


async def by_number(session: AsyncSession, raw: str, *, lock: bool = False) -> Honour:
    number = parse_number(raw)
    statement = select(Honour).where(Honour.certificate_no == number)
    honour = (await session.exec(statement.with_for_update() if lock else statement)).first()
    if honour is None:
        raise DomainError("honour.unknown_number", number=number)
    return honour


async def recommender_people(session: AsyncSession, organisation_id: int | None) -> list[int]:
    if organisation_id is None:
        return []
    return list(
        (
            await session.exec(
                select(RoleAssignment.person_id)
                .join(Person, col(RoleAssignment.person_id) == Person.id)
                .where(
                    RoleAssignment.role == Role.RECOMMENDER,
                    RoleAssignment.organisation_id == organisation_id,
                    col(RoleAssignment.revoked_at).is_(None),
                    col(Person.blocked_at).is_(None),
                )
                .distinct()
            )
        ).all()
    )


async def office_people(session: AsyncSession) -> list[int]:
    return list(
        (
            await session.exec(
                select(RoleAssignment.person_id)
                .join(Person, col(RoleAssignment.person_id) == Person.id)
                .where(
                    RoleAssignment.role == Role.OFFICE,
                    col(RoleAssignment.revoked_at).is_(None),
                    col(Person.blocked_at).is_(None),
                )
                .distinct()
            )
        ).all()
    )


async def tell_holder_and_body(
    session: AsyncSession, honour: Honour, template: str, now: datetime, **params: Any
) -> None:
    params = {
        "number": honour.certificate_no,
        "honour_key": f"honour.{honour.honour}",
        "name": honour.holder_name,
        **params,
    }
    holder = await session.get(Person, honour.holder_id)
    holders = [honour.holder_id] if holder is not None and holder.blocked_at is None else []
    for person_id in dict.fromkeys([*holders, *await recommender_people(session, honour.organisation_id)]):
        await outbox.enqueue(session, person_id=person_id, template=template, now=now, params=params)


def render_certificate(honour: Honour, printer: Printer, file_store: FileStore) -> str:
    pdf = printer(
        CertificateText(
            number=honour.certificate_no,
            holder=honour.holder_name,
            honour=honour.honour,
            unit=honour.unit,
            campaign_year=honour.campaign_year,
            valid_from=honour.valid_from,
            valid_until=honour.valid_until,
        )
    )
    return file_store.put(pdf)


async def send_certificate(session: AsyncSession, honour: Honour, template: str, now: datetime) -> None:
    await outbox.notify_person(
        session,
        honour.holder_id,
        template,
        now,
        protect=True,
        document_path=certificate_path(honour.certificate_sha256),
        params={
            "number": honour.certificate_no,
            "honour_key": f"honour.{honour.honour}",
            "until": day(honour.valid_until),
            "file_name": f"{honour.certificate_no}.pdf",
        },
    )


def require_valid(honour: Honour, now: datetime) -> None:
    status = validity.status_at(honour.status, honour.valid_until, now)
    if status != Status.VALID:
        raise DomainError(
            "honour.not_valid", number=honour.certificate_no, status_key=f"honour.status.{status}"
        )
