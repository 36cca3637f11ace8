"""The promise that a status changes only through its lifecycle, kept for the whole test run: every
status attribute of every lifecycle's table is watched, and a write made outside `apply` fails the
code that made it (a constructor setting a status counts too; rows read back from the database do
not set attributes)."""

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

from sqlalchemy import event

from services.lifecycles.catalogue import LIFECYCLES
from services.lifecycles.core import _writing, writing_status


class StatusWrittenOutsideItsLifecycle(AssertionError):
    pass


@cache
def install() -> None:
    for lifecycle in LIFECYCLES:
        name = f"{lifecycle.model.__name__}.{lifecycle.attribute}"

        def on_set(target: object, value: object, old: object, initiator: object, name: str = name) -> None:
            if not writing_status():
                raise StatusWrittenOutsideItsLifecycle(f"{name} set to {value!r} outside its lifecycle")

        event.listen(getattr(lifecycle.model, lifecycle.attribute), "set", on_set)


@contextmanager
def seeding() -> Iterator[None]:
    """Test data built in a state directly (a nomination already passed), as a migration would."""
    with _writing():
        yield
