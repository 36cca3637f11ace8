"""The office writes a campaign as a short form, one `field: value` per line, in Chinese or English.

Dates are local calendar days: a window opens at the start of its first day and closes at the end
of its last day, in the programme's time zone."""

import re
import unicodedata
from datetime import UTC, date, datetime, timedelta

from services import local_time
from services.errors import DomainError

ALIASES = {
    "year": ("year", "年度"),
    "honours": ("honours", "奖项"),
    "nomination_opens": ("nomination_opens", "申报开始"),
    "nomination_closes": ("nomination_closes", "申报截止"),
    "precheck_deadline": ("precheck_deadline", "初审截止"),
    "review_opens": ("review_opens", "评审开始"),
    "review_closes": ("review_closes", "评审截止"),
    "publicity_workdays": ("publicity_workdays", "公示工作日"),
    "announcement_at": ("announcement_at", "表彰日期"),
}
CLOSING = frozenset({"nomination_closes", "precheck_deadline", "review_closes"})
FIELD_OF = {alias.casefold(): field for field, names in ALIASES.items() for alias in names}


def parse_day(raw: str) -> date:
    text = unicodedata.normalize("NFKC", raw).strip()
    match = re.fullmatch(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?", text)
    if not match:
        raise DomainError("campaign.bad_date", value=raw.strip())
    try:
        return date(*(int(part) for part in match.groups()))
    except ValueError:
        raise DomainError("campaign.bad_date", value=raw.strip()) from None


def moment(field: str, day: date) -> datetime:
    """The instant a dated field stands for: the end of a closing day, else the start of the day."""
    return local_time.at(day + timedelta(days=1) if field in CLOSING else day).astimezone(UTC)


def parse(form: str) -> dict[str, object]:
    """Returns year, honours, publicity_workdays and a `dates` dict of aware datetimes."""
    values: dict[str, str] = {}
    for line in form.splitlines():
        key, sep, value = unicodedata.normalize("NFKC", line).partition(":")
        if not sep or not key.strip():
            continue
        field = FIELD_OF.get(key.strip().casefold())
        if field is None:
            raise DomainError("campaign.unknown_field_name", name=key.strip())
        values[field] = value.strip()
    missing = [
        names[0] for field, names in ALIASES.items() if field not in values and field != "publicity_workdays"
    ]
    if missing:
        raise DomainError("campaign.form_missing", fields=", ".join(missing))
    try:
        year = int(values["year"])
        publicity = int(values.get("publicity_workdays") or 5)
    except ValueError:
        raise DomainError("campaign.bad_number") from None
    honours = [code.upper() for code in re.split(r"[\s,，、]+", values["honours"]) if code]
    dates = {
        field: moment(field, parse_day(values[field]))
        for field in ALIASES
        if field not in ("year", "honours", "publicity_workdays")
    }
    return {"year": year, "honours": honours, "publicity_workdays": publicity, "dates": dates}
