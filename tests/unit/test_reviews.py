"""Review rounds, ballots, reminders, the count, 公示 with objections and approval, as use cases on
both databases with a fixed clock. The ballot trigger is exercised directly on each database."""

import asyncio
from datetime import UTC, datetime, timedelta
from fractions import Fraction

import pytest
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.channel import address
from models import (
    AuditRecord,
    Ballot,
    Nomination,
    Objection,
    OutboxMessage,
    PublicityList,
    Recusal,
    ReviewReminder,
    ReviewRound,
    Role,
    RoleAssignment,
    RoundNomination,
)
from services import campaigns, people
from services.actors import Actor
from services.errors import DomainError
from services.publicity import approval, objections
from services.publicity import listing as publicity_list
from services.publicity import sweeps as publicity_sweeps
from services.reviews import results, rounds, voting
from services.reviews import sweeps as review_sweeps
from tests.support.lifecycle_guard import seeding
from tests.support.people import chat_of

pytestmark = pytest.mark.article("第十六条第2项", "第十六条第3项")

START = datetime(2026, 6, 1, 1, 0, tzinfo=UTC)  # a Monday, 09:00 in Beijing
APPROVAL_PHASE = START + timedelta(
    days=30
)  # the campaign below: 公示 ends about 22 June, 审定 runs to 16 July
OFFICE_TG, LEADER_TG = 900001, 7001
REVIEWERS = {
    5001: ("赵委员", 1),
    5002: ("钱委员", 2),
    5003: ("孙委员", None),
    5004: ("李委员", None),
    5005: ("周委员", None),
}  # 5001 sits in 广东质协, which recommended the first nomination
NOMINEES = [
    (6001, "张伟", "广州地铁", 1, True),
    (6002, "李娜", "深圳供电局", 4, True),
    (6003, "王芳", "佛山银行", 4, False),
]


@pytest.fixture
async def ready(sessions: async_sessionmaker[AsyncSession]) -> async_sessionmaker[AsyncSession]:
    await seed(sessions, START)
    return sessions


async def seed(sessions: async_sessionmaker[AsyncSession], now: datetime) -> dict[str, int]:
    """An office member, a leading-group member, five reviewers, and three nominations that passed the
    preliminary check (the third without consent to publication)."""
    async with sessions() as session:
        office = await people.register(
            session, address=address(OFFICE_TG), name="王主任", language="zh_CN", now=now, office=True
        )
        leader = await people.register(
            session, address=address(LEADER_TG), name="林组长", language="zh_CN", now=now
        )
        await people.grant_role(
            session,
            person_id=leader.id or 0,
            role=Role.LEADING_GROUP,
            organisation_id=None,
            granted_by=office.id,
            now=now,
            reason="test",
        )
        for telegram_id, (name, organisation) in REVIEWERS.items():
            person = await people.register(
                session, address=address(telegram_id), name=name, language="zh_CN", now=now
            )
            await people.grant_role(
                session,
                person_id=person.id or 0,
                role=Role.REVIEWER,
                organisation_id=organisation,
                granted_by=office.id,
                now=now,
                reason="test",
            )
        actor = await people.load_actor(session, address(OFFICE_TG), fallback_language="zh_CN")
        day = lambda days: now + timedelta(days=days)  # noqa: E731  (the review phase is under way at `now`)
        campaign = await campaigns.create(
            session,
            actor,
            year=now.year,
            honours=["STAR", "TEAM", "MANAGER", "ENTERPRISE"],
            publicity_workdays=5,
            now=now,
            dates={
                "nomination_opens": day(-90),
                "nomination_closes": day(-60),
                "precheck_deadline": day(-30),
                "review_opens": day(-1),
                "review_closes": day(14),
                "announcement_at": day(45),
            },
        )
        for telegram_id, name, employer, organisation, consent in NOMINEES:
            person = await people.register(
                session, address=address(telegram_id), name=name, language="zh_CN", now=now
            )
            with seeding():
                session.add(
                    Nomination(
                        campaign_id=campaign.id or 0,
                        honour="STAR",
                        applicant_id=person.id or 0,
                        organisation_id=organisation,
                        stage="passed",
                        created_at=now,
                        updated_at=now,
                        fields={"name": name, "employer": employer, "phone": "+8613800138000"},
                        publish_consent_at=now if consent else None,
                    )
                )
        await session.commit()
        return {"campaign": campaign.id or 0}


