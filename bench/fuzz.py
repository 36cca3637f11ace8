"""Random journeys of every role through the production bot, many sequences, outside pytest: the
state machine of tests/support/journeys.py, run by hypothesis.

    .venv/bin/python -m bench.fuzz --sequences 10000 [--steps N] [--seed S] [--keep-going]

Prints sequences, steps, presses and how many were answered exactly once, unhandled exceptions,
violations by kind, dead letters, refusals, and the run time. A violation stops the run and prints
the failing sequence as hypothesis shrank it (rerun it with the same --seed); with --keep-going
every sequence runs and the violations are only counted (one example of each kind is printed)."""

import argparse
import copy
import logging
import random
import sys
import time
import traceback

from hypothesis import HealthCheck, Phase, seed, settings
from hypothesis.stateful import invariant, run_state_machine_as_test

from tests.support import journeys


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.fuzz", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sequences", type=int, default=300)
    parser.add_argument("--steps", type=int, default=15, help="steps per sequence at most (default 15)")
    parser.add_argument("--seed", type=int, default=None, help="default: a random one, printed")
    parser.add_argument(
        "--keep-going", action="store_true", help="count violations instead of stopping at the first"
    )
    return parser.parse_args(argv)


class Reporting(journeys.JourneyMachine):
    """Keeps the figures as they were at the first violation: shrinking reruns sequences after it."""

    at_first_violation: journeys.Figures | None = None
    first_violation_at = 0.0  # perf_counter

    @invariant()  # an override is an invariant only when marked again
    def promises_kept(self) -> None:
        try:
            super().promises_kept()
        except journeys.JourneyViolation:
            if Reporting.at_first_violation is None:
                Reporting.at_first_violation = copy.deepcopy(journeys.FIGURES)
                Reporting.first_violation_at = time.perf_counter()
            raise


def show(figures: journeys.Figures, seconds: float) -> str:
    kinds, sequences, steps = figures.violations, max(figures.sequences, 1), max(figures.steps, 1)
    once = 100 * figures.answered_once / figures.presses if figures.presses else 100.0
    starts = ", ".join(f"{name} {count}" for name, count in figures.worlds.most_common())
    by_rule = ", ".join(
        f"{rule} {count} ({1000 * figures.rule_seconds[rule] / count:.0f})"
        for rule, count in figures.rules.most_common()
    )
    return "\n".join(
        [
            f"  sequences: {figures.sequences} (starting from: {starts})",
            f"  steps: {figures.steps}   updates delivered: {figures.updates}",
            f"  presses: {figures.presses}, answered exactly once: {figures.answered_once} ({once:.2f}%)",
            (
                f"  unhandled exceptions: {kinds['unhandled exception'] + kinds['exception escaped']}   "
                f"dead letters: {kinds['dead letter']}   refusals: {kinds['Telegram refusal']}"
            ),
            "  refusals as Telegram gives them to a bot doing right (not counted above): "
            + (", ".join(f"{n} {what}" for what, n in figures.tolerated_refusals.most_common()) or "none"),
            f"  invariant violations: {sum(kinds.values())}"
            + "".join(f"\n    {count:6d}  {kind}" for kind, count in kinds.most_common()),
            (
                f"  run time: {seconds:.1f} s: {1000 * seconds / sequences:.0f} ms a sequence (setting it up "
                f"{1000 * figures.setup_seconds / sequences:.0f} ms), {1000 * seconds / steps:.1f} ms a step "
                f"(checking the promises {1000 * figures.check_seconds / steps:.1f} ms)"
            ),
            f"  steps by rule (count, ms each): {by_rule}",
        ]
    )


def failing_sequence(failure: BaseException) -> str:
    """Hypothesis's shrunk program (in the exception's notes) and the broken promise; the whole
    traceback when the machine itself failed."""
    if isinstance(failure, BaseExceptionGroup):  # several distinct bugs, each shrunk on its own
        return "\n\n".join(failing_sequence(one) for one in failure.exceptions)
    if isinstance(failure, journeys.JourneyViolation):
        return "\n".join([*getattr(failure, "__notes__", []), f"{type(failure).__name__}: {failure}"])
    return "".join(traceback.format_exception(failure))


def main(argv: list[str]) -> int:
    args = parse(argv)
    chosen = random.randrange(2**32) if args.seed is None else args.seed
    # The machine collects what the bot logs at ERROR, as a violation; nothing is printed as it runs.
    logging.getLogger().setLevel(logging.ERROR)
    logging.getLogger().addHandler(logging.NullHandler())
    print(
        f"random journeys: {args.sequences} sequences of up to {args.steps} steps, seed {chosen}"
        f"{', keep going' if args.keep_going else ''}"
    )
    started = time.perf_counter()
    seeded = journeys.seeded()
    print(
        f"  seeded worlds ({', '.join(seeded.snapshots)}) built in {seeded.build_seconds:.1f} s "
        "(once per process)"
    )
    Reporting.keep_going = args.keep_going
    profile = settings(
        max_examples=args.sequences,
        stateful_step_count=args.steps,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
        print_blob=True,
        phases=[Phase.generate] if args.keep_going else [Phase.generate, Phase.shrink],
    )
    failure: BaseException | None = None
    running = time.perf_counter()
    try:
        run_state_machine_as_test(seed(chosen)(Reporting), settings=profile)
    except Exception as error:  # noqa: BLE001  (a violation, or the machine itself failed: both are shown)
        failure = error
    ended = time.perf_counter()
    first = Reporting.at_first_violation
    if failure is not None and first is not None:
        print("figures up to the first violation:")
        print(show(first, Reporting.first_violation_at - running))
        print(f"  then shrinking it: {ended - Reporting.first_violation_at:.1f} s")
    else:
        print(show(journeys.FIGURES, ended - running))
    print(f"  in all, with the seeded worlds: {ended - started:.1f} s")
    if args.keep_going and journeys.FIGURES.examples:
        print("\none example of each kind of violation:")
        for kind, detail in journeys.FIGURES.examples.items():
            print(f"  {kind}: {detail[:1500]}")
    if failure is not None:
        print(f"\nthe failing sequence, shrunk (run it again with --seed {chosen}):")
        print(failing_sequence(failure))
        return 1
    return 1 if journeys.FIGURES.examples else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
