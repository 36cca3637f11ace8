"""Many people at once, as if each had agreed to the privacy notice on Telegram earlier."""

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import ColumnElement, insert, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models import TELEGRAM, ChannelAccount, OutboxMessage, Person


async def insert_people(
    session: AsyncSession, telegram_ids: Iterable[int], now: datetime, name: str = "订阅者{}"
) -> list[int]:
    """Insert a subscribed person with a Telegram account per id, in bulk; returns their person ids."""
    telegram_ids = list(telegram_ids)
    people = [
        {"name": name.format(tid), "language": "zh_CN", "consent_at": now, "subscribed": True}
        for tid in telegram_ids
    ]
    returned = await session.exec(
        insert(Person).returning(Person.id, sort_by_parameter_order=True),  # type: ignore[arg-type,call-overload]
        params=people,
    )
    person_ids = list(returned.scalars())
    accounts = [
        {"person_id": pid, "channel": TELEGRAM, "address": str(tid)}
        for pid, tid in zip(person_ids, telegram_ids, strict=True)
    ]
    await session.exec(insert(ChannelAccount), params=accounts)  # type: ignore[call-overload]
    return person_ids


def to_chat(chat_id: int) -> ColumnElement[bool]:
    """Outbox rows for this Telegram chat: replies to it, and messages to the person it is the
    account of (their chat is looked up when they are sent)."""
    person = select(ChannelAccount.person_id).where(
        ChannelAccount.channel == TELEGRAM, ChannelAccount.address == str(chat_id)
    )
    return or_(col(OutboxMessage.chat_id) == chat_id, col(OutboxMessage.person_id).in_(person))


async def chat_of(session: AsyncSession, row: OutboxMessage) -> int | None:
    """The Telegram chat an outbox row goes to."""
    if row.chat_id is not None or row.person_id is None:
        return row.chat_id
    account = await session.exec(
        select(ChannelAccount.address).where(
            ChannelAccount.person_id == row.person_id, ChannelAccount.channel == TELEGRAM
        )
    )
    address = account.first()
    return int(address) if address is not None else None
