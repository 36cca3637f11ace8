"""Whole journeys: the real entry point (`python -m bot`, in its own process) polling a Bot API
emulator over HTTP, killed with SIGKILL mid-conversation and started again."""

import asyncio
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.bot_process import BotProcess, containing, press, say, until, watch
from tests.support.emulator import BotAPIEmulator

OFFICE, APPLICANT, REVIEWER = 810001, 810002, 810003


@pytest.fixture
def bot(emulator: BotAPIEmulator, tmp_path: Path) -> Iterator[BotProcess]:
    process = BotProcess(emulator.base_url, tmp_path, OFFICE)
    process.start()
    yield process
    process.kill()


async def test_self_check_survives_sigkill_and_duplicates_change_nothing(
    emulator: BotAPIEmulator, bot: BotProcess
) -> None:
    notice = await say(emulator, APPLICANT, "/start", "个人信息保护说明", timeout=60)
    menus = {
        call.get("language_code"): {c["command"]: c["description"] for c in call["commands"]}
        for call in emulator.calls("setMyCommands")
    }
    assert menus[None]["selfcheck"] == "对照条件自评" and menus["en"]["selfcheck"] == "check my eligibility"
    emulator.duplicate_next_update()  # Telegram delivers the consent press twice
    menu = await press(emulator, APPLICANT, notice, "同意", "请选择")
    honours = await press(emulator, APPLICANT, menu, "对照条件自评", "请选择要申报的称号")
    question = await press(emulator, APPLICANT, honours, "广东省用户满意服务明星", "第 1/7 题")
    question = await press(emulator, APPLICANT, question, "是", "第 2/7 题")
    question = await press(emulator, APPLICANT, question, "是", "第 3/7 题")
    bot.kill()  # no shutdown, no flush: whatever was acknowledged must be on disk
    emulator.user_sends_text(APPLICANT, "/selfcheck")  # arrives while the bot is down
    bot.start()
    offer = await emulator.wait_for(APPLICANT, containing("第 3/7 题"), timeout=60)
    question = await press(emulator, APPLICANT, offer, "继续", "第 3/7 题")
    for number in range(3, 8):
        question = await press(emulator, APPLICANT, question, "是", "第 " if number < 7 else "自评结果")
    assert "结论：<b>符合</b>" in (question.get("text") or "") or "结论：符合" in (question.get("text") or "")
    assert bot.query("SELECT count(*) FROM auditrecord WHERE action = 'person.consented'") == [(1,)]
    assert bot.query("SELECT verdict FROM selfcheck WHERE status = 'finished'") == [("eligible",)]


async def test_outbox_waits_out_429_and_marks_403(emulator: BotAPIEmulator, bot: BotProcess) -> None:
    notice = await say(emulator, OFFICE, "/start", "个人信息保护说明", timeout=60)
    await press(emulator, OFFICE, notice, "同意", "请选择")
    roles = await say(emulator, OFFICE, "/invite", "请选择角色")
    link = await press(emulator, OFFICE, roles, "评审委员", "一次性链接")
    payload = (link["text"].split("start=", 1)[1]).split()[0]
    invited = await say(emulator, REVIEWER, f"/start {payload}", "个人信息保护说明")
    offer = await press(emulator, REVIEWER, invited, "同意", "接受邀请")
    emulator.fail_next("sendMessage", error_code=429, retry_after=2)  # the office's notice meets a 429
    before = len(emulator.sent(OFFICE))
    told_office = watch(emulator, OFFICE, containing("已接受邀请"))
    await press(emulator, REVIEWER, offer, "接受邀请", "您已成为评审委员")
    await told_office
    await asyncio.sleep(2)
    notices = [m for m in emulator.sent(OFFICE)[before:] if "已接受邀请" in (m.get("text") or "")]
    assert len(notices) == 1  # delivered after the wait, exactly once
    assert bot.query("SELECT status FROM outboxmessage") == [("sent",)]
    # The reviewer blocks the bot; a role revocation notice then meets a 403.
    emulator.block(REVIEWER)
    listing = await say(emulator, OFFICE, "/roles", "当前角色")
    revoke = next(
        b["text"]
        for row in listing["reply_markup"]["inline_keyboard"]
        for b in row
        if "评审委员" in b["text"]
    )
    await press(emulator, OFFICE, listing, revoke, "撤销原因")
    await say(emulator, OFFICE, "任期届满", "已撤销")
    await until(
        lambda: (
            bot.query(
                "SELECT blocked_at IS NOT NULL FROM person JOIN channelaccount ON person_id = person.id "
                f"WHERE address = '{REVIEWER}'"
            )
            == [(1,)]
        )
    )
    assert ("blocked",) in bot.query("SELECT status FROM outboxmessage")


async def test_a_stop_signal_ends_the_bot_cleanly_and_what_came_meanwhile_is_answered_after(
    emulator: BotAPIEmulator, bot: BotProcess
) -> None:
    await say(emulator, APPLICANT, "/start", "个人信息保护说明", timeout=60)
    assert bot.process is not None
    bot.process.send_signal(signal.SIGTERM)  # a deploy, systemd, docker stop
    assert await asyncio.to_thread(bot.process.wait, 20) == 0  # not killed by the signal: it stopped
    emulator.user_sends_text(APPLICANT, "/help")
    bot.start()
    await emulator.wait_for(APPLICANT, containing("/selfcheck"), timeout=60)
