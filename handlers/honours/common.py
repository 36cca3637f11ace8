"""What the honours' chats share: the certificate printer, whose verification links carry the bot's
username."""

from functools import partial

from aiogram import Bot

from documents import certificate
from services.certificates import Printer


async def certificate_printer(bot: Bot) -> Printer:
    username = (await bot.me()).username or "bot"
    return partial(certificate.render, bot_username=username)
