"""Two webhook workers behind nginx on PostgreSQL and Redis, as deployed, under load: 300 people each
through the same five steps, updates POSTed the way Telegram does (40 connections, again until a
2xx), one worker SIGKILLed mid-load and started again, and an announcement to 500 subscribers.

It prints, then asserts: updates acknowledged but lost (answered 2xx, the reply expected never
came), lost replies, duplicate replies (counted by the bot in outboxmessage.resends, or not), whether
the scheduler ran in exactly one worker at a time, the busiest second of messages Telegram saw (its
limit is about 30 a second; the bot plans 25), and the busiest second of any broadcast recipient.

Duplicates and losses: everyone takes the same steps, so everyone receives the same number of
messages (sends and accepted edits) at each step. The baseline is that number among the people
whose run did not overlap the kill (the most common number if too few of them); more is a
duplicate, fewer a loss. Telegram refusing a second answer to one press, or an edit that changes
nothing, is invisible to the person and reported apart. A duplicate is counted when the chat's
outbox rows say they were sent again (`resends`) at least that often.

Rates are read from the emulator's timeline, stamped when its event loop (the test's) reads each
request: the workers run at nice 5 and the test's older objects are frozen out of the garbage
collector so that the stamps stay within tens of milliseconds; the report says how late the loop
ever was, and around the busiest second.

SERVICESTAR_WORKERS_USERS and SERVICESTAR_WORKERS_SUBSCRIBERS scale it down for a quick run."""

import asyncio
import gc
import itertools
import os
import statistics
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from models.db import session_factory
from tests.support.bot_process import containing, with_button
from tests.support.emulator import MESSAGES, BotAPIEmulator
from tests.support.people import insert_people
from tests.support.workers import SCHEDULER_LINE, Deployment, Incarnation, tail

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

USERS = int(os.environ.get("SERVICESTAR_WORKERS_USERS", "300"))
SUBSCRIBERS = int(os.environ.get("SERVICESTAR_WORKERS_SUBSCRIBERS", "500"))
ARRIVALS_PER_SECOND = 10.0  # people starting their journey, one after another
KILL_AT = 0.4  # SIGKILL a worker once this share of the journeys' updates has been acknowledged
RETRY_DELAY = 1.0  # Telegram POSTs an update again this long after an answer that was not 2xx
IDLE_GRACE = 10.0  # a person gives up waiting once their chat had nothing pending this long
STEP_TIMEOUT = 150.0  # ... and in any case after this long
PLANNED_RATE, TELEGRAM_RATE = 25, 30  # messages a second: the outbox's shared pace, Telegram's limit
OFFICE, FIRST_SUBSCRIBER, FIRST_USER = 880001, 600001, 700001
ANNOUNCEMENT = "第十届服务明星表彰大会 12月1日 召开"
HONOUR = "广东省用户满意服务明星"
BUSY = """SELECT chat_id FROM inboxupdate WHERE status = 'pending' AND chat_id IS NOT NULL
          UNION SELECT chat_id FROM outboxmessage WHERE status IN ('pending', 'sending')"""


@dataclass(frozen=True)
class Step:
    name: str
    expect: str  # the reply that ends the step contains this ...
    button: str | None = None  # ... and carries this button (the next step presses it)
    text: str | None = None  # what the person types, or
    press: str | None = None  # the button they press on the previous step's reply

    def done(self) -> Callable[[dict[str, Any]], bool]:
        has_text = containing(self.expect)
        if self.button is None:
            return has_text
        has_button = with_button(self.button)
        return lambda message: has_text(message) and has_button(message)


JOURNEY = (
    Step("/start", text="/start", expect="个人信息保护说明", button="同意"),
    Step("consent", press="同意", expect="请选择：", button="对照条件自评"),
    Step("/selfcheck", text="/selfcheck", expect="请选择要申报的称号", button=HONOUR),
    Step("honour", press=HONOUR, expect="第 1/7 题", button="是"),
    Step("yes", press="是", expect="第 2/7 题"),
)


