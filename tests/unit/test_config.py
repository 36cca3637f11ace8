"""A bad setting stops start-up with one line that names it."""

import pytest

from bot.config import load_settings


@pytest.mark.parametrize(
    ("variable", "value", "named"),
    [
        ("WEBHOOK_PORT", "eighty", "WEBHOOK_PORT"),
        ("OFFICE_IDS", "12,abc", "OFFICE_IDS"),
        ("DEFAULT_LOCALE", "fr", "DEFAULT_LOCALE"),
        ("TIMEZONE", "Mars/Olympus", "TIMEZONE"),
        ("BOT_TOKEN", "not-a-token", "BOT_TOKEN"),
        ("DATABASE_URL", "mysql://x", "DATABASE_URL"),
        ("REREVIEW_REMINDER_DAYS", "180,0", "REREVIEW_REMINDER_DAYS"),
        ("REREVIEW_REMINDER_DAYS", "soon", "REREVIEW_REMINDER_DAYS"),
    ],
)
def test_bad_value_is_named(monkeypatch: pytest.MonkeyPatch, variable: str, value: str, named: str) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SystemExit) as stopped:
        load_settings(_env_file=None)
    message = str(stopped.value)
    assert message.startswith(f"Bad setting {named}:") and "\n" not in message


def test_webhook_without_secret_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEBHOOK_URL", "https://bot.example.org/telegram")
    with pytest.raises(SystemExit, match="WEBHOOK_SECRET"):
        load_settings(_env_file=None)


def test_defaults_run_offline_on_sqlite(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BOT_TOKEN", raising=False)
    monkeypatch.setenv("OFFICE_IDS", "11, 12")
    settings = load_settings(_env_file=None)
    assert settings.offline and settings.office_ids == (11, 12)
    assert settings.effective_database_url == "sqlite+aiosqlite:///data/servicestar.db"
    assert (settings.default_locale, settings.timezone) == ("zh_CN", "Asia/Shanghai")


def test_rereview_reminder_days_are_a_list_of_days(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings(_env_file=None).rereview_reminder_days == (180, 90, 30, 7)
    monkeypatch.setenv("REREVIEW_REMINDER_DAYS", "365, 60")
    assert load_settings(_env_file=None).rereview_reminder_days == (365, 60)
