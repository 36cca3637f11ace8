"""FSM states: conversation progress only, never the record of anything."""

from aiogram.fsm.state import State, StatesGroup


class RevokeRole(StatesGroup):
    reason = State()