@dataclass
class Taken:
    """One step one person took."""

    step: int
    update_id: int
    queued_at: float  # time.monotonic(), as the emulator's timeline
    seen: int  # messages the chat had before it
    replied_at: float | None = None
    gave_up: str | None = None  # why the person stopped waiting: "idle", "timeout"
    late: bool = False  # the expected reply came after all, after the person gave up


@dataclass
class Run:
    deployment: Deployment
    emulator: BotAPIEmulator
    journeys: dict[int, list[Taken]] = field(default_factory=dict)
    journey_updates: set[int] = field(default_factory=set)
    last_busy: dict[int, float] = field(default_factory=dict)  # chat -> when the monitor last saw it busy
    busy_now: set[int] = field(default_factory=set)
    checked_at: float = 0.0  # when the monitor's last completed look started
    holders: list[tuple[float, int]] = field(
        default_factory=list
    )  # (time.monotonic(), scheduler lock holders)
    monitor_errors: list[str] = field(default_factory=list)
    lags: list[tuple[float, float]] = field(default_factory=list)  # (when, how late) the test's event loop
    # woke up late, over 20 ms: the emulator runs in it, and stamps a request when it gets to it
    killed: Incarnation | None = None
    kill_at: float | None = None  # time.monotonic()
    back_at: float | None = None  # the restarted worker accepts connections again
    kill_wall: float | None = None  # time.time(), to compare with the workers' logs

    # Watching ------------------------------------------------------------------------------------

    async def monitor(self, stop: asyncio.Event) -> None:
        """Every half second: which chats have updates or messages pending, and who holds the scheduler
        lock."""
        while not stop.is_set():
            started = time.monotonic()
            try:
                chats = {int(chat) for (chat,) in await self.deployment.query(BUSY)}
                holders = await self.deployment.scheduler_holders()
            except Exception as exc:  # noqa: BLE001  (reported: a blind monitor makes people give up late)
                self.monitor_errors.append(repr(exc))
            else:
                for chat in chats:
                    self.last_busy[chat] = started
                self.busy_now, self.checked_at = chats, started
                self.holders.append((started, holders))
            try:
                await asyncio.wait_for(stop.wait(), 0.5)
            except TimeoutError:
                pass

    async def lag(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            before = time.monotonic()
            await asyncio.sleep(0.02)
            if (late := time.monotonic() - before - 0.02) > 0.02:
                self.lags.append((before, late))

    # A person ------------------------------------------------------------------------------------

    def act(self, user: int, step: Step, reply: dict[str, Any] | None) -> int:
        if step.text is not None:
            return self.emulator.user_sends_text(user, step.text)
        assert reply is not None and step.press is not None
        return self.emulator.press_button(user, reply, step.press)

    async def reply(
        self, user: int, seen: int, step: Step, taken: Taken, timeout: float
    ) -> dict[str, Any] | None:
        """The message that ends the step, or None once the person gives up: their update was
        acknowledged and nothing was pending for their chat for IDLE_GRACE seconds (nor did a
        message reach them), or STEP_TIMEOUT passed."""
        done = step.done()
        while True:
            for message in self.emulator.sent(user)[seen:]:
                if done(message):
                    taken.replied_at = time.monotonic()
                    return message
            now = time.monotonic()
            if now - taken.queued_at > timeout:
                taken.gave_up = "timeout"
                return None
            acknowledged = self.emulator.deliveries[taken.update_id].acknowledged_at
            if acknowledged is not None:
                heard = self.emulator.message_times(user)
                active = max(acknowledged, self.last_busy.get(user, 0.0), heard[-1] if heard else 0.0)
                if self.checked_at - active > IDLE_GRACE:
                    taken.gave_up = "idle"
                    return None
            await asyncio.sleep(0.2)

    async def take(
        self,
        user: int,
        steps: tuple[Step, ...],
        timeout: float = STEP_TIMEOUT,
        journey: bool = True,
        after: dict[str, Any] | None = None,
    ) -> dict[str, Any] | None:
        """Take the steps in order (the first pressing a button on `after`); stop at the first whose
        reply does not come (the office's steps must all be answered)."""
        reply = after
        taken_steps = self.journeys.setdefault(user, []) if journey else []
        for index, step in enumerate(steps):
            seen = len(self.emulator.sent(user))
            update_id = self.act(user, step, reply)
            if journey:
                self.journey_updates.add(update_id)
            taken = Taken(index, update_id, self.emulator.deliveries[update_id].queued_at, seen)
            taken_steps.append(taken)
            reply = await self.reply(user, seen, step, taken, timeout)
            if reply is None:
                if not journey:
                    raise AssertionError(
                        f"chat {user}: no reply to {step.name} ({taken.gave_up}); "
                        f"got {[m.get('text', '')[:40] for m in self.emulator.sent(user)[seen:]]}"
                    )
                return None
        return reply

    # The kill ------------------------------------------------------------------------------------

    def acknowledged(self) -> int:
        return sum(1 for u in self.journey_updates if self.emulator.deliveries[u].acknowledged_at is not None)

    async def kill_mid_load(self) -> None:
        """Once KILL_AT of the journeys' updates are acknowledged: SIGKILL the worker that runs the
        scheduler (so another must take it over), and start it again at once."""
        target = max(1, int(KILL_AT * USERS * len(JOURNEY)))
        while self.acknowledged() < target:
            await asyncio.sleep(0.05)
        workers = self.deployment.workers
        leader = next((w for w in workers if w.alive() and w.current.scheduler_since()), workers[0])
        self.killed, self.kill_at, self.kill_wall = leader.current, time.monotonic(), time.time()
        await leader.kill()
        leader.start()
        await leader.ready()
        self.back_at = time.monotonic()


# The office's announcement ------------------------------------------------------------------------


async def seed_subscribers(deployment: Deployment) -> list[int]:
    """Subscribers who consented earlier, straight into the workers' (migrated) database."""
    chats = list(range(FIRST_SUBSCRIBER, FIRST_SUBSCRIBER + SUBSCRIBERS))
    now = datetime.now(UTC)
    assert deployment.engine is not None
    async with session_factory(deployment.engine)() as session:
        await insert_people(session, chats, now)
        await session.commit()
    return chats


async def office_announces(run: Run) -> dict[str, Any]:
    """The office consents, unsubscribes itself (only the seeded subscribers get it), writes the
    announcement, previews it and confirms; returns the progress message."""
    office = (
        Step("/start", text="/start", expect="个人信息保护说明", button="同意"),
        Step("consent", press="同意", expect="请选择：", button="对照条件自评"),
        Step("/unsubscribe", text="/unsubscribe", expect="已退订公告"),
    )
    await run.take(OFFICE, office, timeout=60, journey=False)
    compose = (
        Step("/announce", text="/announce", expect="请发送公告正文"),
        Step("text", text=ANNOUNCEMENT, expect="已记录正文", button="预览"),
        Step("preview", press="预览", expect="确认发送吗", button="确认发送"),
    )
    question = await run.take(OFFICE, compose, timeout=60, journey=False)
    assert question is not None and f"发送给 {SUBSCRIBERS} 位订阅者" in question["text"], question
    confirm = (Step("confirm", press="确认发送", expect="📣 公告发送中"),)
    progress = await run.take(OFFICE, confirm, timeout=60, journey=False, after=question)
    assert progress is not None
    return progress


async def until(condition: Callable[[], Any], timeout: float, what: str, every: float = 0.5) -> None:
    deadline = time.monotonic() + timeout
    while not await condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout}s")
        await asyncio.sleep(every)


