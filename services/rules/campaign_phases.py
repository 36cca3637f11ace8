"""The campaign calendar (第五条、第十六条) as dated phases, and what each phase allows.

nomination → 初审 → 评审 → 公示 → 审定 → 表彰. Publicity (公示) starts when the review closes and
lasts a number of working days on the mainland calendar; approval runs from its end until the
announcement; the gap between the preliminary-check deadline and the review still counts as
preliminary check."""

from dataclasses import dataclass, fields
from datetime import datetime, time, timedelta
from enum import StrEnum
from itertools import pairwise
from typing import Literal, TypedDict

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
    OPEN_ROUND = "open_round"
    VOTE = "vote"
    PUBLISH = "publish"
    OBJECT = "object"
    APPROVE = "approve"
    AWARD = "award"


# The article each campaign act rests on.
ARTICLES: dict[Action, str] = {
    Action.SELF_CHECK: "第十一条至第十五条",
    Action.START_NOMINATION: "第十六条第1项",
    Action.EDIT_DOSSIER: "第十六条第1项",
    Action.ENDORSE: "第十六条第1项",
    Action.PRELIMINARY_CHECK: "第十六条第2项",
    Action.OPEN_ROUND: "第十六条第2项",
    Action.VOTE: "第十六条第3项",
    Action.PUBLISH: "第十六条第2项",
    Action.OBJECT: "第十六条第2项",
    Action.APPROVE: "第十六条第2项",
    Action.AWARD: "第十七条第1项",
}

# What each phase allows. Dossiers lock when the review starts: a nomination returned for
# supplement is edited during the preliminary check. The 公示 list is published once a round has
# closed, still in 评审 or in 公示 (publishing is what starts 公示); the leading group approves in
# 审定, and honours are awarded from then on.
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
    Phase.REVIEW: frozenset({Action.SELF_CHECK, Action.OPEN_ROUND, Action.VOTE, Action.PUBLISH}),
    Phase.PUBLICITY: frozenset({Action.SELF_CHECK, Action.PUBLISH, Action.OBJECT}),
    Phase.APPROVAL: frozenset({Action.SELF_CHECK, Action.APPROVE, Action.AWARD}),
    Phase.COMMENDATION: frozenset({Action.SELF_CHECK, Action.AWARD}),
}


def phases_for(action: Action) -> frozenset[Phase]:
    return frozenset(phase for phase, actions in ALLOWED.items() if action in actions)


DateField = Literal[
    "nomination_opens",
    "nomination_closes",
    "precheck_deadline",
    "review_opens",
    "review_closes",
    "announcement_at",
]


class CampaignDates(TypedDict):
    """The dated fields of a campaign (of `CampaignCalendar` and the Campaign row alike)."""

    nomination_opens: datetime
    nomination_closes: datetime
    precheck_deadline: datetime
    review_opens: datetime
    review_closes: datetime
    announcement_at: datetime


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


def phase_refusal(phase: Phase, action: str, allowed: frozenset[Phase]) -> DomainError:
    """当前为「申报」阶段，不能开启评审轮次；请在「评审」阶段办理: the phase now, and when to come
    back (or that the time for it has passed)."""
    order = list(Phase)
    later = [p for p in order if p in allowed and order.index(p) > order.index(phase)]
    params = {"phase_key": f"phase.{phase.value}", "action_key": f"action.{action}"}
    if later:
        return DomainError("campaign.not_allowed_in_phase", allowed_key=f"phase.{later[0].value}", **params)
    last = max(allowed, key=order.index)
    return DomainError("campaign.phase_passed", allowed_key=f"phase.{last.value}", **params)


def require(phase: Phase, action: Action) -> None:
    if action not in ALLOWED[phase]:
        raise phase_refusal(phase, action.value, phases_for(action))
