"""All routers, in the order they are tried. A Router joins only one Dispatcher, so each call
builds fresh ones (the tests build a Dispatcher per test)."""

from aiogram import Router

from handlers import (
    announcements,
    campaign,
    common,
    conversation,
    deadletters,
    errors,
    fallback,
    nomination,
    office,
    publicity,
    recommender,
    selfcheck,
    start,
    status,
)
from handlers.cards import customer as card_customer
from handlers.cards import office as card_office
from handlers.cards import owner as card_owner
from handlers.honours import award as honour_award
from handlers.honours import national as honour_national
from handlers.honours import public as honour_public
from handlers.honours import rereview as honour_rereview
from handlers.honours import revocation as honour_revocation
from handlers.precheck import decisions as precheck_decisions
from handlers.precheck import exports as precheck_exports
from handlers.precheck import queue as precheck_queue
from handlers.precheck import verification as precheck_verification
from handlers.review import office as review_office
from handlers.review import reviewer as review_reviewer


def build_routers() -> list[Router]:
    return [
        errors.build(),  # domain errors, answered in the user's language
        conversation.build(),  # before every journey: /cancel and 取消 end any conversation, not answer it
        # before start: /start v-<number> verifies a certificate; /verify, /honours, award, 复议
        honour_public.build(),
        honour_award.build(),
        honour_rereview.build(),
        honour_revocation.build(),
        honour_national.build(),
        # before start: /start c-<token> rates an evaluation card without registering; /cards
        card_customer.build(),
        card_owner.build(),
        card_office.build(),
        start.build(),  # /start, consent, invitations, /privacy, /mydata, /forget
        common.build(),  # /lang, /help, /menu
        office.build(),  # office staff: invitations and roles
        deadletters.build(),  # office: /deadletters, updates the bot gave up on, and their replay
        announcements.build(),  # /announce for the office (its draft state before other journeys); /subscribe
        selfcheck.build(),  # /selfcheck: eligibility against Art. 12-15
        nomination.build(),  # /nominate: the applicant's dossier, materials and submission
        recommender.build(),  # recommending bodies: endorse with the stamped opinion, or return
        # office: /precheck queue, pass / return for supplement / reject, 核实, exports
        precheck_queue.build(),
        precheck_exports.build(),
        precheck_decisions.build(),
        precheck_verification.build(),
        # review committee: vote prompts, /review; the office's /rounds, reminders, results
        review_reviewer.build(),
        review_office.build(),
        publicity.build(),  # 公示: /publicity, objections and rulings; /approve for the leading group
        campaign.build(),  # /campaign for everyone; the office's calendar, working days, statistics
        status.build(),  # /mystatus
        fallback.build(),  # last: anything nobody else understood
    ]
