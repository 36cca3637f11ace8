"""A nomination's stages (第十六条): who moves it, when in the campaign, under which article."""

from datetime import datetime

from models import Nomination
from services.errors import DomainError
from services.lifecycles.core import Lifecycle, Party, step
from services.rules.campaign_phases import Action
from services.rules.nomination_flow import Stage as S

ENDORSING = "第十六条第1项"  # recommending bodies endorse with a stamped opinion
CHECKING = "第十六条第2项"  # the office passes the preliminary list to the review committee
SELECTING = "第十六条第3项"  # the committee's vote selects
PUBLICITY = "第十六条第2项"  # 公示, and the leading group's approval of the summary
APPLICANT, RECOMMENDER, OFFICE = Party.APPLICANT, Party.RECOMMENDER, Party.OFFICE
WITH_OFFICE = (S.ENDORSED, S.RESUBMITTED)  # waiting for the preliminary check
UNENDORSED = (S.DRAFT, S.SUBMITTED, S.RETURNED_BY_RECOMMENDER)

# fmt: off
NOMINATION = Lifecycle(name="nomination", model=Nomination, states=S, attribute="stage", state_key="stage",
                       moves=(
    step("start", None, S.DRAFT, APPLICANT, ENDORSING, when=Action.START_NOMINATION),
    step("submit", (S.DRAFT, S.RETURNED_BY_RECOMMENDER), S.SUBMITTED, APPLICANT, ENDORSING,
         when=Action.START_NOMINATION),
    step("withdraw", UNENDORSED, S.WITHDRAWN, APPLICANT, ENDORSING),
    step("endorse", S.SUBMITTED, S.ENDORSED, RECOMMENDER, ENDORSING, when=Action.ENDORSE),
    step("return_to_applicant", S.SUBMITTED, S.RETURNED_BY_RECOMMENDER, RECOMMENDER, ENDORSING,
         when=Action.ENDORSE, reason=True),
    step("pass", WITH_OFFICE, S.PASSED, OFFICE, CHECKING, when=Action.PRELIMINARY_CHECK),
    step("reject", WITH_OFFICE, S.REJECTED, OFFICE, CHECKING, when=Action.PRELIMINARY_CHECK, reason=True),
    step("return_for_supplement", WITH_OFFICE, S.RETURNED_FOR_SUPPLEMENT, OFFICE, CHECKING,
         when=Action.PRELIMINARY_CHECK, reason=True),
    step("resubmit", S.RETURNED_FOR_SUPPLEMENT, S.RESUBMITTED, APPLICANT, CHECKING, when=Action.EDIT_DOSSIER),
    # The count at a round's close decides; a nomination without quorum stays PASSED for a new vote.
    step("shortlist", S.PASSED, S.SHORTLISTED, Party.COMMITTEE, SELECTING),
    step("not_select", S.PASSED, S.NOT_SELECTED, Party.COMMITTEE, SELECTING),
    step("withdraw_on_objection", S.SHORTLISTED, S.WITHDRAWN_ON_OBJECTION, OFFICE, PUBLICITY, reason=True),
    # The office may approve on the leading group's behalf, with the approval document.
    step("approve", S.SHORTLISTED, S.APPROVED, (Party.LEADING_GROUP, OFFICE), PUBLICITY, when=Action.APPROVE),
))
# fmt: on

NEEDS_DEADLINE = frozenset({"return_for_supplement"})  # the office sets one
BEFORE_DEADLINE = frozenset({"resubmit"})  # allowed only until the deadline the office set


def check_deadline(action: str, deadline: datetime | None, now: datetime) -> None:
    if action in NEEDS_DEADLINE and (deadline is None or deadline <= now):
        raise DomainError("nomination.deadline_required")
    if action in BEFORE_DEADLINE and deadline is not None and deadline <= now:
        raise DomainError("nomination.deadline_passed")
