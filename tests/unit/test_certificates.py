"""The certificate PDF as a person would check it: its text, its embedded font, a page image."""

import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from documents.certificate import render
from handlers.channel import TelegramLinks
from services.certificates import CertificateText
from services.errors import DomainError

pytestmark = pytest.mark.article("第十七条第1项")

CERTIFICATE = CertificateText(
    number="GD-2026-STAR-0001",
    holder="张伟",
    honour="STAR",
    unit="广州地铁集团有限公司",
    campaign_year=2026,
    valid_from=datetime(2026, 7, 15, 2, tzinfo=UTC),
    valid_until=datetime(2029, 7, 15, 2, tzinfo=UTC),
)


def run(*command: str) -> str:
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout


def test_the_certificate_reads_in_chinese_with_the_font_embedded(tmp_path: Path) -> None:
    pdf = tmp_path / "cert.pdf"
    pdf.write_bytes(render(CERTIFICATE, TelegramLinks("servicestar_bot")))
    text = run("pdftotext", str(pdf), "-")
    for expected in (
        "荣誉证书",
        "张伟",
        "GD-2026-STAR-0001",
        "广东省用户满意服务明星",
        "广州地铁集团有限公司",
        "2026年7月15日 至 2029年7月15日",
    ):
        assert expected in text.replace("荣 誉 证 书", "荣誉证书"), expected
    fonts = [line.split() for line in run("pdffonts", str(pdf)).splitlines()[2:]]
    assert fonts and all(row[-5] == "yes" for row in fonts), fonts  # the emb column, for every font
    assert any("WenQuanYiMicroHei" in row[0] for row in fonts)
    run("pdftoppm", "-png", "-r", "40", "-singlefile", str(pdf), str(tmp_path / "page"))
    page = (tmp_path / "page.png").read_bytes()
    assert page.startswith(b"\x89PNG") and len(page) > 5000


def test_the_qr_code_opens_the_bots_verification_deep_link() -> None:
    link = TelegramLinks("servicestar_bot").certificate("GD-2026-STAR-0001")
    assert link == "https://t.me/servicestar_bot?start=v-GD-2026-STAR-0001"
    assert len(link.split("start=")[1]) <= 64


def test_a_missing_font_names_the_debian_package(tmp_path: Path) -> None:
    with pytest.raises(DomainError) as refused:
        render(CERTIFICATE, TelegramLinks("servicestar_bot"), font_path=tmp_path / "missing.ttc")
    assert (refused.value.code, refused.value.params["package"]) == ("font.missing", "fonts-wqy-microhei")
