"""Honours in chat: the office awards, revokes and recommends nationally; anyone verifies a
certificate (/verify or the QR deep link) and browses the public registry (/honours); the holder
or their recommending body starts a re-review (复议) and uploads new evidence."""

from typing import Any

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.types import BufferedInputFile, CallbackQuery, InlineKeyboardButton, Message
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers import uploads
from handlers.callbacks import ActionFilter, DeepLink, HonourList, Menu
from handlers.keyboards import cancel_keyboard, keyboard, plain_button, token_button
from handlers.render import answer_target, ask_for_text, local_date, t, typed_text
from handlers.states import HonourForms
from models import Role
from services import files, honours, people, tokens
from services.actors import Actor
from services.catalogue import load_catalogue
from services.errors import DomainError
from services.ports import Clock


async def _username(bot: Bot) -> str:
    return (await bot.me()).username or "bot"


# Verification: open to anyone, registered or not -------------------------------------------------


async def _show_verification(message: Message, session: AsyncSession, clock: Clock, raw: str) -> None:
    found = await honours.verify(session, raw, clock.now())
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
    page = await honours.registry(session, now, honour=wanted.honour, city=wanted.city, page=wanted.page)
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
        city for city in await honours.cities(session, now) if len(city.encode()) <= 30 and ":" not in city
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


# Award (office) ----------------------------------------------------------------------------------


async def award_ask(
    event: Message | CallbackQuery, actor: Actor, session: AsyncSession, clock: Clock
) -> None:
    waiting = await honours.awardable(session, actor)
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
            telegram_id=actor.telegram_id,
            action="honour.award",
            now=clock.now(),
            campaign_id=item.campaign_id,
        )
        rows.append([token_button(t("honour.award_button", year=item.year, count=item.count), token)])
    await session.commit()
    await message.answer(t("honour.award_confirm"), reply_markup=keyboard(rows))


async def award(
    query: CallbackQuery,
    payload: dict,
    actor: Actor,
    session: AsyncSession,
    clock: Clock,
    bot: Bot,
    file_store: files.FileStore,
    settings: Any,
) -> None:
    awarded = await honours.award(
        session,
        actor,
        int(payload["campaign_id"]),
        clock.now(),
        bot_username=await _username(bot),
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
    message: Message, command: CommandObject, actor: Actor, session: AsyncSession, file_store: files.FileStore
) -> None:
    honour = await honours.certificate_of(session, actor, command.args or "")
    await message.answer_document(
        BufferedInputFile(file_store.get(honour.certificate_sha256), filename=f"{honour.certificate_no}.pdf"),
        caption=t("honour.certificate_caption", number=honour.certificate_no),
        protect_content=True,
    )


# Re-review (复议): the holder or their recommending body ------------------------------------------


async def _begin_rereview(
    message: Message, actor: Actor, session: AsyncSession, clock: Clock, state: FSMContext, honour_id: int
) -> None:
    review = await honours.start_rereview(session, actor, honour_id, clock.now())
    submit = await tokens.issue(
        session,
        telegram_id=actor.telegram_id,
        action="honour.rereview_submit",
        now=clock.now(),
        review_id=review.id,
    )
    await session.commit()
    await state.set_state(HonourForms.rereview_upload)
    await state.update_data(review_id=review.id)
    await message.answer(
        t("honour.rereview_upload"),
        reply_markup=cancel_keyboard([token_button(t("honour.rereview_submit"), submit)]),
    )


async def rereview_command(
    message: Message,
    command: CommandObject,
    actor: Actor,
    session: AsyncSession,
    clock: Clock,
    state: FSMContext,
) -> None:
    people.require_registered(actor)
    honour = await honours.by_number(session, command.args or "")
    await _begin_rereview(message, actor, session, clock, state, honour.id or 0)


async def rereview_button(
    query: CallbackQuery, payload: dict, actor: Actor, session: AsyncSession, clock: Clock, state: FSMContext
) -> None:
    await query.answer()
    if isinstance(query.message, Message):
        await _begin_rereview(query.message, actor, session, clock, state, int(payload["honour_id"]))


async def rereview_file(
    message: Message,
    actor: Actor,
    session: AsyncSession,
    state: FSMContext,
    clock: Clock,
    bot: Bot,
    file_store: files.FileStore,
) -> None:
    checked = await uploads.receive(message, bot)
    if checked is None:
        await message.answer(t("honour.rereview_send_file"), reply_markup=cancel_keyboard())
        return
    review = await honours.add_rereview_evidence(
        session,
        actor,
        (await state.get_data())["review_id"],
        sha256=file_store.put(checked.data),
        file_name=checked.safe_name,
        kind=checked.kind,
        now=clock.now(),
    )
    slot = next(item["slot"] for item in review.evidence if item["sha256"] == checked.sha256)
    await message.answer(
        t("honour.rereview_file_kept", name=checked.safe_name, slot_key=f"honour.slot.{slot}")
    )


async def rereview_submit(
    query: CallbackQuery, payload: dict, actor: Actor, session: AsyncSession, clock: Clock, state: FSMContext
) -> None:
    await honours.submit_rereview(session, actor, int(payload["review_id"]), clock.now())
    await state.clear()
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(t("honour.rereview_submitted"))


# Re-review decisions (office) --------------------------------------------------------------------


async def reconfirm(
    query: CallbackQuery,
    payload: dict,
    actor: Actor,
    session: AsyncSession,
    clock: Clock,
    bot: Bot,
    file_store: files.FileStore,
    settings: Any,
) -> None:
    honour = await honours.reconfirm(
        session,
        actor,
        int(payload["review_id"]),
        clock.now(),
        bot_username=await _username(bot),
        file_store=file_store,
        days=settings.rereview_reminder_days,
    )
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(
            t("honour.reconfirmed", number=honour.certificate_no, until=local_date(honour.valid_until))
        )


