"""Customer evaluation cards (第十条): a card per person or team, the customers' ratings, and the
hashed record of when the bot first saw a rater (the only account-age hint a bot has)."""

from datetime import date, datetime

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.types import UtcDateTime


class EvaluationCard(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    token: str = Field(unique=True, max_length=40)  # the opaque part of the deep link
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    owner_id: int = Field(foreign_key="person.id", index=True)
    subject_kind: str = Field(max_length=16)  # person | team
    subject_name: str = Field(max_length=80)
    unit: str = Field(max_length=80, index=True)
    status: str = Field(max_length=16)  # active | paused | closed
    created_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    status_changed_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


class CardRating(SQLModel, table=True):
    """One customer's rating. Levels are indexes into services.rules.satisfaction.LEVELS (0 = 很满意)."""

    # One rating per rater, card and local day: a repeated final press cannot save twice (the
    # 30-day rule itself is checked by the service before saving).
    __table_args__ = (UniqueConstraint("card_id", "rater_hash", "rated_on"),)

    id: int | None = Field(default=None, primary_key=True)
    card_id: int = Field(foreign_key="evaluationcard.id", index=True)
    rater_hash: str = Field(max_length=64, index=True)  # HMAC of the Telegram id; never the id
    rated_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    rated_on: date
    overall: int
    attitude: int
    skill: int
    efficiency: int
    promise: int
    recommend: int  # 0-10
    comment: str = Field(default="", sa_column=Column(Text, nullable=False))
    comment_status: str = Field(default="none", max_length=16)  # none | shown | held | released | rejected
    comment_ruled_by: int | None = Field(default=None, foreign_key="person.id")
    new_rater: bool = False  # the bot first saw this rater on the day of the rating


class CardRater(SQLModel, table=True):
    """When the bot first saw a rater, keyed by the same irreversible hash."""

    rater_hash: str = Field(primary_key=True, max_length=64)
    first_seen_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


class CardSecret(SQLModel, table=True):
    """The random key of the rater hash, made once: without it the hash cannot be brute-forced
    from the small space of Telegram ids."""

    id: int = Field(default=1, primary_key=True)
    key: str = Field(max_length=64)
