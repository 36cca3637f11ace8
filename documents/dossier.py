"""One nomination's dossier as the office hands it on: a ZIP archive of its files, the seal scan,
the verification files and a summary page (HTML, and a PDF when the Chinese font is installed).

Text typed by applicants goes into the page HTML-escaped; archive names are sanitised again, as a
name must never climb out of the archive."""

import zipfile
from html import escape
from io import BytesIO
from typing import Any

from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

from documents import Document, fonts
from documents.items import item_label
from documents.words import Translate, organisation_name, translator
from services import local_time
from services.files.kinds import EXTENSIONS, safe_name, sniff
from services.files.store import FileStore
from services.nominations.office_view import OfficeView
from services.rules import dossier

Line = tuple[str, str]  # (what, value)


def archive(view: OfficeView, store: FileStore, locale: str) -> Document:
    t = translator(locale)
    buffer = BytesIO()
    used: set[str] = set()
    listed: list[Line] = []  # (what, name in the archive)
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zipped:
        for number, material in enumerate(view.materials, 1):
            clean = (
                safe_name(material.file_name, material.kind) if material.kind in EXTENSIONS else "file.bin"
            )
            name = _unique(f"{number:02d}_{clean}", used)  # the number keeps two files of one name apart
            zipped.writestr(name, store.get(material.sha256))
            listed.append((item_label(f"material:{material.slot}", locale, t), name))
        if view.endorsement is not None:
            seal = store.get(view.endorsement.seal_sha256)
            name = _unique(f"seal.{_extension(seal)}", used)  # the scan's content decides its extension
            zipped.writestr(name, seal)
            listed.append((t("precheck.item.seal"), name))
        for check in view.verifications:
            for index, sha in enumerate(check.files, 1):
                name = _unique(f"verification_{check.id}_{index}.{_extension(store.get(sha))}", used)
                zipped.writestr(name, store.get(sha))
                listed.append((t("export.verification_file"), name))
        lines = _summary(view, listed, locale, t)
        title = t("export.summary_title", id=view.nomination.id)
        zipped.writestr("summary.html", _html(title, lines, locale))
        if fonts.installed():  # without the Chinese font a PDF would show boxes: the HTML page suffices
            zipped.writestr("summary.pdf", _pdf(title, lines))
    return Document(f"nomination-{view.nomination.id}.zip", buffer.getvalue())


def _extension(data: bytes) -> str:
    kind = sniff(data)
    return EXTENSIONS[kind][0].lstrip(".") if kind else "bin"


def _unique(name: str, used: set[str]) -> str:
    candidate, counter = name, 1
    while candidate in used:
        stem, dot, ext = name.rpartition(".")
        candidate = f"{stem}_{counter}{dot}{ext}" if dot else f"{name}_{counter}"
        counter += 1
    used.add(candidate)
    return candidate


def _summary(view: OfficeView, files: list[Line], locale: str, t: Translate) -> list[Line]:
    nomination = view.nomination
    lines = [
        (t("export.col.id"), str(nomination.id)),
        (t("export.col.honour"), t(f"honour.{nomination.honour}")),
        (t("export.col.stage"), t(f"stage.{nomination.stage}")),
    ]
    lines += [
        (t(f"dossier.field.{spec.id}"), str(nomination.fields.get(spec.id, "")))
        for spec in dossier.FIELDS[nomination.honour]
    ]
    lines.append((t("export.col.organisation"), organisation_name(view.organisation, locale)))
    if view.endorsement is not None:
        lines.append((t("precheck.item.opinion"), view.endorsement.opinion))
        lines.append((t("export.endorsed_at"), local_time.minute_text(view.endorsement.endorsed_at)))
    lines += files
    lines += [
        (t("export.verifications"), f"{check.on.isoformat()}: {check.finding}")
        for check in view.verifications
    ]
    return lines


def _html(title: str, lines: list[Line], locale: str) -> str:
    rows = "".join(f"<tr><th>{escape(label)}</th><td>{escape(value)}</td></tr>" for label, value in lines)
    return (
        f'<!DOCTYPE html><html lang="{"en" if locale == "en" else "zh-CN"}"><head><meta charset="utf-8">'
        f'<title>{escape(title)}</title></head><body><h1>{escape(title)}</h1><table border="1">{rows}</table>'
        "</body></html>"
    )


def _pdf(title: str, lines: list[Line]) -> bytes:
    """The same summary, printable, with the Chinese font embedded (a subset) so it reads anywhere."""
    font = fonts.pdf_font()
    body = ParagraphStyle("body", fontName=font, fontSize=10.5, leading=15, wordWrap="CJK")
    heading = ParagraphStyle("title", parent=body, fontSize=15, leading=22)
    out = BytesIO()
    document = SimpleDocTemplate(out, pagesize=A4, title=title)
    # Paragraph reads a little markup: everything typed by people is escaped first.
    story: list[Any] = [Paragraph(escape(title), heading), Spacer(1, 8)]
    story += [Paragraph(f"<b>{escape(label)}</b>: {escape(value)}", body) for label, value in lines]
    document.build(story)
    return out.getvalue()
