"""Whole journeys over HTTP: the real entry point (`python -m bot`, in its own process) polling a
Bot API emulator, and the steps a person takes there (say, press, upload)."""

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.support.emulator import BotAPIEmulator

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "4242:E2E-TOKEN-abcdefghijklmnopqrstuvwxyz"


class BotProcess:
    """`python -m bot` with settings pointing at the emulator and a SQLite file of its own in `data`.
    Its log goes to data/bot.log: read it when a step times out."""

    def __init__(self, api: str, data: Path, office_id: int) -> None:
        self.data, self.database = data, data / "bot.db"
        self.env = {
            **os.environ,
            "BOT_TOKEN": TOKEN,
            "TELEGRAM_API_BASE": api,
            "DATA_DIR": str(data),
            "DATABASE_URL": f"sqlite+aiosqlite:///{self.database}",
            "OFFICE_IDS": str(office_id),
            "REDIS_URL": "",
            "WEBHOOK_URL": "",
        }
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with (self.database.parent / "bot.log").open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bot"], cwd=ROOT, env=self.env, stdout=subprocess.DEVNULL, stderr=log
            )

    def kill(self) -> None:
        """SIGKILL: no shutdown, no flush."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def query(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        with sqlite3.connect(self.database) as connection:
            return connection.execute(sql, args).fetchall()


def containing(text: str) -> Callable[[dict[str, Any]], bool]:
    return lambda message: text in (message.get("text") or message.get("caption") or "")


def with_button(label: str) -> Callable[[dict[str, Any]], bool]:
    return lambda message: any(
        b.get("text") == label
        for row in (message.get("reply_markup") or {}).get("inline_keyboard", [])
        for b in row
    )


def watch(
    emulator: BotAPIEmulator, chat_id: int, predicate: Callable[[dict[str, Any]], bool], timeout: float = 30
) -> "asyncio.Task[dict[str, Any]]":
    """Start waiting now for what another person's step will cause in this chat: a notice may
    arrive before that step's own reply does."""
    return asyncio.create_task(emulator.wait_for(chat_id, predicate, timeout=timeout))


async def say(
    emulator: BotAPIEmulator, user: int, text: str, expect: str, timeout: float = 30
) -> dict[str, Any]:
    waiting = asyncio.create_task(emulator.wait_for(user, containing(expect), timeout=timeout))
    await asyncio.sleep(0)  # counting from before the text goes, so a fast answer is not missed
    emulator.user_sends_text(user, text)
    return await waiting


async def press(
    emulator: BotAPIEmulator, user: int, message: dict[str, Any], label: str, expect: str, timeout: float = 30
) -> dict[str, Any]:
    waiting = asyncio.create_task(emulator.wait_for(user, containing(expect), timeout=timeout))
    await asyncio.sleep(0)
    emulator.press_button(user, message, label)
    return await waiting


async def upload(
    emulator: BotAPIEmulator, user: int, name: str, data: bytes, mime: str, expect: str, timeout: float = 30
) -> dict[str, Any]:
    waiting = asyncio.create_task(emulator.wait_for(user, containing(expect), timeout=timeout))
    await asyncio.sleep(0)
    emulator.user_sends_document(user, name, data, mime)
    return await waiting


async def until(condition: Callable[[], bool], timeout: float = 20) -> None:
    for _ in range(int(timeout * 10)):
        if condition():
            return
        await asyncio.sleep(0.1)
    raise AssertionError("condition not reached")
