"""Nominations through the services, on SQLite and PostgreSQL: applicant → recommending body →
office, with the refusals Art. 16.1 and the transition table call for."""

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.channel import address
from models import AuditRecord, Nomination, OutboxMessage, Role
from services import campaigns, people
from services.actors import Actor
from services.errors import DomainError
from services.nominations import deficiencies, dossier, precheck, queries, quotas
from services.nominations import recommender as nomination_recommender
from tests.support.clock import FakeClock
from tests.support.nominations import DATES_2026, call, ready_nomination
from tests.support.people import to_chat

pytestmark = pytest.mark.article("第十六条第1项")

Sessions = async_sessionmaker[AsyncSession]


async def person(
    sessions: Sessions,
    clock: FakeClock,
    telegram_id: int,
    name: str,
    role: Role | None = None,
    organisation_id: int | None = None,
) -> Actor:
    async with sessions() as session:
        created = await people.register(
            session, address=address(telegram_id), name=name, language="zh_CN", now=clock.now()
        )
        if role is not None:
            await people.grant_role(
                session,
                person_id=created.id or 0,
                role=role,
                organisation_id=organisation_id,
                granted_by=None,
                now=clock.now(),
                reason="test",
            )
        return await people.load_actor(session, address(telegram_id), fallback_language="zh_CN")


@pytest.fixture
async def cast(sessions: Sessions, clock: FakeClock) -> dict[str, Actor]:
    office = await person(sessions, clock, 1, "王主任", Role.OFFICE)
    await call(
        sessions,
        campaigns.create,
        office,
        year=2026,
        honours=["STAR", "TEAM", "MANAGER", "ENTERPRISE"],
        publicity_workdays=5,
        now=clock.now(),
        dates=DATES_2026,
    )
    return {
        "office": office,
        "applicant": await person(sessions, clock, 2, "张伟"),
        "recommender": await person(sessions, clock, 3, "陈女士", Role.RECOMMENDER, 1),
        "stranger": await person(sessions, clock, 4, "刘先生", Role.RECOMMENDER, 2),
    }


async def stage(sessions: Sessions, nomination_id: int) -> str:
    async with sessions() as session:
        found = await session.get(Nomination, nomination_id)
        assert found is not None
        return found.stage


