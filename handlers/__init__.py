"""All routers, in the order they are tried. A Router joins only one Dispatcher, so each call
builds fresh ones (the tests build a Dispatcher per test)."""

from aiogram import Router

from handlers import (
    announcements,
    campaign,
    cards,
    common,
    conversation,
    deadletters,
    errors,
    fallback,
    honours,
    nomination,
    office,
    precheck,
    publicity,
    recommender,
    review,
    selfcheck,
    start,
    status,
)


def build_routers() -> list[Router]:
    return [
        errors.build(),  # domain errors, answered in the user's language
        conversation.build(),  # before every journey: /cancel and 取消 end any conversation, not answer it
        # before start: /start v-<number> verifies a certificate; /verify, /honours, award, 复议
        honours.build(),
        cards.build(),  # before start: /start c-<token> rates an evaluation card without registering; /cards
        start.build(),  # /start, consent, invitations, /privacy, /mydata, /forget
        common.build(),  # /lang, /help, /menu
        office.build(),  # office staff: invitations and roles
        deadletters.build(),  # office: /deadletters, updates the bot gave up on, and their replay
        announcements.build(),  # /announce for the office (its draft state before other journeys); /subscribe
        selfcheck.build(),  # /selfcheck: eligibility against Art. 12-15
        nomination.build(),  # /nominate: the applicant's dossier, materials and submission
        recommender.build(),  # recommending bodies: endorse with the stamped opinion, or return
        precheck.build(),  # office: /precheck queue, pass / return for supplement / reject, 核实, exports
        review.build(),  # review committee: vote prompts, /review; the office's /rounds, reminders, results
        publicity.build(),  # 公示: /publicity, objections and rulings; /approve for the leading group
        campaign.build(),  # /campaign for everyone; the office's calendar, working days, statistics
        status.build(),  # /mystatus
        fallback.build(),  # last: anything nobody else understood
    ]
