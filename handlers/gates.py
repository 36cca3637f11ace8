"""Routers of a role, gated on it: a command or button of the office, a reviewer, a recommending
body or the leading group never reaches its handler for someone without the role. What a gate
stops falls through; the refusals router, near the end, answers it with the same translated refusal
the services give ("only an authorised ... can do this"), so nothing goes unanswered.

The services keep their own checks (services/lifecycles/permissions.py): they are the real guard,
the gate only keeps the wrong person from reaching prompts and lists that come before any service."""

from typing import Any

from aiogram import Router
from aiogram.filters import Filter
from aiogram.types import CallbackQuery, Message, TelegramObject

from models import Role
from services import people
from services.actors import Actor
from services.lifecycles import permissions


class HasRole(Filter):
    """The acting person holds one of `roles`. Async, so it does not run in aiogram's thread pool."""

    def __init__(self, *roles: Role) -> None:
        if not roles or any(role not in permissions.ROLE_PARTIES for role in roles):
            raise ValueError(f"a gate needs roles from the permission table, not {roles}")
        self.roles = roles

    async def __call__(self, event: TelegramObject, actor: Actor | None = None) -> bool:
        return actor is not None and any(actor.has(role) for role in self.roles)


class Gates:
    """Gates routers as they are built, then builds the router that refuses what they stopped."""

    def __init__(self) -> None:
        self.gated: list[tuple[Router, HasRole]] = []

    def __call__(self, router: Router, *roles: Role) -> Router:
        gate = HasRole(*roles)
        router.message.filter(gate)
        router.callback_query.filter(gate)
        self.gated.append((router, gate))
        return router

    def refusals(self) -> Router:
        router = Router(name=__name__)
        router.message.register(refuse, StoppedByGate(self.gated, "message"))
        router.callback_query.register(refuse, StoppedByGate(self.gated, "callback_query"))
        return router


class StoppedByGate(Filter):
    """A gated router would have handled this update, had the person held its role: its handlers'
    own filters match. Hands the handler the role the gate asks for (the first one named)."""

    def __init__(self, gated: list[tuple[Router, HasRole]], kind: str) -> None:
        self.gated, self.kind = gated, kind

    async def __call__(self, event: TelegramObject, **data: Any) -> bool | dict[str, Any]:
        actor = data.get("actor")
        if actor is None:  # no person behind the update (a channel's post): the fallback answers it
            return False
        for router, gate in self.gated:
            if await gate(event, actor):
                continue  # its handlers were tried and did not match
            for handler in router.observers[self.kind].handlers:
                matched, _ = await handler.check(event, **data)
                if matched:
                    return {"role": gate.roles[0]}
        return False


async def refuse(event: Message | CallbackQuery, role: Role, actor: Actor) -> None:
    """The refusal the service would give: agree to the privacy notice first, then the role."""
    people.require_registered(actor)
    permissions.require(actor, permissions.ROLE_PARTIES[role])
