"""What every part of the cards uses: a card's statuses and the article."""

ACTIVE, PAUSED, CLOSED = "active", "paused", "closed"
ARTICLE = "第十条"
