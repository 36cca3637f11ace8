"""Buttons are not authority: a button that acts carries an opaque token issued to one person.

Callback data only says which token was pressed; who may act, on what, is looked up here, so a
forged, forwarded or stale button does nothing."""

import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Update, update
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from models import ActionToken
from services.errors import DomainError

TOKEN_BYTES = 12  # 16 url-safe characters; "t:" + token stays far below the 64-byte callback limit

# Buttons whose press is itself the decision. Each is spent by the commit that carries it, so the
# same button pressed again (a double tap, or Telegram re-sending a press whose answer it lost) is
# refused before anything runs. Not here: buttons that open a view, or ask for words or a file (their
# decision comes with the answer, and is re-checked by its service); votes, which may change until
# the round closes; and 确认发送, whose broadcast is already keyed by its token.
ONE_TIME = frozenset(
    {
        "invite.accept",
        "precheck.pass",
        "precheck.return_confirm",
        "review.remind",
        "review.close",
        "publicity.publish",
        "honour.award",
        "honour.rereview_submit",
        "honour.reconfirm",
        "honour.revoke",
        "announce.cancel",
        "card.pause",
        "card.resume",
        "card.close",
        "card.close_confirmed",
        "card.attach",
        "card.release",
        "card.reject",
    }
)


async def issue(
    session: AsyncSession,
    *,
    person_id: int | None,
    action: str,
    now: datetime,
    ttl: timedelta | None = None,
    **payload: Any,
) -> str:
    assert person_id is not None, "a token is issued to a stored person"
    token = secrets.token_urlsafe(TOKEN_BYTES)
    session.add(
        ActionToken(
            token=token,
            person_id=person_id,
            action=action,
            payload=payload,
            created_at=now,
            expires_at=now + ttl if ttl else None,
        )
    )
    return token


async def resolve(session: AsyncSession, token: str, *, person_id: int | None, now: datetime) -> ActionToken:
    row = await session.get(ActionToken, token) if 0 < len(token) <= 24 else None
    if row is None:
        raise DomainError("button.unknown")
    if row.person_id != person_id:
        raise DomainError("button.not_yours")
    if row.used_at is not None:
        raise DomainError("button.used")
    if row.expires_at is not None and row.expires_at <= now:
        raise DomainError("button.expired")
    return row


async def revoke(session: AsyncSession, token: str) -> None:
    row = await session.get(ActionToken, token)
    if row is not None:
        await session.delete(row)


def spend_statement(token: str, now: datetime) -> Update:
    """Spends an unspent token; matches no row when a concurrent press of it committed first."""
    unspent = (col(ActionToken.token) == token) & col(ActionToken.used_at).is_(None)
    return update(ActionToken).where(unspent).values(used_at=now)
