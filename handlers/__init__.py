"""All routers, in the order they are tried. A Router joins only one Dispatcher, so each call
builds fresh ones (the tests build a Dispatcher per test)."""

from aiogram import Router

from handlers import common, errors, fallback, office, start


def build_routers() -> list[Router]:
    return [
        errors.build(),  # domain errors, answered in the user's language
        start.build(),  # /start, consent, invitations, /privacy, /mydata, /forget
        common.build(),  # /lang, /help, /menu
        office.build(),  # office staff: invitations and roles
        fallback.build(),  # last: anything nobody else understood
    ]
