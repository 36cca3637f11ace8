"""The review committee's rounds (第十六条第2、3项): the nominations under review, the panel,
recusals (回避), one ballot per reviewer, nomination and round, reminder due rows, the result."""

from datetime import datetime

from sqlalchemy import JSON, Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.types import UtcDateTime


class ReviewRound(SQLModel, table=True):
    __tablename__ = "review_round"

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    honour: str | None = Field(default=None, max_length=16)  # None: every honour of the campaign
    opened_by: int = Field(foreign_key="person.id")
    opened_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    closes_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    status: str = Field(max_length=16, index=True)  # services.lifecycles.review_round.RoundStatus
    # Set once, by the tally; a database trigger refuses ballots for a round that has it.
    closed_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
    # Thresholds as fractions, printed on the result: quorum of the non-recused panel, passing share of
    # votes cast.
    quorum_num: int = 2
    quorum_den: int = 3
    pass_num: int = 1
    pass_den: int = 2
    open_ballot: bool = False  # open: the office sees who said what; secret: counts only
    reminder_hours: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class RoundNomination(SQLModel, table=True):
    __tablename__ = "review_item"
    __table_args__ = (UniqueConstraint("round_id", "nomination_id"),)

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="review_round.id", index=True)
    nomination_id: int = Field(foreign_key="nomination.id", index=True)
    outcome: str | None = Field(default=None, max_length=16)  # passed | not_passed | no_quorum, at the tally
    counts: dict[str, int] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class PanelSeat(SQLModel, table=True):
    __tablename__ = "review_panel"
    __table_args__ = (UniqueConstraint("round_id", "reviewer_id"),)

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="review_round.id", index=True)
    reviewer_id: int = Field(foreign_key="person.id", index=True)


class Recusal(SQLModel, table=True):
    __tablename__ = "recusal"
    __table_args__ = (UniqueConstraint("round_id", "nomination_id", "reviewer_id"),)

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="review_round.id", index=True)
    nomination_id: int = Field(foreign_key="nomination.id")
    reviewer_id: int = Field(foreign_key="person.id")
    automatic: bool
    reason: str = Field(sa_column=Column(Text, nullable=False))
    at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


class Ballot(SQLModel, table=True):
    __tablename__ = "ballot"
    __table_args__ = (UniqueConstraint("round_id", "nomination_id", "reviewer_id"),)

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="review_round.id", index=True)
    nomination_id: int = Field(foreign_key="nomination.id")
    reviewer_id: int = Field(foreign_key="person.id")
    choice: str = Field(max_length=8)  # services.rules.tally.Choice
    comment: str = Field(default="", sa_column=Column(Text, nullable=False))
    cast_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    changed_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    changes: int = 0


class ReviewReminder(SQLModel, table=True):
    """A reminder to a reviewer who has not finished voting, due `offset_hours` before closing."""

    __tablename__ = "review_reminder"
    __table_args__ = (UniqueConstraint("round_id", "reviewer_id", "offset_hours"),)

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="review_round.id", index=True)
    reviewer_id: int = Field(foreign_key="person.id")
    offset_hours: int
    due_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False, index=True))
    sent_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
