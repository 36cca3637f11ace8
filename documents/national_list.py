"""The national recommendation list (第十七条第4项) as a workbook, one row per honour."""

from collections.abc import Sequence

from documents import Document, sheets
from documents.sheets import Sheet, Value
from documents.words import translator
from models import Honour
from services import local_time
from services.catalogue import honour_name

COLUMNS = ("number", "holder", "honour", "unit", "city", "year", "valid_until", "status", "recommended_on")


def workbook(honours: Sequence[Honour], locale: str) -> Document:
    t = translator(locale)
    rows: list[list[Value]] = [[t(f"honour.national_column.{column}") for column in COLUMNS]]
    rows += [
        [
            honour.certificate_no,
            honour.holder_name,
            honour_name(honour.honour, locale),
            honour.unit,
            honour.city,
            honour.campaign_year,
            local_time.day_text(honour.valid_until),
            t(f"honour.status.{honour.status}"),
            local_time.day_text(honour.national_at) if honour.national_at else "",
        ]
        for honour in honours
    ]
    return Document(
        "national-recommendations.xlsx", sheets.workbook([Sheet(t("honour.national_sheet"), rows)])
    )
