"""Routers gated by role: a command of a role the person lacks never reaches its handler, and is
still answered with the translated refusal, in Chinese and in English; nothing changes."""

from collections.abc import Awaitable, Callable, Iterator
from typing import Any

from aiogram import BaseMiddleware, Router
from aiogram.filters import Command
from aiogram.types import TelegramObject
from sqlalchemy import func
from sqlmodel import SQLModel, col, select

from handlers.channel import address
from handlers.gates import HasRole
from locales import read_catalogue
from models import ActionToken, OutboxMessage, Role
from models.messaging import FsmRecord, HandledUpdate, InboxLease, InboxUpdate
from services import people
from services.lifecycles import permissions
from tests.conftest import OFFICE_ID, BotWorld
from tests.handlers.test_office import invite_link, registered

# What a refused update may write: its handled mark, its inbox row and lease, its reply, FSM records.
BOOKKEEPING = {
    str(model.__tablename__) for model in (HandledUpdate, InboxUpdate, InboxLease, OutboxMessage, FsmRecord)
}


class Reached(BaseMiddleware):
    """Inner middleware: runs only when one of the router's handlers was chosen for the update."""

    def __init__(self) -> None:
        self.handlers: list[str] = []

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        self.handlers.append(data["handler"].callback.__qualname__)
        return await handler(event, data)


def _routers(router: Router) -> Iterator[Router]:
    for child in router.sub_routers:
        yield child
        yield from _routers(child)


def gated_routers(world: BotWorld) -> list[tuple[Router, HasRole]]:
    found = []
    for router in _routers(world.dispatcher):
        gates = [f.callback for f in router.message._handler.filters or [] if isinstance(f.callback, HasRole)]
        if gates:
            found.append((router, gates[0]))
    return found


def gated_commands(world: BotWorld) -> list[tuple[str, Role]]:
    """Every command of a gated router, with the role its refusal names."""
    commands = []
    for router, gate in gated_routers(world):
        for handler in router.message.handlers:
            for filter_ in handler.filters or []:
                if isinstance(filter_.callback, Command):
                    commands += [(f"/{c}", gate.roles[0]) for c in filter_.callback.commands]
    return commands


def refusal(locale: str, role: Role) -> str:
    catalogue = read_catalogue(locale)
    return catalogue["error.role.required"].format(role=catalogue[f"role.{role.value}"])


async def table_counts(world: BotWorld) -> dict[str, int]:
    async with world.sessions() as session:
        counts = {
            name: (await session.exec(select(func.count()).select_from(table))).one()
            for name, table in SQLModel.metadata.tables.items()
            if name not in BOOKKEEPING
        }
        not_replies = select(func.count()).where(~col(OutboxMessage.template).startswith("reply:"))
        counts["outbox, not replies"] = (await session.exec(not_replies)).one()
    return counts


async def test_every_gated_command_is_refused_to_a_person_without_the_role(world: BotWorld) -> None:
    reached = Reached()
    for router, _ in gated_routers(world):
        router.message.middleware(reached)
        router.callback_query.middleware(reached)
    commands = gated_commands(world)
    assert {"/invite", "/roles", "/precheck", "/export", "/rounds", "/review", "/pending", "/approve"} <= {
        c for c, _ in commands
    }
    assert {role for _, role in commands} == set(permissions.ROLE_PARTIES)
    people = {
        "zh_CN": await registered(world, 7301, "钱某"),
        "en": await registered(world, 7302, "Tom", language_code="en"),
    }
    office = await registered(world, OFFICE_ID, "王主任")  # holds a role, not the reviewer's or recommender's
    before = await table_counts(world)
    for command, role in commands:
        for locale, person in people.items():
            await person.send(command)
            assert person.texts() == [refusal(locale, role)], (command, locale)
        if role in (Role.REVIEWER, Role.RECOMMENDER):
            await office.send(command)
            assert office.texts() == [refusal("zh_CN", role)], command
    assert reached.handlers == []
    assert await table_counts(world) == before


async def test_buttons_of_a_role_are_refused_too(world: BotWorld) -> None:
    """Menu items and navigation buttons of a gated router, pressed (or forged) by someone else."""
    person = await registered(world, 7303, "钱某")
    before = await table_counts(world)
    for data, role in [
        ("m:invite", Role.OFFICE),
        ("m:rounds", Role.OFFICE),
        ("m:review", Role.REVIEWER),
        ("m:pending", Role.RECOMMENDER),
        ("m:approve", Role.LEADING_GROUP),
        ("po:1", Role.OFFICE),
        ("pp:0", Role.OFFICE),
    ]:
        await person.press_data(data)
        assert person.texts() == [refusal("zh_CN", role)], data
    assert await table_counts(world) == before


async def test_a_stranger_is_asked_to_agree_first(world: BotWorld) -> None:
    stranger = world.user(7304, "路人")
    await stranger.send("/invite")
    assert stranger.texts() == [read_catalogue("zh_CN")["error.consent.required"]]


async def test_what_no_gate_knows_still_falls_back(world: BotWorld) -> None:
    person = await registered(world, 7305, "钱某")
    await person.send("/nosuchcommand")
    assert person.texts() == [read_catalogue("zh_CN")["fallback.unknown_command"]]
    await person.press_data("m:nosuchitem")
    assert person.texts() == [read_catalogue("zh_CN")["fallback.stale_button"]]


async def test_a_token_whose_payload_does_not_fit_is_a_stale_button(world: BotWorld) -> None:
    """A row written by an older release (or forged): refused as a button that no longer works."""
    office = await registered(world, OFFICE_ID, "王主任")
    reviewer = world.user(7306, first_name="李评委")
    await reviewer.send(f"/start {await invite_link(office, '评审委员')}")
    await reviewer.press("同意")
    await reviewer.press("接受邀请")  # a reviewer: the review router's own filter meets the row
    async with world.sessions() as session:
        person = (await session.exec(people.at(address(7306)))).one()
        session.add(
            ActionToken(
                token="oldvotebutton01",
                person_id=person.id or 0,
                action="review.vote",
                payload={"round_id": 1, "nomination_id": 1, "choice": "maybe"},
                created_at=world.clock.now(),
            )
        )
        await session.commit()
    before = await table_counts(world)
    await reviewer.press_data("t:oldvotebutton01")
    assert reviewer.texts() == [read_catalogue("zh_CN")["error.button.unknown"]]
    assert await table_counts(world) == before
