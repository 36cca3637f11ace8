"""/mystatus: where a person's self-checks (and, later, nominations) stand."""

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.callbacks import Menu
from handlers.render import answer_target, current_locale, local_date, local_minute, t
from services import selfcheck
from services.actors import Actor
from services.catalogue import load_catalogue
from services.nominations import queries


async def my_status(event: Message | CallbackQuery, actor: Actor, session: AsyncSession) -> None:
    message = await answer_target(event)
    if message is None:
        return
    locale, honours = current_locale(), load_catalogue().honours
    lines: list[str] = []
    for nomination in await queries.mine(session, actor):
        lines.append(
            t(
                "mystatus.nomination_line",
                id=nomination.id,
                honour=honours[nomination.honour].name.get(locale),
                stage_key=f"stage.{nomination.stage}",
            )
        )
        for move in await queries.history(session, nomination.id or 0):
            said = {"deficiencies": move.items} if move.items else {"reason": move.reason}
            template = "mystatus.move_line_items" if move.items else "mystatus.move_line"
            lines.append(t(template, date=local_minute(move.at), stage_key=f"stage.{move.to_stage}", **said))
    if lines:
        lines.insert(0, t("mystatus.nominations_title"))
        lines.append("")
    checks = await selfcheck.history(session, actor)
    if not checks:
        lines.append(t("mystatus.no_selfchecks"))
        await message.answer("\n".join(lines))
        return
    lines.append(t("mystatus.selfchecks_title"))
    for check in checks:
        assert check.finished_at is not None
        lines.append(
            t(
                "mystatus.selfcheck_line",
                date=local_date(check.finished_at),
                honour=honours[check.honour].name.get(locale),
                verdict_key=f"selfcheck.verdict.{check.verdict}",
                version=check.catalogue_version,
            )
        )
    await message.answer("\n".join(lines))


def build() -> Router:
    router = Router(name=__name__)
    router.message.register(my_status, Command("mystatus"))
    router.callback_query.register(my_status, Menu.filter(F.item == "mystatus"))
    return router
