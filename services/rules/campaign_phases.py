"""The campaign calendar (第五条、第十六条) as dated phases, and what each phase allows.

nomination → 初审 → 评审 → 公示 → 审定 → 表彰. Publicity (公示) starts when the review closes and
lasts a number of working days on the mainland calendar; approval runs from its end until the
announcement; the gap between the preliminary-check deadline and the review still counts as
preliminary check."""

from dataclasses import dataclass, fields
from datetime import datetime, time, timedelta
from enum import StrEnum
from itertools import pairwise

from services import local_time
from services.errors import DomainError
from services.rules.workdays import WorkdayCalendar


class Phase(StrEnum):
    UPCOMING = "upcoming"
    NOMINATION = "nomination"  # 申报
    PRELIMINARY_CHECK = "preliminary_check"  # 初审
    REVIEW = "review"  # 评审
    PUBLICITY = "publicity"  # 公示
    APPROVAL = "approval"  # 审定
    COMMENDATION = "commendation"  # 表彰


class Action(StrEnum):
    SELF_CHECK = "self_check"
    START_NOMINATION = "start_nomination"
    EDIT_DOSSIER = "edit_dossier"
    ENDORSE = "endorse"
    PRELIMINARY_CHECK = "preliminary_check"
    VOTE = "vote"
    OBJECT = "object"
    APPROVE = "approve"


# What each phase allows. Dossiers lock when the review starts: a nomination returned for
# supplement is edited during the preliminary check.
ALLOWED: dict[Phase, frozenset[Action]] = {
    Phase.UPCOMING: frozenset({Action.SELF_CHECK}),
    Phase.NOMINATION: frozenset(
        {
            Action.SELF_CHECK,
            Action.START_NOMINATION,
            Action.EDIT_DOSSIER,
            Action.ENDORSE,
            Action.PRELIMINARY_CHECK,
        }
    ),
    Phase.PRELIMINARY_CHECK: frozenset(
        {Action.SELF_CHECK, Action.EDIT_DOSSIER, Action.ENDORSE, Action.PRELIMINARY_CHECK}
    ),
    Phase.REVIEW: frozenset({Action.SELF_CHECK, Action.VOTE}),
    Phase.PUBLICITY: frozenset({Action.SELF_CHECK, Action.OBJECT}),
    Phase.APPROVAL: frozenset({Action.SELF_CHECK, Action.APPROVE}),
    Phase.COMMENDATION: frozenset({Action.SELF_CHECK}),
}


@dataclass(frozen=True)
class CampaignCalendar:
    nomination_opens: datetime
    nomination_closes: datetime
    precheck_deadline: datetime
    review_opens: datetime
    review_closes: datetime
    announcement_at: datetime
    publicity_workdays: int = 5

    def validate(self) -> None:
        ordered = [f.name for f in fields(self) if f.name != "publicity_workdays"]
        for first, second in pairwise(ordered):
            if getattr(self, first) > getattr(self, second):
                raise DomainError(
                    "campaign.dates_out_of_order",
                    first_key=f"campaign.field.{first}",
                    second_key=f"campaign.field.{second}",
                )
        if self.nomination_opens == self.nomination_closes or self.review_opens == self.review_closes:
            raise DomainError(
                "campaign.dates_out_of_order",
                first_key="campaign.field.nomination_opens",
                second_key="campaign.field.nomination_closes",
            )

    def publicity_ends(self, workdays: WorkdayCalendar) -> datetime:
        """Publicity covers publicity_workdays working days after the review closes, to the end of
        the last one, counted on local dates."""
        closed = local_time.local(self.review_closes)
        first_day = (
            closed.date()
            if closed.timetz().replace(tzinfo=None) == time(0)
            else closed.date() + timedelta(days=1)
        )
        last = workdays.add_workdays(first_day - timedelta(days=1), self.publicity_workdays)
        return local_time.at(last + timedelta(days=1))


def phase_windows(
    calendar: CampaignCalendar, workdays: WorkdayCalendar
) -> list[tuple[Phase, datetime, datetime | None]]:
    publicity_end = max(calendar.publicity_ends(workdays), calendar.review_closes)
    approval_end = max(calendar.announcement_at, publicity_end)
    return [
        (Phase.NOMINATION, calendar.nomination_opens, calendar.nomination_closes),
        (Phase.PRELIMINARY_CHECK, calendar.nomination_closes, calendar.review_opens),
        (Phase.REVIEW, calendar.review_opens, calendar.review_closes),
        (Phase.PUBLICITY, calendar.review_closes, publicity_end),
        (Phase.APPROVAL, publicity_end, approval_end),
        (Phase.COMMENDATION, approval_end, None),
    ]


def phase_at(calendar: CampaignCalendar, now: datetime, workdays: WorkdayCalendar) -> Phase:
    if now < calendar.nomination_opens:
        return Phase.UPCOMING
    for phase, start, end in phase_windows(calendar, workdays):
        if start <= now and (end is None or now < end):
            return phase
    return Phase.COMMENDATION


def require(phase: Phase, action: Action) -> None:
    if action not in ALLOWED[phase]:
        raise DomainError(
            "campaign.not_allowed_in_phase",
            phase_key=f"phase.{phase.value}",
            action_key=f"action.{action.value}",
        )
