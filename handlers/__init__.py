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
    gates,
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
from models import Role


def build_routers() -> list[Router]:
    gated = gates.Gates()  # a role's router is gated on it; what a gate stops is refused near the end
    return [
        errors.build(),  # domain errors, answered in the user's language
        conversation.build(),  # before every journey: /cancel and 取消 end any conversation, not answer it
        # before start: /start v-<number> verifies a certificate; /verify, /honours, award, 复议
        honour_public.build(),
        honour_award.build(),
        honour_rereview.build(),
        gated(honour_revocation.build(), Role.OFFICE),
        gated(honour_national.build(), Role.OFFICE),
        # before start: /start c-<token> rates an evaluation card without registering; /cards
        card_customer.build(),
        card_owner.build(),
        gated(card_office.build(), Role.OFFICE),
        start.build(),  # /start, consent, invitations, /privacy, /mydata, /forget
        common.build(),  # /lang, /help, /menu
        gated(office.build(), Role.OFFICE),  # office staff: invitations and roles
        # office: /deadletters, updates the bot gave up on, and their replay
        gated(deadletters.build(), Role.OFFICE),
        announcements.build(),  # /announce for the office (its draft state before other journeys); /subscribe
        selfcheck.build(),  # /selfcheck: eligibility against Art. 12-15
        nomination.build(),  # /nominate: the applicant's dossier, materials and submission
        # recommending bodies: endorse with the stamped opinion, or return
        gated(recommender.build(), Role.RECOMMENDER),
        # office: /precheck queue, pass / return for supplement / reject, 核实, exports
        gated(precheck_queue.build(), Role.OFFICE),
        gated(precheck_exports.build(), Role.OFFICE),
        gated(precheck_decisions.build(), Role.OFFICE),
        gated(precheck_verification.build(), Role.OFFICE),
        # review committee: vote prompts, /review; the office's /rounds, reminders, results
        gated(review_reviewer.build(), Role.REVIEWER),
        gated(review_office.build(), Role.OFFICE),
        # 公示: /publicity and objections; the office publishes and rules; /approve for the leading
        # group (or the office on its behalf, with the signed document)
        publicity.build(),
        gated(publicity.build_office(), Role.OFFICE),
        gated(publicity.build_approval(), Role.LEADING_GROUP, Role.OFFICE),
        campaign.build(),  # /campaign for everyone; the office's calendar, working days, statistics
        status.build(),  # /mystatus
        gated.refusals(),  # a command or button of a role the person lacks: refused, not "not understood"
        fallback.build(),  # last: anything nobody else understood
    ]
