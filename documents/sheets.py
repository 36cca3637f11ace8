"""The one spreadsheet writer: every workbook the programme hands out is written here.

Cells hold text people typed (names, units, opinions). A text that starts like a formula (= + - @)
or with a tab or carriage return is run, or split, by spreadsheet programs (formula injection).
So every text is written as a string, never a formula, and such a text is marked quote-prefixed:
Excel and LibreOffice show it as typed and keep it text even when the cell is edited."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from io import BytesIO

from openpyxl import Workbook
from openpyxl.cell import Cell
from openpyxl.styles import Font

Value = str | int | float | None
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
TITLE_FORBIDDEN = str.maketrans({c: "_" for c in "[]:*?/\\"})  # characters Excel refuses in a title
TITLE_LENGTH = 31


@dataclass(frozen=True)
class Sheet:
    title: str
    rows: Sequence[Sequence[Value]]
    headings: int = 1  # the first rows, in bold, stay in view when scrolling


def write(cell: Cell, value: Value) -> None:
    """The guard: numbers stay numbers, text is always inert text."""
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"  # openpyxl would otherwise store "=…" as a formula
        if value.startswith(FORMULA_STARTS):
            cell.quotePrefix = True


def workbook(sheets: Iterable[Sheet]) -> bytes:
    book = Workbook()
    book.remove(book.active)  # type: ignore[arg-type]
    for sheet in sheets:
        page = book.create_sheet(sheet.title.translate(TITLE_FORBIDDEN)[:TITLE_LENGTH])
        for r, row in enumerate(sheet.rows, 1):
            for c, value in enumerate(row, 1):
                write(page.cell(r, c), value)
                if r <= sheet.headings:
                    page.cell(r, c).font = Font(bold=True)
        if sheet.headings:
            page.freeze_panes = page.cell(sheet.headings + 1, 1)
    buffer = BytesIO()
    book.save(buffer)
    return buffer.getvalue()
