"""A nomination's stages (第十六条第1项) and who may move it between them: one explicit table."""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from services.errors import DomainError


class Stage(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"  # with the recommending body
    RETURNED_BY_RECOMMENDER = "returned_by_recommender"
    ENDORSED = "endorsed"  # opinion and seal given; with the office for the preliminary check
    RETURNED_FOR_SUPPLEMENT = "returned_for_supplement"  # 退回补充, with a deadline
    RESUBMITTED = "resubmitted"  # supplemented, back with the office
    PASSED = "passed"  # 初审通过: goes to the review committee
    # After the review (第十六条第2、3项). The review-committee issue adds the moves into these.
    SHORTLISTED = "shortlisted"  # the vote passed: on the proposed list for 公示
    NOT_SELECTED = "not_selected"  # the vote did not pass
    WITHDRAWN_ON_OBJECTION = "withdrawn_on_objection"  # an objection was upheld in 公示
    APPROVED = "approved"  # the leading group approved the final list: becomes an honour
    REJECTED = "rejected"  # 不通过
    WITHDRAWN = "withdrawn"


class Mover(StrEnum):
    APPLICANT = "applicant"
    RECOMMENDER = "recommender"
    OFFICE = "office"
    COMMITTEE = "committee"  # the review committee's count at the close of a round (第十六条第2、3项)
    LEADING_GROUP = (
        "leading_group"  # approves the final list (第十六条第2项); the office may act on its behalf
    )


@dataclass(frozen=True)
class Move:
    movers: frozenset[Mover]
    needs_reason: bool = False
    needs_deadline: bool = False  # the office sets one
    before_deadline: bool = False  # allowed only until the deadline the office set


def _move(*movers: Mover, **rules: bool) -> Move:
    return Move(frozenset(movers), **rules)


TRANSITIONS: dict[tuple[Stage, Stage], Move] = {
    (Stage.DRAFT, Stage.SUBMITTED): _move(Mover.APPLICANT),
    (Stage.DRAFT, Stage.WITHDRAWN): _move(Mover.APPLICANT),
    (Stage.SUBMITTED, Stage.ENDORSED): _move(Mover.RECOMMENDER),
    (Stage.SUBMITTED, Stage.RETURNED_BY_RECOMMENDER): _move(Mover.RECOMMENDER, needs_reason=True),
    (Stage.SUBMITTED, Stage.WITHDRAWN): _move(Mover.APPLICANT),
    (Stage.RETURNED_BY_RECOMMENDER, Stage.SUBMITTED): _move(Mover.APPLICANT),
    (Stage.RETURNED_BY_RECOMMENDER, Stage.WITHDRAWN): _move(Mover.APPLICANT),
    (Stage.ENDORSED, Stage.PASSED): _move(Mover.OFFICE),
    (Stage.ENDORSED, Stage.REJECTED): _move(Mover.OFFICE, needs_reason=True),
    (Stage.ENDORSED, Stage.RETURNED_FOR_SUPPLEMENT): _move(
        Mover.OFFICE, needs_reason=True, needs_deadline=True
    ),
    (Stage.RETURNED_FOR_SUPPLEMENT, Stage.RESUBMITTED): _move(Mover.APPLICANT, before_deadline=True),
    (Stage.RESUBMITTED, Stage.PASSED): _move(Mover.OFFICE),
    (Stage.RESUBMITTED, Stage.REJECTED): _move(Mover.OFFICE, needs_reason=True),
    (Stage.RESUBMITTED, Stage.RETURNED_FOR_SUPPLEMENT): _move(
        Mover.OFFICE, needs_reason=True, needs_deadline=True
    ),
    # The review (第十六条第2、3项): the count decides; a nomination without quorum stays PASSED for a
    # new vote.
    (Stage.PASSED, Stage.SHORTLISTED): _move(Mover.COMMITTEE),
    (Stage.PASSED, Stage.NOT_SELECTED): _move(Mover.COMMITTEE),
    # 公示: an upheld objection takes the nomination off the list, with the office's reason.
    (Stage.SHORTLISTED, Stage.WITHDRAWN_ON_OBJECTION): _move(Mover.OFFICE, needs_reason=True),
    (Stage.SHORTLISTED, Stage.APPROVED): _move(Mover.LEADING_GROUP),
}

EDITABLE = frozenset({Stage.DRAFT, Stage.RETURNED_BY_RECOMMENDER, Stage.RETURNED_FOR_SUPPLEMENT})


def editable(stage: Stage) -> bool:
    return stage in EDITABLE


def check_move(
    current: Stage,
    target: Stage,
    mover: Mover,
    *,
    reason: str = "",
    deadline: datetime | None = None,
    now: datetime,
) -> None:
    move = TRANSITIONS.get((current, target))
    if move is None or mover not in move.movers:
        raise DomainError(
            "nomination.move_not_allowed", from_key=f"stage.{current.value}", to_key=f"stage.{target.value}"
        )
    if move.needs_reason and not reason.strip():
        raise DomainError("nomination.reason_required")
    if move.needs_deadline and (deadline is None or deadline <= now):
        raise DomainError("nomination.deadline_required")
    if move.before_deadline and deadline is not None and deadline <= now:
        raise DomainError("nomination.deadline_passed")
