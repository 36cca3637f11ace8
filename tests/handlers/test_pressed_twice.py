"""Every button is safe to press twice. People double-tap, and Telegram re-sends a press (with a new
update id) when the app lost its answer: the same button pressed again only answers the press, with
an alert at most; no message, no edit, nothing in the database changes, nothing is queued."""

from aiogram.methods import AnswerCallbackQuery
from sqlmodel import SQLModel, select

from models import OutboxMessage
from tests.conftest import OFFICE_ID, BotWorld
from tests.handlers.test_cards import new_card, rate
from tests.handlers.test_honours import awarded
from tests.handlers.test_nomination import PDF, prompt_buttons, recommender_of_gdaq, submitted_nomination
from tests.handlers.test_office import invite_link, registered
from tests.handlers.test_precheck import PNG, endorsed, office_member, open_first, return_the_seal, stage_of
from tests.handlers.test_publicity import object_to, ruling_buttons, shortlisted
from tests.handlers.test_review import open_round_in_chat
from tests.handlers.test_review import prompt_buttons as review_buttons
from tests.handlers.test_selfcheck import open_campaign
from tests.support.client import UserClient
from tests.unit.test_reviews import seed

USED = "此操作已完成，无需再按。"
WAITING = "正在等您回复：请直接发送，或按“取消”。"
NOT_STATE = {"handledupdate", "inboxupdate"}  # a refused press is still marked handled: that is no change


