"""Callback data. Buttons that act carry only an opaque token (`t:<token>`), which the token
middleware resolves and checks against the person pressing. Navigation buttons that only affect
the presser themself (language, menu) carry short plain values."""

import re
from dataclasses import dataclass
from typing import Any

from aiogram.filters import Filter
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, Message
from pydantic import ValidationError

from handlers.payloads import PAYLOADS, Int64
from models import ActionToken
from services.errors import DomainError


def typed_id(text: str) -> int | None:
    """A record number typed after a command (/export 12), or None when it is not one."""
    text = text.strip()
    return int(text) if text.isascii() and text.isdigit() and int(text) < 2**63 else None


class Act(CallbackData, prefix="t"):
    token: str

    @classmethod
    def parse(cls, data: str | None) -> "Act | None":
        """The token pressed, or None when the callback data is not a token button's."""
        try:
            return cls.unpack(data or "")
        except (TypeError, ValueError):
            return None


class Lang(CallbackData, prefix="lang"):
    code: str


class Consent(CallbackData, prefix="consent"):
    agree: bool


class Menu(CallbackData, prefix="m"):
    item: str


class Cancel(CallbackData, prefix="x"):
    """取消 on a prompt waiting for typed words or a file: leaves whatever conversation is open."""


class ActionFilter(Filter):
    """Matches a pressed token issued for `action`, and hands the handler its payload validated
    into the action's class (handlers/payloads.py). A row that does not fit (written by an older
    release, or forged) is refused as a button that no longer works."""

    def __init__(self, action: str) -> None:
        self.action = action
        self.payload_class = PAYLOADS[action]  # an action without a payload class fails at wiring

    async def __call__(
        self, query: CallbackQuery, action_token: ActionToken | None = None
    ) -> bool | dict[str, Any]:
        if action_token is None or action_token.action != self.action:
            return False
        try:
            payload = self.payload_class.model_validate(action_token.payload)
        except ValidationError:
            raise DomainError("button.unknown") from None
        return {"payload": payload, "action_token": action_token}


class Confirm(CallbackData, prefix="ok"):
    """A yes/no about the presser's own data (e.g. /forget)."""

    what: str
    yes: bool


class InviteRole(CallbackData, prefix="ir"):
    role: str
    organisation_id: Int64 = 0


class HonourPick(CallbackData, prefix="sh"):
    """Choose the honour to self-check against."""

    code: str


class SelfCheckAnswer(CallbackData, prefix="sa"):
    """An answer to one self-check question. The server re-checks owner, status and position."""

    check: Int64
    pos: Int64
    reply: str  # yes | no | unsure | explain | back | cancel | resume | restart


class CampaignField(CallbackData, prefix="cf"):
    """The office picks a campaign date to change."""

    campaign: Int64
    field: str


class Nominate(CallbackData, prefix="nm"):
    """Start (or carry on with) a nomination for an honour, optionally from a finished self-check."""

    code: str
    selfcheck: Int64 = 0


class NominationEdit(CallbackData, prefix="ne"):
    """A step on the applicant's own nomination; the service re-checks owner and stage."""

    nomination: Int64
    what: str  # a field id, or org | files | consent | submit | card


class NominationChoice(CallbackData, prefix="nc"):
    """A pick on the applicant's own nomination, from the list NominationEdit opened: the
    recommending body (what=org) or the material to upload next (what=slot)."""

    nomination: Int64
    what: str
    organisation: Int64 = 0
    material: str = ""


# A deep link's payload is a kind (letters, then - or _) and what it names. Telegram only delivers
# A-Z a-z 0-9 _ - (FACTS.md), but a person can type anything after /start: what follows the kind is
# handed on as it is, for the journey to judge (a malformed card link is "not valid", not a welcome).
_START_LINK = re.compile(r"([A-Za-z]+[-_])(\S*)")


@dataclass(frozen=True)
class StartLink:
    """The payload of `/start <kind><rest>`: kind "v-" a certificate, "c-" an evaluation card,
    "inv_" an invitation."""

    kind: str
    rest: str

    @classmethod
    def parse(cls, args: str | None) -> "StartLink | None":
        found = _START_LINK.fullmatch((args or "").strip())
        return cls(found[1], found[2]) if found else None

    @classmethod
    def of(cls, message: Message) -> "StartLink | None":
        command, _, args = (message.text or "").partition(" ")
        return cls.parse(args) if command == "/start" else None


class DeepLink(Filter):
    """`/start <kind><rest>`: a deep link of one kind (an evaluation card, a certificate to verify).
    Hands the rest of the payload to the handler as `link`. The router that registers it must come
    before the start router, which answers every other /start."""

    def __init__(self, kind: str) -> None:
        self.kind = kind

    async def __call__(self, message: Message) -> bool | dict[str, Any]:
        link = StartLink.of(message)
        if link is None or link.kind != self.kind:
            return False
        return {"link": link.rest}


class HonourList(CallbackData, prefix="hl"):
    """The public registry of honours: a filter (honour code, city) and a page. Navigation only."""

    honour: str = ""
    city: str = ""
    page: Int64 = 0


class PrecheckOpen(CallbackData, prefix="po"):
    """The office opens a nomination from the preliminary-check queue (the service re-checks the role)."""

    nomination: Int64


class PrecheckTick(CallbackData, prefix="pt"):
    """In the office's own return-for-supplement form: tick or untick item `index`; NEXT and CANCEL
    move the form on. Only the presser's FSM state changes; the decision itself is a token button."""

    index: Int64


class PrecheckStep(CallbackData, prefix="ps"):
    """Office navigation: "xlsx" (the campaign list), "done" (no more verification files)."""

    what: str


class AnnounceStep(CallbackData, prefix="an"):
    """The office's own announcement draft: preview or drop it (nothing is sent by these)."""

    step: str  # preview | cancel


class Subscription(CallbackData, prefix="sub"):
    """Turn the presser's own announcement subscription on or off (re-checked server side)."""

    on: bool


class CardAnswer(CallbackData, prefix="ca"):
    """A customer's answer to one question of an evaluation card's survey (第十条). Only the
    presser's own survey: the handler re-checks card and step against their FSM progress."""

    card: Int64
    step: Int64
    value: Int64  # a level index, 0-10 for the recommendation, -1 to skip the comment


class CardOpen(CallbackData, prefix="co"):
    """The owner (or the office) opens a card view (第十条); the service re-checks who may see it.
    what: show | qr | report | report30 | unit | pdf | pdf30 | pdfunit | new-person | new-team"""

    card: Int64
    what: str


class ObjectTo(CallbackData, prefix="ob"):
    """公示: choose the candidate to object to; the service re-checks the list and the period."""

    nomination: Int64


class ObjectionStep(CallbackData, prefix="os"):
    """A choice in the objection form: skip the evidence, object as a person or an organisation."""

    what: str  # skip | person | organisation | anonymous


class PanelPick(CallbackData, prefix="pp"):
    """The office ticks reviewers onto a round's panel (an index into its own list), or opens the
    round with those ticked (index -1). The service checks the office role when the round opens."""

    index: Int64
