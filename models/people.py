"""People, the organisations that recommend candidates, the roles people hold, and invitations."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.types import UtcDateTime, enum_column


class Role(StrEnum):
    OFFICE = "office"
    REVIEWER = "reviewer"
    RECOMMENDER = "recommender"
    LEADING_GROUP = "leading_group"


class OrganisationKind(StrEnum):
    MEMBER_UNIT = "member_unit"  # the five founding units of Art. 1
    CITY = "city"
    INDUSTRY = "industry"


TELEGRAM = "telegram"  # the first channel; a channel is any way to reach a person (CHANNELS.md)


class Person(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = ""
    language: str = "zh_CN"
    consent_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    blocked_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
    subscribed: bool = True


class ChannelAccount(SQLModel, table=True):
    """Where a person is reached: their address on one channel (a Telegram user id, a WeChat
    openid). Services speak of people; only a channel's edge reads the address."""

    # One address is one person's; a person has at most one account on each channel.
    __table_args__ = (UniqueConstraint("channel", "address"), UniqueConstraint("person_id", "channel"))

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    channel: str = Field(max_length=16)
    address: str = Field(max_length=64)


class Organisation(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True, max_length=32)
    name_zh: str
    name_en: str
    kind: OrganisationKind = Field(
        default=OrganisationKind.MEMBER_UNIT, sa_column=enum_column(OrganisationKind)
    )


class RoleAssignment(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("person_id", "role", "organisation_id", "granted_at"),)

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    role: Role = Field(sa_column=enum_column(Role))
    organisation_id: int | None = Field(default=None, foreign_key="organisation.id")
    granted_by: int | None = Field(default=None, foreign_key="person.id")
    granted_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    revoked_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
    revoked_by: int | None = Field(default=None, foreign_key="person.id")


class Invitation(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    token: str = Field(unique=True, max_length=64)
    role: Role = Field(sa_column=enum_column(Role))
    organisation_id: int | None = Field(default=None, foreign_key="organisation.id")
    created_by: int = Field(foreign_key="person.id")
    created_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    expires_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    used_by: int | None = Field(default=None, foreign_key="person.id")
    used_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
