"""What the office hands on: one nomination's dossier as a ZIP (its files, the seal scan and a
summary page), and the campaign's nomination list (汇总表) as an Excel workbook, one sheet per honour.

Both are in the committee's language (Chinese by default). Text typed by applicants goes into the
summary page HTML-escaped, and into Excel cells always as strings: a name such as "=HYPERLINK(…)"
must never become a formula."""

import zipfile
from dataclasses import dataclass
from datetime import datetime
from html import escape
from io import BytesIO
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import Cell
from openpyxl.styles import Font
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models import Endorsement, Nomination, Organisation, Role, Verification
from services import campaigns, fonts, people
from services.actors import Actor
from services.catalogue import load_catalogue
from services.errors import DomainError
from services.files.kinds import EXTENSIONS, safe_name, sniff
from services.files.store import FileStore
from services.nominations import deficiencies, office_view, queries
from services.rules import dossier
from services.rules.nomination_flow import Stage
from services.texts import translator

FORMULA_STARTS = ("=", "+", "-", "@")
LISTED = [s.value for s in Stage if s not in (Stage.DRAFT, Stage.WITHDRAWN)]
SHEET_FORBIDDEN = str.maketrans({c: "_" for c in "[]:*?/\\"})


@dataclass(frozen=True)
class Export:
    file_name: str
    data: bytes


def _local(moment: datetime | None) -> str:
    return deficiencies.local_deadline(moment) if moment else ""


def display_name(nomination: Nomination) -> str:
    return str(nomination.fields.get("name") or nomination.fields.get("team_name") or "")


def unit_of(nomination: Nomination) -> str:
    """The nominee's unit: its employer or enterprise; an enterprise is its own unit."""
    fields = nomination.fields
    return str(
        fields.get("employer")
        or fields.get("enterprise")
        or (fields.get("name") if nomination.honour == "ENTERPRISE" else "")
        or ""
    )


def organisation_label(organisation: Organisation | None, locale: str) -> str:
    if organisation is None:
        return ""
    return organisation.name_en if locale == "en" else organisation.name_zh


# One nomination's dossier ------------------------------------------------------------------------


async def dossier_zip(
    session: AsyncSession, actor: Actor, nomination_id: int, store: FileStore, locale: str = "zh_CN"
) -> Export:
    view = await office_view.office_view(session, actor, nomination_id)
    _ = translator(locale)
    buffer = BytesIO()
    used: set[str] = set()
    listed: list[tuple[str, str]] = []  # (what, name in the archive)
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for number, material in enumerate(view.materials, 1):
            # Names were sanitised on upload; again here, as an archive path must never climb out.
            # The number keeps two files of one name apart.
            clean = (
                safe_name(material.file_name, material.kind) if material.kind in EXTENSIONS else "file.bin"
            )
            name = _unique(f"{number:02d}_{clean}", used)
            archive.writestr(name, store.get(material.sha256))
            listed.append((deficiencies.item_label(f"material:{material.slot}", locale, _), name))
        if view.endorsement is not None:
            seal = store.get(view.endorsement.seal_sha256)
            name = _unique(f"seal.{_extension(seal)}", used)  # the scan's content decides its extension
            archive.writestr(name, seal)
            listed.append((_("precheck.item.seal"), name))
        for check in view.verifications:
            for index, sha in enumerate(check.files, 1):
                name = _unique(f"verification_{check.id}_{index}.{_extension(store.get(sha))}", used)
                archive.writestr(name, store.get(sha))
                listed.append((_("export.verification_file"), name))
        archive.writestr("summary.html", _summary_html(view, listed, locale))
        if fonts.installed():  # without the Chinese font a PDF would show boxes: the HTML page suffices
            archive.writestr("summary.pdf", _summary_pdf(view, listed, locale))
    return Export(f"nomination-{nomination_id}.zip", buffer.getvalue())


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


def _summary_html(view: office_view.OfficeView, files: list[tuple[str, str]], locale: str) -> str:
    title = escape(translator(locale)("export.summary_title").format(id=view.nomination.id))
    rows = "".join(
        f"<tr><th>{escape(label)}</th><td>{escape(value)}</td></tr>"
        for label, value in _summary_lines(view, files, locale)
    )
    return (
        f'<!DOCTYPE html><html lang="{"en" if locale == "en" else "zh-CN"}"><head><meta charset="utf-8">'
        f'<title>{title}</title></head><body><h1>{title}</h1><table border="1">{rows}</table></body></html>'
    )


