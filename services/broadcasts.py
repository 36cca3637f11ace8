"""Announcements to every subscriber (第十七条第3项: the office publicises the winners), and the
subscription each person controls with /subscribe and /unsubscribe.

Sending writes one Broadcast and one outbox row per recipient in ONE transaction; the outbox
sender delivers them rate-limited, each at most once. Progress is read from those outbox rows by
broadcast_id. The text is the office's own words: it is stored as written and rendered through the
`announce.message` template ("{text}"), which escapes it for HTML like any other parameter."""

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from models import Broadcast, OutboxMessage, OutboxStatus, Person, Role
from services import audit, people, tokens
from services.actors import Actor
from services.errors import DomainError

ARTICLE = "第十七条第3项"
TEMPLATE = "announce.message"  # "{text}" in every language: the office's words, untranslated
MAX_TEXT = 4096  # Telegram's limit for a message
MAX_CAPTION = 1024  # ... and for the caption of a photo or document
FILE_KINDS = ("photo", "document")
WAITING = (OutboxStatus.PENDING.value, OutboxStatus.SENDING.value)
PREVIEW_TTL = timedelta(days=1)  # a preview left for days is not confirmed by accident: preview again


@dataclass(frozen=True)
class Draft:
    """What the office composed: text, and optionally one file kept in the file store."""

    text: str = ""
    file_sha256: str | None = None
    file_name: str | None = None
    file_kind: str | None = None  # photo | document

    @classmethod
    def of(cls, data: dict[str, Any]) -> "Draft":
        return cls(
            str(data.get("text") or ""), data.get("file_sha256"), data.get("file_name"), data.get("file_kind")
        )

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Proposal:
    draft: Draft
    recipients: int
    confirm_token: str
    cancel_token: str


@dataclass(frozen=True)
class Sending:
    broadcast: Broadcast
    created: bool  # False: this confirmation had already been sent (a second press)


@dataclass(frozen=True)
class Progress:
    """A broadcast's figures, for the office's progress message."""

    broadcast_id: int
    total: int
    counts: dict[str, int]
    chat_id: int | None = None
    message_id: int | None = None
    locale: str = "zh_CN"

    @property
    def finished(self) -> bool:
        return not any(self.counts.get(status, 0) for status in WAITING)

    @property
    def template(self) -> str:
        return "announce.report" if self.finished else "announce.progress"

    @property
    def params(self) -> dict[str, int]:
        c = self.counts
        return {
            "total": self.total,
            "sent": c.get("sent", 0),
            "failed": c.get("failed", 0),
            # Not known to have arrived exactly once: the outcome was unknown, or it was sent
            # again after its sender died mid-send.
            "blocked": c.get("blocked", 0),
            "uncertain": c.get("uncertain", 0) + c.get("resent", 0),
            "waiting": c.get("pending", 0) + c.get("sending", 0),
        }

    @property
    def fingerprint(self) -> str:
        return ",".join(f"{k}={v}" for k, v in sorted(self.params.items()))


# Composing ---------------------------------------------------------------------------------------


def require_office(actor: Actor) -> int:
    return people.require_role(actor, Role.OFFICE)


def check_draft(draft: Draft) -> Draft:
    """An announcement needs words or a file, and must fit in one Telegram message."""
    text = draft.text.strip()
    if not text and not draft.file_sha256:
        raise DomainError("announce.empty")
    if draft.file_kind is not None and draft.file_kind not in FILE_KINDS:
        raise DomainError("announce.empty")
    limit = MAX_CAPTION if draft.file_sha256 else MAX_TEXT
    if len(text) > limit:
        raise DomainError("announce.too_long", length=len(text), limit=limit)
    return Draft(text, draft.file_sha256, draft.file_name, draft.file_kind)


def _recipients_query() -> SelectOfScalar[int | None]:
    # Subscribed and not blocked (an erased person is neither).
    return select(col(Person.id)).where(col(Person.subscribed).is_(True), col(Person.blocked_at).is_(None))


