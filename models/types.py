"""Column types shared by the tables."""

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Column, DateTime
from sqlalchemy import Enum as SAEnum
from sqlalchemy.types import TypeDecorator


class UtcDateTime(TypeDecorator[datetime]):
    """Stores UTC without a zone (SQLite keeps none) and always hands back an aware UTC datetime."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: pass an aware UTC datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


def enum_column(enum: type[StrEnum], *, index: bool = False, nullable: bool = False) -> Column[Any]:
    """An enum stored as its value in a VARCHAR: readable in SQL, and no PostgreSQL enum types
    to migrate when a journey adds a member."""
    return Column(
        SAEnum(
            enum,
            native_enum=False,
            length=32,
            values_callable=lambda members: [m.value for m in members],
            validate_strings=True,
        ),
        index=index,
        nullable=nullable,
    )
