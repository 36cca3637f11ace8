"""Who may do what, in which state and phase: every role × state × action of every lifecycle is
asked of the tables and compared with `permissions.txt` beside this file, the programme's reading
of the regulation written out line by line (a change to who may act shows there, in review)."""

from itertools import product
from pathlib import Path

import pytest

from services.errors import DomainError
from services.lifecycles.catalogue import LIFECYCLES
from services.lifecycles.core import Lifecycle, Party
from services.lifecycles.permissions import table
from services.rules.campaign_phases import Phase

pytestmark = pytest.mark.article(
    "第十六条第1项", "第十六条第2项", "第十六条第3项", "第十七条第1项", "第十七条第2项"
)

EXPECTED = Path(__file__).with_name("permissions.txt")
PHASES = (*Phase, None)  # None: a record outside any campaign's calendar


def line(
    lifecycle: str, action: str, party: str, sources: tuple[str, ...], phases: tuple[str, ...] | None
) -> str:
    return (
        f"{lifecycle} {action} by {party} from {'|'.join(sources) or '-'} in {'|'.join(phases or ('any',))}"
    )


def expected() -> dict[tuple[str, str, str], tuple[set[str], set[str] | None]]:
    """(lifecycle, action, party) → (states it starts from, phases it is allowed in; None: any)."""
    rows: dict[tuple[str, str, str], tuple[set[str], set[str] | None]] = {}
    for text in EXPECTED.read_text(encoding="utf-8").splitlines():
        if not text.strip() or text.startswith("#"):
            continue
        lifecycle, action, _, party, _, sources, _, phases, *_ = text.split()
        rows[(lifecycle, action, party)] = (
            set(sources.split("|")),
            None if phases == "any" else set(phases.split("|")),
        )
    return rows


def test_the_permission_table_is_the_one_written_down() -> None:
    derived = [line(p.lifecycle, p.action, p.party.value, p.sources, p.phases) for p in table()]
    written = [t.split("  #")[0].rstrip() for t in EXPECTED.read_text(encoding="utf-8").splitlines()]
    assert derived == [t for t in written if t and not t.startswith("#")]


def refusal(
    lifecycle: Lifecycle, state: object, action: str, party: Party, phase: Phase | None
) -> str | None:
    try:
        lifecycle.check(state, action, party, phase, reason="stated")  # type: ignore[arg-type]
    except DomainError as error:
        return error.code
    return None


@pytest.mark.parametrize("lifecycle", LIFECYCLES, ids=lambda lc: lc.name)
def test_every_role_state_action_is_allowed_or_refused_as_written(lifecycle: Lifecycle) -> None:
    rows = expected()
    checked = 0
    for state, move, party, phase in product((None, *lifecycle.states), lifecycle.moves, Party, PHASES):
        sources, phases = rows.get((lifecycle.name, move.action, party.value), (set(), None))
        in_phase = phases is None or phase is None or phase.value in phases
        allowed = (state.value if state is not None else "none") in sources and in_phase
        code = refusal(lifecycle, state, move.action, party, phase)
        assert (code is None) == allowed, (lifecycle.name, state, move.action, party, phase, code)
        if not in_phase:
            # The phase is named first, before who is asking or what state the record is in.
            assert code in {"campaign.not_allowed_in_phase", "campaign.phase_passed"}
        checked += 1
    assert checked == (len(lifecycle.states) + 1) * len(lifecycle.moves) * len(Party) * len(PHASES)


@pytest.mark.parametrize("lifecycle", LIFECYCLES, ids=lambda lc: lc.name)
def test_only_the_office_overrides_a_phase_and_only_with_a_reason(lifecycle: Lifecycle) -> None:
    for move in lifecycle.moves:
        if move.phases is None or Party.OFFICE not in move.parties:
            continue
        state = next(iter(move.sources))
        outside = next(p for p in Phase if p not in move.phases)
        with pytest.raises(DomainError):
            lifecycle.check(state, move.action, Party.OFFICE, outside, reason="r")
        assert (
            lifecycle.check(state, move.action, Party.OFFICE, outside, reason="r", override="会议决定提前")
            is move
        )


def test_a_refusal_names_the_phase_now_and_the_phase_to_come_back_in() -> None:
    nomination = LIFECYCLES[0]
    with pytest.raises(DomainError) as raised:
        nomination.check(None, "approve", Party.LEADING_GROUP, Phase.NOMINATION)
    assert raised.value.params == {
        "phase_key": "phase.nomination",
        "action_key": "action.approve",
        "allowed_key": "phase.approval",
    }
    with pytest.raises(DomainError) as raised:
        nomination.check(None, "start", Party.APPLICANT, Phase.REVIEW)
    assert raised.value.code == "campaign.phase_passed"
