"""The kill suite: the real entry point (bot.__main__.main(), through tests/support/killable_bot.py)
polling the Bot API emulator is SIGKILLed at chosen kill points of a scripted journey (after a
database commit, just before a request goes out, while a request is in flight, just after a
response came back), started again, and each step is measured against a clean run of the same
journey: no acknowledged update may be lost, no reply lost, no duplicate the bot did not count
(outboxmessage.resends). A second answer to one press is refused by Telegram and invisible to the
person: reported, not failed.

One journey run takes one kill per step, so one run of the journey hits ~70 kill points, each
restart a fork of a process that imported the bot once (tests/support/kills.py: `Zygote`).
KILL_SUITE_ROUNDS=N runs the kill journey N times per database, each round at other points of
every step (for a long run); KILL_SUITE_APPLICANTS sets how many applicants the journey has (3);
KILL_SUITE_ZYGOTE=0 starts every process afresh (`python -m tests.support.killable_bot`)."""

import contextlib
import os
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.support.kills import (
    CLASSES,
    Figures,
    Launcher,
    Outcome,
    PostgresTarget,
    Run,
    SqliteTarget,
    Target,
    Zygote,
    journey,
    plan,
    report,
)

ROUNDS = int(os.environ.get("KILL_SUITE_ROUNDS", "1"))
APPLICANTS = int(os.environ.get("KILL_SUITE_APPLICANTS", "3"))
MIN_POINTS = 50
RESULTS: list[Figures] = []


@pytest.fixture(scope="module")
def zygote(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Zygote | None]:
    if os.environ.get("KILL_SUITE_ZYGOTE", "1") == "0":
        yield None
        return
    running = Zygote(tmp_path_factory.mktemp("zygote") / "zygote.log")  # imports while the clean run starts
    yield running
    running.close()


@pytest.fixture(scope="module", autouse=True)
def table(request: pytest.FixtureRequest) -> Iterator[None]:
    """Both databases side by side, once the module is done (shown with or without -s)."""
    yield
    if len(RESULTS) > 1:
        capture = request.config.pluginmanager.getplugin("capturemanager")
        with capture.global_and_fixture_disabled() if capture is not None else contextlib.nullcontext():
            print("\n" + report(RESULTS))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def target(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Target]:
    if request.param == "sqlite":
        yield SqliteTarget(tmp_path)
        return
    postgres = PostgresTarget()
    await postgres.check()
    try:
        yield postgres
    finally:
        await postgres.drop_all()


async def test_kills_at_every_kind_of_point_lose_nothing_and_duplicate_only_what_is_counted(
    target: Target, zygote: Zygote | None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    began = time.monotonic()
    steps, offices = journey(APPLICANTS)
    launcher = Launcher(zygote)
    figures = Figures(target.dialect)
    RESULTS.append(figures)

    # The clean run: what each step's update brings, and the kill points it spans.
    clean: list[Outcome] = []
    async with Run("clean", tmp_path / "clean", await target.fresh("clean"), launcher, offices) as run:
        # A cold start of the entry point: what each restart would cost without the zygote.
        await run.begin(direct=True)
        figures.first_start = run.first_start
        for step in steps:
            clean.append(await run.step(step))
    figures.clean_seconds = time.monotonic() - began
    assert all(outcome.events for outcome in clean), [str(o.step) for o in clean if not o.events]

    for round_number in range(ROUNDS):
        plans = plan(clean, round_number, ROUNDS)
        name = f"kills-{round_number}"
        async with Run(name, tmp_path / name, await target.fresh(name), launcher, offices) as run:
            await run.begin()
            for step, planned, reference in zip(steps, plans, clean, strict=True):
                figures.add(await run.step(step, planned, reference), planned)
            figures.restarts += run.restarts
    figures.seconds = time.monotonic() - began

    (tmp_path / "steps.txt").write_text("\n".join(figures.log) + "\n")
    notable = [line for line in figures.details if not line.endswith(": ok")]
    with capsys.disabled():
        print(
            f"\n{target.dialect}: steps with something to report ({len(notable)} of "
            f"{len(figures.details)}; all in {tmp_path / 'steps.txt'})\n  " + "\n  ".join(notable)
        )
        print(report([figures]))
    assert len(figures.points) >= MIN_POINTS, "the harness hit too few kill points"
    assert all(figures.by_class.get(klass) for klass in CLASSES), f"kinds not hit: {figures.by_class}"
    assert figures.stuck == 0, "steps that never settled"
    assert (figures.acked_lost, figures.lost, figures.uncounted) == (0, 0, 0), (
        f"acknowledged-but-lost {figures.acked_lost}, lost replies {figures.lost}, "
        f"uncounted duplicates {figures.uncounted} (of {figures.duplicates})"
    )
