"""The campaign's nomination list (汇总表) as a workbook: one sheet per honour, one row per
nomination, in the committee's language."""

from documents import Document, sheets
from documents.sheets import Sheet, Value
from documents.words import Translate, organisation_name, translator
from services.catalogue import honour_name
from services.exports import CampaignList, ListedNomination, display_name, position_of, unit_of

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


def workbook(listing: CampaignList, locale: str) -> Document:
    t = translator(locale)
    pages = []
    for honour in listing.honours:
        listed = [item for item in listing.nominations if item.nomination.honour == honour]
        rows = [_row(number, item, locale, t) for number, item in enumerate(listed, 1)]
        pages.append(Sheet(honour_name(honour, locale), [[t(key) for key in COLUMNS], *rows]))
    return Document(f"nominations-{listing.year}.xlsx", sheets.workbook(pages))


def _row(number: int, item: ListedNomination, locale: str, t: Translate) -> list[Value]:
    nomination, fields = item.nomination, item.nomination.fields
    return [
        number,
        display_name(nomination),
        unit_of(nomination),
        position_of(nomination),
        organisation_name(item.organisation, locale),
        t(f"stage.{nomination.stage}"),
        str(fields.get("phone") or ""),
        str(fields.get("city") or ""),
        str(fields.get("industry") or ""),
        item.opinion,
        item.materials,
        item.verifications,
        nomination.id,
    ]
