"""An objection in 公示 (第十六条第2项): lodged by real name within the period, ruled by the office
with its reasons; an upheld one takes the nomination off the list."""

from models import Objection
from services.lifecycles.core import Lifecycle, Party, step
from services.rules.publicity_rules import CaseStatus as C

ARTICLE = "第十六条第2项"
# fmt: off
OBJECTION = Lifecycle(name="objection", model=Objection, states=C, attribute="status", moves=(
    step("lodge", None, C.OPEN, Party.PUBLIC, ARTICLE),  # within the list's period, checked by the rules
    step("uphold", C.OPEN, C.UPHELD, Party.OFFICE, ARTICLE, reason=True),
    step("dismiss", C.OPEN, C.DISMISSED, Party.OFFICE, ARTICLE, reason=True),
))
# fmt: on