async def actor_of(session: AsyncSession, telegram_id: int) -> Actor:
    return await people.load_actor(session, address(telegram_id), fallback_language="zh_CN")


async def open_round(sessions: async_sessionmaker[AsyncSession], now: datetime = START, **options) -> int:  # type: ignore[no-untyped-def]
    async with sessions() as session:
        office = await actor_of(session, OFFICE_TG)
        campaign = await campaigns.current(session, now)
        assert campaign is not None
        review_round = await rounds.open_round(
            session,
            office,
            campaign_id=campaign.campaign.id or 0,
            closes_at=now + timedelta(days=3),
            now=now,
            **options,
        )
        return review_round.id or 0


async def vote(
    sessions: async_sessionmaker[AsyncSession],
    telegram_id: int,
    round_id: int,
    nomination_id: int,
    choice: str,
    now: datetime = START,
) -> voting.VoteResult:
    async with sessions() as session:
        return await voting.cast_vote(
            session, await actor_of(session, telegram_id), round_id, nomination_id, choice, now
        )


async def test_opening_a_round_recuses_prompts_and_schedules_reminders(ready) -> None:  # type: ignore[no-untyped-def]
    round_id = await open_round(ready)
    async with ready() as session:
        recusals = (await session.exec(select(Recusal))).all()
        assert [(r.nomination_id, r.reason, r.automatic) for r in recusals] == [
            (1, "auto.recommending_body", True)
        ]
        prompts = (
            await session.exec(select(OutboxMessage).where(OutboxMessage.template == "review.prompt"))
        ).all()
        assert len(prompts) == 5 * 3 - 1 and all(p.protect for p in prompts)
        assert not [p for p in prompts if await chat_of(session, p) == 5001 and p.params["id"] == 1]
        labels = [b["label"] for row in prompts[0].buttons for b in row]
        assert labels == [
            "review.vote.for",
            "review.vote.against",
            "review.vote.abstain",
            "review.files",
            "review.comment",
            "review.recuse",
        ]
        notice = (
            await session.exec(select(OutboxMessage).where(OutboxMessage.template == "review.recused_notice"))
        ).one()
        assert (
            await chat_of(session, notice) == 5001
            and notice.params["why_key"] == "review.recusal.auto.recommending_body"
        )
        assert len((await session.exec(select(ReviewReminder))).all()) == 5 * 3
        audit = (await session.exec(select(AuditRecord.action))).all()
        assert "review.round_opened" in audit and "review.recused" in audit
        with pytest.raises(DomainError) as again:  # every passed nomination is already in an open round
            await rounds.open_round(
                session,
                await actor_of(session, OFFICE_TG),
                campaign_id=1,
                closes_at=START + timedelta(days=1),
                now=START,
            )
        assert again.value.code == "review.nothing_to_review"
    assert round_id == 1


async def test_the_employer_match_recuses_too(ready) -> None:  # type: ignore[no-untyped-def]
    async with ready() as session:
        nomination = await session.get(Nomination, 2)
        assert nomination is not None
        nomination.fields = {**nomination.fields, "employer": "省总工会机关服务中心"}  # 5002 sits in 省总工会
        session.add(nomination)
        await session.commit()
    await open_round(ready)
    async with ready() as session:
        pairs = {
            (r.reviewer_id, r.nomination_id, r.reason) for r in (await session.exec(select(Recusal))).all()
        }
        person = (await session.exec(people.at(address(5002)))).one()
        assert (person.id, 2, "auto.employer") in pairs


