from bot.middlewares.actor import ActorMiddleware, LanguageMiddleware
from bot.middlewares.conversation import LeaveOnCommand
from bot.middlewares.database import DatabaseMiddleware
from bot.middlewares.presses import AnswerOnce, NotModifiedIsDone, PressMiddleware
from bot.middlewares.tokens import ActionTokenMiddleware

__all__ = [
    "ActionTokenMiddleware",
    "ActorMiddleware",
    "AnswerOnce",
    "DatabaseMiddleware",
    "LanguageMiddleware",
    "LeaveOnCommand",
    "NotModifiedIsDone",
    "PressMiddleware",
]
