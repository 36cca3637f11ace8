"""An honour (第十七条) and its re-review (复议): awarded after the leading group's approval, valid
three years, revoked for a serious breach; near its end the holder seeks a re-review, which the
office re-confirms (three more years, the honour stays valid) or lets lapse (it expires at its end)."""

from enum import StrEnum

from models import Honour, HonourReview
from services.lifecycles.core import Lifecycle, Party, step
from services.rules.campaign_phases import Action
from services.rules.honour_validity import Status as H

AWARD = "第十七条第1项"
VALIDITY = "第十七条第2项"
# fmt: off
HONOUR = Lifecycle(name="honour", model=Honour, states=H, attribute="status", moves=(
    step("award", None, H.VALID, Party.OFFICE, AWARD, when=Action.AWARD),
    step("expire", H.VALID, H.EXPIRED, Party.SYSTEM, VALIDITY),
    step("revoke", H.VALID, H.REVOKED, Party.OFFICE, VALIDITY, reason=True),
))
# fmt: on


class RereviewStatus(StrEnum):
    STARTED = "started"  # gathering updated evidence
    SUBMITTED = "submitted"  # with the office
    RECONFIRMED = "reconfirmed"
    LAPSED = "lapsed"


V = RereviewStatus
SEEKERS = (Party.HOLDER, Party.RECOMMENDER)
# fmt: off
REREVIEW = Lifecycle(name="rereview", model=HonourReview, states=RereviewStatus, attribute="status", moves=(
    step("start", None, V.STARTED, SEEKERS, VALIDITY),
    step("submit", V.STARTED, V.SUBMITTED, SEEKERS, VALIDITY),
    step("reconfirm", V.SUBMITTED, V.RECONFIRMED, Party.OFFICE, VALIDITY),
    step("lapse", V.SUBMITTED, V.LAPSED, Party.OFFICE, VALIDITY, reason=True),
))
# fmt: on
