"""The 公示 list (第十六条第2项): published by the office once the honour's round has closed, sent on
to the leading group when its period ends with no case open, approved by the leading group in 审定."""

from enum import StrEnum

from models import PublicityList
from services.lifecycles.core import Lifecycle, Party, step
from services.rules.campaign_phases import Action

ARTICLE = "第十六条第2项"


class ListStatus(StrEnum):
    PUBLISHED = "published"
    FORWARDED = "forwarded"  # the period ended with every case ruled: with the leading group
    APPROVED = "approved"


P = ListStatus
# fmt: off
PUBLICITY = Lifecycle(name="publicity", model=PublicityList, states=ListStatus, attribute="status", moves=(
    step("publish", None, P.PUBLISHED, Party.OFFICE, ARTICLE, when=Action.PUBLISH),
    step("forward", P.PUBLISHED, P.FORWARDED, Party.SYSTEM, ARTICLE),
    # The office may approve on the leading group's behalf, with the approval document.
    step("approve", (P.PUBLISHED, P.FORWARDED), P.APPROVED, (Party.LEADING_GROUP, Party.OFFICE), ARTICLE,
         when=Action.APPROVE),
))
# fmt: on
