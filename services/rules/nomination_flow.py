"""A nomination's stages (第十六条第1项) and which of them leave the dossier open to edit. Who moves
it between them, when and under which article is its lifecycle (services/lifecycles/nomination.py)."""

from enum import StrEnum


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


EDITABLE = frozenset({Stage.DRAFT, Stage.RETURNED_BY_RECOMMENDER, Stage.RETURNED_FOR_SUPPLEMENT})


def editable(stage: Stage) -> bool:
    return stage in EDITABLE
