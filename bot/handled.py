"""The mark that an update was handled, written by the commit that carries its effects, so a
redelivery after a crash finds both or neither."""

from datetime import datetime

from sqlalchemy import event
from sqlalchemy.orm import Session
from sqlmodel.ext.asyncio.session import AsyncSession

from models import HandledUpdate
from models.db import Session as OwnedSession

HANDLED = "handled_update"
WRITTEN = "handled_update_written"


@event.listens_for(Session, "before_commit")
def _mark_handled(session: Session) -> None:
    # The update's one commit also records it as handled, so its effects and that mark land
    # atomically: a redelivery after a crash either finds both or neither. (A checkpoint, the
    # release of a savepoint, is not that commit.)
    if session.in_nested_transaction():
        return
    marker: tuple[int, datetime] | None = session.info.pop(HANDLED, None)
    if marker is not None:
        session.add(HandledUpdate(update_id=marker[0], handled_at=marker[1]))
        session.info[WRITTEN] = True


async def commit_staged(session: AsyncSession) -> None:
    """Commit what is staged so far without marking the update handled: that mark belongs to the
    commit that carries the update's effects, or to its end."""
    marker = session.info.pop(HANDLED, None)
    try:
        if isinstance(session, OwnedSession):
            await session.commit_owned()
        else:
            await session.commit()
    finally:
        if marker is not None:
            session.info[HANDLED] = marker
