"""Callback data. Buttons that act carry only an opaque token (`t:<token>`), which the token
middleware resolves and checks against the person pressing. Navigation buttons that only affect
the presser themself (language, menu) carry short plain values."""

from typing import Any

from aiogram.filters import Filter
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, Message

from models import ActionToken


class Act(CallbackData, prefix="t"):
    token: str


class Lang(CallbackData, prefix="lang"):
    code: str


class Consent(CallbackData, prefix="consent"):
    agree: bool


class Menu(CallbackData, prefix="m"):
    item: str


class ActionFilter(Filter):
    """Matches a pressed token issued for `action`, and hands its payload to the handler."""

    def __init__(self, action: str) -> None:
        self.action = action

    async def __call__(self, query: CallbackQuery, action_token: ActionToken | None = None) -> bool | dict[str, Any]:
        if action_token is None or action_token.action != self.action:
            return False
        return {"payload": action_token.payload, "action_token": action_token}


class Confirm(CallbackData, prefix="ok"):
    """A yes/no about the presser's own data (e.g. /forget)."""

    what: str
    yes: bool


class InviteRole(CallbackData, prefix="ir"):
    role: str
    organisation_id: int = 0


class HonourPick(CallbackData, prefix="sh"):
    """Choose the honour to self-check against."""

    code: str


class SelfCheckAnswer(CallbackData, prefix="sa"):
    """An answer to one self-check question. The server re-checks owner, status and position."""

    check: int
    pos: int
    reply: str  # yes | no | unsure | explain | back | cancel | resume | restart


class CampaignField(CallbackData, prefix="cf"):
    """The office picks a campaign date to change."""

    campaign: int
    field: str


class Nominate(CallbackData, prefix="nm"):
    """Start (or carry on with) a nomination for an honour, optionally from a finished self-check."""

    code: str
    selfcheck: int = 0


class NominationEdit(CallbackData, prefix="ne"):
    """A step on the applicant's own nomination; the service re-checks owner and stage."""

    nomination: int
    what: str  # a field id, or org | org-<id> | files | slot-<material> | consent | submit | card


class DeepLink(Filter):
    """`/start <prefix><rest>`: a deep link of one kind (an evaluation card, a certificate to verify).
    Hands the rest of the payload to the handler as `link`. The router that registers it must come
    before the start router, which answers every other /start."""

    def __init__(self, prefix: str) -> None:
        self.prefix = f"/start {prefix}"

    async def __call__(self, message: Message) -> bool | dict[str, Any]:
        text = message.text or ""
        if not text.startswith(self.prefix):
            return False
        return {"link": text.removeprefix(self.prefix).strip()}
