"""The programme's local time. Times are stored in UTC; people read them, and the rules count
calendar days, in one zone: the setting TIMEZONE, which the bot sets here once at start."""

from datetime import date, datetime, time, timedelta, timezone, tzinfo

# Until the bot sets the configured zone (tests, scripts): Beijing time. China keeps no daylight
# saving, so a fixed offset shows the same clock as the setting's default.
BEIJING_TIME = timezone(timedelta(hours=8), "UTC+08:00")

_zone: tzinfo = BEIJING_TIME


def use(zone: tzinfo) -> None:
    """Called once by the composition root, with the zone of the setting."""
    global _zone
    _zone = zone


def zone() -> tzinfo:
    return _zone


def local(moment: datetime) -> datetime:
    return moment.astimezone(_zone)


def day_of(moment: datetime) -> date:
    return local(moment).date()


def at(day: date, clock: time = time(0)) -> datetime:
    """A local day and clock time as an aware moment."""
    return datetime.combine(day, clock, _zone)


def day_text(moment: datetime) -> str:
    """A moment's local day as everyone writes it here: 2026-07-15."""
    return local(moment).strftime("%Y-%m-%d")


def minute_text(moment: datetime) -> str:
    return local(moment).strftime("%Y-%m-%d %H:%M")
