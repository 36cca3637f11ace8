"""handlers/cards.py still draws cards and reports through here (it is being split); this goes once
it imports documents.cards itself."""

from documents.cards import card_pdf, chart_png, qr_png, report_lines, report_pdf

__all__ = ["card_pdf", "chart_png", "qr_png", "report_lines", "report_pdf"]