async def test_votes_change_until_everyone_voted_then_the_round_is_counted(ready) -> None:  # type: ignore[no-untyped-def]
    round_id = await open_round(ready)
    first = await vote(ready, 5002, round_id, 1, "against")
    again = await vote(ready, 5002, round_id, 1, "for", START + timedelta(hours=1))
    same = await vote(ready, 5002, round_id, 1, "for", START + timedelta(hours=2))  # a re-sent press
    assert (first.changed, again.changed, same.changed, again.voted, again.total) == (
        False,
        True,
        False,
        1,
        3,
    )
    plan = {
        1: ["for", "for", "against", "abstain"],  # 5002..5005: 2 of 4 for, not more than half
        2: ["for", "for", "for", "against", "abstain"],
        3: ["against", "against", "for", "for", "abstain"],
    }
    result = None
    for nomination_id, choices in plan.items():
        voters = [5002, 5003, 5004, 5005] if nomination_id == 1 else [5001, 5002, 5003, 5004, 5005]
        for telegram_id, choice in zip(voters, choices, strict=True):
            result = await vote(ready, telegram_id, round_id, nomination_id, choice)
    assert result is not None and result.closed
    async with ready() as session:
        assert len((await session.exec(select(Ballot))).all()) == 14
        stages = {n.id: n.stage for n in (await session.exec(select(Nomination))).all()}
        assert stages == {1: "not_selected", 2: "shortlisted", 3: "not_selected"}
        items = {i.nomination_id: i for i in (await session.exec(select(RoundNomination))).all()}
        assert items[1].counts == {
            "for": 2,
            "against": 1,
            "abstain": 1,
            "recused": 1,
            "eligible": 4,
            "cast": 4,
        }
        changes = (
            await session.exec(select(AuditRecord).where(AuditRecord.action == "review.vote_changed"))
        ).all()
        assert len(changes) == 1 and changes[0].details["before"] == "against"
        moved = (
            await session.exec(select(AuditRecord).where(AuditRecord.action == "nomination.moved"))
        ).all()
        # The committee's count selects (第十六条第3项), where the preliminary check was 第十六条第2项.
        assert {m.details["article"] for m in moved} == {"第十六条第3项"} and len(moved) == 3
        notice = (
            await session.exec(select(OutboxMessage).where(OutboxMessage.template == "review.closed_notice"))
        ).one()
        assert await chat_of(session, notice) == OFFICE_TG and notice.params["passed"] == 1
        with pytest.raises(DomainError) as late:
            await voting.cast_vote(session, await actor_of(session, 5002), round_id, 1, "against", START)
        assert late.value.code == "review.round_closed"


async def test_bad_votes_are_refused_and_change_nothing(ready) -> None:  # type: ignore[no-untyped-def]
    round_id = await open_round(ready)
    cases = [
        (OFFICE_TG, 2, "for", START, "review.not_on_panel"),
        (5001, 1, "for", START, "review.recused"),
        (5002, 99, "for", START, "review.not_in_round"),
        (5002, 2, "maybe", START, "review.bad_choice"),
        (5002, 2, "for", START + timedelta(days=3), "review.round_closed"),
    ]
    for telegram_id, nomination_id, choice, now, code in cases:
        with pytest.raises(DomainError) as refused:
            await vote(ready, telegram_id, round_id, nomination_id, choice, now)
        assert refused.value.code == code
    with pytest.raises(DomainError) as missing:
        await vote(ready, 5002, 42, 2, "for")
    assert missing.value.code == "review.round_not_found"
    async with ready() as session:
        assert (await session.exec(select(Ballot))).all() == []


async def test_the_database_refuses_ballots_for_a_closed_round(ready) -> None:  # type: ignore[no-untyped-def]
    round_id = await open_round(ready)
    await vote(ready, 5002, round_id, 2, "for")
    async with ready() as session:
        await results.close_early(
            session, await actor_of(session, OFFICE_TG), round_id, START + timedelta(hours=1)
        )
    async with ready() as session:  # around the code: straight into the table
        reviewer = (await session.exec(people.at(address(5003)))).one()
        session.add(
            Ballot(
                round_id=round_id,
                nomination_id=2,
                reviewer_id=reviewer.id or 0,
                choice="for",
                cast_at=START,
                changed_at=START,
            )
        )
        with pytest.raises((IntegrityError, DBAPIError), match="round closed"):
            await session.commit()
    async with ready() as session:
        ballot = (await session.exec(select(Ballot))).one()
        ballot.choice = "against"
        session.add(ballot)
        with pytest.raises((IntegrityError, DBAPIError), match="round closed"):
            await session.commit()
    async with ready() as session:
        assert [b.choice for b in (await session.exec(select(Ballot))).all()] == ["for"]


