"""A review round (第十六条第2、3项): opened by the office in 评审, closed at its deadline, when every
seat has voted, or early by the office; the count then moves each nomination."""

from models import ReviewRound
from services.lifecycles.core import Lifecycle, Party, step
from services.rules.campaign_phases import Action
from services.rules.tally import RoundState as R

REVIEWING = "第十六条第2项"
COUNTING = "第十六条第3项"

# fmt: off
ROUND = Lifecycle(name="round", model=ReviewRound, states=R, attribute="status", moves=(
    step("open", None, R.OPEN, Party.OFFICE, REVIEWING, when=Action.OPEN_ROUND),
    step("extend", R.OPEN, R.OPEN, Party.OFFICE, REVIEWING),
    step("close_early", R.OPEN, R.CLOSED, Party.OFFICE, COUNTING),
    step("close", R.OPEN, R.CLOSED, Party.SYSTEM, COUNTING),  # its deadline, or every seat has voted
))
# fmt: on
