"""A whole nomination on a second channel: applicant, recommending body and office reach the
programme only through tests/support/double_channel.py (openids, links instead of buttons, its
own sender), with services unchanged, and Telegram's sender finds nothing of theirs to send."""

import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.notifier import due_for_telegram
from models import Nomination, OutboxMessage, OutboxStatus, Role
from services import campaigns, selfcheck
from services.errors import DomainError
from services.nominations import dossier, precheck
from services.nominations import recommender as nomination_recommender
from tests.support.clock import FakeClock
from tests.support.double_channel import DoubleChannel
from tests.support.nominations import DATES_2026, call, ready_nomination

pytestmark = pytest.mark.article("第十六条第1项")


async def test_a_whole_nomination_runs_on_a_channel_that_is_not_telegram(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    channel = DoubleChannel(sessions, clock)
    office = await channel.join("o-office", "王主任", role=Role.OFFICE)
    await channel.join("o-body", "陈女士", role=Role.RECOMMENDER, organisation=1)
    applicant = await channel.join("o-applicant", "张伟", language="en")
    await call(
        sessions,
        campaigns.create,
        office,
        year=2026,
        honours=["STAR"],
        publicity_workdays=5,
        now=clock.now(),
        dates=DATES_2026,
    )
    # The applicant checks themself against the criteria, then prepares and submits (web forms).
    check = await call(sessions, selfcheck.start, applicant, "STAR", clock.now())
    for position in range(len(selfcheck.honour("STAR").criteria)):
        check = await call(sessions, selfcheck.answer, applicant, check.id, position, "yes", clock.now())
    assert check.verdict == "eligible"
    nomination_id = await ready_nomination(sessions, clock, applicant, check.id)
    await call(sessions, dossier.submit, applicant, nomination_id, clock.now())

    # The body hears of it on this channel, in Chinese, with its two actions as links.
    assert await channel.deliver() == 1
    notice = channel.last("o-body")
    assert notice.text == "新的申报待您审核：第 1 号，广东省用户满意服务明星，张伟。"
    assert list(notice.links) == ["推荐", "退回"]
    with pytest.raises(DomainError) as not_theirs:  # a forwarded link does nothing for another person
        await channel.open_link("o-applicant", notice.links["推荐"])
    assert not_theirs.value.code == "button.not_yours"
    who, token = await channel.open_link("o-body", notice.links["推荐"])
    assert token.action == "nomination.endorse"
    await call(
        sessions,
        nomination_recommender.endorse,
        who,
        token.payload["nomination_id"],
        "同意推荐。",
        "b" * 64,
        clock.now(),
    )

    # The applicant reads of it in English; the office in Chinese; then the office passes it.
    assert await channel.deliver() == 2
    assert channel.last("o-applicant").text == (
        "Your nomination no. 1 was endorsed by the recommending body "
        "and awaits the office's preliminary check."
    )
    assert channel.last("o-office").text.startswith("第 1 号申报（广东省用户满意服务明星）已获推荐")
    await call(sessions, precheck.precheck_pass, office, nomination_id, clock.now())
    assert await channel.deliver() == 2
    assert channel.last("o-applicant").text.startswith("Nomination no. 1 passed the preliminary check")
    assert channel.last("o-body").template == "nomination.precheck_passed"

    async with sessions() as session:
        assert (await session.get(Nomination, nomination_id)).stage == "passed"  # type: ignore[union-attr]
        # Every message went out here; none was left for Telegram, and none waits for it.
        statuses = (await session.exec(select(OutboxMessage.status))).all()
        assert statuses and set(statuses) == {OutboxStatus.SENT}
        assert (await session.exec(due_for_telegram(clock.now(), []))).first() is None
