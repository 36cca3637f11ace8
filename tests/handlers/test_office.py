"""Office staff invite people into roles with one-time links, list and revoke roles."""

import re

from sqlmodel import col, select

from models import AuditRecord, ChannelAccount, OutboxMessage, Role, RoleAssignment
from tests.conftest import OFFICE_ID, BotWorld
from tests.support.client import UserClient
from tests.support.people import chat_of, to_chat


async def registered(world: BotWorld, user_id: int, name: str, language_code: str = "zh-hans") -> UserClient:
    client = world.user(user_id, first_name=name, language_code=language_code)
    await client.send("/start")
    await client.press("I agree" if language_code == "en" else "同意")
    return client


async def invite_link(office: UserClient, role_label: str, organisation: str | None = None) -> str:
    await office.send("/invite")
    await office.press(role_label)
    if organisation:
        await office.press(organisation)
    match = re.search(r"start=(inv_[A-Za-z0-9_-]+)", office.last_text)
    assert match, office.last_text
    assert len(match.group(1)) <= 64
    return match.group(1)


async def roles_of(world: BotWorld, telegram_id: int) -> set[tuple[Role, int | None]]:
    async with world.sessions() as session:
        rows = (
            await session.exec(
                select(RoleAssignment)
                .join(ChannelAccount, col(ChannelAccount.person_id) == RoleAssignment.person_id)
                .where(ChannelAccount.address == str(telegram_id), col(RoleAssignment.revoked_at).is_(None))
            )
        ).all()
        return {(r.role, r.organisation_id) for r in rows}


async def test_office_ids_become_office_staff_at_consent(world: BotWorld) -> None:
    await registered(world, OFFICE_ID, "王主任")
    assert await roles_of(world, OFFICE_ID) == {(Role.OFFICE, None)}


async def test_reviewer_joins_through_a_one_time_link(world: BotWorld) -> None:
    office = await registered(world, OFFICE_ID, "王主任")
    payload = await invite_link(office, "评审委员")
    reviewer = world.user(2001, first_name="李教授")
    await reviewer.send(f"/start {payload}")
    assert "个人信息保护说明" in reviewer.last_text  # consent first, then the invitation
    await reviewer.press("同意")
    assert "评审委员" in reviewer.last_text and reviewer.buttons() == ["接受邀请"]
    await reviewer.press("接受邀请")
    assert "您已成为评审委员" in reviewer.last_text
    assert await roles_of(world, 2001) == {(Role.REVIEWER, None)}
    async with world.sessions() as session:
        notice = (await session.exec(select(OutboxMessage))).one()
        assert (await chat_of(session, notice), notice.template) == (OFFICE_ID, "invitation.accepted_notice")


async def test_recommender_invitation_names_the_organisation(world: BotWorld) -> None:
    office = await registered(world, OFFICE_ID, "王主任")
    payload = await invite_link(office, "推荐单位人员", organisation="省妇联")
    member = await registered(world, 2002, "陈女士")
    await member.send(f"/start {payload}")
    assert "省妇联" in member.last_text
    await member.press("接受邀请")
    assert await roles_of(world, 2002) == {(Role.RECOMMENDER, 4)}


async def test_an_invitation_works_once(world: BotWorld) -> None:
    office = await registered(world, OFFICE_ID, "王主任")
    payload = await invite_link(office, "评审委员")
    first = await registered(world, 2001, "李教授")
    await first.send(f"/start {payload}")
    await first.press("接受邀请")
    second = await registered(world, 2003, "赵先生")
    await second.send(f"/start {payload}")
    assert "已被使用" in second.last_text
    assert await roles_of(world, 2003) == set()


async def test_an_expired_invitation_is_refused(world: BotWorld) -> None:
    office = await registered(world, OFFICE_ID, "王主任")
    payload = await invite_link(office, "领导小组成员")
    world.clock.advance(days=8)
    late = await registered(world, 2004, "周先生")
    await late.send(f"/start {payload}")
    assert "已过期" in late.last_text
    assert await roles_of(world, 2004) == set()


async def test_office_commands_are_refused_to_others(world: BotWorld) -> None:
    stranger = await registered(world, 2005, "Tom", language_code="en")
    await stranger.send("/invite")
    assert stranger.last_text == "Only an authorised office staff member can do this."
    await stranger.send("/roles")
    assert stranger.last_text == "Only an authorised office staff member can do this."


async def test_a_forged_or_foreign_button_changes_nothing(world: BotWorld) -> None:
    office = await registered(world, OFFICE_ID, "王主任")
    payload = await invite_link(office, "评审委员")
    invitee = await registered(world, 2001, "李教授")
    await invitee.send(f"/start {payload}")
    accept = invitee.session.requests[-1].reply_markup.inline_keyboard[0][0].callback_data
    thief = await registered(world, 2006, "钱某")
    await thief.press_data(accept)  # a button forwarded to someone else
    assert "不是发给您的" in thief.last_text
    await thief.press_data("t:AAAAAAAAAAAAAAAA")  # a token the server never issued
    assert "无效" in thief.last_text
    assert await roles_of(world, 2006) == set() and await roles_of(world, 2001) == set()


async def test_revoking_asks_a_reason_and_survives_a_restart(world: BotWorld) -> None:
    office = await registered(world, OFFICE_ID, "王主任")
    payload = await invite_link(office, "评审委员")
    reviewer = await registered(world, 2001, "李教授")
    await reviewer.send(f"/start {payload}")
    await reviewer.press("接受邀请")
    await office.send("/roles")
    assert "李教授：评审委员" in office.last_text
    await office.press("撤销 李教授 的评审委员")
    assert "撤销原因" in office.last_text
    restarted = world.rebuild()  # the bot restarts while the office is typing the reason
    office = restarted.user(OFFICE_ID, first_name="王主任")
    await office.send("任期届满")
    assert "已撤销 李教授 的评审委员角色" in office.last_text
    assert await roles_of(world, 2001) == set()
    async with world.sessions() as session:
        record = (await session.exec(select(AuditRecord).where(AuditRecord.action == "role.revoked"))).one()
        assert record.reason == "任期届满"
        notice = (await session.exec(select(OutboxMessage).where(to_chat(2001)))).one()
        assert notice.template == "roles.revoked_notice" and notice.params["reason"] == "任期届满"


async def test_the_last_office_member_cannot_be_revoked(world: BotWorld) -> None:
    office = await registered(world, OFFICE_ID, "王主任")
    await office.send("/roles")
    await office.press("撤销 王主任 的办公室工作人员")
    await office.send("测试")
    assert "最后一位办公室工作人员" in office.last_text
    assert await roles_of(world, OFFICE_ID) == {(Role.OFFICE, None)}
