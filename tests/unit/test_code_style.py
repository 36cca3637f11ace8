"""Code style guard: ruff finds nothing to lint and nothing to reformat, and mypy finds nothing to
report in models and services (all configured in pyproject.toml)."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RUFF = Path(sys.executable).with_name("ruff")
TYPED = ("models", "services")  # held to mypy's strict flags

# Being rewritten elsewhere: left out of the type check until they land, then this is emptied.
# A checked module that imports one still has it analysed, but its errors are not reported.
PENDING = (
    "services/nominations.py",
    "services/reviews.py",
    "services/honours.py",
    "services/publicity.py",
    "services/cards.py",
    "services/files.py",
    "services/exports.py",
    "services/certificates.py",
    "services/card_reports.py",
    "services/texts.py",
)


@pytest.mark.parametrize("command", [["check", "."], ["format", "--check", "."]], ids=["lint", "format"])
def test_ruff_finds_nothing(command: list[str]) -> None:
    result = subprocess.run(
        [str(RUFF), *command, "--no-cache"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_finds_nothing() -> None:
    pending = [option for path in PENDING for option in ("--exclude", f"^{re.escape(path)}$")]
    if PENDING:
        pending.append("--follow-imports=silent")  # the command line's modules are still reported
    result = subprocess.run(
        [sys.executable, "-m", "mypy", *pending, *TYPED],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
