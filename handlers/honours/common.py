"""What the honours' chats share: the certificate printer, whose QR code opens the check."""

from functools import partial

from aiogram import Bot

from documents import certificate
from handlers.channel import links
from services.certificates import Printer


async def certificate_printer(bot: Bot) -> Printer:
    return partial(certificate.render, links=await links(bot))
