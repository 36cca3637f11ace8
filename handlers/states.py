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
