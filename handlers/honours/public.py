"""Open to anyone, registered or not: verifying a certificate and browsing the public registry."""

from typing import Any

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardButton, Message
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.callbacks import DeepLink, HonourList, Menu
from handlers.channel import CERTIFICATE_PREFIX
from handlers.keyboards import cancel_keyboard, keyboard, plain_button
from handlers.render import answer_target, local_date, t
from handlers.states import HonourForms
from services.catalogue import load_catalogue
from services.errors import DomainError
from services.honours import register
from services.ports import Clock

# Verification: open to anyone, registered or not -------------------------------------------------


async def _show_verification(message: Message, session: AsyncSession, clock: Clock, raw: str) -> None:
    found = await register.verify(session, raw, clock.now())
    await message.answer(
        t(
            "honour.verified",
            number=found.number,
            name=found.holder,
            honour_key=f"honour.{found.honour}",
            year=found.campaign_year,
            status_key=f"honour.status.{found.status}",
            since=local_date(found.valid_from),
            until=local_date(found.valid_until),
        )
    )


async def verify_command(
    message: Message, command: CommandObject, session: AsyncSession, clock: Clock, state: FSMContext
) -> None:
    if not command.args:
        await state.set_state(HonourForms.verify_number)
        await message.answer(t("honour.ask_number"), reply_markup=cancel_keyboard())
        return
    await _show_verification(message, session, clock, command.args)


async def verify_menu(query: CallbackQuery, state: FSMContext) -> None:
    message = await answer_target(query)
    await state.set_state(HonourForms.verify_number)
    if message is not None:
        await message.answer(t("honour.ask_number"), reply_markup=cancel_keyboard())


async def verify_typed(message: Message, session: AsyncSession, clock: Clock, state: FSMContext) -> None:
    if not message.text:
        await message.answer(t("honour.ask_number"), reply_markup=cancel_keyboard())
        return
    await state.clear()
    await _show_verification(message, session, clock, message.text)


async def verify_link(message: Message, link: str, session: AsyncSession, clock: Clock) -> None:
    await _show_verification(message, session, clock, link)


# The public registry -----------------------------------------------------------------------------


async def registry(
    event: Message | CallbackQuery,
    session: AsyncSession,
    clock: Clock,
    callback_data: HonourList | Menu | None = None,
) -> None:
    # From /honours or the menu: the first page in a new message; a filter or page edits it in place.
    wanted = callback_data if isinstance(callback_data, HonourList) else HonourList()
    if wanted.honour and wanted.honour not in load_catalogue().honours:
        raise DomainError("button.unknown")
    now = clock.now()
    page = await register.registry(session, now, honour=wanted.honour, city=wanted.city, page=wanted.page)
    lines = [
        t(
            "honour.registry_title",
            total=page.total,
            page=page.page + 1,
            pages=page.pages,
            honour_key=f"honour.{wanted.honour}" if wanted.honour else "honour.filter_all",
            city=wanted.city or "—",
        )
    ]
    lines += [
        t(
            "honour.registry_line",
            number=h.certificate_no,
            name=h.holder_name,
            honour_key=f"honour.{h.honour}",
            city=h.city or "—",
            until=local_date(h.valid_until),
        )
        for h in page.honours
    ]
    if not page.honours:
        lines.append(t("honour.registry_empty"))

    def nav(label: str, **change: Any) -> InlineKeyboardButton:
        data = HonourList(honour=wanted.honour, city=wanted.city, page=wanted.page)
        return plain_button(label, data.model_copy(update=change).pack())

    codes = ["", *load_catalogue().honours]
    rows = [
        [
            nav(
                ("• " if code == wanted.honour else "") + t(f"honour.short.{code or 'ALL'}"),
                honour=code,
                page=0,
            )
            for code in codes
        ]
    ]
    # A city rides in the callback data: it must fit the 64-byte limit and hold no separator.
    places = [
        city for city in await register.cities(session, now) if len(city.encode()) <= 30 and ":" not in city
    ]
    city_buttons = [nav(("• " if not wanted.city else "") + t("honour.all_cities"), city="", page=0)]
    city_buttons += [nav(("• " if city == wanted.city else "") + city, city=city, page=0) for city in places]
    rows += [city_buttons[i : i + 4] for i in range(0, len(city_buttons), 4)]
    paging = []
    if page.page > 0:
        paging.append(nav(t("honour.previous"), page=page.page - 1))
    if page.page + 1 < page.pages:
        paging.append(nav(t("honour.next"), page=page.page + 1))
    if paging:
        rows.append(paging)
    if isinstance(callback_data, HonourList):
        await event.answer()
        if isinstance(event.message, Message):
            await event.message.edit_text("\n".join(lines), reply_markup=keyboard(rows))
        return
    message = await answer_target(event)
    if message is not None:
        await message.answer("\n".join(lines), reply_markup=keyboard(rows))


def build() -> Router:
    router = Router(name=__name__)
    router.message.register(verify_link, DeepLink(CERTIFICATE_PREFIX))
    router.message.register(verify_command, Command("verify"))
    router.callback_query.register(verify_menu, Menu.filter(F.item == "verify"))
    router.message.register(verify_typed, HonourForms.verify_number)
    router.message.register(registry, Command("honours"))
    router.callback_query.register(registry, Menu.filter(F.item == "honours"))
    router.callback_query.register(registry, HonourList.filter())
    return router
