"""FSM states: conversation progress only, never the record of anything."""

from aiogram.fsm.state import State, StatesGroup


class RevokeRole(StatesGroup):
    reason = State()


class SelfCheckFlow(StatesGroup):
    answering = State()


class CampaignForm(StatesGroup):
    waiting = State()
    new_date = State()


class NominationForm(StatesGroup):
    field = State()
    upload = State()


class Endorsing(StatesGroup):
    opinion = State()
    seal = State()
    return_reason = State()


class HonourForms(StatesGroup):
    """Honours: a number to verify, re-review evidence, the office's lapse and revocation reasons."""

    verify_number = State()
    rereview_upload = State()
    lapse_reason = State()
    revoke_reason = State()
    revoke_document = State()


class ReviewInput(StatesGroup):
    """A reviewer's comment on their ballot, or their reason to step aside (回避)."""

    comment = State()
    recusal_reason = State()
    closing_time = State()  # the office, opening a round: when it closes
    panel = State()  # the office, opening a round: who sits on its panel


class ObjectionForm(StatesGroup):
    """异议 during 公示: grounds, optional evidence, real-name contact, an organisation's stamped letter."""

    grounds = State()
    evidence = State()
    contact_name = State()
    contact_phone = State()
    organisation = State()
    letter = State()
    ruling = State()  # the office's reason for upholding or dismissing
    approval_document = State()  # the office approving on the leading group's behalf


class Announcing(StatesGroup):
    compose = State()


class PrecheckForm(StatesGroup):
    """The office's preliminary check: a return for supplement, a rejection, a verification."""

    ticking = State()
    note = State()
    deadline = State()
    reason = State()
    verify_date = State()
    verify_finding = State()
    verify_files = State()


class CardSurvey(StatesGroup):
    """A customer rating an evaluation card (第十条)."""

    answering = State()
    comment = State()


class CardForm(StatesGroup):
    """An owner creating an evaluation card (第十条)."""

    subject = State()
    unit = State()
