"""Receiving a file from a person: a document, or a photo (Telegram offers a photo in several sizes;
the largest is kept). The size Telegram declares is refused before anything is downloaded, and the
content is checked in a worker with time and memory limits (services.files)."""

from aiogram import Bot
from aiogram.types import Message

from services.files import kinds as file_kinds
from services.files import workers


async def receive(
    message: Message, bot: Bot, kinds: tuple[str, ...] = file_kinds.KINDS, photo_name: str = "photo"
) -> file_kinds.CheckedFile | None:
    """The checked file, or None when the message carries no file (the caller re-asks)."""
    document, photos = message.document, message.photo
    if document is not None:
        file_id, name, size = document.file_id, document.file_name or "file", document.file_size
    elif photos:
        largest = max(photos, key=lambda p: (p.width * p.height, p.file_size or 0))
        file_id, name, size = largest.file_id, f"{photo_name}-{message.message_id}.jpg", largest.file_size
    else:
        return None
    file_kinds.refuse_oversized(size)
    downloaded = await bot.download(file_id)
    return await workers.check_safely(downloaded.read() if downloaded is not None else b"", name, kinds)