async def recipients(session: AsyncSession) -> list[int | None]:
    return list((await session.exec(_recipients_query().order_by(col(Person.id)))).all())


async def propose(
    session: AsyncSession, actor: Actor, draft: Draft, announcement_chat_id: int | None, now: datetime
) -> Proposal:
    """The preview step: check the draft, count who would get it, and issue the 确认发送 / 取消
    buttons. The confirm token carries the draft itself, so what is sent is what was previewed."""
    require_office(actor)
    draft = check_draft(draft)
    count = int((await session.exec(select(func.count()).select_from(_recipients_query().subquery()))).one())
    if announcement_chat_id:
        count += 1
    confirm = await tokens.issue(
        session,
        person_id=require_office(actor),
        action="announce.confirm",
        now=now,
        ttl=PREVIEW_TTL,
        draft=draft.as_dict(),
    )
    cancel = await tokens.issue(
        session,
        person_id=require_office(actor),
        action="announce.cancel",
        now=now,
        ttl=PREVIEW_TTL,
        confirm_token=confirm,
    )
    await session.commit()
    return Proposal(draft, count, confirm, cancel)


# Sending -----------------------------------------------------------------------------------------


async def send(
    session: AsyncSession,
    actor: Actor,
    confirm_token: str,
    payload: dict[str, Any],
    *,
    announcement_chat_id: int | None,
    progress_chat_id: int | None,
    progress_message_id: int | None,
    now: datetime,
) -> Sending:
    """Queue the announcement: the Broadcast, one outbox row per recipient and the audit record,
    committed together. A second confirmation of the same preview changes nothing."""
    require_office(actor)
    existing = await _by_token(session, confirm_token)
    if existing is not None:
        return Sending(existing, False)
    draft = check_draft(Draft.of(payload.get("draft") or {}))
    # Each subscriber, and the configured announcement channel, which is nobody's chat.
    to: list[tuple[int | None, int | None]] = [(person_id, None) for person_id in await recipients(session)]
    if announcement_chat_id:
        to.append((None, announcement_chat_id))
    broadcast = Broadcast(
        confirm_token=confirm_token,
        created_by=actor.person_id,
        created_at=now,
        text=draft.text,
        file_sha256=draft.file_sha256,
        file_name=draft.file_name,
        file_kind=draft.file_kind,
        total=len(to),
        progress_chat_id=progress_chat_id,
        progress_message_id=progress_message_id,
        progress_locale=actor.language,
    )
    session.add(broadcast)
    try:
        await session.flush()
    except IntegrityError:  # the same confirmation, pressed twice at once: the other press won
        await session.rollback()
        existing = await _by_token(session, confirm_token)
        if existing is None:
            raise
        return Sending(existing, False)
    assert broadcast.id is not None
    if to:
        await session.exec(insert(OutboxMessage), params=[_row(broadcast, *whom, now) for whom in to])
    await audit.append(
        session,
        actor_id=actor.person_id,
        action="broadcast.sent",
        subject=f"broadcast:{broadcast.id}",
        now=now,
        article=ARTICLE,
        recipients=len(to),
        has_file=draft.file_sha256 is not None,
        announcement_chat=bool(announcement_chat_id),
    )
    await session.commit()
    return Sending(broadcast, True)


def _row(broadcast: Broadcast, person_id: int | None, chat_id: int | None, now: datetime) -> dict[str, Any]:
    params: dict[str, Any] = {"text": broadcast.text}
    document_path = None
    if broadcast.file_sha256:
        document_path = f"{broadcast.file_sha256[:2]}/{broadcast.file_sha256}"  # as the file store keeps it
        params["file_name"] = broadcast.file_name or "file"
        params["photo"] = broadcast.file_kind == "photo"
    return {
        "person_id": person_id,
        "chat_id": chat_id,
        "template": TEMPLATE,
        "params": params,
        "buttons": [],
        "document_path": document_path,
        "protect": False,
        "broadcast_id": broadcast.id,
        "status": OutboxStatus.PENDING,
        "attempts": 0,
        "not_before": now,
        "created_at": now,
        "error": "",
    }


