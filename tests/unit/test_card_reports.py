"""The evaluation card's printable PDF and the satisfaction report's PDF and chart, read back as a
person would: pdftotext for the words, pdffonts for the embedded Chinese font."""

import subprocess
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from documents import cards
from documents import fonts as cjk_font
from locales import fill, read_catalogue
from services.cards.reports import CardReport
from services.errors import DomainError
from services.rules import satisfaction
from tests.unit.test_satisfaction import sample

LINK = "https://t.me/servicestar_bot?start=c-AbCdEfGhIjKlMnOpQrStUvWx"


def translator(locale: str) -> Any:
    catalogue = read_catalogue(locale)
    return lambda key, **params: fill(catalogue[key], params, catalogue.__getitem__)


def built(answers: list[satisfaction.Answer], comments: list[str] | None = None) -> CardReport:
    raised = satisfaction.flags(answers)
    return CardReport(
        scope="card",
        title="张伟",
        unit="广州地铁",
        cards=1,
        since=None,
        until=None,
        summary=satisfaction.summarise(answers),
        flagged=raised,
        flag_counts=satisfaction.flag_counts(raised),
        index_unflagged=None,
        comments=comments or [],
        generated_at=datetime(2026, 3, 20, 2, 0, tzinfo=UTC),
    )


def pdf_text(tmp_path: Path, data: bytes) -> tuple[str, str]:
    path = tmp_path / "out.pdf"
    path.write_bytes(data)
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    return text, fonts


def embedded(fonts: str) -> bool:
    rows = [line.split() for line in fonts.splitlines()[2:] if "WenQuanYi" in line]
    return bool(rows) and all(row[-5] == "yes" for row in rows)  # columns: ... emb sub uni object ID


def test_the_report_pdf_says_what_it_is_and_shows_the_hand_computed_figures(tmp_path: Path) -> None:
    text, fonts = pdf_text(tmp_path, cards.report_pdf(built(sample(), ["服务周到<好>"]), translator("zh_CN")))
    flat = "".join(text.split())
    assert "用户（顾客）评价汇总：张伟（广州地铁）" in flat
    assert "内部的用户（顾客）评价汇总" in flat and "第十六条第1项" in flat and "独立的第三方机构" in flat
    assert "满意度指数：71.0（95%置信区间50.7–91.3，样本量n=10）" in flat
    assert "样本少于30份" in flat and "1.96×s÷√n" in flat and "很满意100" in flat
    assert "CSAT（“很满意”和“满意”的占比）：70.0%" in flat
    assert "NPS" in flat and "：20.0（推荐者50.0%，中立者20.0%，贬损者30.0%）" in flat
    assert "2026-W10：6份，指数90.0" in flat and "专业技能：80.0" in flat
    assert "“服务周到<好>”" in flat and "生成时间：2026-03-2010:00" in flat
    assert embedded(fonts), fonts


def test_the_report_in_english_and_with_flags(tmp_path: Path) -> None:
    answers = [
        satisfaction.Answer(
            id=i,
            card_id=1,
            at=datetime(2026, 3, 2, 2, i, tzinfo=UTC),
            overall=0,
            aspects=(0, 0, 0, 0),
            recommend=10,
        )
        for i in range(10)
    ]
    report = built(answers)
    text, _ = pdf_text(tmp_path, cards.report_pdf(report, translator("en")))
    flat = " ".join(text.split())
    assert (
        "internal customer-evaluation summary" in flat
        and "Art. 16.1 may come from an independent body" in flat
    )
    assert "Ratings that look staged: 10 flagged (burst 10" in flat and "none dropped" in flat


def test_the_chart_is_a_png() -> None:
    image = Image.open(BytesIO(cards.chart_png(built(sample()), translator("zh_CN"))))
    assert image.format == "PNG" and image.size == (900, 420)


def test_the_printable_card_is_a6_with_name_unit_and_embedded_font(tmp_path: Path) -> None:
    data = cards.card_pdf("李娜", "广州地铁一号线", LINK, translator("zh_CN"))
    text, fonts = pdf_text(tmp_path, data)
    assert "用户（顾客）评价卡" in text and "李娜" in text and "广州地铁一号线" in text and LINK in text
    assert embedded(fonts), fonts
    info = subprocess.run(["pdfinfo", "-"], input=data, capture_output=True, check=True).stdout.decode()
    assert "Page size:       297.638 x 419.528 pts" in info, info  # A6: 105 × 148 mm
    assert cards.qr_png(LINK).startswith(b"\x89PNG")


def test_a_missing_font_names_the_debian_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cjk_font, "PATH", Path("/nonexistent/wqy-microhei.ttc"))
    with pytest.raises(DomainError) as refused:
        cards.chart_png(built(sample()), translator("zh_CN"))
    message = translator("zh_CN")(f"error.{refused.value.code}", **refused.value.params)
    assert "fonts-wqy-microhei" in message and "/nonexistent/wqy-microhei.ttc" in message
