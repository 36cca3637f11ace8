"""公示 (第十六条第2项): the proposed list published for a number of working days, objections
lodged against it with their rulings, and the leading group's approval of the final list."""

from datetime import datetime

from sqlalchemy import JSON, Column, Text
from sqlmodel import Field, SQLModel

from models.types import UtcDateTime


class PublicityList(SQLModel, table=True):
    __tablename__ = "publicity_list"

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", unique=True)
    edition: int = 1  # bumped when an upheld objection changes the list and it is published again
    nomination_ids: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    published_by: int = Field(foreign_key="person.id")
    published_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    ends_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    status: str = Field(max_length=16, index=True)  # services.lifecycles.publicity.ListStatus
    forwarded_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
    approved_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
    approved_by: int | None = Field(default=None, foreign_key="person.id")
    approval_document: str | None = Field(
        default=None, max_length=64
    )  # sha256, when the office approves on behalf


class Objection(SQLModel, table=True):
    __tablename__ = "objection"

    id: int | None = Field(default=None, primary_key=True)
    publicity_id: int = Field(foreign_key="publicity_list.id", index=True)
    nomination_id: int = Field(foreign_key="nomination.id", index=True)
    lodged_by: int = Field(foreign_key="person.id")
    contact_name: str = Field(max_length=64)
    contact_phone: str = Field(max_length=32)
    organisation: str = Field(default="", max_length=128)  # an organisation objects with its stamped letter
    letter_sha256: str | None = Field(default=None, max_length=64)
    evidence_sha256: str | None = Field(default=None, max_length=64)
    grounds: str = Field(sa_column=Column(Text, nullable=False))
    lodged_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    owner_id: int | None = Field(default=None, foreign_key="person.id")
    deadline: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    status: str = Field(max_length=16, index=True)  # services.rules.publicity_rules.CaseStatus
    ruling: str = Field(default="", sa_column=Column(Text, nullable=False))
    ruled_by: int | None = Field(default=None, foreign_key="person.id")
    ruled_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
    reminded_at: datetime | None = Field(
        default=None, sa_column=Column(UtcDateTime(), nullable=True)
    )  # owner, once