async def test_reminders_reach_non_voters_once_and_the_sweep_closes_the_round(ready) -> None:  # type: ignore[no-untyped-def]
    round_id = await open_round(ready)
    for nomination_id in (1, 2, 3):
        await vote(ready, 5002, round_id, nomination_id, "for")  # 5002 is done
    closes = START + timedelta(days=3)

    async def sweep(at: datetime) -> tuple[int, int]:
        async with ready() as session:
            return await review_sweeps.sweep(session, at)

    async def reminded() -> list[int]:
        async with ready() as session:
            rows = (
                await session.exec(select(OutboxMessage).where(OutboxMessage.template == "review.reminder"))
            ).all()
            return sorted([await chat_of(session, m) or 0 for m in rows])

    assert await sweep(closes - timedelta(hours=49)) == (0, 0)
    assert await sweep(closes - timedelta(hours=48)) == (4, 0)
    assert await sweep(closes - timedelta(hours=47)) == (0, 0)  # sent once, even when the sweep runs again
    assert await reminded() == [5001, 5003, 5004, 5005]
    async with ready() as session:
        assert (
            await review_sweeps.remind_now(session, await actor_of(session, OFFICE_TG), round_id, START) == 4
        )
    assert await sweep(closes - timedelta(hours=1)) == (
        4,
        0,
    )  # 24 h and 2 h both due after downtime: one each
    assert len(await reminded()) == 12
    assert await sweep(closes + timedelta(hours=1)) == (0, 1)  # past the close: counted, nobody reminded
    async with ready() as session:
        review_round = await session.get(ReviewRound, round_id)
        assert review_round is not None and review_round.closed_at == closes + timedelta(hours=1)
        items = (await session.exec(select(RoundNomination))).all()
        assert {i.outcome for i in items} == {"no_quorum"}  # 1 of 4 or 5 voted
        assert {n.stage for n in (await session.exec(select(Nomination))).all()} == {"passed"}
    assert await sweep(closes + timedelta(hours=2)) == (0, 0)
    # the office votes again on what had no quorum: a new round takes the nominations still "passed"
    second = await open_round(ready, closes + timedelta(hours=3), quorum=Fraction(1, 2))
    assert second == round_id + 1


async def test_thresholds_and_the_result_workbook(ready) -> None:  # type: ignore[no-untyped-def]
    from io import BytesIO

    from openpyxl import load_workbook

    from documents import round_result

    round_id = await open_round(ready, passing=Fraction(2, 3), open_ballot=True)
    for telegram_id, choice in {
        5001: "for",
        5002: "for",
        5003: "for",
        5004: "against",
        5005: "abstain",
    }.items():
        await vote(ready, telegram_id, round_id, 2, choice)
    async with ready() as session:
        await voting.comment(session, await actor_of(session, 5003), round_id, 2, "服务事迹突出", START)
        report = await results.close_early(session, await actor_of(session, OFFICE_TG), round_id, START)
    by_id = {i.nomination.id: i for i in report.items}
    assert by_id[2].count.outcome.value == "not_passed"  # 3 of 5 is more than half, not more than 2/3
    assert by_id[2].comments == [("孙委员", "服务事迹突出")]  # open ballot: attributed
    english = round_result.workbook(report, "en")
    assert english.file_name == f"review-round-{round_id}.xlsx"
    sheet = load_workbook(BytesIO(english.data)).active
    assert sheet is not None and sheet.title == f"Round {round_id} result"
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:6] == ("quorum", "2/3", "passing share", "2/3", "panel", 5)
    assert rows[1][:3] == ("nomination no.", "honour", "name")
    assert rows[3] == (
        2,
        "Guangdong User-Satisfied Service Star",
        "李娜",
        3,
        1,
        1,
        0,
        "yes",
        "no",
        "not passed",
    )
    chinese = load_workbook(BytesIO(round_result.workbook(report, "zh_CN").data)).active
    assert chinese is not None
    rows = list(chinese.iter_rows(values_only=True))
    assert rows[1] == (
        "申报编号",
        "奖项",
        "姓名/名称",
        "同意",
        "不同意",
        "弃权",
        "回避",
        "达到法定人数",
        "通过",
        "结果",
    )
    assert rows[3][7:] == ("是", "否", "未通过")


