"""The engine every lifecycle shares: a table of moves, the check that reads it, and `apply`, which
changes a record's status, audits the move with its article and is the only writer of a status.

A move is refused in a fixed order, so the answer is the most useful one: the campaign phase first
(the person learns when to come back before being asked anything), then who is acting, then the
record's state, then what the move needs (a reason)."""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Generic, TypeVar

from sqlmodel.ext.asyncio.session import AsyncSession

from services import audit
from services.errors import DomainError
from services.rules.campaign_phases import Action, Phase, phase_refusal, phases_for

S = TypeVar("S", bound=StrEnum)


class Party(StrEnum):
    """Who acts on a record (第八条、第十六条、第十七条)."""

    APPLICANT = "applicant"
    RECOMMENDER = "recommender"
    OFFICE = "office"
    REVIEWER = "reviewer"
    COMMITTEE = "committee"  # the review committee's count at the close of a round
    LEADING_GROUP = "leading_group"
    HOLDER = "holder"  # the person or unit an honour was awarded to
    PUBLIC = "public"  # anyone, by real name (an objection in 公示)
    SYSTEM = "system"  # the bot on the calendar's behalf: a deadline passed


@dataclass(frozen=True)
class Move(Generic[S]):
    action: str
    sources: frozenset[S | None]  # None: the move creates the record
    target: S
    parties: frozenset[Party]
    article: str
    phases: frozenset[Phase] | None = None  # None: not tied to a phase
    needs_reason: bool = False
    act: Action | None = None  # the campaign act whose phases these are (names it in a refusal)


def step(
    action: str,
    sources: Any,
    target: S,
    parties: Party | tuple[Party, ...],
    article: str,
    *,
    when: Action | None = None,
    reason: bool = False,
) -> Move[S]:
    """One row of a table: `sources` is a state, None (the move creates the record) or a tuple of
    them; `when` is the campaign act whose phases the move is allowed in."""
    froms = frozenset(sources if isinstance(sources, tuple) else (sources,))
    by = frozenset(parties if isinstance(parties, tuple) else (parties,))
    return Move(action, froms, target, by, article, phases_for(when) if when else None, reason, when)


