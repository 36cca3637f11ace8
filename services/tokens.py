"""Buttons are not authority: a button that acts carries an opaque token issued to one person.

Callback data only says which token was pressed; who may act, on what, is looked up here, so a
forged, forwarded or stale button does nothing."""

import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from models import ActionToken
from services.errors import DomainError

TOKEN_BYTES = 12  # 16 url-safe characters; "t:" + token stays far below the 64-byte callback limit


async def issue(
    session: AsyncSession, *, telegram_id: int, action: str, now: datetime,
    ttl: timedelta | None = None, **payload: Any,
) -> str:
    token = secrets.token_urlsafe(TOKEN_BYTES)
    session.add(
        ActionToken(
            token=token, telegram_id=telegram_id, action=action, payload=payload, created_at=now,
            expires_at=now + ttl if ttl else None,
        )
    )
    return token


async def resolve(session: AsyncSession, token: str, *, telegram_id: int, now: datetime) -> ActionToken:
    row = await session.get(ActionToken, token) if 0 < len(token) <= 24 else None
    if row is None:
        raise DomainError("button.unknown")
    if row.telegram_id != telegram_id:
        raise DomainError("button.not_yours")
    if row.expires_at is not None and row.expires_at <= now:
        raise DomainError("button.expired")
    return row


async def revoke(session: AsyncSession, token: str) -> None:
    row = await session.get(ActionToken, token)
    if row is not None:
        await session.delete(row)
