"""python -m bot            run: offline terminal chat without BOT_TOKEN, polling with it, webhook
                           when WEBHOOK_URL is set
python -m bot verify-audit check the audit log's hash chain and name the first broken record"""

import argparse
import asyncio
import logging
import signal
import sys
from contextlib import AsyncExitStack
from urllib.parse import urlsplit

from aiohttp import web

from bot.app import App, build_app, register_commands
from bot.config import Settings, load_settings
from bot.transports import poll, webhook_app
from models.db import create_engine, session_factory
from services.audit import verify_chain


async def run(settings: Settings) -> None:
    if settings.offline:
        from bot.offline import run_offline

        await run_offline(settings)
        return
    app = await build_app(settings)
    # A stop (a deploy, systemd, docker) ends the way Ctrl-C does: each chat finishes its update.
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, app.stop.set)
    async with AsyncExitStack() as stack:
        stack.push_async_callback(app.engine.dispose)
        stack.push_async_callback(app.bot.session.close)
        await register_commands(app)
        await app.run_background(stack)
        if settings.webhook_url:
            await serve_webhook(app, settings)
        else:
            await app.bot.delete_webhook()
            await poll(app.bot, app.inbox, app.stop)


async def serve_webhook(app: App, settings: Settings) -> None:
    assert settings.webhook_url and settings.webhook_secret  # the settings refuse one without the other
    path = urlsplit(settings.webhook_url).path or "/"
    runner = web.AppRunner(webhook_app(app.inbox, path, settings.webhook_secret))
    await runner.setup()
    await web.TCPSite(runner, settings.webhook_host, settings.webhook_port).start()
    await app.bot.set_webhook(settings.webhook_url, secret_token=settings.webhook_secret)
    try:
        await app.stop.wait()
    finally:
        await runner.cleanup()


async def verify(settings: Settings) -> int:
    engine = create_engine(settings.effective_database_url)
    try:
        async with session_factory(engine)() as session:
            report = await verify_chain(session)
    finally:
        await engine.dispose()
    if report.intact:
        print(f"audit log intact: {report.checked} records")
        return 0
    print(
        f"audit log BROKEN at record {report.first_broken}: {report.problem} "
        f"({report.checked} records verified before it)"
    )
    return 1


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bot", description="服务明星助手 / ServiceStar")
    parser.add_argument("command", nargs="?", default="run", choices=["run", "verify-audit"])
    args = parser.parse_args(argv)
    settings = load_settings()
    # The offline chat shares the terminal with the log: keep the log to what needs attention.
    level = logging.WARNING if settings.offline and args.command == "run" else logging.INFO
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.command == "verify-audit":
        sys.exit(asyncio.run(verify(settings)))
    try:
        asyncio.run(run(settings))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
