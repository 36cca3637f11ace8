"""The review committee's whole journey over HTTP: the real `python -m bot` polling the Bot API
emulator, on a SQLite file seeded (through the services, before the start) with five reviewers and
three nominations that passed the preliminary check.

The process runs on the system clock, which a test cannot move. So the reminder sweep (the service
the periodic job calls) is run from the test with a moved clock against the bot's database, and the
running bot delivers what it queued; the end of 公示 is reached by moving the list's end into the past
in the database. The sweep closing a round at its time, and the 24 h / 2 h reminders, are covered
in-process in tests/unit/test_reviews.py."""

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from models import ReviewRound
from models.db import create_engine, session_factory
from services.reviews import sweeps
from tests.support.bot_process import BotProcess, press, say, until
from tests.support.databases import SqliteDatabases
from tests.support.emulator import BotAPIEmulator
from tests.unit.test_reviews import LEADER_TG, OFFICE_TG, seed

REVIEWER_IDS = (5001, 5002, 5003, 5004, 5005)


@pytest.fixture
async def bot(emulator: BotAPIEmulator, tmp_path: Path) -> AsyncIterator[BotProcess]:
    data = tmp_path / "data"
    data.mkdir()
    url = await SqliteDatabases(tmp_path).fresh()  # a migrated file, copied into place
    Path(url.split("///", 1)[1]).rename(data / "bot.db")
    engine = create_engine(f"sqlite+aiosqlite:///{data / 'bot.db'}")
    await seed(session_factory(engine), datetime.now(UTC))
    await engine.dispose()
    process = BotProcess(emulator.base_url, data, OFFICE_TG)
    process.start()
    yield process
    process.kill()
    emulator.user_sends_text(
        1, "/start"
    )  # ends the dead process's pending long poll, so the emulator stops at once


async def received(emulator: BotAPIEmulator, chat: int, text: str, timeout: float = 40) -> dict[str, Any]:
    """A message to chat containing text, sent at any time (already or within the timeout)."""
    for _ in range(int(timeout * 10)):
        found = [m for m in emulator.sent(chat) if text in (m.get("text") or m.get("caption") or "")]
        if found:
            return found[-1]
        await asyncio.sleep(0.1)
    raise AssertionError(
        f"{chat} never got {text!r}; got {[m.get('text') for m in emulator.sent(chat)][-5:]}"
    )


async def alert(
    emulator: BotAPIEmulator, user: int, message: dict[str, Any], label: str, expect: str
) -> None:
    before = len(emulator.calls("answerCallbackQuery"))
    emulator.press_button(user, message, label)
    for _ in range(400):
        answers = emulator.calls("answerCallbackQuery")[before:]
        if any(expect in (a.get("text") or "") for a in answers):
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"no alert {expect!r}: {answers}")


