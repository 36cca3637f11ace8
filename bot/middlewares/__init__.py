from bot.middlewares.actor import ActorMiddleware, LanguageMiddleware
from bot.middlewares.database import DatabaseMiddleware
from bot.middlewares.tokens import ActionTokenMiddleware

__all__ = ["ActionTokenMiddleware", "ActorMiddleware", "DatabaseMiddleware", "LanguageMiddleware"]
