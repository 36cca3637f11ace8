"""Keeps the bookkeeping tables small: handled ids and finished inbox rows past Telegram's
redelivery horizon (24 h), and expired action tokens."""

from datetime import datetime, timedelta

from sqlmodel import col, delete
from sqlmodel.ext.asyncio.session import AsyncSession

from models import ActionToken, HandledUpdate, InboxStatus, InboxUpdate

KEEP_HANDLED = timedelta(days=7)


async def purge(session: AsyncSession, now: datetime) -> None:
    horizon = now - KEEP_HANDLED
    await session.exec(delete(HandledUpdate).where(col(HandledUpdate.handled_at) < horizon))
    await session.exec(
        delete(InboxUpdate).where(
            col(InboxUpdate.status) == InboxStatus.DONE, col(InboxUpdate.finished_at) < horizon
        )
    )
    await session.exec(delete(ActionToken).where(col(ActionToken.expires_at) < now))
    await session.commit()
