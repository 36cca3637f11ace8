"""How long the upload checks take on ordinary files, in-process and through the worker pool.

    .venv/bin/python -m bench.files_bench

Prints, per file, its size and the median of several runs of `files.check` (in this process) and of
`files.check_safely` (a worker process with limits: adds pickling the bytes both ways), plus the
first `check_safely` of a fresh pool (starting the fork server and the workers)."""

import asyncio
import functools
import os
import statistics
import time
import zipfile
from collections.abc import Callable
from io import BytesIO

from PIL import Image
from pypdf import PdfWriter

from services.files import content, workers


def photo(width: int, height: int, quality: int = 92) -> bytes:
    """A noisy photo-like picture (noise does not compress, like a real photo), with GPS EXIF."""
    picture = Image.frombytes("RGB", (width, height), os.urandom(width * height * 3)).resize(
        (width, height), Image.Resampling.BILINEAR
    )
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (23.0, 7.0, 30.0)}
    out = BytesIO()
    picture.save(out, "JPEG", quality=quality, exif=exif)
    return out.getvalue()


def scanned_pdf(pages: int) -> bytes:
    """A scan: one JPEG image per A4 page, as a scanner writes it."""
    scan = Image.open(BytesIO(photo(1240, 1754, quality=60)))
    out = BytesIO()
    scan.save(out, "PDF", save_all=True, append_images=[scan] * (pages - 1), resolution=150)
    return out.getvalue()


def text_pdf(pages: int) -> bytes:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(595, 842)
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


def report_docx(paragraphs: int) -> bytes:
    body = "".join(
        f"<w:p><w:r><w:t>第{i}段：用户满意度测评结果良好。</w:t></w:r></w:p>" for i in range(paragraphs)
    )
    out = BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="urn:ct"/>')
        archive.writestr("_rels/.rels", '<?xml version="1.0"?><Relationships xmlns="urn:r"/>')
        document = f'<?xml version="1.0"?><w:document xmlns:w="urn:w"><w:body>{body}</w:body></w:document>'
        archive.writestr("word/document.xml", document)
        archive.writestr("word/media/image1.jpeg", photo(1600, 1200))
    return out.getvalue()


def median_seconds(run: Callable[[], object], times: int = 5) -> float:
    spent = []
    for _ in range(times):
        started = time.perf_counter()
        run()
        spent.append(time.perf_counter() - started)
    return statistics.median(spent)


async def main() -> None:
    samples = {
        "phone photo 12 Mpx.jpg": photo(4000, 3000),
        "scan 10 pages.pdf": scanned_pdf(10),
        "text 50 pages.pdf": text_pdf(50),
        "report with picture.docx": report_docx(2000),
    }
    out = BytesIO()
    Image.open(BytesIO(photo(1280, 720))).save(out, "PNG")
    samples["screenshot.png"] = out.getvalue()

    inspector = workers.Inspector()
    started = time.perf_counter()
    await inspector.check(samples["text 50 pages.pdf"], "x.pdf")
    print(f"first check_safely of a fresh pool (fork server, workers): {time.perf_counter() - started:.3f} s")
    print(f"{'file':28} {'size':>9} {'check':>9} {'safely':>9}")
    for name, data in samples.items():
        in_process = median_seconds(functools.partial(content.check, data, name))
        spent = []
        for _ in range(5):
            started = time.perf_counter()
            await inspector.check(data, name)
            spent.append(time.perf_counter() - started)
        safely = statistics.median(spent)
        print(f"{name:28} {len(data) / 1e6:7.2f}MB {in_process * 1000:7.1f}ms {safely * 1000:7.1f}ms")
    inspector.close()


if __name__ == "__main__":
    asyncio.run(main())
