"""The Telegram channel's side of the seam between services and the people they speak of: how a
Telegram user is addressed, and the deep links that open the bot on a payload."""

from dataclasses import dataclass

from aiogram import Bot

from models import TELEGRAM
from services.actors import Address

# What a deep link's payload starts with (/start <prefix><value>): which journey it opens.
CERTIFICATE_PREFIX = "v-"  # check a certificate
CARD_PREFIX = "c-"  # rate an evaluation card
INVITATION_PREFIX = "inv_"  # accept a role


def address(user_id: int) -> Address:
    return Address(TELEGRAM, str(user_id))


@dataclass(frozen=True)
class TelegramLinks:
    """services.ports.Links as t.me deep links (at most 64 characters of payload)."""

    username: str

    def _start(self, payload: str) -> str:
        return f"https://t.me/{self.username}?start={payload}"

    def certificate(self, number: str) -> str:
        return self._start(f"{CERTIFICATE_PREFIX}{number}")

    def card(self, token: str) -> str:
        return self._start(f"{CARD_PREFIX}{token}")

    def invitation(self, token: str) -> str:
        return self._start(f"{INVITATION_PREFIX}{token}")


async def links(bot: Bot) -> TelegramLinks:
    return TelegramLinks((await bot.me()).username or "bot")
