"""Settings from the environment and `.env`. A bad value stops start-up with one line naming it."""

from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

LOCALES = ("zh_CN", "en")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    bot_token: str | None = None
    telegram_api_base: str | None = None
    database_url: str | None = None
    redis_url: str | None = None
    webhook_url: str | None = None
    webhook_secret: str | None = None
    webhook_host: str = "127.0.0.1"
    webhook_port: int = Field(default=8080, ge=1, le=65535)
    office_ids: Annotated[tuple[int, ...], NoDecode] = ()
    default_locale: str = "zh_CN"
    timezone: str = "Asia/Shanghai"
    data_dir: Path = Path("data")
    # Public announcements (公示 lists, award announcements) also go to this channel or group, if set.
    announcement_chat_id: int | None = None
    # Days before an honour expires on which holder, recommending body and office are reminded (复议).
    rereview_reminder_days: Annotated[tuple[int, ...], NoDecode] = (180, 90, 30, 7)

    @field_validator("office_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(int(part) for part in value.replace(";", ",").split(",") if part.strip())
        if isinstance(value, int):
            return (value,)
        return value

    @field_validator("rereview_reminder_days", mode="before")
    @classmethod
    def _split_days(cls, value: object) -> object:
        if isinstance(value, str):
            value = tuple(int(part) for part in value.replace(";", ",").split(",") if part.strip())
        if isinstance(value, int):
            value = (value,)
        if isinstance(value, tuple) and (not value or not all(1 <= day <= 1095 for day in value)):
            raise ValueError("give one or more whole days from 1 to 1095, e.g. 180,90,30,7")
        return value

    @field_validator("default_locale")
    @classmethod
    def _known_locale(cls, value: str) -> str:
        if value not in LOCALES:
            raise ValueError(f"must be one of {', '.join(LOCALES)}")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError("unknown time zone") from exc
        return value

    @field_validator("bot_token")
    @classmethod
    def _token_shape(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        head, _, tail = value.partition(":")
        if not head.isdigit() or len(tail) < 20:
            raise ValueError("does not look like a Telegram bot token (digits:secret)")
        return value

    @field_validator("database_url")
    @classmethod
    def _supported_database(cls, value: str | None) -> str | None:
        if value and not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("use sqlite+aiosqlite:///path or postgresql+asyncpg://user@host/db")
        return value or None

    @model_validator(mode="after")
    def _webhook_needs_secret(self) -> "Settings":
        if self.webhook_url and not self.webhook_secret:
            raise ValueError("WEBHOOK_SECRET is required when WEBHOOK_URL is set")
        return self

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite+aiosqlite:///{(self.data_dir / 'servicestar.db').as_posix()}"

    @property
    def offline(self) -> bool:
        return self.bot_token is None


class SettingsError(SystemExit):
    """Raised with the one line that names the bad setting."""


def load_settings(**overrides: object) -> Settings:
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        if first["loc"]:
            raise SettingsError(f"Bad setting {str(first['loc'][0]).upper()}: {first['msg']}") from None
        raise SettingsError(f"Bad settings: {first['msg'].removeprefix('Value error, ')}") from None
