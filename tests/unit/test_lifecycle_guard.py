"""A status written anywhere but through its lifecycle fails (the suite runs with the guard on)."""

from datetime import UTC, datetime

import pytest

from models import Honour, Nomination, Objection
from tests.support.lifecycle_guard import StatusWrittenOutsideItsLifecycle


@pytest.mark.parametrize(
    ("record", "attribute", "value"),
    [(Nomination(), "stage", "approved"), (Honour(), "status", "valid"), (Objection(), "status", "upheld")],
    ids=["nomination", "honour", "objection"],
)
def test_assigning_a_status_outside_its_lifecycle_fails(record: object, attribute: str, value: str) -> None:
    with pytest.raises(StatusWrittenOutsideItsLifecycle):
        setattr(record, attribute, value)


def test_a_constructor_cannot_set_a_status_either() -> None:
    with pytest.raises(StatusWrittenOutsideItsLifecycle):
        Honour(status="revoked", valid_from=datetime(2026, 1, 1, tzinfo=UTC))
