"""What a card and its report look like: the QR code, the printable A6 card, the report's lines
(one list for the chat message and the PDF, so both say the same), its chart, and its PDF.

Words come from the caller's `t` (the chat's translator, or documents.words.translator), so a PDF
reads in the reader's language; reportlab paragraphs take the same small HTML (<b>, escaped user
text) Telegram does. Chinese needs the Debian font fonts-wqy-microhei, embedded as a subset."""

import html
from io import BytesIO
from typing import Any

import segno
from PIL import Image, ImageDraw, ImageFont
from reportlab.lib.pagesizes import A4, A6
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Image as FlowImage
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

from documents import fonts
from documents.words import Translate
from services import local_time
from services.cards.reports import CardReport
from services.rules.satisfaction import ASPECTS, LEVELS, SMALL_SAMPLE


def qr_png(link: str, scale: int = 8) -> bytes:
    out = BytesIO()
    segno.make(link, error="m").save(out, kind="png", scale=scale, border=4)
    return out.getvalue()


def _plain(text: str) -> str:
    """Translated text may carry Telegram's tags; the canvas draws plain strings."""
    for tag in ("<b>", "</b>", "<i>", "</i>"):
        text = text.replace(tag, "")
    return html.unescape(text)


def card_pdf(subject_name: str, unit: str, link: str, t: Translate) -> bytes:
    """The printable A6 card for the counter: who is rated, the unit, the QR code, one instruction."""
    font = fonts.pdf_font()
    out = BytesIO()
    width, height = A6
    canvas = Canvas(out, pagesize=A6, pageCompression=1, invariant=1)  # same card, same bytes
    canvas.setTitle(_plain(t("cards.pdf.heading")))
    canvas.setFont(font, 15)
    canvas.drawCentredString(width / 2, height - 16 * mm, _plain(t("cards.pdf.heading")))
    canvas.setFont(font, 8)
    canvas.drawCentredString(width / 2, height - 22 * mm, _plain(t("cards.pdf.programme")))
    canvas.setFont(font, 14)
    canvas.drawCentredString(width / 2, height - 32 * mm, subject_name)
    canvas.setFont(font, 10)
    canvas.drawCentredString(width / 2, height - 39 * mm, unit)
    side = 68 * mm
    canvas.drawImage(
        ImageReader(BytesIO(qr_png(link))), (width - side) / 2, height - 41 * mm - side, side, side
    )
    canvas.setFont(font, 10)
    canvas.drawCentredString(width / 2, 20 * mm, _plain(t("cards.pdf.scan")))
    canvas.setFont(font, 7)
    canvas.drawCentredString(width / 2, 14 * mm, _plain(t("cards.pdf.privacy")))
    canvas.setFont(font, 5.5)
    canvas.drawCentredString(width / 2, 8 * mm, link)
    canvas.showPage()
    canvas.save()
    return out.getvalue()


