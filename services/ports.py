"""What the services need from the outside world, as small protocols."""

from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class Links(Protocol):
    """The addresses people open from a printout or a message: they belong to the channel that
    serves them (a Telegram deep link today; a web page once one is published)."""

    def certificate(self, number: str) -> str: ...

    def card(self, token: str) -> str: ...

    def invitation(self, token: str) -> str: ...