# 公示 ----------------------------------------------------------------------------------------------


async def shortlist_two(sessions: async_sessionmaker[AsyncSession]) -> None:
    round_id = await open_round(sessions)
    for telegram_id in (5001, 5002, 5003, 5004, 5005):
        for nomination_id in (1, 2, 3):
            if (telegram_id, nomination_id) != (5001, 1):
                await vote(sessions, telegram_id, round_id, nomination_id, "for")


async def test_publicity_objections_and_approval(ready) -> None:  # type: ignore[no-untyped-def]
    await shortlist_two(ready)
    async with ready() as session:
        assert {n.stage for n in (await session.exec(select(Nomination))).all()} == {"shortlisted"}
        office = await actor_of(session, OFFICE_TG)
        listing = await publicity_list.publish(session, office, 1, START, announcement_chat_id=-100123)
        assert listing.nomination_ids == [1, 2]  # the third did not agree to publication
        # Monday 1 June 2026: five working days after it end with Monday 8 June, so 公示 ends at its midnight
        assert listing.ends_at == datetime(2026, 6, 8, 16, 0, tzinfo=UTC)
        announcements = (
            await session.exec(
                select(OutboxMessage).where(OutboxMessage.template == "publicity.announcement")
            )
        ).all()
        assert (
            -100123 in {a.chat_id for a in announcements}
            and "张伟 · 广东质协" in announcements[0].params["entries"]
        )
        objector = await actor_of(session, 6003)
        base = dict(
            grounds="事迹不实",
            contact_name="王芳",
            contact_phone="13800138000",
            now=START + timedelta(days=1),
        )
        for changes, code in [
            ({"contact_phone": ""}, "publicity.anonymous"),
            ({"organisation": "某公司"}, "publicity.letter_required"),
            ({"now": listing.ends_at}, "publicity.period_over"),
        ]:
            with pytest.raises(DomainError) as refused:
                await objections.lodge_objection(session, objector, 1, **{**base, **changes})  # type: ignore[arg-type, dict-item]
            assert refused.value.code == code
        with pytest.raises(DomainError) as off_list:
            await objections.lodge_objection(session, objector, 3, **base)  # type: ignore[arg-type]
        assert off_list.value.code == "publicity.not_on_list"
        upheld = await objections.lodge_objection(session, objector, 1, **base)  # type: ignore[arg-type]
        dismissed = await objections.lodge_objection(
            session,
            objector,
            2,
            **{
                **base,
                "organisation": "某公司",  # type: ignore[arg-type]
                "letter_sha256": "a" * 64,
            },
        )
        assert upheld.contact_phone == "+8613800138000" and upheld.deadline > upheld.lodged_at
        assert len((await session.exec(select(Objection))).all()) == 2
        leader = await actor_of(session, LEADER_TG)
        approving = APPROVAL_PHASE  # 公示 over by the list's period and by the campaign's calendar
        with pytest.raises(DomainError) as early:
            await approval.approve(session, leader, 1, approving)
        assert early.value.code == "publicity.open_objection"
        with pytest.raises(DomainError) as reasonless:
            await objections.rule(session, office, upheld.id or 0, True, " ", START)
        assert reasonless.value.code == "publicity.reason_required"
        await objections.rule(
            session, office, upheld.id or 0, True, "经核实事迹不实", START + timedelta(days=2)
        )
        await objections.rule(
            session, office, dismissed.id or 0, False, "材料属实", START + timedelta(days=2)
        )
        listing = (await session.exec(select(PublicityList))).one()
        assert (listing.nomination_ids, listing.edition) == ([2], 2)
        told = (
            await session.exec(
                select(OutboxMessage).where(OutboxMessage.template == "objection.ruled_notice")
            )
        ).all()
        assert [t.params["status_key"] for t in told] == [
            "objection.status.upheld",
            "objection.status.dismissed",
        ]
        assert (await session.get(Nomination, 1)).stage == "withdrawn_on_objection"  # type: ignore[union-attr]
        with pytest.raises(DomainError) as running:  # before 审定 the phase is named first
            await approval.approve(session, leader, 1, START + timedelta(days=3))
        assert running.value.code == "campaign.not_allowed_in_phase"
        assert running.value.params == {
            "phase_key": "phase.review",
            "action_key": "action.approve",
            "allowed_key": "phase.approval",
        }
        assert await publicity_sweeps.sweep(session, listing.ends_at) == 1
        assert await publicity_sweeps.sweep(session, listing.ends_at) == 0
        prompt = (
            await session.exec(
                select(OutboxMessage).where(OutboxMessage.template == "publicity.for_approval")
            )
        ).one()
        assert await chat_of(session, prompt) == LEADER_TG
        with pytest.raises(DomainError) as no_document:
            await approval.approve(session, office, 1, approving)
        assert no_document.value.code == "publicity.document_required"
        await approval.approve(session, leader, 1, approving)
        stages = {n.id: n.stage for n in (await session.exec(select(Nomination))).all()}
        assert stages == {1: "withdrawn_on_objection", 2: "approved", 3: "shortlisted"}
        with pytest.raises(DomainError) as twice:
            await approval.approve(session, leader, 1, approving)
        assert twice.value.code == "publicity.already_approved"
        assert (
            await session.exec(select(RoleAssignment).where(col(RoleAssignment.role) == Role.LEADING_GROUP))
        ).one()