@dataclass(frozen=True)
class Lifecycle(Generic[S]):
    name: str  # the record's name in audit actions and error keys
    model: type[Any]  # the table whose rows it governs
    states: type[S]
    attribute: str  # the status column the lifecycle owns
    moves: tuple[Move[S], ...]
    state_key: str = ""  # translation prefix of the states; default "<name>.state"
    _by_action: dict[str, Move[S]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_action = {move.action: move for move in self.moves}
        assert len(by_action) == len(self.moves), f"{self.name}: an action named twice"
        object.__setattr__(self, "_by_action", by_action)

    def move(self, action: str) -> Move[S]:
        return self._by_action[action]

    def action_to(self, state: S | None, target: S) -> str:
        """The action that leads from `state` to `target` (for callers that name the destination)."""
        for move in self.moves:
            if move.target == target and state in move.sources:
                return move.action
        raise DomainError(
            f"{self.name}.move_not_allowed", from_key=_state_key(self, state), to_key=_state_key(self, target)
        )

    def state_of(self, record: object) -> S | None:
        value = getattr(record, self.attribute, None)
        return None if value is None else self.states(value)

    def check(
        self,
        state: S | None,
        action: str,
        party: Party,
        phase: Phase | None,
        *,
        reason: str = "",
        override: str = "",
    ) -> Move[S]:
        """The move, if `party` may make it now; else the DomainError that says why not."""
        move = self.move(action)
        if move.phases is not None and phase is not None and phase not in move.phases:
            if not (party == Party.OFFICE and override.strip()):
                raise phase_refusal(phase, move.act.value if move.act else action, move.phases)
        if party not in move.parties:
            raise DomainError("lifecycle.not_your_move", action_key=f"action.{action}")
        if state not in move.sources:
            raise DomainError(
                f"{self.name}.move_not_allowed",
                from_key=_state_key(self, state),
                to_key=_state_key(self, move.target),
            )
        if move.needs_reason and not reason.strip():
            raise DomainError(f"{self.name}.reason_required")
        return move

    def permits(self, state: S | None, action: str, party: Party, phase: Phase | None) -> bool:
        try:
            self.check(state, action, party, phase, reason="given")
        except DomainError:
            return False
        return True


def _state_key(lifecycle: Lifecycle[Any], state: StrEnum | None) -> str:
    prefix = lifecycle.state_key or f"{lifecycle.name}.state"
    return f"{prefix}.{state.value if state is not None else 'none'}"


# Status columns change only inside `apply` (or `creating`): the test suite listens to every
# status attribute and fails on a write made anywhere else.
_applying: ContextVar[bool] = ContextVar("applying_a_move", default=False)


@contextmanager
def _writing() -> Iterator[None]:
    token = _applying.set(True)
    try:
        yield
    finally:
        _applying.reset(token)


def writing_status() -> bool:
    return _applying.get()


async def apply(
    session: AsyncSession,
    lifecycle: Lifecycle[S],
    record: Any,
    action: str,
    *,
    party: Party,
    actor_id: int | None,
    now: datetime,
    phase: Phase | None,  # the campaign's, for moves tied to one; required so no caller forgets it
    reason: str = "",
    override: str = "",
    subject: str | None = None,
    audit_action: str | None = None,
    **details: Any,
) -> Move[S]:
    """Check the move, change the status, and audit it with its article. The caller holds the row
    (locked where it matters); the update commits."""
    state = lifecycle.state_of(record)
    move = lifecycle.check(state, action, party, phase, reason=reason, override=override)
    with _writing():
        setattr(record, lifecycle.attribute, move.target.value)
    session.add(record)
    await _audit(
        session,
        lifecycle,
        record,
        move,
        state,
        party,
        actor_id,
        now,
        phase,
        reason,
        override,
        subject,
        audit_action,
        details,
    )
    return move


async def create(
    session: AsyncSession,
    lifecycle: Lifecycle[S],
    fields: dict[str, Any],
    action: str,
    *,
    party: Party,
    actor_id: int | None,
    now: datetime,
    phase: Phase | None,
    reason: str = "",
    override: str = "",
    subject: str | None = None,
    audit_action: str | None = None,
    **details: Any,
) -> Any:
    """A record made by a move from no state (a round opened, an objection lodged): checked first,
    then built with its first status, added, and audited."""
    move = lifecycle.check(None, action, party, phase, reason=reason, override=override)
    with _writing():
        record = lifecycle.model(**fields, **{lifecycle.attribute: move.target.value})
    session.add(record)
    await session.flush()  # its id names it in the audit
    await _audit(
        session,
        lifecycle,
        record,
        move,
        None,
        party,
        actor_id,
        now,
        phase,
        reason,
        override,
        subject,
        audit_action,
        details,
    )
    return record


async def apply_many(
    session: AsyncSession,
    lifecycle: Lifecycle[S],
    records: list[Any],
    action: str,
    *,
    party: Party,
    actor_id: int | None,
    now: datetime,
    subject: str,
    audit_action: str,
    **details: Any,
) -> None:
    """One move made to many records at once by the system (a sweep's expiries): each is checked
    and changed, and one audit record names them all, so a sweep's batch costs one chained record."""
    moves = [lifecycle.check(lifecycle.state_of(r), action, party, None) for r in records]
    with _writing():
        for record, move in zip(records, moves, strict=True):
            setattr(record, lifecycle.attribute, move.target.value)
    session.add_all(records)
    await audit.append(
        session,
        actor_id=actor_id,
        action=audit_action,
        subject=subject,
        now=now,
        article=lifecycle.move(action).article,
        party=party.value,
        **details,
    )


async def _audit(
    session: AsyncSession,
    lifecycle: Lifecycle[S],
    record: Any,
    move: Move[S],
    state: S | None,
    party: Party,
    actor_id: int | None,
    now: datetime,
    phase: Phase | None,
    reason: str,
    override: str,
    subject: str | None,
    audit_action: str | None,
    details: dict[str, Any],
) -> None:
    gated = move.phases is not None and phase is not None and phase not in move.phases
    await audit.append(
        session,
        actor_id=actor_id,
        action=audit_action or f"{lifecycle.name}.{move.action}",
        subject=subject or f"{lifecycle.name}:{record.id}",
        now=now,
        reason=reason,
        article=move.article,
        **{
            f"from_{lifecycle.attribute}": state.value if state is not None else None,
            f"to_{lifecycle.attribute}": move.target.value,
        },
        party=party.value,
        # An act the office took outside its phase names the phase and the office's stated reason.
        **({"phase": phase.value, "override": override} if gated and phase is not None else {}),
        **details,
    )
