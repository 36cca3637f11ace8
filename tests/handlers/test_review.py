"""The review committee in chat: the office opens a round, reviewers vote from their prompts (and
change, comment, recuse), forwarded or forged buttons do nothing, the office follows progress,
extends, reminds, closes early and gets the result as text and as an Excel workbook."""

from datetime import UTC, datetime

import pytest
from aiogram.methods import SendDocument
from sqlmodel import select

from handlers.channel import address
from models import (
    Ballot,
    Nomination,
    NominationMaterial,
    OutboxMessage,
    Person,
    Recusal,
    ReviewReminder,
    ReviewRound,
)
from services import people
from services.files.store import FileStore
from tests.conftest import OFFICE_ID, BotWorld
from tests.support.people import chat_of, to_chat
from tests.unit.test_reviews import seed

pytestmark = pytest.mark.article("第十六条第2项", "第十六条第3项")

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


async def prompt_buttons(world: BotWorld, chat_id: int, nomination_id: int) -> dict[str, str]:
    async with world.sessions() as session:
        rows = (
            await session.exec(
                select(OutboxMessage).where(to_chat(chat_id), OutboxMessage.template == "review.prompt")
            )
        ).all()
        prompt = [r for r in rows if r.params["id"] == nomination_id][-1]
        return {b["label"]: f"t:{b['token']}" for row in prompt.buttons for b in row}


async def open_round_in_chat(world: BotWorld, closing: str = "2026-03-05 18:00") -> None:
    office = world.user(OFFICE_ID, "王主任")
    await office.send("/rounds")
    assert "还没有评审轮次" in office.last_text
    await office.press("开启新一轮评审")
    await office.send("下周五")  # not a time: asked again
    assert "请输入截止时间" in office.last_text
    await office.send(closing)
    assert "第 1 轮评审已开启：3 项申报，委员 5 人，截止 2026-03-05 18:00" in office.last_text


async def test_reviewers_vote_change_comment_and_recuse(world: BotWorld) -> None:
    await seed(world.sessions, world.clock.now())
    async with world.sessions() as session:
        sha = FileStore(world.settings.data_dir / "files").put(PDF)
        session.add(
            NominationMaterial(
                nomination_id=2,
                slot="satisfaction_report",
                sha256=sha,
                file_name="测评报告.pdf",
                kind="pdf",
                size=len(PDF),
                uploaded_at=world.clock.now(),
            )
        )
        await session.commit()
    await open_round_in_chat(world)
    reviewer, other = world.user(5002, "钱委员"), world.user(5003, "孙委员")
    buttons = await prompt_buttons(world, 5002, 2)
    await reviewer.press_data(buttons["review.vote.against"])
    assert "已记录：第 2 号 不同意（已投 1/3）" in reviewer.last_text
    await reviewer.press_data(buttons["review.vote.for"])
    assert "已修改：第 2 号 改为 同意（已投 1/3）" in reviewer.last_text
    await other.press_data(buttons["review.vote.against"])  # a forwarded button
    assert "这个按钮不是发给您的" in other.last_text
    await other.press_data("t:forged-token-xyz")  # a forged one, for any round or nomination
    assert "这个按钮无效或已失效" in other.last_text
    await reviewer.press_data(buttons["review.files"])
    documents = [r for r in reviewer.replies if isinstance(r, SendDocument)]
    assert len(documents) == 1 and documents[0].protect_content is True
    await reviewer.press_data(buttons["review.comment"])
    await reviewer.send("服务事迹突出，同意推荐")
    assert "意见已保存（第 2 号）" in reviewer.last_text
    await reviewer.send("/review")
    assert (
        "待评审（已投 1/3）" in reviewer.last_text
        and "第 2 号 广东省用户满意服务明星：李娜 —— 同意" in reviewer.last_text
    )
    assert "第 3 号 广东省用户满意服务明星：王芳 —— 未投票" in reviewer.last_text
    await other.press_data((await prompt_buttons(world, 5003, 2))["review.recuse"])
    await other.send("候选人是我的亲属")
    assert "已登记回避（第 2 号）" in other.last_text
    await other.press_data((await prompt_buttons(world, 5003, 2))["review.vote.for"])
    assert "您已对该申报回避" in other.last_text
    recused = world.user(5001, "赵委员")
    await recused.send("/review")
    assert "第 1 号 广东省用户满意服务明星：张伟 —— 已回避" in recused.last_text
    async with world.sessions() as session:
        ballots = (await session.exec(select(Ballot))).all()
        assert [(b.nomination_id, b.choice, b.comment, b.changes) for b in ballots] == [
            (2, "for", "服务事迹突出，同意推荐", 1)
        ]
        assert {(r.nomination_id, r.automatic) for r in (await session.exec(select(Recusal))).all()} == {
            (1, True),
            (2, False),
        }