async def broadcast_finished(deployment: Deployment) -> bool:
    return bool(await deployment.query("SELECT 1 FROM broadcast WHERE finished_at IS NOT NULL"))


# Figures ------------------------------------------------------------------------------------------


def busiest(times: list[float], window: float = 1.0) -> int:
    """The most events in any `window` seconds (a window opening at each event)."""
    return busiest_window(times, window)[0]


def busiest_window(times: list[float], window: float = 1.0) -> tuple[int, float]:
    """The most events in any `window` seconds, and when that window opens."""
    times = sorted(times)
    most, start, opens = 0, 0, 0.0
    for end, at in enumerate(times):
        while at - times[start] >= window:
            start += 1
        if end - start + 1 > most:
            most, opens = end - start + 1, times[start]
    return most, opens


def per_step(run: Run, user: int) -> list[int]:
    """Messages the person received (sends and accepted edits) while each step was theirs: from
    the step's update to the next step's (the last step's, to the end)."""
    taken = run.journeys[user]
    counts = [0] * len(taken)
    for at in run.emulator.message_times(user, accepted_only=True):
        index = max((t.step for t in taken if t.queued_at <= at), default=None)
        if index is not None:
            counts[index] += 1
    return counts


def saw_kill(run: Run, user: int) -> bool:
    """The journey overlapped the kill: from the kill until five seconds after the restart."""
    if run.kill_at is None or run.back_at is None:
        return run.kill_at is not None
    taken = run.journeys[user]
    start = taken[0].queued_at
    end = max(t.replied_at or (t.queued_at + STEP_TIMEOUT) for t in taken)
    return start <= run.back_at + 5 and end >= run.kill_at


