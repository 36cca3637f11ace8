"""The one spreadsheet writer, read back from real workbooks: text that starts like a formula (or
with a tab or carriage return) stays the text people typed, never a formula."""

import zipfile
from datetime import UTC, datetime
from io import BytesIO

from openpyxl import load_workbook

from documents import national_list, sheets
from models import Honour
from tests.support.lifecycle_guard import seeding

RISKY = ["=1+2", '=HYPERLINK("http://x","y")', "+8613800138000", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd"]


def test_the_guard_keeps_formula_like_text_inert() -> None:
    rows = [["姓名", "份数"], *[[text, 1] for text in RISKY], ["张伟", 2]]
    data = sheets.workbook([sheets.Sheet("名单", rows)])
    sheet = load_workbook(BytesIO(data)).active
    assert sheet is not None and sheet.title == "名单"
    names = [row[0] for row in sheet.iter_rows(min_row=2)]
    typed = [text.replace("\r", "\n") for text in RISKY]  # XML reads a carriage return back as a line feed
    assert [cell.value for cell in names] == [*typed, "张伟"]
    assert {cell.data_type for cell in names} == {"s"}
    assert [cell.quotePrefix for cell in names] == [True] * len(RISKY) + [False]
    assert (sheet["B2"].value, sheet["B2"].data_type) == (1, "n")  # numbers stay numbers
    assert sheet["A1"].font.bold and sheet.freeze_panes == "A2"
    raw = zipfile.ZipFile(BytesIO(data)).read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in raw


def test_a_title_excel_refuses_is_made_acceptable() -> None:
    data = sheets.workbook([sheets.Sheet("a/b:c*d?[e]" + "长" * 40, [["x"]])])
    title = load_workbook(BytesIO(data)).sheetnames[0]
    assert title.startswith("a_b_c_d__e_") and len(title) == sheets.TITLE_LENGTH


def test_the_national_list_goes_through_the_guard() -> None:
    moment = datetime(2026, 7, 15, 2, tzinfo=UTC)
    with seeding():
        honour = Honour(
            certificate_no="GD-2026-STAR-0001",
            nomination_id=1,
            campaign_id=1,
            campaign_year=2026,
            honour="STAR",
            holder_id=1,
            holder_name='=HYPERLINK("http://x","y")',
            unit="@广州地铁",
            city="广州",
            status="valid",
            valid_from=moment,
            valid_until=moment.replace(year=2029),
            awarded_at=moment,
            national_at=moment,
        )
    document = national_list.workbook([honour], "zh_CN")
    assert document.file_name == "national-recommendations.xlsx"
    sheet = load_workbook(BytesIO(document.data)).active
    assert sheet is not None and sheet.title == "全国推荐"
    assert [cell.value for cell in sheet[1]][:2] == ["证书编号", "获奖者"]
    row = sheet[2]
    assert [cell.value for cell in row] == [
        "GD-2026-STAR-0001",
        '=HYPERLINK("http://x","y")',
        "广东省用户满意服务明星",
        "@广州地铁",
        "广州",
        2026,
        "2029-07-15",
        "有效",
        "2026-07-15",
    ]
    assert row[1].data_type == "s" and row[1].quotePrefix and row[3].quotePrefix
