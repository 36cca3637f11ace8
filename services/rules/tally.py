"""Review rounds and their count (第十六条第2、3项), as pure functions over plain values.

Quorum: at least `quorum` of the non-recused panel cast a vote (弃权 counts toward the quorum).
Passing: more than `passing` of the votes cast are 同意 (弃权 is a vote cast that is not 同意).
Both are fractions set per round and printed on the result. Without quorum there is no verdict:
the office decides to extend the closing time or hold a new vote."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from fractions import Fraction

from services.errors import DomainError

DEFAULT_QUORUM = Fraction(2, 3)
DEFAULT_PASSING = Fraction(1, 2)
DEFAULT_REMINDER_HOURS = (48, 24, 2)


class Choice(StrEnum):
    FOR = "for"  # 同意
    AGAINST = "against"  # 不同意
    ABSTAIN = "abstain"  # 弃权


class RoundState(StrEnum):
    OPEN = "open"
    CLOSED = "closed"  # counted; nothing more is written


class Outcome(StrEnum):
    PASSED = "passed"
    NOT_PASSED = "not_passed"
    NO_QUORUM = "no_quorum"  # the office decides: extend the closing time or vote again


def due_to_close(closes_at: datetime, state: RoundState, now: datetime) -> bool:
    """The closing time has come and the round is not counted yet."""
    return state == RoundState.OPEN and now >= closes_at


def check_thresholds(quorum: Fraction, passing: Fraction) -> None:
    if not (0 < quorum <= 1) or not (0 <= passing < 1):
        raise DomainError("review.bad_thresholds")


def check_vote(
    *, state: RoundState, closes_at: datetime, now: datetime, on_panel: bool, recused: bool, choice: str
) -> Choice:
    """Whether this reviewer may vote on this nomination now; the valid choice if so."""
    if state == RoundState.CLOSED or now >= closes_at:
        raise DomainError("review.round_closed")
    if not on_panel:
        raise DomainError("review.not_on_panel")
    if recused:
        raise DomainError("review.recused")
    try:
        return Choice(choice)
    except ValueError:
        raise DomainError("review.bad_choice") from None


@dataclass(frozen=True)
class Count:
    for_: int
    against: int
    abstain: int
    recused: int
    eligible: int  # the panel without those recused
    quorum: Fraction
    passing: Fraction

    @property
    def cast(self) -> int:
        return self.for_ + self.against + self.abstain

    @property
    def has_quorum(self) -> bool:
        return self.eligible > 0 and Fraction(self.cast, self.eligible) >= self.quorum

    @property
    def outcome(self) -> Outcome:
        if not self.has_quorum:
            return Outcome.NO_QUORUM
        return Outcome.PASSED if Fraction(self.for_, self.cast) > self.passing else Outcome.NOT_PASSED

    def as_dict(self) -> dict[str, int]:
        return {
            "for": self.for_,
            "against": self.against,
            "abstain": self.abstain,
            "recused": self.recused,
            "eligible": self.eligible,
            "cast": self.cast,
        }


def count(
    choices: Iterable[str],
    *,
    panel: int,
    recused: int,
    quorum: Fraction = DEFAULT_QUORUM,
    passing: Fraction = DEFAULT_PASSING,
) -> Count:
    """Count one nomination's ballots (of reviewers who are on the panel and not recused)."""
    tally = {choice: 0 for choice in Choice}
    for choice in choices:
        tally[Choice(choice)] += 1
    return Count(
        tally[Choice.FOR],
        tally[Choice.AGAINST],
        tally[Choice.ABSTAIN],
        recused,
        max(0, panel - recused),
        quorum,
        passing,
    )


def everyone_voted(eligible_by_nomination: Mapping[int, int], cast_by_nomination: Mapping[int, int]) -> bool:
    """Every reviewer not recused has voted on every nomination: the round may be counted early."""
    return all(cast_by_nomination.get(n, 0) >= eligible for n, eligible in eligible_by_nomination.items())


def reminders_due(
    closes_at: datetime, hours: Iterable[int], opened_at: datetime
) -> list[tuple[int, datetime]]:
    """(offset, due time) for each reminder that still lies after the opening."""
    from datetime import timedelta

    return [
        (h, closes_at - timedelta(hours=h))
        for h in sorted(set(hours), reverse=True)
        if closes_at - timedelta(hours=h) > opened_at
    ]


def recusal_reason(
    *,
    reviewer_organisations: set[int],
    reviewer_organisation_names: set[str],
    nomination_organisation: int | None,
    employer: str,
) -> str | None:
    """Why a reviewer is recused automatically from a nomination, or None.

    Two simple rules, documented here because they are the whole conflict-of-interest check:
    1. the reviewer holds a role in the nomination's recommending body (same organisation id);
    2. the dossier's employer (工作单位 / enterprise name) contains, or is contained in, the name of an
       organisation the reviewer belongs to (whitespace and case ignored; names shorter than 2
       characters are not compared)."""
    if nomination_organisation is not None and nomination_organisation in reviewer_organisations:
        return "recommending_body"
    employer_norm = "".join(employer.split()).casefold()
    for name in reviewer_organisation_names:
        name_norm = "".join(name.split()).casefold()
        if (
            len(name_norm) >= 2
            and len(employer_norm) >= 2
            and (name_norm in employer_norm or employer_norm in name_norm)
        ):
            return "employer"
    return None


def fraction_text(value: Fraction) -> str:
    return f"{value.numerator}/{value.denominator}"