def _n(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def report_lines(report: CardReport, t: Translate) -> list[str]:
    """The report's figures, in order; each line a translated, HTML-safe string."""
    s = report.summary
    lines = [
        t("cards.report.title_card", name=report.title, unit=report.unit)
        if report.scope == "card"
        else t("cards.report.title_unit", unit=report.unit, cards=report.cards),
        t("cards.report.nature"),
    ]
    if report.since or report.until:
        lines.append(t("cards.report.period", since=str(report.since or "…"), until=str(report.until or "…")))
    else:
        lines.append(t("cards.report.period_all"))
    lines.append(t("cards.report.count", count=s.count))
    if not s.count:
        lines.append(t("cards.report.no_ratings"))
        return lines
    if s.interval is not None:
        lines.append(
            t(
                "cards.report.index",
                index=_n(s.index),
                low=_n(s.interval[0]),
                high=_n(s.interval[1]),
                count=s.count,
            )
        )
    else:
        lines.append(t("cards.report.index_no_interval", index=_n(s.index), count=s.count))
    if s.small_sample:
        lines.append(t("cards.report.small_sample", minimum=SMALL_SAMPLE))
    lines.append(t("cards.report.formula"))
    lines.append(t("cards.report.csat", csat=_n(s.csat)))
    lines.append(t("cards.report.aspects_title"))
    lines += [
        t("cards.report.aspect", aspect_key=f"cards.aspect.{name}", score=_n(s.aspects[name]))
        for name in ASPECTS
    ]
    lines.append(
        t(
            "cards.report.nps",
            nps=_n(s.nps),
            promoters=_n(s.promoters),
            passives=_n(s.passives),
            detractors=_n(s.detractors),
        )
    )
    lines.append(t("cards.report.distribution_title"))
    lines += [
        t(
            "cards.report.level_line",
            level_key=f"cards.level.{code}",
            count=count,
            share=_n(100 * count / s.count),
        )
        for code, count in zip(LEVELS, s.distribution, strict=True)
    ]
    lines.append(t("cards.report.trend_title"))
    lines += [
        t("cards.report.week_line", week=week, count=count, index=_n(index)) for week, count, index in s.weeks
    ]
    if report.flagged:
        counts = report.flag_counts
        lines.append(
            t(
                "cards.report.flags",
                flagged=len(report.flagged),
                burst=counts["burst"],
                new=counts["new_raters"],
                same=counts["same_comment"],
                index=_n(report.index_unflagged),
            )
        )
    else:
        lines.append(t("cards.report.no_flags"))
    if report.comments:
        lines.append(t("cards.report.comments_title"))
        lines += [t("cards.report.comment_line", text=text[:200]) for text in report.comments]
    return lines


def chart_png(report: CardReport, t: Translate) -> bytes:
    """Two panels: how the overall answers spread over the five levels, and the index per ISO week."""
    font_file = str(fonts.font_file())
    small, title_font = ImageFont.truetype(font_file, 14, index=0), ImageFont.truetype(font_file, 17, index=0)
    s = report.summary
    image = Image.new("RGB", (900, 420), "white")
    draw = ImageDraw.Draw(image)
    draw.text((20, 12), _plain(t("cards.chart.distribution")), fill="black", font=title_font)
    largest = max(s.distribution, default=0) or 1
    colours = ((46, 125, 50), (124, 179, 66), (251, 192, 45), (245, 124, 0), (211, 47, 47))
    for i, (code, count) in enumerate(zip(LEVELS, s.distribution, strict=True)):
        top = 50 + 60 * i
        draw.text((20, top + 12), _plain(t(f"cards.level.{code}")), fill="black", font=small)
        width = round(260 * count / largest)
        if width:
            draw.rectangle((110, top + 6, 110 + width, top + 36), fill=colours[i])
        draw.text((116 + width, top + 12), str(count), fill="black", font=small)
    draw.text((460, 12), _plain(t("cards.chart.trend")), fill="black", font=title_font)
    weeks = s.weeks[-8:]
    base, top_y = 360, 60
    draw.line((470, base, 880, base), fill="grey")
    for value in (0, 50, 100):
        y = base - (base - top_y) * value / 100
        draw.text((440 if value < 100 else 432, y - 8), str(value), fill="grey", font=small)
    step = 400 / max(1, len(weeks))
    for i, (week, _count, index) in enumerate(weeks):
        x = 480 + step * i
        y = base - (base - top_y) * index / 100
        draw.rectangle((x, y, x + step * 0.6, base), fill=(25, 118, 210))
        draw.text((x, base + 6), week[-3:], fill="black", font=small)
        draw.text((x, y - 20), f"{index:.0f}", fill="black", font=small)
    out = BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def report_pdf(report: CardReport, t: Translate) -> bytes:
    font = fonts.pdf_font()
    out = BytesIO()
    document = SimpleDocTemplate(
        out,
        pagesize=A4,
        title=_plain(t("cards.pdf.report_title")),
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=16 * mm,
        invariant=1,
    )  # no hidden timestamp: same figures, same bytes
    body = ParagraphStyle("body", fontName=font, fontSize=10, leading=15, wordWrap="CJK")
    heading = ParagraphStyle("heading", parent=body, fontSize=15, leading=21)
    lines = report_lines(report, t)
    story: list[Any] = [Paragraph(lines[0], heading), Spacer(1, 4 * mm)]
    story += [Paragraph(line, body) for line in lines[1:]]
    if report.summary.count:
        chart = FlowImage(BytesIO(chart_png(report, t)), width=170 * mm, height=170 * mm * 420 / 900)
        story += [Spacer(1, 4 * mm), chart]
    generated = local_time.minute_text(report.generated_at) if report.generated_at else ""
    story += [Spacer(1, 4 * mm), Paragraph(t("cards.report.generated", at=generated), body)]
    document.build(story)
    return out.getvalue()