def _summary_lines(
    view: office_view.OfficeView, files: list[tuple[str, str]], locale: str
) -> list[tuple[str, str]]:
    _ = translator(locale)
    nomination = view.nomination
    lines = [
        (_("export.col.id"), str(nomination.id)),
        (_("export.col.honour"), _(f"honour.{nomination.honour}")),
        (_("export.col.stage"), _(f"stage.{nomination.stage}")),
    ]
    lines += [
        (_(f"dossier.field.{spec.id}"), str(nomination.fields.get(spec.id, "")))
        for spec in dossier.FIELDS[nomination.honour]
    ]
    lines.append((_("export.col.organisation"), organisation_label(view.organisation, locale)))
    if view.endorsement is not None:
        lines.append((_("precheck.item.opinion"), view.endorsement.opinion))
        lines.append((_("export.endorsed_at"), _local(view.endorsement.endorsed_at)))
    lines += [(what, name) for what, name in files]
    lines += [
        (_("export.verifications"), f"{check.on.isoformat()}: {check.finding}")
        for check in view.verifications
    ]
    return lines


def _summary_pdf(view: office_view.OfficeView, files: list[tuple[str, str]], locale: str) -> bytes:
    """The same summary, printable, with the Chinese font embedded (a subset) so it reads anywhere."""
    font = fonts.pdf_font()
    body = ParagraphStyle("body", fontName=font, fontSize=10.5, leading=15, wordWrap="CJK")
    title = ParagraphStyle("title", parent=body, fontSize=15, leading=22)
    out = BytesIO()
    document = SimpleDocTemplate(out, pagesize=A4, title=f"nomination {view.nomination.id}")
    heading = translator(locale)("export.summary_title").format(id=view.nomination.id)
    # Paragraph reads a little markup: everything typed by people is escaped first.
    story: list[Any] = [Paragraph(escape(heading), title), Spacer(1, 8)]
    story += [
        Paragraph(f"<b>{escape(label)}</b>: {escape(value)}", body)
        for label, value in _summary_lines(view, files, locale)
    ]
    document.build(story)
    return out.getvalue()


# The campaign's list (汇总表) ----------------------------------------------------------------------

COLUMNS = (
    "export.col.number",
    "export.col.name",
    "export.col.unit",
    "export.col.position",
    "export.col.organisation",
    "export.col.stage",
    "export.col.phone",
    "export.col.city",
    "export.col.industry",
    "export.col.opinion",
    "export.col.materials",
    "export.col.verifications",
    "export.col.id",
)


def safe_cell(cell: Cell, value: Any) -> None:
    """Numbers stay numbers; text is always text, even when it starts like a formula."""
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"
        if value.startswith(FORMULA_STARTS):
            cell.quotePrefix = True  # Excel keeps showing it as typed, even after an edit


async def nomination_list(
    session: AsyncSession, actor: Actor, now: datetime, locale: str = "zh_CN"
) -> Export:
    people.require_role(actor, Role.OFFICE)
    view = await campaigns.current(session, now)
    if view is None:
        raise DomainError("campaign.none_open")
    campaign = view.campaign
    _ = translator(locale)
    listed = (
        await session.exec(
            select(Nomination)
            .where(Nomination.campaign_id == campaign.id, col(Nomination.stage).in_(LISTED))
            .order_by(col(Nomination.id))
        )
    ).all()
    ids = [n.id for n in listed]
    organisations = {o.id: o for o in await people.organisations(session)}
    opinions = {
        e.nomination_id: e.opinion
        for e in (
            await session.exec(select(Endorsement).where(col(Endorsement.nomination_id).in_(ids)))
        ).all()
    }
    checks = dict(
        (
            await session.exec(
                select(Verification.nomination_id, func.count())
                .where(col(Verification.nomination_id).in_(ids))
                .group_by(Verification.nomination_id)
            )
        ).all()
    )
    counts = {n.id: len(await queries.materials(session, n.id or 0)) for n in listed}
    workbook = Workbook()
    workbook.remove(workbook.active)  # type: ignore[arg-type]
    catalogue = load_catalogue()
    for honour in campaign.honours:
        title = (
            catalogue.honours[honour].name.get(locale).translate(SHEET_FORBIDDEN)[:31]
            if honour in catalogue.honours
            else honour
        )
        sheet = workbook.create_sheet(title)
        for column, key in enumerate(COLUMNS, 1):
            safe_cell(sheet.cell(1, column), _(key))
            sheet.cell(1, column).font = Font(bold=True)
        rows = [n for n in listed if n.honour == honour]
        for number, nomination in enumerate(rows, 1):
            fields = nomination.fields
            values = [
                number,
                display_name(nomination),
                unit_of(nomination),
                str(fields.get("position") or fields.get("title") or fields.get("team_type") or ""),
                organisation_label(organisations.get(nomination.organisation_id), locale),
                _(f"stage.{nomination.stage}"),
                str(fields.get("phone") or ""),
                str(fields.get("city") or ""),
                str(fields.get("industry") or ""),
                opinions.get(nomination.id, ""),
                counts[nomination.id],
                int(checks.get(nomination.id, 0)),
                nomination.id,
            ]
            for column, value in enumerate(values, 1):
                safe_cell(sheet.cell(number + 1, column), value)
        sheet.freeze_panes = "A2"
    buffer = BytesIO()
    workbook.save(buffer)
    return Export(f"nominations-{campaign.year}.xlsx", buffer.getvalue())
