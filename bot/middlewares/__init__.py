from bot.middlewares.actor import ActorMiddleware, LanguageMiddleware
from bot.middlewares.database import CommitBeforeTelegram, DatabaseMiddleware
from bot.middlewares.tokens import ActionTokenMiddleware

__all__ = ["ActionTokenMiddleware", "ActorMiddleware", "CommitBeforeTelegram", "DatabaseMiddleware", "LanguageMiddleware"]