@dataclass
class Figures:
    lines: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def say(self, line: str) -> None:
        self.lines.append(line)

    def check(self, ok: bool, what: str) -> None:
        if not ok:
            self.failures.append(what)


async def figures(run: Run, subscribers: list[int]) -> Figures:
    report = Figures()
    users = sorted(run.journeys)
    updates(run, users, report)
    await replies(run, users, subscribers, report)
    await scheduler(run, report)
    await rates(run, subscribers, report)
    await announcement(run, subscribers, report)
    workers(run, report)
    return report


def updates(run: Run, users: list[int], report: Figures) -> None:
    """Every update acknowledged; every acknowledged one answered as expected."""
    emulator = run.emulator
    deliveries = [emulator.deliveries[u] for u in run.journey_updates]
    never_acked = sum(1 for d in deliveries if d.acknowledged_at is None)
    retried = sum(1 for d in deliveries if len(d.attempts) > 1)
    outcomes = Counter(str(outcome) for d in deliveries for _, outcome in d.attempts)
    given_up = [(user, t) for user in users for t in run.journeys[user] if t.gave_up]
    for user, taken in given_up:  # the reply may have come after the person gave up
        taken.late = any(JOURNEY[taken.step].done()(m) for m in emulator.sent(user)[taken.seen :])
    acked_lost = sum(
        1 for _, t in given_up if emulator.deliveries[t.update_id].acknowledged_at is not None and not t.late
    )
    late = sum(1 for _, t in given_up if t.late)
    completed = sum(
        1
        for user in users
        if run.journeys[user][-1].replied_at is not None and len(run.journeys[user]) == len(JOURNEY)
    )
    why = dict(Counter(t.gave_up for _, t in given_up))
    where = dict(Counter(JOURNEY[t.step].name for _, t in given_up))
    report.say(
        f"journeys: {len(users)} people x {len(JOURNEY)} steps ({' → '.join(s.name for s in JOURNEY)}); "
        f"completed {completed}, stopped early {len(given_up)}"
        + (f" ({why}, at {where})" if given_up else "")
    )
    report.say(
        f"updates: {len(deliveries)} POSTed through nginx; acknowledged {len(deliveries) - never_acked}, "
        f"never acknowledged {never_acked}; POSTed more than once {retried}; answers {dict(outcomes)}"
    )
    nginx = run.deployment.nginx
    report.say(f"nginx: upstream answers {nginx.upstream_statuses() if nginx else {}}")
    report.say(
        f"updates acknowledged but lost (2xx, expected reply never came): {acked_lost}"
        f" (and {late} replies that came only after the person gave up)"
    )
    report.check(never_acked == 0, f"{never_acked} updates never acknowledged")
    report.check(acked_lost == 0, f"{acked_lost} updates acknowledged but lost")


