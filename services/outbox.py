"""Messages to anyone but the person who just wrote: rows written in the caller's transaction, so
a message is queued exactly when the decision that causes it is committed."""

from datetime import datetime
from typing import Any

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from models import OutboxMessage, Person


def button(label: str, token: str, **params: Any) -> dict[str, Any]:
    """One inline button: a translation key for its label and the action token it carries."""
    return {"label": label, "token": token, "params": params}


async def enqueue(
    session: AsyncSession,
    *,
    person_id: int | None = None,
    chat_id: int | None = None,
    template: str,
    now: datetime,
    params: dict[str, Any] | None = None,
    buttons: list[list[dict[str, Any]]] | None = None,
    document_path: str | None = None,
    protect: bool = False,
    broadcast_id: int | None = None,
) -> OutboxMessage:
    """To a person (reached on their channel), or, from the Telegram edge's own services (the inbox),
    to a chat that may be nobody's yet."""
    assert (person_id is None) != (chat_id is None), "a message goes to a person or to a chat"
    row = OutboxMessage(
        person_id=person_id,
        chat_id=chat_id,
        template=template,
        params=params or {},
        buttons=buttons or [],
        document_path=document_path,
        protect=protect,
        broadcast_id=broadcast_id,
        not_before=now,
        created_at=now,
    )
    session.add(row)
    return row


async def notify_person(
    session: AsyncSession, person_id: int, template: str, now: datetime, **kwargs: Any
) -> OutboxMessage | None:
    """Queue a message to a person, unless they blocked the bot (then nothing is queued)."""
    person = (await session.exec(select(Person).where(Person.id == person_id))).first()
    if person is None or person.blocked_at is not None:
        return None
    return await enqueue(session, person_id=person_id, template=template, now=now, **kwargs)
