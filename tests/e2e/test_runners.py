"""The runners as a person starts them: the offline terminal chat, and the audit verifier."""

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_bot(
    args: list[str],
    data: Path,
    stdin: str = "",
    extra: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("BOT_TOKEN", "DATABASE_URL", "REDIS_URL")
    }
    env.update({"DATA_DIR": str(data), "PYTHONPATH": str(ROOT), **(extra or {})})
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=data,
        env=env,
        input=stdin,
        text=True,
        capture_output=True,
        timeout=120,
        check=False,
    )


def test_without_a_token_the_offline_chat_answers_in_chinese(tmp_path: Path) -> None:
    # Be the applicant, send /start, press 1 (同意), open the self-check, then leave.
    result = run_bot([], tmp_path, stdin="1\n/start\n1\n/selfcheck\n/quit\n")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "本地离线模式" in out and "个人信息保护说明" in out
    assert "[1] 同意" in out and "谢谢！已记录您的同意。" in out and "请选择要申报的称号" in out
    with sqlite3.connect(tmp_path / "servicestar.db") as db:
        assert db.execute("SELECT name FROM person").fetchall() == [("申报人",)]


def test_verify_audit_names_the_first_broken_record(tmp_path: Path) -> None:
    run_bot([], tmp_path, stdin="1\n/start\n1\n/as\n3\n/start\n1\n/quit\n")
    intact = run_bot(["verify-audit"], tmp_path)
    assert intact.returncode == 0 and "audit log intact: " in intact.stdout
    with sqlite3.connect(tmp_path / "servicestar.db") as db:
        db.execute("UPDATE auditrecord SET reason = 'rewritten' WHERE seq = 2")
    broken = run_bot(["verify-audit"], tmp_path)
    assert broken.returncode == 1 and "BROKEN at record 2" in broken.stdout


def test_a_bad_setting_stops_start_up_with_one_line(tmp_path: Path) -> None:
    result = run_bot([], tmp_path, extra={"WEBHOOK_PORT": "eighty"})
    assert result.returncode != 0
    assert result.stderr.strip().splitlines()[-1].startswith("Bad setting WEBHOOK_PORT:")