async def replies(run: Run, users: list[int], subscribers: list[int], report: Figures) -> None:
    """Messages per step against the baseline: fewer lost, more duplicated; duplicates against the
    re-sends the bot counted in the same chat."""
    emulator, deployment = run.emulator, run.deployment
    counts = {user: per_step(run, user) for user in users}
    clean = [user for user in users if not saw_kill(run, user)]
    baseline: list[int] = []
    for index in range(len(JOURNEY)):
        reached = [counts[u][index] for u in users if len(counts[u]) > index]
        clean_reached = [counts[u][index] for u in clean if len(counts[u]) > index]
        source = clean_reached if len(clean_reached) >= 10 else reached
        baseline.append(statistics.mode(source) if source else 0)
    lost = 0
    doubled: Counter[int] = Counter()  # duplicates seen, by chat: replies, and the announcement
    deviations: Counter[str] = Counter()
    for user in users:
        for index, got in enumerate(counts[user]):
            if got != baseline[index]:
                deviations[f"{JOURNEY[index].name} {got - baseline[index]:+d}"] += 1
            lost += max(0, baseline[index] - got)
            doubled[user] += max(0, got - baseline[index])
    for chat in subscribers:
        doubled[chat] += max(0, received(emulator, chat) - 1)
    replies_doubled = sum(doubled[user] for user in users)
    duplicates = sum(doubled.values())
    counted_by_chat = {
        int(chat): int(n)
        for chat, n in await deployment.query(
            "SELECT chat_id, SUM(resends) FROM outboxmessage WHERE resends > 0 GROUP BY chat_id"
        )
    }
    counted = sum(counted_by_chat.values())
    # A re-send the bot counted in one chat does not account for a duplicate in another.
    uncounted = sum(max(0, n - counted_by_chat.get(chat, 0)) for chat, n in doubled.items())
    source = f"the {len(clean)} people the kill did not touch" if len(clean) >= 10 else "the mode of all"
    report.say(
        f"messages per step (baseline from {source}): "
        f"{dict(zip((s.name for s in JOURNEY), baseline, strict=True))}"
    )
    report.say(
        f"lost replies: {lost}; duplicates seen: {duplicates} ({replies_doubled} replies, "
        f"{duplicates - replies_doubled} announcements); counted by the bot (outboxmessage.resends): "
        f"{counted}; uncounted: {uncounted} chat by "
        f"chat, {max(0, duplicates - counted)} in all; people deviating, by step: {dict(deviations)}"
    )
    for user in [u for u in users if counts[u] != baseline[: len(counts[u])]][
        :3
    ]:  # what deviating looks like
        shown = [
            f"{m.get('message_id')}:{(m.get('text') or m.get('caption') or '')[:14]!r}"
            for m in emulator.sent(user)
        ]
        report.say(f"  e.g. {user}: per step {counts[user]}, received {shown}")
    refusals = Counter(f"{method}: {description[:60]}" for method, description in emulator.rules.refusals)
    report.say(f"refused by Telegram, invisible to the person: {dict(refusals) or 'none'}")
    dead = (await deployment.query("SELECT count(*) FROM inboxupdate WHERE status = 'dead'"))[0][0]
    report.say(f"dead letters: {dead}")
    report.check(lost == 0, f"{lost} lost replies")
    report.check(uncounted == 0, f"{uncounted} duplicates (replies or announcements) the bot did not count")
    report.check(all(baseline), f"the harness saw a step with no reply at all: {baseline}")


