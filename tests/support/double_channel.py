"""A second channel, as strict as the coming WeChat Official Account (CHANNELS.md), built only on
what services offer every channel: people known by an opaque id on it (an openid), messages
that cannot be edited and carry no buttons (an action is a link holding its token, opened on a
web form), and an outbox it delivers itself, rendered in each reader's language from the same
catalogues. Nothing here is Telegram's; if a service needed a chat id, this channel could not run."""

from dataclasses import dataclass, field

from sqlalchemy import update
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from documents.words import translator
from models import ActionToken, ChannelAccount, OutboxMessage, OutboxStatus, Person, Role
from services import people, tokens
from services.actors import Actor, Address
from services.ports import Clock

CHANNEL = "double"
LINK = "https://double.example/a/{token}"  # an action's link: a web form bound to the token


@dataclass(frozen=True)
class Received:
    """One message as the person sees it: its words, and the links of its actions."""

    text: str
    links: dict[str, str]  # label as shown → link
    template: str


@dataclass
class DoubleChannel:
    sessions: async_sessionmaker[AsyncSession]
    clock: Clock
    inboxes: dict[str, list[Received]] = field(default_factory=dict)

    async def join(
        self, openid: str, name: str, language: str = "zh_CN", role: Role | None = None, organisation: int = 0
    ) -> Actor:
        """Someone follows the account and agrees to the privacy notice (on a web page)."""
        where = Address(CHANNEL, openid)
        async with self.sessions() as session:
            person = await people.register(
                session, address=where, name=name, language=language, now=self.clock.now(), office=False
            )
            if role is not None:
                await people.grant_role(
                    session,
                    person_id=person.id or 0,
                    role=role,
                    organisation_id=organisation or None,
                    granted_by=None,
                    now=self.clock.now(),
                    reason="second channel",
                )
        return await self.actor(openid)

    async def actor(self, openid: str) -> Actor:
        async with self.sessions() as session:
            return await people.load_actor(session, Address(CHANNEL, openid), fallback_language="zh_CN")

    async def deliver(self) -> int:
        """This channel's sender: every pending row for a person whose account is on it, rendered in
        their language, delivered once. Returns how many."""
        async with self.sessions() as session:
            due = (
                await session.exec(
                    select(OutboxMessage, ChannelAccount.address, Person.language)
                    .join(ChannelAccount, col(ChannelAccount.person_id) == OutboxMessage.person_id)
                    .join(Person, col(Person.id) == OutboxMessage.person_id)
                    .where(ChannelAccount.channel == CHANNEL, OutboxMessage.status == OutboxStatus.PENDING)
                    .order_by(col(OutboxMessage.id))
                )
            ).all()
            for row, openid, language in due:
                t = translator(language)
                links = {
                    t(b["label"], **(b.get("params") or {})): LINK.format(token=b["token"])
                    for line in row.buttons
                    for b in line
                }
                received = Received(t(row.template, **row.params), links, row.template)
                self.inboxes.setdefault(openid, []).append(received)
            await session.exec(
                update(OutboxMessage)
                .where(col(OutboxMessage.id).in_([row.id for row, _, _ in due]))
                .values(status=OutboxStatus.SENT, sent_at=self.clock.now())
                .execution_options(synchronize_session=False)
            )
            await session.commit()
        return len(due)

    def last(self, openid: str) -> Received:
        return self.inboxes[openid][-1]

    async def open_link(self, openid: str, link: str) -> tuple[Actor, ActionToken]:
        """The person opens an action's link: the token must be theirs, unspent and unexpired."""
        actor = await self.actor(openid)
        async with self.sessions() as session:
            row = await tokens.resolve(
                session, link.rsplit("/", 1)[-1], person_id=actor.person_id, now=self.clock.now()
            )
        return actor, row
