"""The office recommends honours nationally and exports the list."""

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import BufferedInputFile, Message
from sqlmodel.ext.asyncio.session import AsyncSession

from documents import national_list
from handlers.render import current_locale, t
from services.actors import Actor
from services.honours import national as honour_national
from services.ports import Clock


async def national(
    message: Message, command: CommandObject, actor: Actor, session: AsyncSession, clock: Clock
) -> None:
    honour = await honour_national.recommend_national(session, actor, command.args or "", clock.now())
    await message.answer(t("honour.national_marked", number=honour.certificate_no, name=honour.holder_name))


async def national_export(message: Message, actor: Actor, session: AsyncSession) -> None:
    document = national_list.workbook(await honour_national.national_list(session, actor), current_locale())
    await message.answer_document(
        BufferedInputFile(document.data, filename=document.file_name), caption=t("honour.national_export")
    )


def build() -> Router:
    router = Router(name=__name__)
    router.message.register(national, Command("national"))
    router.message.register(national_export, Command("national_export"))
    return router
