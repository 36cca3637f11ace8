"""What the honours' chats share: the bot's username, which certificates' verification links carry."""

from aiogram import Bot


async def bot_username(bot: Bot) -> str:
    return (await bot.me()).username or "bot"