async def test_the_office_follows_closes_and_gets_the_result(world: BotWorld) -> None:
    await seed(world.sessions, world.clock.now())
    await open_round_in_chat(world)
    reviewer = world.user(5002, "钱委员")
    await reviewer.press_data((await prompt_buttons(world, 5002, 2))["review.vote.for"])
    await reviewer.press_data((await prompt_buttons(world, 5002, 2))["review.comment"])
    await reviewer.send("事迹突出")
    office = world.user(OFFICE_ID, "王主任")
    await office.send("/rounds")
    assert "第 1 轮 · 截止 2026-03-05 18:00 · 进行中 · 无记名投票" in office.last_text
    await office.press("进度")
    progress = office.last_text
    assert "法定人数：未回避委员的 2/3 投票；通过：投票中同意超过 1/2" in progress
    assert (
        "第 2 号 广东省用户满意服务明星 李娜：同意 1 · 不同意 0 · 弃权 0 · 回避 0 · 已投 1/5 → 投票中"
        in progress
    )
    assert "未投票：赵委员、孙委员、李委员、周委员" in progress
    assert (
        "意见（不记名）：事迹突出" in progress and "钱委员）" not in progress
    )  # secret ballot: not attributed
    assert "回避：赵委员（您属于其推荐单位）" in progress
    await office.press("立即提醒")
    assert "已提醒 5 位未完成投票的委员" in office.last_text
    await office.press("延长截止时间")
    await office.send("2026-03-04 18:00")
    assert "新的截止时间须晚于原截止时间" in office.last_text
    await office.send("2026-03-06 18:00")
    assert "第 1 轮评审截止时间已延长至 2026-03-06 18:00" in office.last_text
    async with world.sessions() as session:
        due = (await session.exec(select(ReviewReminder).where(ReviewReminder.offset_hours == 2))).all()
        assert {r.due_at for r in due} == {datetime(2026, 3, 6, 8, 0, tzinfo=UTC)}  # 18:00 Beijing, less 2 h
        told = (
            await session.exec(
                select(OutboxMessage).where(OutboxMessage.template == "review.extended_notice")
            )
        ).all()
        assert len(told) == 5
    await office.press("提前结束并计票")
    assert "→ 未达法定人数" in office.last_text
    await reviewer.press_data((await prompt_buttons(world, 5002, 3))["review.vote.for"])
    assert "本轮评审已截止" in reviewer.last_text
    async with world.sessions() as session:
        notice = (
            await session.exec(select(OutboxMessage).where(OutboxMessage.template == "review.closed_notice"))
        ).one()
        reminders = (
            await session.exec(select(OutboxMessage).where(OutboxMessage.template == "review.reminder"))
        ).all()
        assert await chat_of(session, notice) == OFFICE_ID and len(reminders) == 5
        assert {n.stage for n in (await session.exec(select(Nomination))).all()} == {
            "passed"
        }  # no quorum: unchanged
    await office.press_data("t:" + notice.buttons[0][0]["token"])
    documents = [r for r in office.replies if isinstance(r, SendDocument)]
    assert len(documents) == 1 and documents[0].caption == "第 1 轮评审结果（Excel）"


