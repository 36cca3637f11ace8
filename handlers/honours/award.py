"""The office awards a campaign's approved list; a holder (or the office) gets the certificate."""

from typing import Any

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import BufferedInputFile, CallbackQuery, Message
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.callbacks import ActionFilter, Menu
from handlers.honours.common import certificate_printer
from handlers.keyboards import keyboard, token_button
from handlers.payloads import OfCampaign
from handlers.render import answer_target, t
from services import tokens
from services.actors import Actor
from services.files.store import FileStore
from services.honours import award as honour_award
from services.ports import Clock


async def award_ask(
    event: Message | CallbackQuery, actor: Actor, session: AsyncSession, clock: Clock
) -> None:
    waiting = await honour_award.awardable(session, actor, clock.now())
    message = await answer_target(event)
    if message is None:
        return
    if not waiting:
        await message.answer(t("honour.nothing_to_award"))
        return
    rows = []
    for item in waiting:
        token = await tokens.issue(
            session,
            person_id=actor.person_id,
            action="honour.award",
            now=clock.now(),
            campaign_id=item.campaign_id,
        )
        rows.append([token_button(t("honour.award_button", year=item.year, count=item.count), token)])
    await message.answer(t("honour.award_confirm"), reply_markup=keyboard(rows))


async def award(
    query: CallbackQuery,
    payload: OfCampaign,
    actor: Actor,
    session: AsyncSession,
    clock: Clock,
    bot: Bot,
    file_store: FileStore,
    settings: Any,
) -> None:
    awarded = await honour_award.award(
        session,
        actor,
        payload.campaign_id,
        clock.now(),
        printer=await certificate_printer(bot),
        file_store=file_store,
        days=settings.rereview_reminder_days,
    )
    await query.answer()
    if isinstance(query.message, Message):
        if not awarded:
            await query.message.answer(t("honour.nothing_to_award"))
            return
        lines = [t("honour.awarded", count=len(awarded))]
        lines += [t("honour.awarded_line", number=h.certificate_no, name=h.holder_name) for h in awarded]
        await query.message.answer("\n".join(lines))


async def certificate(
    message: Message, command: CommandObject, actor: Actor, session: AsyncSession, file_store: FileStore
) -> None:
    honour = await honour_award.certificate_of(session, actor, command.args or "")
    await message.answer_document(
        BufferedInputFile(file_store.get(honour.certificate_sha256), filename=f"{honour.certificate_no}.pdf"),
        caption=t("honour.certificate_caption", number=honour.certificate_no),
        protect_content=True,
    )


def build() -> Router:
    router = Router(name=__name__)
    router.message.register(award_ask, Command("award"))
    router.callback_query.register(award_ask, Menu.filter(F.item == "award"))
    router.callback_query.register(award, ActionFilter("honour.award"))
    router.message.register(certificate, Command("certificate"))
    return router