async def test_the_sweep_is_one_periodic_job(ready) -> None:  # type: ignore[no-untyped-def]
    from zoneinfo import ZoneInfo

    from scheduler import create_scheduler, register_jobs
    from tests.support.clock import FakeClock

    round_id = await open_round(ready)
    clock = FakeClock(START + timedelta(days=3, hours=1))  # past the close: counted by the job
    scheduler = create_scheduler(ZoneInfo("Asia/Shanghai"))
    register_jobs(scheduler, ready, clock)
    job = scheduler.get_job("review_sweep")
    assert job is not None
    await job.func()
    await job.func()
    async with ready() as session:
        review_round = await session.get(ReviewRound, round_id)
        assert review_round is not None and review_round.closed_at == clock.now()
        closed = (
            await session.exec(select(AuditRecord).where(AuditRecord.action == "review.round_closed"))
        ).all()
        assert len(closed) == 1 and closed[0].reason == "closing_time"


async def test_the_owner_of_an_open_objection_is_reminded_once_before_its_deadline(ready) -> None:  # type: ignore[no-untyped-def]
    await shortlist_two(ready)
    async with ready() as session:
        office = await actor_of(session, OFFICE_TG)
        await publicity_list.publish(session, office, 1, START)
        objector = await actor_of(session, 6003)
        case = await objections.lodge_objection(
            session,
            objector,
            1,
            grounds="事迹不实",
            contact_name="王芳",  # type: ignore[arg-type]
            contact_phone="13800138000",
            now=START + timedelta(days=1),
        )
        deadline, owner = case.deadline, case.owner_id

    async def reminders() -> list[OutboxMessage]:
        async with ready() as session:
            return list(
                (
                    await session.exec(
                        select(OutboxMessage).where(OutboxMessage.template == "objection.deadline_reminder")
                    )
                ).all()
            )

    async with ready() as session:
        await publicity_sweeps.sweep(session, deadline - timedelta(days=2))
    assert await reminders() == []  # not yet
    async with ready() as session, ready() as other:
        await asyncio.gather(
            publicity_sweeps.sweep(session, deadline - timedelta(hours=20)),
            publicity_sweeps.sweep(other, deadline - timedelta(hours=19)),
        )  # two workers at once
    async with ready() as session:
        await publicity_sweeps.sweep(session, deadline + timedelta(days=1))  # and again, late
    sent = await reminders()
    assert len(sent) == 1 and sent[0].person_id == owner
    assert sent[0].params["case"] == case.id
