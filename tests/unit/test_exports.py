"""Exports for the committee: one dossier as a ZIP, the campaign's list (汇总表) as Excel: the facts
from services, the files from documents/."""

import subprocess
import zipfile
from io import BytesIO
from pathlib import Path

import pytest
from openpyxl import load_workbook
from PIL import Image
from reportlab.pdfgen import canvas

from documents import dossier as dossier_archive
from documents import nomination_list
from services import exports
from services.actors import Actor
from services.errors import DomainError
from services.files.store import FileStore
from services.nominations import dossier, office_view, recommender
from tests.support.clock import FakeClock
from tests.support.nominations import REPORT, call, ready_nomination
from tests.unit.test_nominations import Sessions, cast, person  # noqa: F401  (cast: fixture)


def pdf(text: str) -> bytes:
    out = BytesIO()
    page = canvas.Canvas(out)
    page.drawString(72, 720, text)
    page.save()
    return out.getvalue()


def png() -> bytes:
    out = BytesIO()
    Image.new("RGB", (20, 20), "red").save(out, format="PNG")
    return out.getvalue()


async def endorsed_with_files(
    sessions: Sessions,
    clock: FakeClock,
    cast: dict[str, Actor],  # noqa: F811
    store: FileStore,
) -> int:
    applicant = cast["applicant"]
    nomination_id = await ready_nomination(sessions, clock, applicant)
    first = store.path(REPORT["sha256"])  # the material ready_nomination recorded, made real
    first.parent.mkdir(parents=True, exist_ok=True)
    first.write_bytes(pdf("first report"))
    await call(sessions, dossier.set_field, applicant, nomination_id, "name", "<b>张伟</b>", clock.now())
    await call(sessions, dossier.set_field, applicant, nomination_id, "employer", "=1+2", clock.now())
    await call(sessions, dossier.set_field, applicant, nomination_id, "position", "@SUM(A1)", clock.now())
    report = pdf("satisfaction report")
    # The real upload path sanitises names; the export must not trust them anyway.
    await call(
        sessions,
        dossier.add_material,
        applicant,
        nomination_id,
        "satisfaction_report",
        sha256=store.put(report),
        file_name="../../etc/测评报告.pdf",
        kind="pdf",
        size=len(report),
        now=clock.now(),
    )
    await call(sessions, dossier.submit, applicant, nomination_id, clock.now())
    await call(
        sessions,
        recommender.endorse,
        cast["recommender"],
        nomination_id,
        "同意推荐。",
        store.put(png()),
        clock.now(),
    )
    return nomination_id


async def test_the_dossier_zip_holds_the_files_the_seal_and_an_escaped_summary(
    sessions: Sessions,
    clock: FakeClock,
    cast: dict[str, Actor],  # noqa: F811
    tmp_path: Path,
) -> None:
    store = FileStore(tmp_path / "files")
    nomination_id = await endorsed_with_files(sessions, clock, cast, store)
    view = await call(sessions, office_view.office_view, cast["office"], nomination_id)
    export = dossier_archive.archive(view, store, "zh_CN")
    assert export.file_name == f"nomination-{nomination_id}.zip"
    archive = zipfile.ZipFile(BytesIO(export.data))
    names = archive.namelist()
    assert not [n for n in names if "/" in n or ".." in n]
    assert sorted(names) == [
        "01_满意度测评报告.pdf",
        "02_测评报告.pdf",
        "seal.png",
        "summary.html",
        "summary.pdf",
    ]
    report = "02_测评报告.pdf"
    assert archive.read(report).startswith(b"%PDF-")
    assert archive.read("seal.png").startswith(b"\x89PNG")
    summary = archive.read("summary.html").decode("utf-8")
    assert "&lt;b&gt;张伟&lt;/b&gt;" in summary and "<b>张伟" not in summary
    assert "同意推荐。" in summary and "已推荐，待初审" in summary and report in summary
    assert "02_测评报告.pdf" in summary and "seal.png" in summary
    printed = tmp_path / "summary.pdf"
    printed.write_bytes(archive.read("summary.pdf"))
    text = subprocess.run(["pdftotext", str(printed), "-"], capture_output=True, check=True).stdout.decode()
    assert "第 1 号申报档案摘要" in text and "<b>张伟</b>" in text and "同意推荐。" in text
    fonts = subprocess.run(["pdffonts", str(printed)], capture_output=True, check=True).stdout.decode()
    assert "WenQuanYi" in fonts and " yes " in fonts  # the Chinese font is embedded
    english = dossier_archive.archive(view, store, "en")
    assert "Recommending body" in zipfile.ZipFile(BytesIO(english.data)).read("summary.html").decode()


async def test_only_the_office_exports(
    sessions: Sessions,
    clock: FakeClock,
    cast: dict[str, Actor],  # noqa: F811
    tmp_path: Path,
) -> None:
    store = FileStore(tmp_path / "files")
    nomination_id = await endorsed_with_files(sessions, clock, cast, store)
    for what in (
        office_view.office_view(None, cast["applicant"], nomination_id),  # type: ignore[arg-type]
        exports.campaign_list(None, cast["recommender"], clock.now()),  # type: ignore[arg-type]
    ):
        with pytest.raises(DomainError) as refused:
            await what
        assert refused.value.code == "role.required"


async def test_the_list_has_a_sheet_per_honour_and_never_a_formula(
    sessions: Sessions,
    clock: FakeClock,
    cast: dict[str, Actor],  # noqa: F811
    tmp_path: Path,
) -> None:
    store = FileStore(tmp_path / "files")
    await endorsed_with_files(sessions, clock, cast, store)
    draft_holder = await person(sessions, clock, 8, "未提交者")
    await ready_nomination(sessions, clock, draft_holder)  # a draft: not on the committee's list
    listing = await call(sessions, exports.campaign_list, cast["office"], clock.now())
    export = nomination_list.workbook(listing, "zh_CN")
    assert export.file_name == "nominations-2026.xlsx"
    workbook = load_workbook(BytesIO(export.data))
    assert workbook.sheetnames == [
        "广东省用户满意服务明星",
        "广东省用户满意服务明星班组",
        "广东省用户满意杰出管理者",
        "广东省用户满意服务明星企业",
    ]
    sheet = workbook["广东省用户满意服务明星"]
    header = [c.value for c in sheet[1]]
    assert header[:7] == ["序号", "姓名/名称", "单位", "岗位/职务", "推荐单位", "阶段", "联系电话"]
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert len(rows) == 1
    row = dict(zip(header, rows[0], strict=True))
    assert row["序号"] == 1 and row["姓名/名称"] == "<b>张伟</b>" and row["推荐单位"] == "广东质协"
    assert row["阶段"] == "已推荐，待初审" and row["推荐意见"] == "同意推荐。" and row["材料份数"] == 2
    # Text that looks like a formula stays text: "=1+2", "@SUM(A1)", and the phone "+86…".
    cells = {c.value: c for c in sheet[2]}
    for text in ("=1+2", "@SUM(A1)", "+8613800138000"):
        assert cells[text].data_type == "s", text
    raw = zipfile.ZipFile(BytesIO(export.data)).read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in raw and "=1+2" in raw
    assert [
        list(r) for r in workbook["广东省用户满意服务明星班组"].iter_rows(min_row=2, values_only=True)
    ] == []
