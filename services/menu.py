"""What each role may reach from the menu. Journeys add their entries here."""

from models import Role
from services.actors import Actor

EVERYONE = (
    "selfcheck",
    "nominate",
    "mystatus",
    "cards",
    "campaign",
    "honours",
    "verify",
    "subscribe",
    "language",
    "privacy",
    "help",
)
BY_ROLE: dict[Role, tuple[str, ...]] = {
    Role.OFFICE: (
        "invite",
        "roles",
        "award",
        "heldcomments",
        "announce",
        "precheck",
        "rounds",
        "publicity",
        "approve",
    ),
    Role.RECOMMENDER: ("pending",),
    Role.REVIEWER: ("review",),  # 第十六条: the review committee votes
    Role.LEADING_GROUP: ("approve",),  # 第十六条: the leading group approves
}


def menu_items(actor: Actor) -> list[str]:
    if not actor.registered:
        return [
            "consent",
            "honours",
            "verify",
            "language",
            "privacy",
            "help",
        ]  # the register of honours is public
    items = list(EVERYONE)
    for role in Role:
        if actor.has(role):
            items.extend(item for item in BY_ROLE.get(role, ()) if item not in items)
    return items