async def sweep_at(bot: BotProcess, before_close: timedelta) -> tuple[int, int]:
    engine = create_engine(f"sqlite+aiosqlite:///{bot.database}")
    try:
        async with session_factory(engine)() as session:
            review_round = await session.get(ReviewRound, 1)
            assert review_round is not None
            swept = await sweeps.sweep(session, review_round.closes_at + before_close)
    finally:
        await engine.dispose()
    # What the sweep queued is due at the moved time; the bot's own clock did not move, so bring it due now.
    with sqlite3.connect(bot.database) as connection:
        connection.execute(
            "UPDATE outboxmessage SET not_before = ? WHERE status = 'pending'",
            (datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f"),),
        )
    return swept


async def test_review_publicity_and_approval_over_http(emulator: BotAPIEmulator, bot: BotProcess) -> None:
    office = OFFICE_TG
    rounds = await say(emulator, office, "/rounds", "还没有评审轮次", timeout=60)
    await press(emulator, office, rounds, "开启新一轮评审", "请输入截止时间")
    closes = (
        (datetime.now(UTC) + timedelta(days=3))
        .astimezone(ZoneInfo("Asia/Shanghai"))
        .strftime("%Y-%m-%d %H:%M")
    )
    await say(emulator, office, closes, "第 1 轮评审已开启：3 项申报，委员 5 人")

    # Five reviewers; 5001 sits in the first nominee's recommending body and is recused automatically.
    await received(emulator, 5001, "您已自动回避")
    prompts = {
        (reviewer, nomination): await received(emulator, reviewer, f"· 第 {nomination} 号申报")
        for reviewer in REVIEWER_IDS
        for nomination in (1, 2, 3)
        if (reviewer, nomination) != (5001, 1)
    }
    assert not [m for m in emulator.sent(5001) if "· 第 1 号申报" in (m.get("text") or "")]
    assert len(prompts) == 14 and all(m.get("protect_content") in (True, "true") for m in prompts.values())

    # A vote, changed; a button forwarded to another reviewer does nothing.
    await press(emulator, 5002, prompts[(5002, 2)], "不同意", "已记录：第 2 号 不同意")
    await press(emulator, 5002, prompts[(5002, 2)], "同意", "已修改：第 2 号 改为 同意")
    await alert(emulator, 5003, prompts[(5002, 2)], "不同意", "不是发给您的")

    # The office reminds those who have not finished.
    rounds = await say(emulator, office, "/rounds", "第 1 轮")
    await alert(emulator, office, rounds, "立即提醒", "已提醒 5 位")
    for reviewer in REVIEWER_IDS:
        await received(emulator, reviewer, "⏰ 第 1 轮评审")

    # The clock moves to 47 h before the close: the periodic sweep (run here with that clock, on the
    # bot's database) queues the 48 h reminders, which the running bot delivers; a second sweep sends none.
    assert await sweep_at(bot, timedelta(hours=-47)) == (5, 0)
    assert await sweep_at(bot, timedelta(hours=-46)) == (0, 0)
    for reviewer in REVIEWER_IDS:
        await until(
            lambda r=reviewer: len([m for m in emulator.sent(r) if "⏰" in (m.get("text") or "")]) == 2
        )

    # Everyone votes: nomination 3 gets 2 for / 2 against / 1 abstain (not passed), the others pass.
    plan = {
        1: {5002: "同意", 5003: "同意", 5004: "同意", 5005: "不同意"},
        2: {5001: "同意", 5003: "同意", 5004: "同意", 5005: "弃权"},
        3: {5001: "同意", 5002: "同意", 5003: "不同意", 5004: "不同意", 5005: "弃权"},
    }
    for nomination, votes in plan.items():
        for reviewer, label in votes.items():
            await press(emulator, reviewer, prompts[(reviewer, nomination)], label, f"第 {nomination} 号")
    notice = await received(emulator, office, "第 1 轮评审已计票（全部委员已投票）：通过 2 项，未通过 1 项")
    await press(emulator, office, notice, "查看结果", "第 1 轮评审结果")
    assert emulator.calls("sendDocument")
    assert bot.query("SELECT id, stage FROM nomination ORDER BY id") == [
        (1, "shortlisted"),
        (2, "shortlisted"),
        (3, "not_selected"),
    ]
    assert bot.query("SELECT count(*) FROM auditrecord WHERE action = 'review.vote_changed'") == [(1,)]

    # 公示: only the nominee who agreed to publication is published (the third did not).
    listing = await say(emulator, office, "/publicity", "目前没有公示中的名单")
    await press(emulator, office, listing, "发布公示名单", "已发布公示名单：2 项")
    await received(emulator, 6003, "拟表彰名单公示")

    async def objection(objector: int, candidate: str, grounds: str) -> dict[str, Any]:
        shown = await say(emulator, objector, "/publicity", "拟表彰名单")
        asked = await press(emulator, objector, shown, f"对 {candidate} 提出异议", "请写明异议")
        asked = await say(emulator, objector, grounds, "证明材料")
        await press(emulator, objector, asked, "跳过", "真实姓名")
        await say(emulator, objector, "王芳", "联系电话")
        asked = await say(emulator, objector, "13800138000", "个人还是单位")
        return await press(emulator, objector, asked, "个人", "异议已受理")

    await objection(6003, "张伟", "事迹材料与事实不符")
    await objection(6002, "李娜", "有未处理的投诉")
    case_1 = await received(emulator, office, "异议第 1 号")
    case_2 = await received(emulator, office, "异议第 2 号")
    # By the campaign's calendar it is still 评审: the leading group is told so, and when to come back.
    await say(emulator, LEADER_TG, "/approve", "当前为「评审」阶段，不能审定：审定在「审定」阶段办理")
    await press(emulator, office, case_2, "异议不成立", "处理理由")
    await say(emulator, office, "投诉已妥善处理", "异议第 2 号：异议不成立")
    await press(emulator, office, case_1, "异议成立", "处理理由")
    await say(emulator, office, "经核实事迹不实", "异议第 1 号：异议成立")
    await received(emulator, 6003, "异议成立")
    await received(emulator, 6002, "异议不成立")
    await received(emulator, 6001, "撤出名单")
    await received(emulator, 6003, "第 2 版")  # the changed list, published again
    assert bot.query("SELECT edition, nomination_ids FROM publicity_list") == [(2, "[2]")]

    # The period ends (moved in the database: the process runs on the system clock), and the list is approved.
    # The campaign's calendar moves with it: the review closed three weeks ago, 审定 runs ten more days.
    def ago(days: float) -> str:
        return (datetime.now(UTC) - timedelta(days=days)).strftime("%Y-%m-%d %H:%M:%S.%f")

    with sqlite3.connect(bot.database) as connection:
        connection.execute("UPDATE publicity_list SET ends_at = ?", (ago(1 / 1440),))
        connection.execute(
            "UPDATE campaign SET review_opens = ?, review_closes = ?, announcement_at = ?",
            (ago(30), ago(21), ago(-10)),
        )
    leader = await say(emulator, LEADER_TG, "/approve", "待审定名单")
    await press(emulator, LEADER_TG, leader, "审定通过", "名单已审定：1 项")
    assert bot.query("SELECT approved_by IS NOT NULL FROM publicity_list") == [(1,)]
    assert bot.query("SELECT id, stage FROM nomination ORDER BY id") == [
        (1, "withdrawn_on_objection"),
        (2, "approved"),
        (3, "not_selected"),
    ]
    await received(emulator, 6002, "已经领导小组审定通过")
