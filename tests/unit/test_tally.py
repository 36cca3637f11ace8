"""The review committee's count (第十六条第2、3项): quorum, passing, ties, vote validity."""

from datetime import UTC, datetime, timedelta
from fractions import Fraction

import pytest

from services.errors import DomainError
from services.rules import tally
from services.rules.tally import Choice, Outcome, RoundState

pytestmark = pytest.mark.article("第十六条第3项")

NOW = datetime(2026, 6, 5, 2, 0, tzinfo=UTC)
CLOSES = NOW + timedelta(days=3)


def test_two_for_two_against_is_not_passed() -> None:
    result = tally.count(["for", "for", "against", "against"], panel=4, recused=0)
    assert result.has_quorum and result.outcome == Outcome.NOT_PASSED


def test_exactly_two_thirds_voting_is_quorum() -> None:
    result = tally.count(["for", "for", "against", "for"], panel=6, recused=0)
    assert result.cast == 4 and result.has_quorum and result.outcome == Outcome.PASSED


def test_just_under_two_thirds_is_no_quorum() -> None:
    result = tally.count(["for", "for", "for"], panel=5, recused=0)  # 3/5 < 2/3
    assert not result.has_quorum and result.outcome == Outcome.NO_QUORUM


def test_recused_reviewers_leave_the_quorum_base() -> None:
    assert tally.count(["for", "for", "for"], panel=5, recused=1).has_quorum  # 3 of 4
    assert tally.count([], panel=1, recused=1).outcome == Outcome.NO_QUORUM  # nobody could vote


def test_abstentions_count_toward_quorum_but_not_toward_passing() -> None:
    result = tally.count(["for", "for", "abstain", "abstain"], panel=4, recused=0)
    assert result.has_quorum and result.outcome == Outcome.NOT_PASSED  # 2 of 4 cast is not more than half
    assert (
        tally.count(["for", "for", "for", "abstain", "against"], panel=5, recused=0).outcome == Outcome.PASSED
    )


def test_thresholds_are_configurable_fractions() -> None:
    votes = ["for", "for", "against"]
    assert tally.count(votes, panel=3, recused=0, passing=Fraction(2, 3)).outcome == Outcome.NOT_PASSED
    assert tally.count(votes, panel=4, recused=0, quorum=Fraction(3, 4)).outcome == Outcome.PASSED
    assert tally.count(votes, panel=5, recused=0, quorum=Fraction(3, 4)).outcome == Outcome.NO_QUORUM
    with pytest.raises(DomainError):
        tally.check_thresholds(Fraction(0), Fraction(1, 2))
    with pytest.raises(DomainError):
        tally.check_thresholds(Fraction(2, 3), Fraction(1))
    assert tally.fraction_text(Fraction(2, 3)) == "2/3"


def test_vote_validity() -> None:
    ok = dict(state=RoundState.OPEN, closes_at=CLOSES, now=NOW, on_panel=True, recused=False)
    assert tally.check_vote(**ok, choice="abstain") == Choice.ABSTAIN
    for change, code in [
        ({"state": RoundState.CLOSED}, "review.round_closed"),
        ({"now": CLOSES}, "review.round_closed"),
        ({"on_panel": False}, "review.not_on_panel"),
        ({"recused": True}, "review.recused"),
    ]:
        with pytest.raises(DomainError) as refused:
            tally.check_vote(**{**ok, **change}, choice="for")  # type: ignore[arg-type]
        assert refused.value.code == code
    with pytest.raises(DomainError):
        tally.check_vote(**ok, choice="maybe")


def test_round_states_and_closing() -> None:
    assert not tally.due_to_close(CLOSES, RoundState.OPEN, NOW) and tally.due_to_close(
        CLOSES, RoundState.OPEN, CLOSES
    )
    assert not tally.due_to_close(CLOSES, RoundState.CLOSED, CLOSES + timedelta(hours=1))
    assert tally.everyone_voted({1: 3, 2: 2}, {1: 3, 2: 2}) and not tally.everyone_voted({1: 3, 2: 2}, {1: 3})


def test_reminders_only_after_the_opening() -> None:
    due = tally.reminders_due(CLOSES, [2, 48, 24, 24], opened_at=NOW + timedelta(days=1, hours=12))
    assert due == [(24, CLOSES - timedelta(hours=24)), (2, CLOSES - timedelta(hours=2))]


def test_automatic_recusal() -> None:
    same_body = tally.recusal_reason(
        reviewer_organisations={1},
        reviewer_organisation_names={"广东质协"},
        nomination_organisation=1,
        employer="广州地铁",
    )
    employer = tally.recusal_reason(
        reviewer_organisations={7},
        reviewer_organisation_names={"广州 地铁"},
        nomination_organisation=1,
        employer="广州地铁集团有限公司",
    )
    none = tally.recusal_reason(
        reviewer_organisations={7},
        reviewer_organisation_names={"深圳供电局"},
        nomination_organisation=1,
        employer="广州地铁",
    )
    assert (same_body, employer, none) == ("recommending_body", "employer", None)
