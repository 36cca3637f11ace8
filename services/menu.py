"""What each role may reach from the menu. Journeys add their entries here."""

from models import Role
from services.actors import Actor

EVERYONE = ("selfcheck", "nominate", "mystatus", "campaign", "language", "privacy", "help")
BY_ROLE: dict[Role, tuple[str, ...]] = {
    Role.OFFICE: ("invite", "roles"),
    Role.RECOMMENDER: ("pending",),
}


def menu_items(actor: Actor) -> list[str]:
    if not actor.registered:
        return ["consent", "language", "privacy", "help"]
    items = list(EVERYONE)
    for role in Role:
        if actor.has(role):
            items.extend(item for item in BY_ROLE.get(role, ()) if item not in items)
    return items
