"""A button press is answered exactly once (Telegram refuses a second answer, so a refusal sent
after it would never reach the person). The press middleware hands every callback update a Press
that records whether it was answered; whatever speaks last (a handler, the errors router, the
middleware at the end) asks it how to reach the person."""

from contextvars import ContextVar
from dataclasses import dataclass

from aiogram.types import CallbackQuery, Message

ALERT_LIMIT = 200  # Telegram refuses a longer alert


@dataclass
class Press:
    query: CallbackQuery
    answered: bool = False


current_press: ContextVar[Press | None] = ContextVar("current_press", default=None)


async def tell(press: Press, text: str) -> None:
    """Say `text` to the person who pressed: as an alert while the press is unanswered and the text
    fits one, otherwise as a message in their chat."""
    if not press.answered and len(text) <= ALERT_LIMIT:
        press.answered = True
        await press.query.answer(text, show_alert=True)
        return
    if not press.answered:
        press.answered = True
        await press.query.answer()
    message = press.query.message
    if isinstance(message, Message):
        await message.answer(text)
    elif press.query.bot is not None:
        await press.query.bot.send_message(press.query.from_user.id, text)