async def refused(code: str, sessions: Sessions, function, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(DomainError) as error:
        await call(sessions, function, *args, **kwargs)
    assert error.value.code == code


async def test_the_whole_path_with_a_return_for_supplement(
    sessions: Sessions, clock: FakeClock, cast: dict[str, Actor]
) -> None:
    applicant, recommender, office = cast["applicant"], cast["recommender"], cast["office"]
    nomination_id = await ready_nomination(sessions, clock, applicant)
    await call(sessions, dossier.submit, applicant, nomination_id, clock.now())
    assert await stage(sessions, nomination_id) == "submitted"
    async with sessions() as session:
        prompt = (await session.exec(select(OutboxMessage).where(to_chat(3)))).one()
        assert prompt.template == "nomination.new_for_recommender" and prompt.protect
        assert [b["label"] for b in prompt.buttons[0]] == ["nomination.endorse", "nomination.return"]
    await call(
        sessions,
        nomination_recommender.endorse,
        recommender,
        nomination_id,
        "同意推荐。",
        "b" * 64,
        clock.now(),
    )
    deadline = clock.now() + timedelta(days=7)
    await call(
        sessions,
        precheck.precheck_return,
        office,
        nomination_id,
        [("field:phone", "号码无法接通"), ("material:satisfaction_report", "缺少测评机构盖章页")],
        deadline,
        clock.now(),
    )
    assert await stage(sessions, nomination_id) == "returned_for_supplement"
    assert await call(sessions, deficiencies.open_deficiencies, nomination_id) == {
        "field:phone": "号码无法接通",
        "material:satisfaction_report": "缺少测评机构盖章页",
    }
    # Only the items the office ticked reopen.
    await refused(
        "nomination.item_not_reopened",
        sessions,
        dossier.set_field,
        applicant,
        nomination_id,
        "name",
        "张三",
        clock.now(),
    )
    await call(sessions, dossier.set_field, applicant, nomination_id, "phone", "13900139000", clock.now())
    await call(sessions, dossier.submit, applicant, nomination_id, clock.advance(days=2))
    await call(sessions, precheck.precheck_pass, office, nomination_id, clock.now())
    assert await stage(sessions, nomination_id) == "passed"
    moves = [(m.from_stage, m.to_stage) for m in await call(sessions, queries.history, nomination_id)]
    assert moves == [
        ("draft", "submitted"),
        ("submitted", "endorsed"),
        ("endorsed", "returned_for_supplement"),
        ("returned_for_supplement", "resubmitted"),
        ("resubmitted", "passed"),
    ]
    async with sessions() as session:
        audited = (
            await session.exec(select(AuditRecord).where(AuditRecord.action == "nomination.moved"))
        ).all()
        assert [(r.actor_id, r.details["to_stage"]) for r in audited] == [
            (applicant.person_id, "submitted"),
            (recommender.person_id, "endorsed"),
            (office.person_id, "returned_for_supplement"),
            (applicant.person_id, "resubmitted"),
            (office.person_id, "passed"),
        ]


async def test_submission_needs_everything_and_the_publication_consent(
    sessions: Sessions, clock: FakeClock, cast: dict[str, Actor]
) -> None:
    applicant = cast["applicant"]
    nomination = await call(sessions, dossier.start, applicant, "STAR", clock.now())
    with pytest.raises(DomainError) as error:
        await call(sessions, dossier.submit, applicant, nomination.id, clock.now())
    assert error.value.code == "nomination.incomplete"
    assert "material:satisfaction_report" in str(error.value.params["items"])
    assert "consent" in str(error.value.params["items"])
    assert await stage(sessions, nomination.id) == "draft"


async def test_the_wrong_people_cannot_endorse(
    sessions: Sessions, clock: FakeClock, cast: dict[str, Actor]
) -> None:
    nomination_id = await ready_nomination(sessions, clock, cast["applicant"])
    await call(sessions, dossier.submit, cast["applicant"], nomination_id, clock.now())
    await refused(
        "nomination.other_organisation",
        sessions,
        nomination_recommender.endorse,
        cast["stranger"],
        nomination_id,
        "同意",
        "b" * 64,
        clock.now(),
    )
    await refused(
        "role.required",
        sessions,
        nomination_recommender.endorse,
        cast["applicant"],
        nomination_id,
        "同意",
        "b" * 64,
        clock.now(),
    )
    own = await person(sessions, clock, 5, "自荐者", Role.RECOMMENDER, 1)
    own_id = await ready_nomination(sessions, clock, own)
    await call(sessions, dossier.submit, own, own_id, clock.now())
    await refused(
        "nomination.own_nomination",
        sessions,
        nomination_recommender.endorse,
        own,
        own_id,
        "同意",
        "b" * 64,
        clock.now(),
    )
    assert await stage(sessions, nomination_id) == "submitted"


async def test_a_body_cannot_endorse_beyond_its_quota(
    sessions: Sessions, clock: FakeClock, cast: dict[str, Actor]
) -> None:
    async with sessions() as session:
        campaign_id = (await campaigns.current(session, clock.now())).campaign.id  # type: ignore[union-attr]
    await call(sessions, quotas.set_quota, cast["office"], campaign_id, 1, "STAR", 1, clock.now())
    first = await ready_nomination(sessions, clock, cast["applicant"])
    second_applicant = await person(sessions, clock, 6, "李娜")
    second = await ready_nomination(sessions, clock, second_applicant)
    for applicant, nomination_id in ((cast["applicant"], first), (second_applicant, second)):
        await call(sessions, dossier.submit, applicant, nomination_id, clock.now())
    await call(
        sessions, nomination_recommender.endorse, cast["recommender"], first, "同意", "b" * 64, clock.now()
    )
    use = await call(sessions, quotas.quota_use, campaign_id, 1, "STAR")
    assert (use.places, use.used, use.left) == (1, 1, 0)
    await refused(
        "nomination.quota_full",
        sessions,
        nomination_recommender.endorse,
        cast["recommender"],
        second,
        "同意",
        "b" * 64,
        clock.now(),
    )


async def test_a_supplement_after_the_deadline_is_refused(
    sessions: Sessions, clock: FakeClock, cast: dict[str, Actor]
) -> None:
    nomination_id = await ready_nomination(sessions, clock, cast["applicant"])
    await call(sessions, dossier.submit, cast["applicant"], nomination_id, clock.now())
    await call(
        sessions,
        nomination_recommender.endorse,
        cast["recommender"],
        nomination_id,
        "同意",
        "b" * 64,
        clock.now(),
    )
    await call(
        sessions,
        precheck.precheck_return,
        cast["office"],
        nomination_id,
        [("seal", "公章不清晰")],
        clock.now() + timedelta(days=3),
        clock.now(),
    )
    clock.advance(days=4)
    await refused(
        "nomination.deadline_passed",
        sessions,
        dossier.submit,
        cast["applicant"],
        nomination_id,
        clock.now(),
    )
    assert await stage(sessions, nomination_id) == "returned_for_supplement"


async def test_two_office_decisions_at_once_cannot_both_win(
    sessions: Sessions, clock: FakeClock, cast: dict[str, Actor]
) -> None:
    nomination_id = await ready_nomination(sessions, clock, cast["applicant"])
    await call(sessions, dossier.submit, cast["applicant"], nomination_id, clock.now())
    await call(
        sessions,
        nomination_recommender.endorse,
        cast["recommender"],
        nomination_id,
        "同意",
        "b" * 64,
        clock.now(),
    )
    colleague = await person(sessions, clock, 7, "赵科长", Role.OFFICE)
    outcomes = await asyncio.gather(
        call(sessions, precheck.precheck_pass, cast["office"], nomination_id, clock.now()),
        call(sessions, precheck.precheck_reject, colleague, nomination_id, "材料不实", clock.now()),
        return_exceptions=True,
    )
    refusals = [o for o in outcomes if isinstance(o, DomainError)]
    assert len(refusals) == 1 and refusals[0].code == "nomination.move_not_allowed"
    assert await stage(sessions, nomination_id) in ("passed", "rejected")
    assert len(await call(sessions, queries.history, nomination_id)) == 3


async def test_no_nomination_outside_the_window(
    sessions: Sessions, clock: FakeClock, cast: dict[str, Actor]
) -> None:
    clock.current = datetime(2026, 6, 5, tzinfo=UTC)  # the review has started: dossiers are locked
    await refused(  # and the refusal says the nomination phase is over, not when to come back
        "campaign.phase_passed", sessions, dossier.start, cast["applicant"], "STAR", clock.now()
    )