async def database(world: BotWorld) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table the programme keeps: audit records, stages, ballots, the outbox, button
    tokens, conversation state... The outbox without replies: what was said to the presser is
    asserted from what Telegram received (and the answer to a press is a row too)."""
    async with world.sessions() as session:
        connection = await session.connection()
        tables = {}
        for table in SQLModel.metadata.sorted_tables:
            if table.name in NOT_STATE:
                continue
            query = select(table).order_by(*table.primary_key.columns)
            if table.name == OutboxMessage.__tablename__:
                query = query.where(table.c.update_id.is_(None))
            tables[table.name] = [tuple(row) for row in await connection.execute(query)]
        return tables


async def pressed_again(world: BotWorld, client: UserClient, alert: str) -> None:
    """The last button once more, on the same message: one answer, this alert, and nothing else."""
    before = await database(world)
    replies = await client.press_again()
    assert [type(reply) for reply in replies] == [AnswerCallbackQuery], client.texts()
    assert (replies[0].show_alert, replies[0].text) == (True, alert)
    assert await database(world) == before


async def test_consent_pressed_twice_changes_nothing(world: BotWorld) -> None:
    zhang = world.user(8001, "张伟")
    await zhang.send("/start")
    await zhang.press("同意")
    assert zhang.last_text == "请选择："
    await pressed_again(world, zhang, "您已同意，可发送 /menu 继续。")
    anna = world.user(8002, "Anna", language_code="en")
    await anna.send("/start")
    await anna.press("I agree")
    await pressed_again(world, anna, "You have already agreed: send /menu to carry on.")


async def test_publication_consent_pressed_twice_changes_nothing(world: BotWorld) -> None:
    await open_campaign(world)
    applicant = await registered(world, 8011, "张伟")
    await applicant.send("/nominate")
    await applicant.press("广东省用户满意服务明星")
    await applicant.press("同意公开")
    assert "同意公开" not in applicant.buttons()
    await pressed_again(world, applicant, "您已同意公开，无需再按。")


async def test_invitation_accept_pressed_twice_changes_nothing(world: BotWorld) -> None:
    office = await registered(world, OFFICE_ID, "王主任")
    link = await invite_link(office, "评审委员")
    reviewer = world.user(8021, "评审甲")
    await reviewer.send(f"/start {link}")
    await reviewer.press("同意")
    await reviewer.press("接受邀请")
    assert reviewer.last_text == "您已成为评审委员。发送 /menu 查看可用功能。"
    await pressed_again(world, reviewer, USED)


async def test_endorse_pressed_twice_changes_nothing(world: BotWorld) -> None:
    await open_campaign(world)
    member = await recommender_of_gdaq(world, 8031)
    await submitted_nomination(world, 8032, "张伟")
    await member.press_data((await prompt_buttons(world, 8031, 1))["nomination.endorse"])
    await pressed_again(world, member, WAITING)  # the opinion is still awaited: not asked twice
    await member.send("该同志服务成绩突出，同意推荐。")
    await member.upload("推荐意见.png", PNG, mime_type="image/png")
    assert "已推荐" in member.last_text
    await pressed_again(
        world, member, "第 1 号申报已不在等待推荐单位审核（当前：已推荐，待初审），无需再处理。"
    )


async def test_precheck_pass_pressed_twice_changes_nothing(world: BotWorld) -> None:
    await open_campaign(world)
    await endorsed(world)
    head, member = world.user(OFFICE_ID, "王主任"), await office_member(world, 8041, "赵科长")
    await open_first(member)
    await head.send("/roles")
    await head.press("撤销 赵科长 的办公室工作人员")
    await head.send("借调到其他部门")
    await member.press("通过")  # refused: no longer in the office
    assert member.last_text == "此功能仅限办公室工作人员使用。" and await stage_of(world) == "endorsed"
    await member.send(f"/start {await invite_link(head, '办公室工作人员')}")
    await member.press("接受邀请")
    await member.press("通过")  # back in the office: the refusal did not spend the button
    assert "初审通过" in member.last_text and await stage_of(world) == "passed"
    await pressed_again(world, member, USED)


async def test_precheck_return_pressed_twice_changes_nothing(world: BotWorld) -> None:
    await open_campaign(world)
    await endorsed(world)
    await return_the_seal(office := world.user(OFFICE_ID, "王主任"))
    assert "已退回补充（1 项）" in office.last_text
    await pressed_again(world, office, USED)
    assert await stage_of(world) == "returned_for_supplement"


async def test_precheck_reject_pressed_twice_changes_nothing(world: BotWorld) -> None:
    await open_campaign(world)
    await endorsed(world)
    office = await office_member(world, 8042, "Ms Li", "en")
    await office.send("/precheck")
    await office.press("No. 1", contains=True)
    await office.press("Reject")
    await pressed_again(world, office, "Waiting for your reply: just send it, or press Cancel.")
    await office.send("材料不实")
    assert "Nomination No. 1 was rejected" in office.last_text
    await pressed_again(
        world,
        office,
        "Nomination No. 1 is no longer waiting for the preliminary check "
        "(now: rejected at the preliminary check).",
    )


async def test_vote_pressed_twice_changes_nothing(world: BotWorld) -> None:
    await seed(world.sessions, world.clock.now())
    await open_round_in_chat(world)
    reviewer = world.user(5002, "钱委员")
    await reviewer.press_data((await review_buttons(world, 5002, 2))["review.vote.against"])
    assert "已记录：第 2 号 不同意（已投 1/3）" in reviewer.last_text
    await pressed_again(world, reviewer, "您已对第 2 号投了“不同意”，无需再按；如要改投，请按其他选项。")


async def test_recuse_pressed_twice_changes_nothing(world: BotWorld) -> None:
    await seed(world.sessions, world.clock.now())
    await open_round_in_chat(world)
    reviewer = world.user(5003, "孙委员")
    await reviewer.press_data((await review_buttons(world, 5003, 2))["review.recuse"])
    await pressed_again(world, reviewer, WAITING)
    await reviewer.send("候选人是我的亲属")
    assert "已登记回避（第 2 号）" in reviewer.last_text
    await pressed_again(world, reviewer, "您已对该申报回避，不能投票。")


async def test_objection_ruling_pressed_twice_changes_nothing(world: BotWorld) -> None:
    await shortlisted(world)
    office = world.user(OFFICE_ID, "王主任")
    await office.send("/publicity")
    await office.press("发布公示名单")
    reader = world.user(6003, "王芳")
    await object_to(reader, "张伟", "事迹材料与事实不符")
    await reader.press("跳过")
    await reader.send("王芳")
    await reader.send("13800138000")
    await reader.press("个人")
    assert "异议已受理（第 1 号）" in reader.last_text
    await office.press_data((await ruling_buttons(world, 1))["objection.dismiss"])
    await pressed_again(world, office, WAITING)
    await office.send("投诉已妥善处理，不影响评选")
    assert "异议第 1 号：异议不成立" in office.last_text
    await pressed_again(world, office, "该异议已作出处理决定。")


async def test_approve_pressed_twice_changes_nothing(world: BotWorld) -> None:
    await shortlisted(world)
    office = world.user(OFFICE_ID, "王主任")
    await office.send("/publicity")
    await office.press("发布公示名单")
    world.clock.advance(days=25)  # the period is over: 审定 by the calendar
    await office.send("/approve")
    await office.press("代领导小组审定（上传审定文件）")
    await pressed_again(world, office, WAITING)
    await office.upload("审定文件.pdf", PDF)
    assert "名单已审定：2 项" in office.last_text
    await pressed_again(world, office, "该名单已审定。")


async def test_award_pressed_twice_changes_nothing(world: BotWorld) -> None:
    office, _, _ = await awarded(world)
    await pressed_again(world, office, USED)


async def test_revoke_pressed_twice_changes_nothing(world: BotWorld) -> None:
    office, _, _ = await awarded(world)
    await office.send("/revoke GD-2026-STAR-0001")
    await office.send("提供虚假测评报告，情节严重")
    await office.press("确认撤销")
    assert "证书 GD-2026-STAR-0001 已撤销" in office.last_text
    await pressed_again(world, office, USED)


async def test_card_pause_pressed_twice_changes_nothing(world: BotWorld) -> None:
    await open_campaign(world)
    owner = await registered(world, 8051, "李娜")
    await new_card(world, owner)
    await owner.press("暂停")
    assert "状态：已暂停" in owner.last_text
    await pressed_again(world, owner, USED)


async def test_card_close_pressed_twice_changes_nothing(world: BotWorld) -> None:
    await open_campaign(world)
    owner = await registered(world, 8061, "李娜")
    await new_card(world, owner)
    await owner.press("关闭（不可恢复）")
    await pressed_again(world, owner, USED)  # the confirmation was asked for once
    await owner.press("确认关闭")
    assert "状态：已关闭" in owner.last_text
    await pressed_again(world, owner, USED)


async def test_held_comment_release_pressed_twice_changes_nothing(world: BotWorld) -> None:
    await open_campaign(world)
    owner = await registered(world, 8071, "陈强")
    await rate(world.user(8072), await new_card(world, owner, "陈强"), comment="你们都是王八蛋")
    office = world.user(OFFICE_ID, "王主任")
    await office.send("/heldcomments")
    await office.press("放行")
    assert "已放行" in office.last_text
    await pressed_again(world, office, USED)
