"""What the preliminary check's steps share: a day as the office types it, how long buttons last."""

import re
from datetime import date, timedelta

DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
TOKEN_TTL = timedelta(days=30)


def parse_day(text: str | None) -> date | None:
    value = (text or "").strip()
    if not DAY.fullmatch(value):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None