async def test_english_prompt_texts(world: BotWorld) -> None:
    await seed(world.sessions, world.clock.now())
    await open_round_in_chat(world)
    reviewer = world.user(5004, "Li", language_code="en")
    async with world.sessions() as session:
        person = (await session.exec(people.at(address(5004)))).one()
        person.language = "en"
        session.add(person)
        await session.commit()
    await reviewer.press_data((await prompt_buttons(world, 5004, 3))["review.vote.abstain"])
    assert "Recorded: no. 3 abstain (1/3 voted)" in reviewer.last_text
    await reviewer.send("/review")
    assert "Waiting for your review (1/3 voted)" in reviewer.last_text


async def test_the_office_sets_thresholds_ballot_honour_and_reminders(world: BotWorld) -> None:
    await seed(world.sessions, world.clock.now())
    office = world.user(OFFICE_ID, "王主任")
    await office.send("/rounds")
    await office.press("开启新一轮评审")
    await office.send("2026-03-05 18:00 quorum=abc")
    assert "可在后面加选项" in office.last_text
    await office.send("2026-03-05 18:00 quorum=0/3")
    assert "法定人数比例须大于 0" in office.last_text
    await office.send("2026-03-01 18:00")
    assert "截止时间必须晚于现在" in office.last_text
    await office.send("2026-03-05 18:00 open quorum=3/4 pass=2/3 honour=STAR remind=24,2")
    assert "法定人数：未回避委员的 3/4 投票；通过：投票中同意超过 2/3" in office.last_text
    assert "记名投票" in office.last_text
    async with world.sessions() as session:
        review_round = (await session.exec(select(ReviewRound))).one()
        assert (
            review_round.quorum_num,
            review_round.quorum_den,
            review_round.pass_num,
            review_round.pass_den,
            review_round.honour,
            review_round.open_ballot,
            review_round.reminder_hours,
        ) == (3, 4, 2, 3, "STAR", True, [24, 2])
        assert len((await session.exec(select(ReviewReminder))).all()) == 5 * 2


async def test_the_office_chooses_the_panel_of_a_round(world: BotWorld) -> None:
    await seed(world.sessions, world.clock.now())
    office = world.user(OFFICE_ID, "王主任")
    await office.send("/rounds")
    await office.press("开启新一轮评审")
    await office.send("2026-03-05 18:00 panel")
    assert "选择本轮评审组" in office.last_text
    labels = office.buttons()
    assert labels[-1] == "开启评审（评审组 5 人）" and all(label.startswith("☑️ ") for label in labels[:-1])
    await office.send("好的")  # text where a button is expected: the choice is shown again
    assert "选择本轮评审组" in office.last_text
    left_out = labels[0].removeprefix("☑️ ")
    await office.press(labels[0])
    await office.press(f"⬜ {left_out}")
    await office.press(f"☑️ {left_out}")  # ticked, unticked, ticked off again
    await office.press("开启评审（评审组 4 人）")
    assert "第 1 轮评审已开启：3 项申报，委员 4 人" in office.last_text
    async with world.sessions() as session:
        outsider = (await session.exec(select(Person).where(Person.name == left_out))).one()
        prompts = (
            await session.exec(select(OutboxMessage).where(OutboxMessage.template == "review.prompt"))
        ).all()
    assert prompts and outsider.id not in {p.person_id for p in prompts}
    stranger = world.user(5999, "路人")
    await stranger.press_data("pp:-1")  # a forged panel button: the office's gate refuses it before the panel
    assert stranger.last_text == "请先发送 /start 阅读并同意个人信息说明。"
    async with world.sessions() as session:
        assert len((await session.exec(select(ReviewRound))).all()) == 1