async def lapse_ask(query: CallbackQuery, payload: dict, actor: Actor, state: FSMContext) -> None:
    people.require_role(actor, Role.OFFICE)
    await ask_for_text(
        query, state, HonourForms.lapse_reason, t("honour.lapse_reason"), review_id=payload["review_id"]
    )


async def lapse_reason(
    message: Message, actor: Actor, session: AsyncSession, clock: Clock, state: FSMContext
) -> None:
    text = await typed_text(message, t("honour.lapse_reason"))
    if text is None:
        return
    honour = await honours.lapse(session, actor, (await state.get_data())["review_id"], text, clock.now())
    await state.clear()
    await message.answer(
        t("honour.lapsed", number=honour.certificate_no, until=local_date(honour.valid_until))
    )


# Revocation (office) -----------------------------------------------------------------------------


async def revoke_command(
    message: Message,
    command: CommandObject,
    actor: Actor,
    session: AsyncSession,
    clock: Clock,
    state: FSMContext,
) -> None:
    honour = await honours.revocable(session, actor, command.args or "", clock.now())
    await state.set_state(HonourForms.revoke_reason)
    await state.update_data(honour_id=honour.id)
    await message.answer(
        t("honour.revoke_reason", number=honour.certificate_no, name=honour.holder_name),
        reply_markup=cancel_keyboard(),
    )


async def _confirm_revocation(
    message: Message, actor: Actor, session: AsyncSession, clock: Clock, data: dict[str, Any]
) -> None:
    token = await tokens.issue(
        session,
        telegram_id=actor.telegram_id,
        action="honour.revoke",
        now=clock.now(),
        honour_id=data["honour_id"],
        reason=data["reason"],
        document=data.get("document"),
    )
    await session.commit()
    await message.answer(
        t("honour.revoke_document"),
        reply_markup=cancel_keyboard([token_button(t("honour.revoke_confirm"), token)]),
    )


async def revoke_reason(
    message: Message, actor: Actor, session: AsyncSession, clock: Clock, state: FSMContext
) -> None:
    reason = (message.text or "").strip()
    if not reason:
        await message.answer(t("honour.revoke_reason_again"), reply_markup=cancel_keyboard())
        return
    await state.update_data(reason=reason)
    await state.set_state(HonourForms.revoke_document)
    await _confirm_revocation(message, actor, session, clock, await state.get_data())


async def revoke_document(
    message: Message,
    actor: Actor,
    session: AsyncSession,
    clock: Clock,
    state: FSMContext,
    bot: Bot,
    file_store: files.FileStore,
) -> None:
    checked = await uploads.receive(message, bot)
    if checked is None:
        await message.answer(t("honour.revoke_document"), reply_markup=cancel_keyboard())
        return
    await state.update_data(document=file_store.put(checked.data))
    await message.answer(t("honour.revoke_document_kept", name=checked.safe_name))
    await _confirm_revocation(message, actor, session, clock, await state.get_data())


async def revoke(
    query: CallbackQuery, payload: dict, actor: Actor, session: AsyncSession, clock: Clock, state: FSMContext
) -> None:
    honour = await honours.revoke(
        session,
        actor,
        int(payload["honour_id"]),
        str(payload["reason"]),
        clock.now(),
        document_sha256=payload.get("document"),
    )
    await state.clear()
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(t("honour.revoked", number=honour.certificate_no))


# National recommendation (office) ----------------------------------------------------------------


async def national(
    message: Message, command: CommandObject, actor: Actor, session: AsyncSession, clock: Clock
) -> None:
    honour = await honours.recommend_national(session, actor, command.args or "", clock.now())
    await message.answer(t("honour.national_marked", number=honour.certificate_no, name=honour.holder_name))


async def national_export(message: Message, actor: Actor, session: AsyncSession) -> None:
    data = await honours.export_national(session, actor, actor.language)
    await message.answer_document(
        BufferedInputFile(data, filename="national-recommendations.xlsx"), caption=t("honour.national_export")
    )


def build() -> Router:
    router = Router(name=__name__)
    router.message.register(verify_link, DeepLink("v-"))
    router.message.register(verify_command, Command("verify"))
    router.callback_query.register(verify_menu, Menu.filter(F.item == "verify"))
    router.message.register(verify_typed, HonourForms.verify_number)
    router.message.register(registry, Command("honours"))
    router.callback_query.register(registry, Menu.filter(F.item == "honours"))
    router.callback_query.register(registry, HonourList.filter())
    router.message.register(award_ask, Command("award"))
    router.callback_query.register(award_ask, Menu.filter(F.item == "award"))
    router.callback_query.register(award, ActionFilter("honour.award"))
    router.message.register(certificate, Command("certificate"))
    router.message.register(rereview_command, Command("rereview"))
    router.callback_query.register(rereview_button, ActionFilter("honour.rereview"))
    router.message.register(rereview_file, HonourForms.rereview_upload)
    router.callback_query.register(rereview_submit, ActionFilter("honour.rereview_submit"))
    router.callback_query.register(reconfirm, ActionFilter("honour.reconfirm"))
    router.callback_query.register(lapse_ask, ActionFilter("honour.lapse"))
    router.message.register(lapse_reason, HonourForms.lapse_reason)
    router.message.register(revoke_command, Command("revoke"))
    router.message.register(revoke_reason, HonourForms.revoke_reason)
    router.message.register(revoke_document, HonourForms.revoke_document)
    router.callback_query.register(revoke, ActionFilter("honour.revoke"))
    router.message.register(national, Command("national"))
    router.message.register(national_export, Command("national_export"))
    return router
