"""One time zone: the setting TIMEZONE, set by the bot into services.local_time and read by the
rules, the services and the edges."""

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.config import load_settings
from bot.factory import create_dispatcher, create_i18n
from handlers.render import local_date, local_minute
from locales import compile_catalogues
from models.db import create_engine, session_factory
from services import local_time
from services.rules import satisfaction
from tests.support.clock import FakeClock

ROOT = Path(__file__).resolve().parents[2]
MOMENT = datetime(2026, 7, 15, 17, 30, tzinfo=UTC)


def test_no_service_names_a_zone_of_its_own() -> None:
    named = sorted(
        str(path.relative_to(ROOT))
        for path in (ROOT / "services").rglob("*")
        if path.is_file() and path.suffix != ".pyc" and "Asia/Shanghai" in path.read_text(encoding="utf-8")
    )
    assert named == [], f"these name the zone instead of reading services.local_time: {named}"


def test_times_read_in_beijing_time_unless_configured_otherwise() -> None:
    assert local_time.zone().utcoffset(MOMENT) == ZoneInfo("Asia/Shanghai").utcoffset(MOMENT)
    assert (local_date(MOMENT), local_minute(MOMENT)) == ("2026-07-16", "2026-07-16 01:30")


def test_the_bot_sets_the_zone_of_the_setting_for_everyone(tmp_path: Path) -> None:
    before = local_time.zone()
    settings = load_settings(timezone="Europe/London", data_dir=tmp_path)
    i18n = create_i18n(str(compile_catalogues(tmp_path / "locales")), settings.default_locale)
    try:
        create_dispatcher(settings, session_factory(create_engine("sqlite+aiosqlite://")), i18n, FakeClock())
        assert local_time.zone() == ZoneInfo("Europe/London")
        assert (local_date(MOMENT), local_minute(MOMENT)) == ("2026-07-15", "2026-07-15 18:30")
        assert satisfaction.iso_week(datetime(2026, 7, 19, 20, tzinfo=UTC)) == "2026-W29"  # Monday in Beijing
    finally:
        local_time.use(before)
