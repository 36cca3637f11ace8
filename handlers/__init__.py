"""All routers, in the order they are tried. A Router joins only one Dispatcher, so each call
builds fresh ones (the tests build a Dispatcher per test)."""

from aiogram import Router

from handlers import campaign, common, errors, fallback, nomination, office, recommender, selfcheck, start, status


def build_routers() -> list[Router]:
    return [
        errors.build(),  # domain errors, answered in the user's language
        start.build(),  # /start, consent, invitations, /privacy, /mydata, /forget
        common.build(),  # /lang, /help, /menu
        office.build(),  # office staff: invitations and roles
        selfcheck.build(),  # /selfcheck: eligibility against Art. 12-15
        nomination.build(),  # /nominate: the applicant's dossier, materials and submission
        recommender.build(),  # recommending bodies: endorse with the stamped opinion, or return
        campaign.build(),  # /campaign for everyone; the office's calendar, working days, statistics
        status.build(),  # /mystatus
        fallback.build(),  # last: anything nobody else understood
    ]