async def _by_token(session: AsyncSession, confirm_token: str) -> Broadcast | None:
    return (await session.exec(select(Broadcast).where(Broadcast.confirm_token == confirm_token))).first()


async def cancel(session: AsyncSession, actor: Actor, payload: dict[str, Any]) -> None:
    """取消 after the preview: the confirm button stops working. Too late once it was sent."""
    require_office(actor)
    confirm_token = str(payload.get("confirm_token") or "")
    if await _by_token(session, confirm_token) is not None:
        raise DomainError("announce.already_sent")
    await tokens.revoke(session, confirm_token)
    await session.commit()


# Progress ----------------------------------------------------------------------------------------


async def counts(session: AsyncSession, broadcast_id: int) -> dict[str, int]:
    found = {status.value: 0 for status in OutboxStatus}
    rows = await session.exec(
        select(OutboxMessage.status, func.count())
        .where(OutboxMessage.broadcast_id == broadcast_id)
        .group_by(OutboxMessage.status)
    )
    for status, count in rows.all():
        found[OutboxStatus(status).value] = int(count)
    found["resent"] = int(
        (
            await session.exec(
                select(func.count()).where(
                    OutboxMessage.broadcast_id == broadcast_id, col(OutboxMessage.resends) > 0
                )
            )
        ).one()
    )
    return found


async def progress(session: AsyncSession, broadcast_id: int) -> Progress:
    broadcast = await session.get(Broadcast, broadcast_id)
    if broadcast is None:
        raise DomainError("announce.not_found")
    return _progress(broadcast, await counts(session, broadcast_id))


def _progress(broadcast: Broadcast, found: dict[str, int]) -> Progress:
    assert broadcast.id is not None
    return Progress(
        broadcast.id,
        broadcast.total,
        found,
        broadcast.progress_chat_id,
        broadcast.progress_message_id,
        broadcast.progress_locale,
    )


async def progress_to_show(session: AsyncSession) -> list[Progress]:
    """Unfinished broadcasts whose figures changed since they were last shown (the final report
    always counts as a change)."""
    changed = []
    for broadcast in (
        await session.exec(select(Broadcast).where(col(Broadcast.finished_at).is_(None)))
    ).all():
        assert broadcast.id is not None
        current = _progress(broadcast, await counts(session, broadcast.id))
        if current.finished or current.fingerprint != broadcast.progress_shown:
            changed.append(current)
    return changed


async def progress_shown(session: AsyncSession, shown: Progress, now: datetime) -> None:
    """Remember what the office now sees; once nothing is left to send, the broadcast is finished
    and its outcome audited."""
    broadcast = await session.get(Broadcast, shown.broadcast_id)
    if broadcast is None or broadcast.finished_at is not None:
        return
    broadcast.progress_shown = shown.fingerprint
    if shown.finished:
        broadcast.finished_at = now
        await audit.append(
            session,
            actor_id=None,
            action="broadcast.finished",
            subject=f"broadcast:{broadcast.id}",
            now=now,
            article=ARTICLE,
            **dict[str, Any](shown.params),
        )
    session.add(broadcast)
    await session.commit()


# Subscription ------------------------------------------------------------------------------------


async def set_subscribed(session: AsyncSession, actor: Actor, subscribed: bool, now: datetime) -> bool:
    """Opt in or out of announcements. Returns False when nothing changed."""
    if actor.person_id is None:
        raise DomainError("consent.required")
    person = await session.get(Person, actor.person_id)
    if person is None:
        raise DomainError("consent.required")
    if person.subscribed == subscribed:
        return False
    person.subscribed = subscribed
    session.add(person)
    await audit.append(
        session,
        actor_id=person.id,
        action="person.subscribed" if subscribed else "person.unsubscribed",
        subject=f"person:{person.id}",
        now=now,
    )
    await session.commit()
    return True


async def is_subscribed(session: AsyncSession, actor: Actor) -> bool:
    if actor.person_id is None:
        raise DomainError("consent.required")
    person = await session.get(Person, actor.person_id)
    return bool(person is not None and person.subscribed)
