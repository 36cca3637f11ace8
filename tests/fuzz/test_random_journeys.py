"""Random journeys of every role through the production Dispatcher, inbox and outbox, against the
strict Bot API double: after every step, no exception, no dead letter, every press answered once,
no refusal, legal nomination stages, ballots only from the panel, an intact audit chain, no outbox
row sent twice; also no message met with silence, nothing kept about someone who never agreed, and
whoever writes to the bot reachable again (tests/support/journeys.py says how).

Each run draws a new seed and names it on failure, with the shrunk sequence of steps; run it again
with FUZZ_SEED=<seed>. FUZZ_PROFILE=fuzz-quick runs 50 sequences instead of CI's 500."""

import os
import random

from hypothesis import HealthCheck, seed, settings
from hypothesis.stateful import run_state_machine_as_test

from tests.support.journeys import JourneyMachine

settings.register_profile(
    "fuzz-ci",
    max_examples=500,
    stateful_step_count=8,
    deadline=None,
    database=None,  # reproducible from the seed alone, never from a local example database
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
settings.register_profile("fuzz-quick", settings.get_profile("fuzz-ci"), max_examples=50)


def test_random_journeys_keep_every_promise() -> None:
    chosen = int(os.environ.get("FUZZ_SEED") or random.randrange(2**32))
    # A subclass, so the seed stays with this run.
    machine = seed(chosen)(type("RandomJourneys", (JourneyMachine,), {}))
    profile = settings.get_profile(os.environ.get("FUZZ_PROFILE", "fuzz-ci"))
    try:
        run_state_machine_as_test(machine, settings=profile)
    except Exception as error:
        error.add_note(f"reproduce with FUZZ_SEED={chosen}")
        raise
