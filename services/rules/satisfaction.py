"""Satisfaction statistics of customer evaluation cards (第十条), pure: no database, no clock.

What is computed, exactly (the report states the same):
- each answer is one of five levels, scored 很满意 100, 满意 80, 基本满意 60, 不太满意 30, 不满意 0;
- the satisfaction index is the arithmetic mean of the overall-satisfaction scores (0-100);
- its 95% confidence interval is the normal approximation on that mean: mean ± 1.96·s/√n, where
  s is the sample standard deviation (n − 1 in the denominator), clipped to 0-100; none below 2
  ratings, and the report warns below 30 ratings, where the approximation is rough;
- CSAT is the share of overall answers in the two top levels (很满意, 满意), in per cent;
- each aspect's score is the mean of its scores, on the same 100/80/60/30/0 scale;
- NPS is the per cent of promoters (9-10) minus the per cent of detractors (0-6) on the 0-10
  likelihood to recommend.

Flags against staged ratings are hints for the office; flagged ratings are always counted."""

import math
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from services import local_time

LEVELS = ("very_satisfied", "satisfied", "fair", "dissatisfied", "very_dissatisfied")
SCORES = (100, 80, 60, 30, 0)
ASPECTS = ("attitude", "skill", "efficiency", "promise")
Z95 = 1.96
SMALL_SAMPLE = 30

# Flags (hints, never exclusions)
BURST = "burst"  # at least BURST_COUNT ratings of one card within BURST_WINDOW
BURST_COUNT, BURST_WINDOW = 10, timedelta(minutes=10)
NEW_RATERS = "new_raters"  # many ratings of one card in one day from raters first seen that day
NEW_RATERS_COUNT, NEW_RATERS_SHARE = 10, 0.8
SAME_COMMENT = "same_comment"  # the same (normalised) comment on one card at least SAME_COMMENT_COUNT times
SAME_COMMENT_COUNT = 3
FLAGS = (BURST, NEW_RATERS, SAME_COMMENT)


@dataclass(frozen=True)
class Answer:
    """One rating as the statistics see it."""

    id: int
    card_id: int
    at: datetime
    overall: int  # index into LEVELS
    aspects: tuple[int, int, int, int]  # indexes into LEVELS, in the order of ASPECTS
    recommend: int  # 0-10
    comment: str = ""
    new_rater: bool = False


@dataclass(frozen=True)
class Summary:
    count: int
    index: float | None  # mean overall score, 0-100
    interval: tuple[float, float] | None  # 95% CI of the index
    std_dev: float | None
    small_sample: bool
    csat: float | None  # per cent
    aspects: dict[str, float | None]
    promoters: float | None  # per cent
    passives: float | None
    detractors: float | None
    nps: float | None  # promoters - detractors, in points
    distribution: tuple[int, ...]  # count per level, in the order of LEVELS
    weeks: list[tuple[str, int, float]] = field(default_factory=list)  # ("2026-W10", count, index)


def score(level: int) -> int:
    if not 0 <= level < len(LEVELS):
        raise ValueError(f"no such level: {level}")
    return SCORES[level]


def mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def interval95(values: Sequence[float]) -> tuple[tuple[float, float] | None, float | None]:
    """Normal-approximation 95% CI on the mean, with the sample standard deviation."""
    n = len(values)
    if n < 2:
        return None, None
    centre = sum(values) / n
    s = math.sqrt(sum((v - centre) ** 2 for v in values) / (n - 1))
    half = Z95 * s / math.sqrt(n)
    return (max(0.0, centre - half), min(100.0, centre + half)), s


def iso_week(moment: datetime) -> str:
    year, week, _ = local_time.local(moment).isocalendar()
    return f"{year}-W{week:02d}"


def summarise(answers: Sequence[Answer]) -> Summary:
    n = len(answers)
    overall = [score(a.overall) for a in answers]
    interval, s = interval95(overall)
    distribution = tuple(sum(1 for a in answers if a.overall == level) for level in range(len(LEVELS)))
    recommend = [a.recommend for a in answers]
    promoters = 100 * sum(1 for r in recommend if r >= 9) / n if n else None
    detractors = 100 * sum(1 for r in recommend if r <= 6) / n if n else None
    passives = 100 * sum(1 for r in recommend if 7 <= r <= 8) / n if n else None
    by_week: dict[str, list[int]] = defaultdict(list)
    for a in answers:
        by_week[iso_week(a.at)].append(score(a.overall))
    return Summary(
        count=n,
        index=mean(overall),
        interval=interval,
        std_dev=s,
        small_sample=n < SMALL_SAMPLE,
        csat=100 * (distribution[0] + distribution[1]) / n if n else None,
        aspects={name: mean([score(a.aspects[i]) for a in answers]) for i, name in enumerate(ASPECTS)},
        promoters=promoters,
        passives=passives,
        detractors=detractors,
        nps=promoters - detractors if promoters is not None and detractors is not None else None,
        distribution=distribution,
        weeks=[(week, len(scores), sum(scores) / len(scores)) for week, scores in sorted(by_week.items())],
    )


def normalise_comment(text: str) -> str:
    """Case, width, spaces and punctuation do not make two comments different."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return "".join(
        ch for ch in folded if not (ch.isspace() or unicodedata.category(ch).startswith(("P", "S")))
    )


def flags(answers: Sequence[Answer]) -> dict[int, set[str]]:
    """Rating id -> the flags it raises (only ids with at least one flag)."""
    raised: dict[int, set[str]] = defaultdict(set)
    by_card: dict[int, list[Answer]] = defaultdict(list)
    for a in answers:
        by_card[a.card_id].append(a)
    for card in by_card.values():
        card.sort(key=lambda a: (a.at, a.id))
        # A burst: a sliding window of BURST_WINDOW holding BURST_COUNT or more ratings.
        start = 0
        for end, a in enumerate(card):
            while a.at - card[start].at >= BURST_WINDOW:
                start += 1
            if end - start + 1 >= BURST_COUNT:
                for b in card[start : end + 1]:
                    raised[b.id].add(BURST)
        # Many raters the bot first saw on the very day they rated.
        by_day: dict[str, list[Answer]] = defaultdict(list)
        for a in card:
            by_day[local_time.day_of(a.at).isoformat()].append(a)
        for day in by_day.values():
            new = [a for a in day if a.new_rater]
            if len(new) >= NEW_RATERS_COUNT and len(new) >= NEW_RATERS_SHARE * len(day):
                for a in new:
                    raised[a.id].add(NEW_RATERS)
        # The same comment again and again.
        texts = Counter(normalise_comment(a.comment) for a in card if normalise_comment(a.comment))
        for a in card:
            text = normalise_comment(a.comment)
            if text and texts[text] >= SAME_COMMENT_COUNT:
                raised[a.id].add(SAME_COMMENT)
    return dict(raised)


def flag_counts(raised: dict[int, set[str]]) -> dict[str, int]:
    return {name: sum(1 for found in raised.values() if name in found) for name in FLAGS}


def clean_text(text: str, limit: int) -> str:
    """A comment as kept: NFKC, no invisible control or direction characters, at most `limit` chars."""
    text = unicodedata.normalize("NFKC", text)
    text = "".join(ch for ch in text if ch in "\n" or unicodedata.category(ch) not in ("Cc", "Cf"))
    return re.sub(r"\s+", " ", text).strip()[:limit]
