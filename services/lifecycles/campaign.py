"""The campaign's acts that change no record's status (a self-check, a vote, an objection being
lodged, …) and who does them; the phases each is allowed in are in the campaign calendar."""

from services.lifecycles.core import Party
from services.rules.campaign_phases import Action

ACTS: dict[Action, frozenset[Party]] = {
    Action.SELF_CHECK: frozenset({Party.APPLICANT}),
    Action.START_NOMINATION: frozenset({Party.APPLICANT}),
    Action.EDIT_DOSSIER: frozenset({Party.APPLICANT}),
    Action.ENDORSE: frozenset({Party.RECOMMENDER}),
    Action.PRELIMINARY_CHECK: frozenset({Party.OFFICE}),
    Action.OPEN_ROUND: frozenset({Party.OFFICE}),
    Action.VOTE: frozenset({Party.REVIEWER}),
    Action.PUBLISH: frozenset({Party.OFFICE}),
    Action.OBJECT: frozenset({Party.PUBLIC}),
    Action.APPROVE: frozenset({Party.LEADING_GROUP, Party.OFFICE}),
    Action.AWARD: frozenset({Party.OFFICE}),
}