async def scheduler(run: Run, report: Figures) -> None:
    """The advisory lock's holders as sampled, and the workers' own word for it, never two at once."""
    samples = [n for _, n in run.holders]
    final_holders = await run.deployment.scheduler_holders()
    intervals = sorted(
        (since, incarnation.killed or incarnation.ended or time.time(), incarnation.label)
        for worker in run.deployment.workers
        for incarnation in worker.incarnations
        for since in incarnation.scheduler_since()
    )
    overlaps = [(a[2], b[2]) for a, b in itertools.pairwise(intervals) if b[0] < a[1]]
    said = [(label, f"{since - (run.kill_wall or 0.0):+.1f}s") for since, _, label in intervals]
    report.say(
        f"scheduler: lock holders sampled {len(samples)} times every 0.5 s: max {max(samples, default=0)}, "
        f"none in {samples.count(0)} samples, {final_holders} at the end; '{SCHEDULER_LINE}' in {said} "
        f"(from the kill of {run.killed.label if run.killed else '?'}); overlapping: {overlaps or 'none'}"
    )
    report.check(max(samples, default=0) <= 1 and not overlaps, "the scheduler ran in two workers at once")
    report.check(final_holders == 1 and bool(intervals), "no worker runs the scheduler at the end")


async def rates(run: Run, subscribers: list[int], report: Figures) -> None:
    """The busiest second of all sends and edits Telegram saw, and of each broadcast recipient."""
    emulator = run.emulator
    all_messages = emulator.message_times()
    rate, opens = busiest_window(all_messages)
    announced = set(subscribers)
    in_busiest = Counter(
        call.method
        + (" (announcement)" if call.chat_id in announced else "")
        + ("" if call.status == 200 else f" {call.status}")
        for call in emulator.timeline
        if call.method in MESSAGES and opens <= call.at < opens + 1
    )
    recipients = {
        int(chat)
        for (chat,) in await run.deployment.query(
            "SELECT DISTINCT chat_id FROM outboxmessage WHERE broadcast_id IS NOT NULL"
        )
    }
    per_chat = {chat: busiest(emulator.message_times(chat)) for chat in recipients}
    over = sum(1 for n in per_chat.values() if n > 1)
    worst = max((late for _, late in run.lags), default=0.0)
    around = max((late for at, late in run.lags if opens - 1 <= at <= opens + 1), default=0.0)
    longest = [
        f"{late * 1000:.0f} ms at {at - (run.kill_at or 0.0):+.1f}s"
        for at, late in sorted(run.lags, key=lambda lag: -lag[1])[:3]
    ]
    report.say(
        f"send rate seen by Telegram: busiest second {rate} messages (limit {TELEGRAM_RATE}, planned "
        f"{PLANNED_RATE}); {len(all_messages)} sends and edits in all; in the busiest second: "
        f"{dict(in_busiest)}"
    )
    report.say(
        f"  the test's loop (the emulator's clock) was late by up to {worst * 1000:.0f} ms, "
        f"{around * 1000:.0f} ms around the busiest second (the longest, from the kill: {longest})"
    )
    report.say(
        f"broadcast recipients: busiest second of any one {max(per_chat.values(), default=0)} (limit 1); "
        f"{over} of {len(per_chat)} got more than one message within a second"
    )
    report.check(rate <= TELEGRAM_RATE, f"{rate} messages in one second (Telegram allows {TELEGRAM_RATE})")
    report.check(over == 0, f"{over} broadcast recipients got more than one message a second")


async def announcement(run: Run, subscribers: list[int], report: Figures) -> None:
    receipts = Counter(received(run.emulator, chat) for chat in subscribers)
    statuses = dict(
        await run.deployment.query(
            "SELECT status, count(*) FROM outboxmessage WHERE broadcast_id IS NOT NULL GROUP BY status"
        )
    )
    final = [m.get("text", "") for m in run.emulator.sent(OFFICE) if "📣" in (m.get("text") or "")]
    report.say(
        f"announcement: {len(subscribers)} subscribers received it {dict(sorted(receipts.items()))} times; "
        f"outbox rows {statuses}; office's last progress: {final[-1].splitlines()[0] if final else 'none'}"
    )
    missed, uncertain = receipts.get(0, 0), statuses.get("uncertain", 0)
    report.check(
        missed <= uncertain, f"{missed} subscribers never received it, only {uncertain} rows uncertain"
    )


