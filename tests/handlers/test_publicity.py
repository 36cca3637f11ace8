"""公示 in chat: the office publishes, anyone reads the list and may object with a real name; an
anonymous or late objection is refused with the reason; the office upholds or dismisses with a
reason; the leading group approves once no objection is open."""

import pytest
from sqlmodel import select

from models import Nomination, Objection, OutboxMessage, PublicityList
from tests.conftest import OFFICE_ID, BotWorld
from tests.support.client import UserClient
from tests.support.people import chat_of
from tests.unit.test_reviews import LEADER_TG, seed, vote

pytestmark = pytest.mark.article("第十六条第2项")


def _pdf() -> bytes:
    from io import BytesIO

    from pypdf import PdfWriter

    writer, buffer = PdfWriter(), BytesIO()
    writer.add_blank_page(width=200, height=200)
    writer.write(buffer)
    return buffer.getvalue()


PDF = _pdf()


async def shortlisted(world: BotWorld) -> None:
    """Three nominations voted through in a round opened in chat (the third never agreed to publication)."""
    await seed(world.sessions, world.clock.now())
    office = world.user(OFFICE_ID, "王主任")
    await office.send("/rounds")
    await office.press("开启新一轮评审")
    await office.send("2026-03-05 18:00")
    for telegram_id in (5001, 5002, 5003, 5004, 5005):
        for nomination_id in (1, 2, 3):
            if (telegram_id, nomination_id) != (5001, 1):
                await vote(world.sessions, telegram_id, 1, nomination_id, "for", world.clock.now())


async def ruling_buttons(world: BotWorld, case: int) -> dict[str, str]:
    async with world.sessions() as session:
        rows = (
            await session.exec(select(OutboxMessage).where(OutboxMessage.template == "objection.new_case"))
        ).all()
        row = next(r for r in rows if r.params["case"] == case)
        return {b["label"]: f"t:{b['token']}" for b in row.buttons[0]}


async def object_to(client: UserClient, name: str, grounds: str) -> None:
    await client.send("/publicity")
    await client.press(f"对 {name} 提出异议")
    await client.send(grounds)


async def test_publicity_objections_and_approval_in_chat(world: BotWorld) -> None:
    await shortlisted(world)
    office = world.user(OFFICE_ID, "王主任")
    await office.send("/publicity")
    assert "目前没有公示中的名单" in office.last_text
    await office.press("发布公示名单")
    assert (
        "已发布公示名单：2 项，公示期至 2026-03-10 00:00" in office.last_text
    )  # five working days after Monday
    reader = world.user(6003, "王芳")
    await reader.send("/publicity")
    assert (
        "1. 张伟 · 广东质协 · 广东省用户满意服务明星" in reader.last_text and "王芳 ·" not in reader.last_text
    )

    await object_to(reader, "张伟", "事迹材料与事实不符")
    await reader.press("跳过")
    await reader.press("不留姓名提交")
    assert "匿名异议不予受理" in reader.last_text
    await reader.send("王芳")  # the form stayed where it was: the name now
    await reader.send("12345")
    assert "电话号码无效" in reader.last_text
    await reader.send("１３８ ００１３ ８０００")
    await reader.send("随便写点")  # text where a button is expected: asked again
    assert "个人还是单位" in reader.last_text
    await reader.press("个人")
    assert "异议已受理（第 1 号）" in reader.last_text

    await object_to(reader, "李娜", "有投诉记录")
    await reader.upload("证据.pdf", PDF)
    assert "真实姓名" in reader.last_text, reader.texts()
    await reader.send("王芳")
    await reader.send("13800138000")
    await reader.press("单位")
    await reader.send("某某公司")
    await reader.send("这不是文件")
    assert "加盖公章" in reader.last_text
    await reader.upload("异议函.pdf", PDF)
    assert "异议已受理（第 2 号）" in reader.last_text

    leader = world.user(LEADER_TG, "林组长")
    await leader.send("/approve")  # still 评审 by the calendar: told so, and when to come back
    assert "当前为「评审」阶段，不能审定：审定在「审定」阶段办理" in leader.last_text

    await office.press_data((await ruling_buttons(world, 1))["objection.uphold"])
    await office.send("经核实，事迹材料不实")
    assert "异议第 1 号：异议成立，该人选已撤出名单" in office.last_text
    await office.press_data((await ruling_buttons(world, 2))["objection.dismiss"])
    await office.send("投诉已妥善处理，不影响评选")
    assert "异议第 2 号：异议不成立" in office.last_text
    await office.press_data((await ruling_buttons(world, 2))["objection.uphold"])  # a second ruling
    assert "该异议已作出处理决定" in office.last_text

    world.clock.advance(days=25)  # after the list's period, and in 审定 by the campaign's calendar
    await object_to(reader, "李娜", "又想到一点")
    await reader.press("跳过")
    await reader.send("王芳")
    await reader.send("13800138000")
    await reader.press("个人")
    assert "公示期已结束" in reader.last_text
    await leader.send("/approve")
    await leader.press("审定通过")
    assert "名单已审定：1 项" in leader.last_text

    async with world.sessions() as session:
        stages = {n.id: n.stage for n in (await session.exec(select(Nomination))).all()}
        assert stages == {1: "withdrawn_on_objection", 2: "approved", 3: "shortlisted"}
        cases = (await session.exec(select(Objection).order_by(Objection.id))).all()
        assert [(c.status, c.contact_phone, c.organisation) for c in cases] == [
            ("upheld", "+8613800138000", ""),
            ("dismissed", "+8613800138000", "某某公司"),
        ]
        assert cases[1].letter_sha256 and cases[1].evidence_sha256
        listing = (await session.exec(select(PublicityList))).one()
        assert (listing.edition, listing.nomination_ids, listing.approved_by is not None) == (2, [2], True)
        told = (
            await session.exec(
                select(OutboxMessage).where(OutboxMessage.template == "objection.ruled_notice")
            )
        ).all()
        assert {await chat_of(session, t) for t in told} == {6003}
        republished = (
            await session.exec(
                select(OutboxMessage).where(OutboxMessage.template == "publicity.announcement")
            )
        ).all()
        assert {r.params["edition"] for r in republished} == {1, 2}


async def test_the_office_approves_on_behalf_only_with_the_document(world: BotWorld) -> None:
    await shortlisted(world)
    office = world.user(OFFICE_ID, "王主任")
    await office.send("/publicity")
    await office.press("发布公示名单")
    await office.send("/approve")  # refused before the document is asked for
    assert "当前为「评审」阶段，不能审定" in office.last_text and not office.buttons()
    world.clock.advance(days=25)
    await office.send("/approve")
    await office.press("代领导小组审定（上传审定文件）")
    assert "审定文件" in office.last_text
    await office.send("口头同意")
    assert "请上传领导小组的审定文件" in office.last_text
    await office.upload("审定文件.pdf", PDF)
    assert "名单已审定：2 项" in office.last_text
    async with world.sessions() as session:
        listing = (await session.exec(select(PublicityList))).one()
        assert listing.approval_document and listing.approved_at == world.clock.now()
    outsider = world.user(6001, "张伟")
    await outsider.send("/approve")
    assert "领导小组" in outsider.last_text
