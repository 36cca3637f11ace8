"""The campaign: anyone sees the current one; the office creates it, changes its dates, declares
working days, and sees self-check statistics."""

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.types import BufferedInputFile, CallbackQuery, Message
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.callbacks import CampaignField, Menu
from handlers.charts import bar_chart
from handlers.keyboards import cancel_keyboard, keyboard, plain_button
from handlers.render import answer_target, current_locale, local_date, t
from handlers.states import CampaignForm
from models import Role
from services import campaign_form, campaigns, local_time, people, selfcheck
from services.actors import Actor
from services.catalogue import load_catalogue
from services.ports import Clock


async def show_campaign(
    event: Message | CallbackQuery, actor: Actor, session: AsyncSession, clock: Clock
) -> None:
    message = await answer_target(event)
    if message is None:
        return
    now = clock.now()
    view = await campaigns.current(session, now)
    if view is None:
        upcoming = await campaigns.upcoming(session, now)
        await message.answer(
            t("campaign.next", year=upcoming.year, date=local_date(upcoming.nomination_opens))
            if upcoming
            else t("campaign.none")
        )
        return
    locale, honours = current_locale(), load_catalogue().honours
    lines = [
        t("campaign.title", year=view.campaign.year),
        t("campaign.honours", names="、".join(honours[c].name.get(locale) for c in view.campaign.honours)),
        t("campaign.phase", phase_key=f"phase.{view.phase.value}"),
    ]
    deadline = view.current_deadline(now)
    if deadline is not None:
        lines.append(t("campaign.deadline", date=local_date(deadline[0]), days=deadline[1]))
    lines.append(t("campaign.calendar"))
    for phase, start, end in view.windows:
        marker = "▶ " if phase == view.phase else "• "
        span = f"{local_date(start)} – {local_date(end)}" if end else f"{local_date(start)} –"
        lines.append(marker + t("campaign.window", phase_key=f"phase.{phase.value}", span=span))
    if not view.workdays_known:
        lines.append(t("campaign.workdays_unknown"))
    markup = None
    if actor.has(Role.OFFICE):
        markup = keyboard(
            [
                [
                    plain_button(
                        t(f"campaign.field.{field}"),
                        CampaignField(campaign=view.campaign.id or 0, field=field).pack(),
                    )
                ]
                for field in campaigns.DATE_FIELDS
            ]
        )
    await message.answer("\n".join(lines), reply_markup=markup)


async def new_campaign(
    message: Message,
    command: CommandObject,
    actor: Actor,
    session: AsyncSession,
    state: FSMContext,
    clock: Clock,
) -> None:
    people.require_role(actor, Role.OFFICE)
    if command.args:
        await create_from_form(message, command.args, actor, session, state, clock)
        return
    await state.set_state(CampaignForm.waiting)
    await message.answer(t("campaign.form_intro"))
    await message.answer(
        t("campaign.form_template", year=local_time.local(clock.now()).year + 1),
        reply_markup=cancel_keyboard(),
    )


async def form_received(
    message: Message, actor: Actor, session: AsyncSession, state: FSMContext, clock: Clock
) -> None:
    await create_from_form(message, message.text or "", actor, session, state, clock)


async def create_from_form(
    message: Message,
    form: str,
    actor: Actor,
    session: AsyncSession,
    state: FSMContext,
    clock: Clock,
) -> None:
    fields = campaign_form.parse(form)
    campaign = await campaigns.create(session, actor, now=clock.now(), **fields)  # type: ignore[arg-type]
    await state.clear()
    await message.answer(t("campaign.created", year=campaign.year))


async def pick_date(
    query: CallbackQuery, callback_data: CampaignField, actor: Actor, state: FSMContext
) -> None:
    people.require_role(actor, Role.OFFICE)
    await query.answer()
    await state.set_state(CampaignForm.new_date)
    await state.update_data(campaign=callback_data.campaign, field=callback_data.field)
    if isinstance(query.message, Message):
        await query.message.answer(
            t("campaign.ask_new_date", field_key=f"campaign.field.{callback_data.field}"),
            reply_markup=cancel_keyboard(),
        )


async def new_date(
    message: Message, actor: Actor, session: AsyncSession, state: FSMContext, clock: Clock
) -> None:
    raw, _, reason = (message.text or "").strip().partition(" ")
    if not reason.strip():
        await message.answer(t("campaign.reason_required"), reply_markup=cancel_keyboard())
        return
    data = await state.get_data()
    field = data["field"]
    value = campaign_form.moment(field, campaign_form.parse_day(raw))
    await campaigns.change_date(session, actor, data["campaign"], field, value, reason.strip(), clock.now())
    await state.clear()
    await message.answer(t("campaign.date_changed", field_key=f"campaign.field.{field}", date=raw))


async def set_workday(
    message: Message, command: CommandObject, actor: Actor, session: AsyncSession, clock: Clock
) -> None:
    people.require_role(actor, Role.OFFICE)
    parts = (command.args or "").split(maxsplit=2)
    if len(parts) < 2 or parts[1] not in ("work", "off", "班", "休"):
        await message.answer(t("workday.usage"))
        return
    when = campaign_form.parse_day(parts[0])
    is_workday = parts[1] in ("work", "班")
    await campaigns.set_workday(
        session, actor, when, is_workday, parts[2] if len(parts) > 2 else "", clock.now()
    )
    await message.answer(
        t("workday.set", date=when.isoformat(), kind_key="workday.work" if is_workday else "workday.off")
    )


async def selfcheck_statistics(message: Message, actor: Actor, session: AsyncSession, clock: Clock) -> None:
    people.require_role(actor, Role.OFFICE)
    view = await campaigns.current(session, clock.now())
    if view is None:
        await message.answer(t("campaign.none"))
        return
    stats = await selfcheck.statistics(session, actor, view.campaign.id or 0)
    locale, honours = current_locale(), load_catalogue().honours
    lines = [t("stats.title", year=view.campaign.year)]
    for code, count in stats.per_honour.items():
        verdicts = stats.verdicts.get(code, {})
        lines.append(
            t(
                "stats.honour",
                honour=honours[code].name.get(locale),
                count=count,
                eligible=verdicts.get("eligible", 0),
                needs=verdicts.get("needs_evidence", 0),
                not_eligible=verdicts.get("not_eligible", 0),
            )
        )
    if not stats.per_honour:
        lines.append(t("stats.empty"))
        await message.answer("\n".join(lines))
        return
    top = (stats.failed + stats.unsure).most_common(10)
    lines.append(t("stats.top_title"))
    lines += [
        t("stats.top_line", criterion=cid, no=stats.failed[cid], unsure=stats.unsure[cid]) for cid, _ in top
    ]
    await message.answer("\n".join(lines))
    chart = bar_chart([(cid, stats.failed[cid], stats.unsure[cid]) for cid, _ in top])
    await message.answer_photo(
        BufferedInputFile(chart, filename="selfcheck.png"), caption=t("stats.chart_caption")
    )


def build() -> Router:
    router = Router(name=__name__)
    router.message.register(show_campaign, Command("campaign"))
    router.callback_query.register(show_campaign, Menu.filter(F.item == "campaign"))
    router.message.register(new_campaign, Command("newcampaign"))
    router.message.register(form_received, CampaignForm.waiting)
    router.callback_query.register(pick_date, CampaignField.filter())
    router.message.register(new_date, CampaignForm.new_date)
    router.message.register(set_workday, Command("workday"))
    router.message.register(selfcheck_statistics, Command("selfcheckstats"))
    return router
