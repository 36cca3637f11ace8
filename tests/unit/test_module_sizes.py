"""Module size guard: no module under services/ or handlers/ runs past 400 lines; a longer one is
split by who acts, as services/nominations/ and handlers/precheck/ are."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LIMIT = 400


def test_no_services_or_handlers_module_is_longer_than_400_lines() -> None:
    modules = [*ROOT.glob("services/**/*.py"), *ROOT.glob("handlers/**/*.py")]
    assert len(modules) > 50
    sizes = {
        path.relative_to(ROOT).as_posix(): len(path.read_text(encoding="utf-8").splitlines())
        for path in modules
    }
    too_long = sorted(f"{name} ({lines} lines)" for name, lines in sizes.items() if lines > LIMIT)
    assert not too_long, f"longer than {LIMIT} lines: {', '.join(too_long)}"