def workers(run: Run, report: Figures) -> None:
    incarnations = [i for w in run.deployment.workers for i in w.incarnations]
    exits = [
        (i.label, i.process.returncode) for i in incarnations if i.process.poll() is not None and not i.killed
    ]
    began = min((run.emulator.deliveries[u].queued_at for u in run.journey_updates), default=0.0)
    kill = (
        f"SIGKILL {run.kill_at - began:.1f}s into the journeys, accepting again "
        f"{run.back_at - run.kill_at:.1f}s later"
        if run.kill_at is not None and run.back_at is not None
        else "no kill and restart happened"
    )
    report.say(
        f"workers: {[(i.label, 'killed' if i.killed else 'running') for i in incarnations]}; {kill}; "
        f"exited by themselves: {exits or 'none'}; monitor errors: {len(run.monitor_errors)}"
    )
    report.check(not exits, f"workers exited by themselves: {exits}")
    report.check(run.back_at is not None, "no worker was killed and restarted mid-load")


def received(emulator: BotAPIEmulator, chat: int) -> int:
    """How many times `chat` received the announcement."""
    return sum(1 for message in emulator.sent(chat) if message.get("text") == ANNOUNCEMENT)


# The test -----------------------------------------------------------------------------------------


@pytest.fixture
async def deployment(tmp_path: Path) -> AsyncIterator[Deployment]:
    async with BotAPIEmulator() as emulator:
        emulator.webhook_retry_delay = RETRY_DELAY
        running = Deployment(tmp_path, emulator, (OFFICE,))
        # A full collection of everything pytest, SQLAlchemy and aiogram loaded stopped the
        # emulator's loop for up to half a second, and bunched its timestamps: collect only
        # what the test makes.
        gc.collect()
        gc.freeze()
        try:
            await running.start()
            yield running
        finally:
            gc.unfreeze()
            await running.close()


async def test_two_workers_behind_nginx_lose_nothing_and_keep_telegrams_pace(deployment: Deployment) -> None:
    emulator = deployment.emulator
    assert deployment.nginx is not None
    hooks = {call.get("url") for call in emulator.calls("setWebhook")}
    assert hooks == {f"http://127.0.0.1:{deployment.nginx.port}/telegram"}, hooks  # every worker behind nginx
    run = Run(deployment, emulator)
    stop = asyncio.Event()
    watchers = [asyncio.create_task(run.monitor(stop)), asyncio.create_task(run.lag(stop))]
    people: list[asyncio.Task[Any]] = []
    started = time.monotonic()
    try:
        subscribers = await seed_subscribers(deployment)
        await office_announces(run)
        killing = asyncio.create_task(run.kill_mid_load())
        people.append(killing)
        for number in range(USERS):
            people.append(asyncio.create_task(run.take(FIRST_USER + number, JOURNEY)))
            await asyncio.sleep(1 / ARRIVALS_PER_SECOND)
        await asyncio.gather(*people[1:])
        if not killing.done():  # too few updates were acknowledged to reach KILL_AT
            killing.cancel()
        await asyncio.gather(killing, return_exceptions=True)
        await until(lambda: broadcast_finished(deployment), 120, "the announcement finishing")
        await until(lambda: _quiet(run), 60, "everything settling")
    except BaseException:
        for worker in deployment.workers:
            print(f"--- {worker.current.label} log tail ---\n{tail(worker.current.log)}")
        raise
    finally:
        stop.set()
        for task in people:
            task.cancel()
        await asyncio.gather(*watchers, *people, return_exceptions=True)
    report = await figures(run, subscribers)
    print(f"\n=== two workers behind nginx, {time.monotonic() - started:.0f}s ===")
    print("\n".join(report.lines))
    assert not report.failures, "\n".join([*report.failures, "", *report.lines])


async def _quiet(run: Run) -> bool:
    """Nothing pending anywhere, and no message for two seconds."""
    times = run.emulator.message_times()
    return not run.busy_now and run.checked_at > 0 and (not times or time.monotonic() - times[-1] > 2.0)
