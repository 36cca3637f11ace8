"""Who may do what, derived from the lifecycle tables: one row per (lifecycle, action, party) with
the states it starts from and the phases it is allowed in. The routers of a role are gated on it,
and `party_of` says in which capacity a person acts on a record."""

from dataclasses import dataclass

from models import Role
from services.actors import Actor
from services.errors import DomainError
from services.lifecycles.campaign import ACTS
from services.lifecycles.catalogue import LIFECYCLES
from services.lifecycles.core import Party
from services.rules.campaign_phases import ARTICLES, Phase, phases_for

# The parties a role in the programme's register acts as; the others are anyone registered in a
# capacity the record decides (the applicant of a nomination, the holder of an honour, a member of
# the public) or the bot itself (the committee's count, a deadline passing).
ROLE_PARTIES: dict[Role, Party] = {
    Role.OFFICE: Party.OFFICE,
    Role.REVIEWER: Party.REVIEWER,
    Role.RECOMMENDER: Party.RECOMMENDER,
    Role.LEADING_GROUP: Party.LEADING_GROUP,
}
ANYONE = frozenset({Party.APPLICANT, Party.HOLDER, Party.PUBLIC})
THE_BOT = frozenset({Party.COMMITTEE, Party.SYSTEM})


@dataclass(frozen=True)
class Permission:
    lifecycle: str
    action: str
    party: Party
    sources: tuple[str, ...]  # "none": the action creates the record
    phases: tuple[str, ...] | None  # None: in any phase
    article: str


def table() -> list[Permission]:
    """Every move of every lifecycle, then the campaign's acts (which start from no state)."""
    moves = [
        Permission(
            lifecycle.name,
            move.action,
            party,
            tuple(sorted(s.value if s is not None else "none" for s in move.sources)),
            tuple(p.value for p in Phase if p in move.phases) if move.phases is not None else None,
            move.article,
        )
        for lifecycle in LIFECYCLES
        for move in lifecycle.moves
        for party in sorted(move.parties)
    ]
    acts = [
        Permission(
            "campaign",
            act.value,
            party,
            (),
            tuple(p.value for p in Phase if p in phases_for(act)),
            ARTICLES[act],
        )
        for act, parties in ACTS.items()
        for party in sorted(parties)
    ]
    return moves + acts


def roles_acting() -> frozenset[Role]:
    """The roles that appear in some lifecycle: each has its own gated router."""
    return frozenset(role for role, party in ROLE_PARTIES.items() if any(p.party == party for p in table()))


def require(actor: Actor, party: Party) -> None:
    """The actor holds the role that acts as `party` (parties by capacity are checked on the record)."""
    for role, acting in ROLE_PARTIES.items():
        if acting == party:
            if not actor.has(role):
                raise DomainError("role.required", role_key=f"role.{role.value}")
            return
