"""Honours (第十七条): award from the approved list, certificates, public verification and registry,
the three-year validity with reminders and re-review (复议), revocation, national recommendation.

Reminders are not scheduler jobs: each honour carries `next_due_at`, the time it next needs the
sweep (a reminder or its expiry). One periodic job calls `sweep`, which reads only rows due now
through the index on that column, in batches, and moves each row's `next_due_at` forward in the
same transaction as the outbox rows it writes: a second or late sweep finds nothing left to send.
Which reminder goes out after downtime is decided in services.rules.honour_validity."""

import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from io import BytesIO
from typing import Any

from sqlalchemy import func, insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models import (
    ActionToken,
    Campaign,
    Honour,
    HonourReview,
    Nomination,
    OutboxMessage,
    OutboxStatus,
    Person,
    Role,
    RoleAssignment,
)
from services import audit, certificates, outbox, people, tokens
from services.actors import Actor
from services.errors import DomainError
from services.files import FileStore
from services.rules import honour_validity as validity
from services.rules.dossier import clean_text
from services.rules.honour_validity import DEFAULT_REMINDER_DAYS, Status
from services.rules.nomination_flow import Stage
from services.texts import translator

ARTICLE_AWARD = "第十七条第1项"
ARTICLE_VALIDITY = "第十七条第2项"
ARTICLE_NATIONAL = "第十七条第4项"
NUMBER = re.compile(r"GD-(\d{4})-(STAR|TEAM|MANAGER|ENTERPRISE)-(\d{4,6})")
SATISFACTION_REPORT = "satisfaction_report"
EVIDENCE = "evidence"
PAGE_SIZE = 10
SWEEP_BATCH = 500


def parse_number(raw: str) -> str:
    """A certificate number as typed or scanned: full-width characters and case forgiven."""
    text = unicodedata.normalize("NFKC", raw or "").strip().upper()
    if not NUMBER.fullmatch(text):
        raise DomainError("honour.malformed_number", example="GD-2026-STAR-0001")
    return text


def _day(moment: datetime) -> str:
    """A date as people in Guangdong read it (stored UTC, shown in Beijing time)."""
    return moment.astimezone(certificates.ZONE).date().isoformat()


def certificate_path(sha256: str) -> str:
    """Where the outbox sender finds a stored file, relative to the file store's root."""
    return f"{sha256[:2]}/{sha256}"


def _dossier(nomination: Nomination) -> tuple[str, str, str]:
    """Holder's display name, unit and city, as the applicant gave them in the dossier."""
    fields = nomination.fields
    name = str(fields.get("name") or fields.get("team_name") or "")
    unit = str(fields.get("employer") or fields.get("enterprise") or "")
    return name[:100], unit[:200], str(fields.get("city") or "")[:30]


async def _load(session: AsyncSession, honour_id: int, *, lock: bool = False) -> Honour:
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


