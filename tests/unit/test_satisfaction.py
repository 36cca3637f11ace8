"""The satisfaction statistics of evaluation cards, checked against a hand computation."""

from datetime import UTC, datetime, timedelta

import pytest

from services.rules import satisfaction as s

MONDAY = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai, ISO week 2026-W10


def answer(
    i: int,
    overall: int,
    recommend: int,
    at: datetime | None = None,
    *,
    card: int = 1,
    comment: str = "",
    new: bool = False,
    skill: int = 1,
) -> s.Answer:
    return s.Answer(
        id=i,
        card_id=card,
        at=at or MONDAY,
        overall=overall,
        aspects=(overall, skill, 0, 4),
        recommend=recommend,
        comment=comment,
        new_rater=new,
    )


def sample() -> list[s.Answer]:
    levels = [0, 0, 0, 1, 1, 1, 1, 2, 3, 4]  # scores 100,100,100,80,80,80,80,60,30,0
    recommend = [10, 9, 9, 9, 8, 7, 6, 10, 3, 0]
    return [
        answer(i, level, r, MONDAY + timedelta(days=0 if i < 6 else 7))
        for i, (level, r) in enumerate(zip(levels, recommend, strict=True))
    ]


def test_the_figures_match_a_hand_computation() -> None:
    summary = s.summarise(sample())
    # n = 10; sum of scores = 3·100 + 4·80 + 60 + 30 + 0 = 710, so the index is 71.0.
    assert summary.count == 10 and summary.index == pytest.approx(71.0)
    # deviations from 71: 29 (×3), 9 (×4), −11, −41, −71; squares 2523 + 324 + 121 + 1681 + 5041 = 9690;
    # s² = 9690 / 9 = 1076.67, s = 32.813; s/√10 = 10.376; 1.96 · 10.376 = 20.337 → [50.66, 91.34].
    assert summary.std_dev == pytest.approx(32.813, abs=1e-3)
    assert summary.interval == (pytest.approx(50.66, abs=0.01), pytest.approx(91.34, abs=0.01))
    assert summary.small_sample  # 10 < 30: the report warns
    # CSAT: 很满意 3 + 满意 4 = 7 of 10 = 70 %.
    assert summary.csat == pytest.approx(70.0)
    # NPS: promoters 10,9,9,9,10 = 5 (50 %), passives 8,7 = 2 (20 %), detractors 6,3,0 = 3 (30 %):
    # 50 − 30 = 20.
    assert (summary.promoters, summary.passives, summary.detractors) == (50.0, 20.0, 30.0)
    assert summary.nps == pytest.approx(20.0)
    # Aspects: attitude follows overall (71.0); skill is always 满意 (80); efficiency 很满意 (100);
    # promise 不满意 (0).
    assert summary.aspects == {
        "attitude": pytest.approx(71.0),
        "skill": 80.0,
        "efficiency": 100.0,
        "promise": 0.0,
    }
    assert summary.distribution == (3, 4, 1, 1, 1)
    # Trend: week 10 has scores 100,100,100,80,80,80 (mean 90); week 11 has 80,60,30,0 (mean 42.5).
    assert summary.weeks == [("2026-W10", 6, 90.0), ("2026-W11", 4, 42.5)]


def test_small_samples_have_no_interval_and_empty_ones_no_figures() -> None:
    one = s.summarise([answer(1, 0, 10)])
    assert (one.index, one.interval, one.csat, one.nps) == (100.0, None, 100.0, 100.0)
    empty = s.summarise([])
    assert (empty.count, empty.index, empty.interval, empty.csat, empty.nps) == (0, None, None, None, None)
    # The interval never leaves 0-100: two very different answers give a half-width above 100.
    assert s.summarise([answer(1, 0, 10), answer(2, 4, 0)]).interval == (0.0, 100.0)


def test_thirty_ratings_are_no_longer_a_small_sample() -> None:
    assert not s.summarise([answer(i, 1, 8) for i in range(30)]).small_sample
    with pytest.raises(ValueError):
        s.score(5)


def test_a_burst_of_ten_within_ten_minutes_is_flagged_nine_is_not() -> None:
    nine = [answer(i, 0, 10, MONDAY + timedelta(minutes=i)) for i in range(9)]
    assert s.flags(nine) == {}
    ten = [answer(i, 0, 10, MONDAY + timedelta(seconds=59 * i)) for i in range(10)]
    assert set(s.flags(ten)) == set(range(10)) and all(f == {s.BURST} for f in s.flags(ten).values())
    # Ten spread over more than ten minutes are not a burst; ten on two cards are not either.
    spread = [answer(i, 0, 10, MONDAY + timedelta(minutes=2 * i)) for i in range(10)]
    assert s.flags(spread) == {}
    split = [answer(i, 0, 10, MONDAY + timedelta(seconds=i), card=i % 2) for i in range(10)]
    assert s.flags(split) == {}


def test_raters_first_seen_that_day_are_flagged_when_they_dominate_the_day() -> None:
    hours = [MONDAY + timedelta(hours=i % 10, minutes=11 * i) for i in range(14)]
    dominated = [answer(i, 0, 10, hours[i], new=i < 10) for i in range(12)]  # 10 new of 12: 83 %
    assert {i for i, f in s.flags(dominated).items() if s.NEW_RATERS in f} == set(range(10))
    mixed = [answer(i, 0, 10, hours[i], new=i < 10) for i in range(14)]  # 10 new of 14: 71 %
    assert not any(s.NEW_RATERS in f for f in s.flags(mixed).values())


def test_identical_comments_are_flagged_whatever_their_spacing_and_punctuation() -> None:
    hours = [MONDAY + timedelta(hours=i) for i in range(5)]
    answers = [
        answer(0, 0, 10, hours[0], comment="服务太棒了！"),
        answer(1, 0, 10, hours[1], comment="服务 太棒了!!"),
        answer(2, 0, 10, hours[2], comment="ＳＥＲＶＩＣＥ太棒了"),
        answer(3, 0, 10, hours[3], comment="服务太棒了。"),
        answer(4, 0, 10, hours[4], comment="很好"),
    ]
    assert s.flags(answers) == {0: {s.SAME_COMMENT}, 1: {s.SAME_COMMENT}, 3: {s.SAME_COMMENT}}
    assert s.flag_counts(s.flags(answers)) == {s.BURST: 0, s.NEW_RATERS: 0, s.SAME_COMMENT: 3}


def test_kept_text_loses_invisible_characters() -> None:
    assert s.clean_text("好\u202e评\u200b  很  好", 100) == "好评 很 好"
    assert s.clean_text("x" * 600, 500) == "x" * 500
