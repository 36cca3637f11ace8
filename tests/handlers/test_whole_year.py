"""One nomination through the whole year, through the production Dispatcher: dossier, endorsement,
preliminary check, review round, 公示, the leading group's approval, award and public verification.
Each stage has its own tests; this one proves the stages hand over to each other."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from handlers.channel import address
from models import Honour, Nomination, Role
from services import people
from services.publicity import listing, sweeps
from tests.conftest import OFFICE_ID, BotWorld
from tests.handlers.test_office import registered
from tests.handlers.test_precheck import endorsed
from tests.handlers.test_review import prompt_buttons
from tests.handlers.test_selfcheck import open_campaign
from tests.support.client import UserClient

pytestmark = pytest.mark.article("第十六条", "第十七条第1项", "第十七条第3项")

REVIEWERS = (7101, 7102, 7103)
LEADER = 7201


async def with_role(world: BotWorld, telegram_id: int, name: str, role: Role) -> UserClient:
    client = await registered(world, telegram_id, name)
    async with world.sessions() as session:
        person = (await people.load_actor(session, address(telegram_id), fallback_language="zh_CN")).person_id
        await people.grant_role(
            session,
            person_id=person or 0,
            role=role,
            organisation_id=None,
            granted_by=None,
            now=world.clock.now(),
            reason="test",
        )
    return client


async def stage(world: BotWorld) -> str:
    async with world.sessions() as session:
        return (await session.exec(select(Nomination.stage))).one()


async def test_a_nomination_from_its_dossier_to_a_verified_certificate(world: BotWorld) -> None:
    await open_campaign(world)
    applicant = await endorsed(world)  # /nominate, dossier, report, consent, submission, endorsement
    office = world.user(OFFICE_ID, "王主任")
    await office.send("/precheck")
    await office.press("第 1 号", contains=True)
    await office.press("通过")
    assert await stage(world) == "passed"

    reviewers = [
        await with_role(world, telegram_id, f"委员{telegram_id}", Role.REVIEWER) for telegram_id in REVIEWERS
    ]
    world.clock.current = datetime(2026, 6, 1, 2, tzinfo=UTC)  # 评审, by the campaign's calendar
    await office.send("/rounds")
    await office.press("开启新一轮评审")
    await office.send("2026-06-08 18:00")
    assert "第 1 轮评审已开启：1 项申报，委员 3 人" in office.last_text
    for reviewer in reviewers:
        await reviewer.press_data((await prompt_buttons(world, reviewer.user.id, 1))["review.vote.for"])
    assert await stage(world) == "shortlisted"  # everyone voted: counted at once

    await office.send("/publicity")
    await office.press("发布公示名单")
    assert "已发布公示名单：1 项" in office.last_text
    await applicant.send("/publicity")
    assert "1. 张伟 · 广东质协 · 广东省用户满意服务明星" in applicant.last_text

    leader = await with_role(world, LEADER, "林组长", Role.LEADING_GROUP)
    async with world.sessions() as session:
        ends = (await listing.latest(session)).ends_at  # type: ignore[union-attr]
    world.clock.current = max(ends + timedelta(minutes=1), datetime(2026, 7, 1, 1, tzinfo=UTC))  # 审定
    async with world.sessions() as session:
        assert await sweeps.sweep(session, world.clock.now()) == 1  # no objection: to the leading group
    await leader.send("/approve")
    await leader.press("审定通过")
    assert await stage(world) == "approved"

    await office.send("/award")
    await office.press("确认授予 2026 年度 1 项")
    async with world.sessions() as session:
        honour = (await session.exec(select(Honour))).one()
    assert (honour.certificate_no, honour.holder_name) == ("GD-2026-STAR-0001", "张伟")
    stranger = world.user(7301, "路人")  # no registration needed to verify
    await stranger.send("/verify GD-2026-STAR-0001")
    assert "获奖者：张伟" in stranger.last_text and "状态：<b>有效</b>" in stranger.last_text
