"""The honour certificate (第十七条第1项) as a PDF, in Chinese, with the font embedded and a QR code
that opens the bot's verification of that certificate number.

reportlab's built-in CID fonts are not embedded (a machine without Chinese fonts shows boxes), so
the Debian font WenQuanYi Micro Hei is embedded as a subset; no font is fetched at run time."""

from datetime import datetime
from io import BytesIO
from pathlib import Path

import segno
from reportlab.lib.colors import Color, HexColor
from reportlab.lib.pagesizes import A4, landscape
from reportlab.pdfgen.canvas import Canvas

from documents import fonts
from documents.words import translator
from services import local_time
from services.catalogue import honour_name
from services.certificates import CertificateText
from services.ports import Links

RED = HexColor("#B22222")
GOLD = HexColor("#C9A227")
INK = HexColor("#222222")

LOCALE = "zh_CN"  # a certificate is an official document in Chinese (第十七条第1项)


def _day(moment: datetime) -> str:
    local = local_time.local(moment)
    return translator(LOCALE)("certificate.date", year=local.year, month=local.month, day=local.day)


def _centred(canvas: Canvas, font: str, size: float, y: float, text: str, colour: Color = INK) -> None:
    canvas.setFillColor(colour)
    canvas.setFont(font, size)
    canvas.drawCentredString(landscape(A4)[0] / 2, y, text)


def _qr(canvas: Canvas, data: str, *, x: float, y: float, size: float) -> None:
    """The QR code drawn as filled squares (reportlab's QR widget pulls in an unembedded Helvetica)."""
    matrix = [list(row) for row in segno.make(data, error="m").matrix]
    cell = size / len(matrix)
    canvas.setFillColor(HexColor("#000000"))
    for r, row in enumerate(matrix):
        for c, dark in enumerate(row):
            if dark:
                canvas.rect(x + c * cell, y + size - (r + 1) * cell, cell, cell, stroke=0, fill=1)


def render(certificate: CertificateText, links: Links, *, font_path: Path | None = None) -> bytes:
    font = fonts.pdf_font(font_path)
    width, height = landscape(A4)
    buffer = BytesIO()
    # The initial font too: otherwise an unused, unembedded Helvetica is listed in the PDF.
    canvas = Canvas(buffer, pagesize=(width, height), initialFontName=font, initialFontSize=12)
    t = translator(LOCALE)
    canvas.setTitle(t("certificate.title_line", number=certificate.number))
    canvas.setAuthor(t("certificate.issuer"))
    # Frame: a red outer border and a thin gold inner one.
    canvas.setStrokeColor(RED)
    canvas.setLineWidth(10)
    canvas.rect(22, 22, width - 44, height - 44)
    canvas.setStrokeColor(GOLD)
    canvas.setLineWidth(2)
    canvas.rect(38, 38, width - 76, height - 76)

    _centred(canvas, font, 46, height - 128, t("certificate.heading"), RED)
    canvas.setFont(font, 11)
    canvas.setFillColor(INK)
    canvas.drawRightString(width - 60, height - 70, t("certificate.number", number=certificate.number))

    canvas.setFont(font, 20)
    canvas.drawString(110, height - 200, f"{certificate.holder}：")
    unit = f"（{certificate.unit}）" if certificate.unit and certificate.unit != certificate.holder else ""
    if unit:
        canvas.setFont(font, 13)
        canvas.drawString(130, height - 226, unit)
    _centred(canvas, font, 17, height - 262, t("certificate.for", year=certificate.campaign_year))
    _centred(canvas, font, 30, height - 314, f"“{honour_name(certificate.honour, LOCALE)}”", RED)
    _centred(canvas, font, 17, height - 352, t("certificate.conferred"))
    _centred(
        canvas,
        font,
        13,
        height - 392,
        t("certificate.validity", since=_day(certificate.valid_from), until=_day(certificate.valid_until)),
    )

    canvas.setFont(font, 15)
    canvas.drawRightString(width - 110, 120, t("certificate.issuer"))
    canvas.drawRightString(width - 110, 96, _day(certificate.valid_from))

    _qr(canvas, links.certificate(certificate.number), x=70, y=66, size=96.0)
    canvas.setFont(font, 9)
    canvas.drawString(70, 56, t("certificate.scan"))
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()
