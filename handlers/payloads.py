"""What a pressed action token carries, one typed class per kind of payload, and the registry
action → class. The token's row is server side, but it outlives the code that wrote it: a row
written by an older release (or forged into the table) that no longer fits its class is answered as
a stale button, never indexed blindly."""

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from services.rules.tally import Choice

# Every number a button carries is range-checked: an id beyond 64 bits is refused here instead of
# overflowing the database driver.
Int64 = Annotated[int, Field(ge=-(2**63), le=2**63 - 1)]


class Payload(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Invitation(Payload):
    invitation: str


class Assignment(Payload):
    assignment_id: Int64


class OfNomination(Payload):
    nomination_id: Int64


class SupplementReturn(Payload):
    nomination_id: Int64
    items: tuple[tuple[str, str], ...]  # (checklist item, the office's note)
    deadline: datetime


class OfRound(Payload):
    round_id: Int64


class Closing(Payload):
    """Opening a round (no round yet) or extending one."""

    round_id: Int64 | None = None


class Ballot(Payload):
    round_id: Int64
    nomination_id: Int64


class Vote(Ballot):
    choice: Choice


class OfCampaign(Payload):
    campaign_id: Int64


class OfHonour(Payload):
    honour_id: Int64


class HonourRevocation(Payload):
    honour_id: Int64
    reason: str
    document: str | None = None  # sha256 of the decision document, when one was sent


class OfRereview(Payload):
    review_id: Int64


class AnnouncementDraft(Payload):
    text: str = ""
    file_sha256: str | None = None
    file_name: str | None = None
    file_kind: str | None = None


class AnnouncementConfirm(Payload):
    draft: AnnouncementDraft


class AnnouncementCancel(Payload):
    confirm_token: str


class Replay(Payload):
    update_id: Int64


class Nothing(Payload):
    """A button whose action says it all (publish the 公示 list now)."""


class OfPublicity(Payload):
    publicity_id: Int64


class OfObjection(Payload):
    objection_id: Int64


class OfCard(Payload):
    card: Int64


class CardAttachment(Payload):
    card: Int64
    nomination: Int64


class OfRating(Payload):
    rating: Int64


PAYLOADS: dict[str, type[Payload]] = {
    "invite.accept": Invitation,
    "role.revoke": Assignment,
    "nomination.endorse": OfNomination,
    "nomination.return": OfNomination,
    "nomination.reendorse": OfNomination,
    "precheck.pass": OfNomination,
    "precheck.reject": OfNomination,
    "precheck.return": OfNomination,
    "precheck.export": OfNomination,
    "precheck.verify": OfNomination,
    "precheck.return_confirm": SupplementReturn,
    "review.vote": Vote,
    "review.files": Ballot,
    "review.comment": Ballot,
    "review.recuse": Ballot,
    "review.progress": OfRound,
    "review.result": OfRound,
    "review.remind": OfRound,
    "review.close": OfRound,
    "review.open": Closing,
    "review.extend": Closing,
    "honour.award": OfCampaign,
    "honour.revoke": HonourRevocation,
    "honour.rereview": OfHonour,
    "honour.rereview_submit": OfRereview,
    "honour.reconfirm": OfRereview,
    "honour.lapse": OfRereview,
    "announce.confirm": AnnouncementConfirm,
    "announce.cancel": AnnouncementCancel,
    "deadletter.replay": Replay,
    "publicity.publish": Nothing,
    "publicity.approve": OfPublicity,
    "objection.uphold": OfObjection,
    "objection.dismiss": OfObjection,
    "card.pause": OfCard,
    "card.resume": OfCard,
    "card.close": OfCard,
    "card.close_confirmed": OfCard,
    "card.attach": CardAttachment,
    "card.release": OfRating,
    "card.reject": OfRating,
}
