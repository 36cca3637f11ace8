"""Wiring guards: layer contracts, migrations match the tables, every message is translated."""

import ast
import re
import subprocess
import sys
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import SQLModel

from locales import LOCALES, read_catalogue

ROOT = Path(__file__).resolve().parents[2]


def test_layer_contracts_hold() -> None:
    linter = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(linter)], cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


async def test_migrations_match_the_tables(engine: AsyncEngine) -> None:
    def diff(connection) -> list:  # type: ignore[no-untyped-def]
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, SQLModel.metadata)

    async with engine.connect() as conn:
        assert await conn.run_sync(diff) == []


def _keys_in_code() -> set[str]:
    """Translation keys named literally in code: t("..."), gettext("..."), DomainError("...") as
    error.<code>, outbox templates, label keys, and *_key parameters."""
    keys: set[str] = set()
    packages = ("handlers", "bot", "services", "documents")
    for path in (path for package in packages for path in ROOT.glob(f"{package}/**/*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
                first = node.args[0] if node.args else None
                literal = (
                    first.value if isinstance(first, ast.Constant) and isinstance(first.value, str) else None
                )
                if name in ("t", "gettext", "_") and literal:
                    keys.add(literal)
                if name == "DomainError" and literal:
                    keys.add(f"error.{literal}")
                for keyword in node.keywords:
                    value = keyword.value
                    if isinstance(value, ast.Constant) and isinstance(value.value, str):
                        if keyword.arg in ("template", "label") or (keyword.arg or "").endswith("_key"):
                            keys.add(value.value)
                if name == "notify_person" and len(node.args) > 2 and isinstance(node.args[2], ast.Constant):
                    keys.add(node.args[2].value)
    return {k for k in keys if re.fullmatch(r"[a-z_]+(\.[a-z0-9_]+)+", k)}


def test_every_key_used_in_code_is_translated_in_both_languages() -> None:
    catalogues = {locale: read_catalogue(locale) for locale in LOCALES}
    used = _keys_in_code()
    assert len(used) > 40
    for locale, catalogue in catalogues.items():
        missing = sorted(k for k in used if not catalogue.get(k))
        assert not missing, f"{locale} lacks {missing}"


def test_both_catalogues_have_the_same_complete_messages() -> None:
    zh, en = (read_catalogue(locale) for locale in LOCALES)
    assert set(zh) == set(en), set(zh) ^ set(en)
    assert not [k for k in zh if not zh[k] or not en[k]]
