"""What every part of the cards uses: a card's statuses, the article, the local day."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

ACTIVE, PAUSED, CLOSED = "active", "paused", "closed"
ZONE = ZoneInfo("Asia/Shanghai")
ARTICLE = "第十条"


def local_day(moment: datetime) -> date:
    return moment.astimezone(ZONE).date()