async def _recommender_chats(session: AsyncSession, organisation_id: int | None) -> list[int]:
    if organisation_id is None:
        return []
    return list(
        (
            await session.exec(
                select(Person.telegram_id)
                .join(RoleAssignment, col(RoleAssignment.person_id) == Person.id)
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


async def _office_chats(session: AsyncSession) -> list[int]:
    return list(
        (
            await session.exec(
                select(Person.telegram_id)
                .join(RoleAssignment, col(RoleAssignment.person_id) == Person.id)
                .where(
                    RoleAssignment.role == Role.OFFICE,
                    col(RoleAssignment.revoked_at).is_(None),
                    col(Person.blocked_at).is_(None),
                )
                .distinct()
            )
        ).all()
    )


async def _tell_holder_and_body(
    session: AsyncSession, honour: Honour, template: str, now: datetime, **params: Any
) -> None:
    params = {
        "number": honour.certificate_no,
        "honour_key": f"honour.{honour.honour}",
        "name": honour.holder_name,
        **params,
    }
    holder = await session.get(Person, honour.holder_id)
    chats = [holder.telegram_id] if holder is not None and holder.blocked_at is None else []
    for chat in dict.fromkeys([*chats, *await _recommender_chats(session, honour.organisation_id)]):
        await outbox.enqueue(session, chat_id=chat, template=template, now=now, params=params)


def _certificate(honour: Honour, bot_username: str, file_store: FileStore) -> str:
    pdf = certificates.render(
        certificates.CertificateText(
            number=honour.certificate_no,
            holder=honour.holder_name,
            honour=honour.honour,
            unit=honour.unit,
            campaign_year=honour.campaign_year,
            valid_from=honour.valid_from,
            valid_until=honour.valid_until,
        ),
        bot_username,
    )
    return file_store.put(pdf)


async def _send_certificate(session: AsyncSession, honour: Honour, template: str, now: datetime) -> None:
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
            "until": _day(honour.valid_until),
            "file_name": f"{honour.certificate_no}.pdf",
        },
    )


async def certificate_of(session: AsyncSession, actor: Actor, raw: str) -> Honour:
    """The stored certificate, for its holder and for the office."""
    people.require_registered(actor)
    honour = await by_number(session, raw)
    if actor.person_id != honour.holder_id and not actor.has(Role.OFFICE):
        raise DomainError("honour.certificate_not_yours")
    return honour


# Award (第十七条第1项) ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Awardable:
    campaign_id: int
    year: int
    count: int


async def awardable(session: AsyncSession, actor: Actor) -> list[Awardable]:
    """Campaigns with approved nominations that are not honours yet."""
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
    return [Awardable(int(cid or 0), int(year), int(count)) for cid, year, count in rows]


async def award(
    session: AsyncSession,
    actor: Actor,
    campaign_id: int,
    now: datetime,
    *,
    bot_username: str,
    file_store: FileStore,
    days: tuple[int, ...] = DEFAULT_REMINDER_DAYS,
) -> list[Honour]:
    """Every approved nomination of the campaign becomes an honour, once (UNIQUE nomination_id)."""
    people.require_role(actor, Role.OFFICE)
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
        honour = Honour(
            certificate_no=f"GD-{campaign.year}-{code}-{issued[code]:04d}",
            nomination_id=nomination.id or 0,
            campaign_id=campaign_id,
            campaign_year=campaign.year,
            honour=code,
            holder_id=nomination.applicant_id,
            holder_name=name,
            unit=unit,
            city=city,
            organisation_id=nomination.organisation_id,
            status=Status.VALID.value,
            valid_from=now,
            valid_until=until,
            next_due_at=validity.next_due(until, None, now, days),
            awarded_by=actor.person_id,
            awarded_at=now,
        )
        honour.certificate_sha256 = _certificate(honour, bot_username, file_store)
        session.add(honour)
        await session.flush()
        await audit.append(
            session,
            actor_id=actor.person_id,
            action="honour.awarded",
            subject=f"honour:{honour.id}",
            now=now,
            article=ARTICLE_AWARD,
            number=honour.certificate_no,
            nomination_id=nomination.id,
            valid_until=until,
        )
        await _send_certificate(session, honour, "honour.awarded_holder", now)
        for chat in await _recommender_chats(session, honour.organisation_id):
            await outbox.enqueue(
                session,
                chat_id=chat,
                template="honour.awarded_body",
                now=now,
                params={"number": honour.certificate_no, "name": name, "honour_key": f"honour.{code}"},
            )
        awarded.append(honour)
    await session.commit()
    return awarded


# Verification and the public registry ------------------------------------------------------------


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
    return (Honour.status == Status.VALID.value) & (col(Honour.valid_until) > now)


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


# The sweep: reminders and expiry (第十七条第2项) ---------------------------------------------------


@dataclass(frozen=True)
class SweepReport:
    reminded: int
    expired: int
    messages: int


class _Queued:
    """A batch's outbox rows and action tokens, inserted with one executemany each. The same rows
    services.outbox.enqueue and services.tokens.issue would add, in the same transaction; building
    thousands of ORM objects one by one made the sweep several times slower."""

    def __init__(self, now: datetime) -> None:
        self.now, self.messages, self.tokens = now, list[dict[str, Any]](), list[dict[str, Any]]()

    def message(
        self,
        chat_id: int,
        template: str,
        params: dict[str, Any],
        buttons: list[list[dict[str, Any]]] | None = None,
    ) -> None:
        self.messages.append(
            {
                "chat_id": chat_id,
                "template": template,
                "params": params,
                "buttons": buttons or [],
                "document_path": None,
                "protect": False,
                "broadcast_id": None,
                "status": OutboxStatus.PENDING,
                "attempts": 0,
                "not_before": self.now,
                "created_at": self.now,
                "error": "",
            }
        )

    def token(self, telegram_id: int, action: str, **payload: Any) -> str:
        token = secrets.token_urlsafe(tokens.TOKEN_BYTES)
        self.tokens.append(
            {
                "token": token,
                "telegram_id": telegram_id,
                "action": action,
                "payload": payload,
                "created_at": self.now,
                "expires_at": None,
            }
        )
        return token

    async def flush(self, session: AsyncSession) -> None:
        connection = await session.connection()  # the session's own transaction
        if self.tokens:
            await connection.execute(insert(ActionToken), self.tokens)
        if self.messages:
            await connection.execute(insert(OutboxMessage), self.messages)


async def sweep(
    session: AsyncSession,
    now: datetime,
    *,
    days: tuple[int, ...] = DEFAULT_REMINDER_DAYS,
    batch: int = SWEEP_BATCH,
) -> SweepReport:
    """Send the reminders that are due and expire honours past their end. Safe to run twice, late,
    or in several workers at once (PostgreSQL: rows are claimed with SKIP LOCKED). One transaction
    per batch: its honours move their `next_due_at` on together with the messages they caused."""
    days = validity.normalise_days(days)
    office = await _office_chats(session)
    bodies: dict[int | None, list[int]] = {}
    reminded = expired = messages = 0
    postgres = session.bind.dialect.name == "postgresql" if session.bind is not None else False
    while True:
        statement = (
            select(Honour)
            .where(col(Honour.next_due_at) <= now)
            .order_by(col(Honour.next_due_at))
            .limit(batch)
        )
        rows = (
            await session.exec(statement.with_for_update(skip_locked=True) if postgres else statement)
        ).all()
        if not rows:
            break
        holders = {
            p.id: p
            for p in (
                await session.exec(select(Person).where(col(Person.id).in_({h.holder_id for h in rows})))
            ).all()
        }
        queued = _Queued(now)
        sent: list[list[int]] = []
        lapsed: list[int] = []
        for honour in rows:
            step = validity.sweep_step(honour.status, honour.valid_until, honour.reminded_days, now, days)
            if honour.organisation_id not in bodies:
                bodies[honour.organisation_id] = await _recommender_chats(session, honour.organisation_id)
            holder = holders.get(honour.holder_id)
            holder_chat = [holder.telegram_id] if holder is not None and holder.blocked_at is None else []
            concerned = list(dict.fromkeys([*holder_chat, *bodies[honour.organisation_id]]))
            params = {
                "number": honour.certificate_no,
                "honour_key": f"honour.{honour.honour}",
                "name": honour.holder_name,
                "until": _day(honour.valid_until),
            }
            if step.expire:
                expired += 1
                lapsed.append(honour.id or 0)
                for chat in dict.fromkeys([*concerned, *office]):
                    queued.message(chat, "honour.expired_notice", params)
            elif step.remind_days is not None:
                reminded += 1
                sent.append([honour.id or 0, step.remind_days])
                for chat in concerned:
                    start = queued.token(chat, "honour.rereview", honour_id=honour.id)
                    queued.message(
                        chat,
                        "honour.reminder",
                        {**params, "days": step.remind_days},
                        [[outbox.button("honour.start_rereview", start)]],
                    )
                for chat in office:
                    if chat not in concerned:
                        queued.message(chat, "honour.reminder_office", {**params, "days": step.remind_days})
            if step.expire:
                honour.status = Status.EXPIRED.value
            honour.reminded_days, honour.next_due_at = step.reminded, step.next_due_at
            session.add(honour)
        messages += len(queued.messages)
        await queued.flush(session)
        # One chained record per batch and kind (the sweep is the system acting, not a person):
        # which honours expired, and which reminder went to which honour.
        if lapsed:
            await audit.append(
                session,
                actor_id=None,
                action="honour.expired",
                subject="honours",
                now=now,
                article=ARTICLE_VALIDITY,
                honours=lapsed,
            )
        if sent:
            await audit.append(
                session,
                actor_id=None,
                action="honour.reminders_sent",
                subject="honours",
                now=now,
                article=ARTICLE_VALIDITY,
                sent=sent,
            )
        await session.commit()
        if len(rows) < batch:
            break
    return SweepReport(reminded, expired, messages)


# Re-review (复议) ----------------------------------------------------------------------------------


def _may_seek_rereview(actor: Actor, honour: Honour) -> None:
    people.require_registered(actor)
    if actor.person_id != honour.holder_id and honour.organisation_id not in actor.organisations(
        Role.RECOMMENDER
    ):
        raise DomainError("honour.not_holder")


def _require_valid(honour: Honour, now: datetime) -> None:
    status = validity.status_at(honour.status, honour.valid_until, now)
    if status != Status.VALID:
        raise DomainError(
            "honour.not_valid", number=honour.certificate_no, status_key=f"honour.status.{status}"
        )


async def start_rereview(session: AsyncSession, actor: Actor, honour_id: int, now: datetime) -> HonourReview:
    honour = await _load(session, honour_id, lock=True)
    _may_seek_rereview(actor, honour)
    _require_valid(honour, now)
    review = (
        await session.exec(
            select(HonourReview).where(
                HonourReview.honour_id == honour_id, HonourReview.period_end == honour.valid_until
            )
        )
    ).first()
    if review is not None:
        if review.outcome is not None or review.submitted_at is not None:
            raise DomainError("honour.rereview_already", number=honour.certificate_no)
        return review  # carry on with the one already started for this period
    review = HonourReview(
        honour_id=honour_id, period_end=honour.valid_until, started_by=actor.person_id or 0, started_at=now
    )
    session.add(review)
    await session.flush()
    await audit.append(
        session,
        actor_id=actor.person_id,
        action="honour.rereview_started",
        subject=f"honour:{honour_id}",
        now=now,
        article=ARTICLE_VALIDITY,
        review_id=review.id,
    )
    await session.commit()
    return review


async def _open_review(session: AsyncSession, actor: Actor, review_id: int) -> tuple[HonourReview, Honour]:
    review = (
        await session.exec(select(HonourReview).where(HonourReview.id == review_id).with_for_update())
    ).first()
    if review is None:
        raise DomainError("honour.review_not_found")
    honour = await _load(session, review.honour_id)
    _may_seek_rereview(actor, honour)
    if review.submitted_at is not None:
        raise DomainError("honour.rereview_already", number=honour.certificate_no)
    return review, honour


async def add_rereview_evidence(
    session: AsyncSession,
    actor: Actor,
    review_id: int,
    *,
    sha256: str,
    file_name: str,
    kind: str,
    now: datetime,
) -> HonourReview:
    """The first file is the new satisfaction evaluation report; later ones are further evidence."""
    review, _ = await _open_review(session, actor, review_id)
    if any(item["sha256"] == sha256 for item in review.evidence):
        return review
    has_report = any(item["slot"] == SATISFACTION_REPORT for item in review.evidence)
    review.evidence = [
        *review.evidence,
        {
            "slot": EVIDENCE if has_report else SATISFACTION_REPORT,
            "sha256": sha256,
            "file_name": file_name,
            "kind": kind,
            "at": now.isoformat(),
        },
    ]
    session.add(review)
    await session.commit()
    return review


async def submit_rereview(session: AsyncSession, actor: Actor, review_id: int, now: datetime) -> HonourReview:
    review, honour = await _open_review(session, actor, review_id)
    _require_valid(honour, now)
    if not any(item["slot"] == SATISFACTION_REPORT for item in review.evidence):
        raise DomainError("honour.rereview_needs_report")
    review.submitted_at = now
    session.add(review)
    await audit.append(
        session,
        actor_id=actor.person_id,
        action="honour.rereview_submitted",
        subject=f"honour:{honour.id}",
        now=now,
        article=ARTICLE_VALIDITY,
        review_id=review.id,
        evidence=[item["sha256"] for item in review.evidence],
    )
    for chat in await _office_chats(session):
        confirm = await tokens.issue(
            session, telegram_id=chat, action="honour.reconfirm", now=now, review_id=review.id
        )
        lapse_ = await tokens.issue(
            session, telegram_id=chat, action="honour.lapse", now=now, review_id=review.id
        )
        await outbox.enqueue(
            session,
            chat_id=chat,
            template="honour.rereview_for_office",
            now=now,
            params={
                "number": honour.certificate_no,
                "name": honour.holder_name,
                "honour_key": f"honour.{honour.honour}",
                "files": len(review.evidence),
                "until": _day(honour.valid_until),
            },
            buttons=[[outbox.button("honour.reconfirm", confirm), outbox.button("honour.lapse", lapse_)]],
        )
    await session.commit()
    return review


async def _decidable(session: AsyncSession, actor: Actor, review_id: int) -> tuple[HonourReview, Honour]:
    people.require_role(actor, Role.OFFICE)
    review = (
        await session.exec(select(HonourReview).where(HonourReview.id == review_id).with_for_update())
    ).first()
    if review is None:
        raise DomainError("honour.review_not_found")
    if review.submitted_at is None or review.outcome is not None:
        raise DomainError("honour.review_not_pending")
    return review, await _load(session, review.honour_id, lock=True)


async def reconfirm(
    session: AsyncSession,
    actor: Actor,
    review_id: int,
    now: datetime,
    *,
    bot_username: str,
    file_store: FileStore,
    days: tuple[int, ...] = DEFAULT_REMINDER_DAYS,
) -> Honour:
    """重新确认: a further three years from the old expiry, and a new certificate."""
    review, honour = await _decidable(session, actor, review_id)
    _require_valid(honour, now)
    old_until = honour.valid_until
    honour.valid_until = validity.reconfirmed_until(old_until)
    honour.reminded_days, honour.next_due_at = None, validity.next_due(honour.valid_until, None, now, days)
    honour.certificate_sha256 = _certificate(honour, bot_username, file_store)
    review.outcome, review.decided_by, review.decided_at, review.new_until = (
        "reconfirmed",
        actor.person_id,
        now,
        honour.valid_until,
    )
    session.add_all([honour, review])
    await audit.append(
        session,
        actor_id=actor.person_id,
        action="honour.reconfirmed",
        subject=f"honour:{honour.id}",
        now=now,
        article=ARTICLE_VALIDITY,
        review_id=review.id,
        old_until=old_until,
        new_until=honour.valid_until,
    )
    await _send_certificate(session, honour, "honour.reconfirmed_holder", now)
    for chat in await _recommender_chats(session, honour.organisation_id):
        await outbox.enqueue(
            session,
            chat_id=chat,
            template="honour.reconfirmed_body",
            now=now,
            params={
                "number": honour.certificate_no,
                "name": honour.holder_name,
                "until": _day(honour.valid_until),
            },
        )
    await session.commit()
    return honour


async def lapse(session: AsyncSession, actor: Actor, review_id: int, reason: str, now: datetime) -> Honour:
    """不予重新确认: the honour runs to its end and the sweep then expires it; no more reminders."""
    review, honour = await _decidable(session, actor, review_id)
    reason = clean_text(reason, 1000)
    review.outcome, review.decided_by, review.decided_at, review.reason = (
        "lapsed",
        actor.person_id,
        now,
        reason,
    )
    if honour.status == Status.VALID.value:
        honour.reminded_days, honour.next_due_at = 0, honour.valid_until
    session.add_all([honour, review])
    await audit.append(
        session,
        actor_id=actor.person_id,
        action="honour.lapsed",
        subject=f"honour:{honour.id}",
        now=now,
        reason=reason,
        article=ARTICLE_VALIDITY,
        review_id=review.id,
    )
    await _tell_holder_and_body(
        session, honour, "honour.lapsed_notice", now, reason=reason, until=_day(honour.valid_until)
    )
    await session.commit()
    return honour


# Revocation (第十七条第2项) --------------------------------------------------------------------------


async def revocable(session: AsyncSession, actor: Actor, raw: str, now: datetime) -> Honour:
    people.require_role(actor, Role.OFFICE)
    honour = await by_number(session, raw)
    _require_revocable(honour, now)
    return honour


def _require_revocable(honour: Honour, now: datetime) -> None:
    status = validity.status_at(honour.status, honour.valid_until, now)
    if not validity.revocable(status):
        raise DomainError(
            "honour.not_revocable", number=honour.certificate_no, status_key=f"honour.status.{status}"
        )


async def revoke(
    session: AsyncSession,
    actor: Actor,
    honour_id: int,
    reason: str,
    now: datetime,
    document_sha256: str | None = None,
) -> Honour:
    people.require_role(actor, Role.OFFICE)
    honour = await _load(session, honour_id, lock=True)
    _require_revocable(honour, now)
    reason = clean_text(reason, 1000)
    honour.status, honour.revoked_at, honour.revoked_by = Status.REVOKED.value, now, actor.person_id
    honour.revoke_reason, honour.revoke_document_sha256, honour.next_due_at = reason, document_sha256, None
    session.add(honour)
    await audit.append(
        session,
        actor_id=actor.person_id,
        action="honour.revoked",
        subject=f"honour:{honour.id}",
        now=now,
        reason=reason,
        article=ARTICLE_VALIDITY,
        number=honour.certificate_no,
        document=document_sha256,
    )
    await _tell_holder_and_body(session, honour, "honour.revoked_notice", now, reason=reason)
    await session.commit()
    return honour


# National recommendation (第十七条第4项) -------------------------------------------------------------


async def recommend_national(session: AsyncSession, actor: Actor, raw: str, now: datetime) -> Honour:
    people.require_role(actor, Role.OFFICE)
    honour = await by_number(session, raw, lock=True)
    _require_valid(honour, now)
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
                _day(honour.valid_until),
                words(f"honour.status.{honour.status}"),
                _day(honour.national_at) if honour.national_at else "",
            ]
        )
    for line in sheet.iter_rows(min_row=2):
        for cell in line:
            if isinstance(cell.value, str) and cell.value.startswith(("=", "+", "-", "@")):
                cell.data_type = "s"
    buffer = BytesIO()
    book.save(buffer)
    return buffer.getvalue()
