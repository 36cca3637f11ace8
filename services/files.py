"""Uploaded materials: recognised by content, checked for hostile content, kept once under their sha256.

`check()` is pure and synchronous: type by content (PDF, JPEG, PNG, DOCX), size, a name that claims
another type, and per type the things a hostile file uses to hurt whoever opens it or whoever
checks it: decompression bombs (huge images, DOCX that expand to gigabytes), DTDs and macros in
DOCX, JavaScript, launch actions, embedded files and encryption in PDF. Images leave with their
EXIF location (and other metadata) removed, pixels untouched.

`check_safely()` runs `check()` in a worker process with a time limit and an address-space limit,
so a file that makes a parser spin or swell costs its sender a refusal, not everyone else the bot.
The worker imports this module only (no aiogram), see `_worker_start`."""

import asyncio
import hashlib
import multiprocessing
import multiprocessing.connection
import os
import re
import resource
import struct
import sys
import tempfile
import threading
import unicodedata
import warnings
import zipfile
import zlib
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Any

import filetype
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError
from defusedxml.ElementTree import fromstring as parse_xml
from PIL import Image, UnidentifiedImageError
from pypdf import PdfReader
from pypdf.errors import PdfReadError, PyPdfError
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

from services.errors import DomainError

MAX_BYTES = 20 * 1024 * 1024  # the most a bot may download (getFile)
MAX_PIXELS = 40_000_000  # an A4 page scanned at 600 dpi is 35 Mpx; more is not a scan but a bomb
MAX_DOCX_EXPANDED = 100 * 1024 * 1024  # all parts of a DOCX together, once decompressed
MAX_DOCX_RATIO = 100  # real documents compress 3-20x; a bomb compresses 1000x
MAX_DOCX_PARTS = 5000
CHECK_SECONDS = 8.0  # a 20 MB scan takes well under a second; see bench/files_bench.py
WORKER_MEMORY = 768 * 1024 * 1024  # address space per worker: a 40 Mpx RGBA image is 160 MB decoded

KINDS = ("pdf", "jpeg", "png", "docx")
SCAN_KINDS = ("pdf", "jpeg", "png")  # a stamped opinion is a scan or a photo of paper
EXTENSIONS = {"pdf": (".pdf",), "jpeg": (".jpg", ".jpeg", ".jpe"), "png": (".png",), "docx": (".docx",)}
LABELS = {"pdf": "PDF", "jpeg": "JPEG", "png": "PNG", "docx": "DOCX"}
_FILETYPE_KINDS = {"pdf": "pdf", "jpg": "jpeg", "png": "png", "apng": "png"}


@dataclass(frozen=True)
class CheckedFile:
    kind: str
    safe_name: str
    data: bytes  # what is stored and shown to others: for images, without their metadata
    sha256: str


# ---- names -----------------------------------------------------------------------------------

# Direction overrides and isolates, zero-width characters, controls: they make a name read as
# something else ("invoice\u202efdp.exe"). Characters that mean something in a path, in HTML or
# on Windows are replaced too, so a display name is safe wherever it ends up.
_NAME_DROP = re.compile(
    "[\u0000-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]"
)
_NAME_REPLACE = re.compile(r'[<>:"|?*&]')


def safe_name(name: str, kind: str) -> str:
    """The base name without path parts, control or direction characters, with the real extension."""
    base = unicodedata.normalize("NFKC", name).replace("\\", "/").rsplit("/", 1)[-1]
    base = _NAME_REPLACE.sub("_", _NAME_DROP.sub("", base))
    stem = base.rsplit(".", 1)[0].strip(" .")[:80] or "file"
    return f"{stem}{EXTENSIONS[kind][0]}"


def declared_kind(name: str) -> tuple[str, str | None]:
    """The extension a name carries and the accepted kind it claims (None: no accepted kind)."""
    extension = os.path.splitext(unicodedata.normalize("NFKC", name).lower().strip())[1]
    return extension, next((k for k, endings in EXTENSIONS.items() if extension in endings), None)


# ---- recognising the type ----------------------------------------------------------------------


def sniff(data: bytes) -> str | None:
    """The accepted kind the content is, by its bytes (never by its name), or None."""
    if data.startswith(b"PK\x03\x04"):
        try:
            names = set(zipfile.ZipFile(BytesIO(data)).namelist())
        except (zipfile.BadZipFile, ValueError, OSError, EOFError):
            return None
        return "docx" if {"[Content_Types].xml", "word/document.xml"} <= names else None
    guess = filetype.guess(data[:8192])
    return _FILETYPE_KINDS.get(guess.extension) if guess is not None else None


def refuse_oversized(size: int | None) -> None:
    """Refuse on the size Telegram declares, before anything is downloaded."""
    if size is not None and size > MAX_BYTES:
        raise DomainError("file.too_large", max_mb=MAX_BYTES // (1024 * 1024))


def _first_checks(data: bytes) -> None:
    if not data:
        raise DomainError("file.empty")
    refuse_oversized(len(data))


def check(data: bytes, declared_name: str, kinds: tuple[str, ...] = KINDS) -> CheckedFile:
    _first_checks(data)
    kind = sniff(data)
    extension, claimed = declared_kind(declared_name)
    if kind is None:
        if claimed == "docx" and data.startswith(b"PK\x03\x04"):
            raise DomainError("file.corrupt", kind="DOCX")  # a ZIP cut short, or not a document
        if claimed is not None:
            raise DomainError("file.not_what_name_says", declared=LABELS[claimed])
        raise DomainError("file.unsupported_type")
    if extension and claimed != kind:
        raise DomainError("file.type_mismatch", declared=extension.lstrip("."), actual=LABELS[kind])
    if kind not in kinds:
        raise DomainError("file.kind_not_accepted_here", kinds="、".join(LABELS[k] for k in kinds))
    data = INSPECT[kind](data)
    return CheckedFile(kind, safe_name(declared_name, kind), data, hashlib.sha256(data).hexdigest())


# ---- images --------------------------------------------------------------------------------------


def _check_image(data: bytes, kind: str) -> bytes:
    with warnings.catch_warnings():
        # Pillow only warns on an image of 90-180 Mpx: here that warning is a refusal.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(BytesIO(data), formats=[kind.upper()]) as image:
                if image.width * image.height > MAX_PIXELS:
                    raise DomainError("file.image_too_large", max_mpx=MAX_PIXELS // 1_000_000)
                orientation = image.getexif().get(0x0112)
                image.load()  # decodes every pixel: a truncated or broken image fails here
        except (Image.DecompressionBombWarning, Image.DecompressionBombError):
            raise DomainError("file.image_too_large", max_mpx=MAX_PIXELS // 1_000_000) from None
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError, struct.error, zlib.error):
            raise DomainError("file.corrupt", kind=LABELS[kind]) from None
    try:
        return _strip_jpeg(data, orientation) if kind == "jpeg" else _strip_png(data)
    except (IndexError, struct.error, ValueError):
        raise DomainError("file.corrupt", kind=LABELS[kind]) from None


def _check_jpeg(data: bytes) -> bytes:
    return _check_image(data, "jpeg")


def _check_png(data: bytes) -> bytes:
    return _check_image(data, "png")


# APP1 holds EXIF (GPS position, camera serial) and XMP; APP13 holds IPTC (places, names); COM is
# free text; APP2 "MPF" points at further images appended after the end (with their own EXIF).
# JFIF (APP0), ICC profiles (APP2) and Adobe colour transforms (APP14) change how pixels look: kept.
_JPEG_KEEP_APP = {0xE0: (b"JFIF", b"JFXX"), 0xE2: (b"ICC_PROFILE",), 0xEE: (b"Adobe",)}
_NO_LENGTH = {0x01, *range(0xD0, 0xD8)}


def _strip_jpeg(data: bytes, orientation: int | None) -> bytes:
    """The same compressed image, without metadata segments, ending at its EOI (anything appended
    after the image, such as a ZIP or a second picture, is dropped). Only the orientation survives,
    so the picture is still shown the right way up."""
    out = bytearray(b"\xff\xd8")
    pos, exif_written = 2, False
    while pos < len(data):
        if data[pos] != 0xFF:
            raise ValueError("not a marker")
        while data[pos] == 0xFF:  # fill bytes
            pos += 1
        marker = data[pos]
        pos += 1
        if marker == 0xD9:
            out += b"\xff\xd9"
            return bytes(out)
        if marker in _NO_LENGTH:
            out += bytes((0xFF, marker))
            continue
        (length,) = struct.unpack(">H", data[pos : pos + 2])
        segment = data[pos - 2 : pos + length]
        pos += length
        if marker == 0xDA:  # start of scan: entropy-coded data runs to the next real marker
            end = pos
            while True:
                end = data.index(b"\xff", end)
                following = data[end + 1]
                if following == 0x00 or 0xD0 <= following <= 0xD7 or following == 0xFF:
                    end += 1 if following == 0xFF else 2
                    continue
                break
            out += segment + data[pos:end]
            pos = end
            continue
        is_app = 0xE0 <= marker <= 0xEF or marker == 0xFE
        if not is_app:
            out += segment
        elif marker == 0xE1 and not exif_written and orientation in range(2, 9):
            payload = Image.Exif()
            payload[0x0112] = orientation
            body = payload.tobytes()
            out += b"\xff\xe1" + struct.pack(">H", len(body) + 2) + body
            exif_written = True
        elif any(segment[4:].startswith(tag) for tag in _JPEG_KEEP_APP.get(marker, ())):
            out += segment
    raise ValueError("no end of image")


# Text chunks carry XMP and "Raw profile type exif"; eXIf is EXIF; tIME says when it was edited.
_PNG_DROP = {b"eXIf", b"tEXt", b"zTXt", b"iTXt", b"tIME"}


def _strip_png(data: bytes) -> bytes:
    out, pos = bytearray(data[:8]), 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        chunk_type = data[pos + 4 : pos + 8]
        chunk = data[pos : pos + 12 + length]
        pos += 12 + length
        if chunk_type not in _PNG_DROP:
            out += chunk
        if chunk_type == b"IEND":
            return bytes(out)
    raise ValueError("no IEND")


# ---- DOCX -------------------------------------------------------------------------------------

_MACRO_PARTS = re.compile(r"(?i)(vbaProject\.bin|vbaData\.xml|/activeX/|/embeddings/oleObject[^/]*\.bin)")
_MACRO_TYPES = re.compile(rb"(?i)macroEnabled|vbaProject|ms-office\.activeX")


def _check_docx(data: bytes) -> bytes:
    try:
        archive = zipfile.ZipFile(BytesIO(data))
        parts = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError, EOFError):
        raise DomainError("file.corrupt", kind="DOCX") from None
    bomb = DomainError("file.docx_bomb", max_mb=MAX_DOCX_EXPANDED // (1024 * 1024), ratio=MAX_DOCX_RATIO)
    expanded = sum(p.file_size for p in parts)
    packed = sum(p.compress_size for p in parts)
    too_many = len(parts) > MAX_DOCX_PARTS
    if too_many or expanded > MAX_DOCX_EXPANDED or expanded > MAX_DOCX_RATIO * max(packed, 1):
        raise bomb
    for part in parts:
        # small parts may compress well (repeated XML); a large part that does is a bomb
        if part.file_size > 1024 * 1024 and part.file_size > MAX_DOCX_RATIO * max(part.compress_size, 1):
            raise bomb
        if part.flag_bits & 0x1:
            raise DomainError("file.corrupt", kind="DOCX")  # an encrypted part cannot be checked
        if _MACRO_PARTS.search("/" + part.filename):
            raise DomainError("file.docx_macros")
    try:
        if _MACRO_TYPES.search(archive.read("[Content_Types].xml")):
            raise DomainError("file.docx_macros")
        for part in parts:
            if part.filename.lower().endswith((".xml", ".rels")):
                # zipfile stops at the size each part declares, and those were summed above
                parse_xml(archive.read(part), forbid_dtd=True)
    except DefusedXmlException:
        raise DomainError("file.docx_dtd") from None
    except (ParseError, zipfile.BadZipFile, ValueError, OSError, EOFError, zlib.error, NotImplementedError):
        raise DomainError("file.corrupt", kind="DOCX") from None
    return data


# ---- PDF --------------------------------------------------------------------------------------

# Keys that run something, open something or carry a file: JavaScript anywhere, additional actions
# (on page open, on field focus...), launch, embedded files, rich media, XFA forms (scripted).
_PDF_ACTIVE_KEYS = {"/JS", "/JavaScript", "/AA", "/Launch", "/EmbeddedFiles", "/EF", "/RichMedia", "/XFA"}
_PDF_ACTIVE_ACTIONS = {"/JavaScript", "/Launch", "/ImportData", "/SubmitForm", "/RichMediaExecute", "/GoToE"}
_PDF_ACTIVE_TYPES = {"/EmbeddedFile", "/Filespec"}
# The same names in the raw bytes: catches objects a repairing viewer would find outside the xref.
_PDF_ACTIVE_RAW = re.compile(rb"/(?:JS|JavaScript|Launch|EmbeddedFiles?)(?=[\s/<>\[\]()%]|$)")


def _pdf_objects(reader: PdfReader) -> Iterator[Any]:
    yield reader.trailer
    for generation, numbers in list(reader.xref.items()):
        for number in list(numbers):
            yield reader.get_object(IndirectObject(number, generation, reader))
    for number in list(reader.xref_objStm):
        yield reader.get_object(IndirectObject(number, 0, reader))


def _active(root: Any) -> bool:
    """Whether this object, or any object written inside it, is active content. References are not
    followed: every indirect object is visited on its own."""
    stack = [root]
    while stack:
        item = stack.pop()
        if isinstance(item, DictionaryObject):
            if (
                _PDF_ACTIVE_KEYS & set(item)
                or item.get("/S") in _PDF_ACTIVE_ACTIONS
                or item.get("/Type") in _PDF_ACTIVE_TYPES
            ):
                return True
            stack.extend(v for v in item.values() if isinstance(v, DictionaryObject | ArrayObject))
        elif isinstance(item, ArrayObject):
            stack.extend(v for v in item if isinstance(v, DictionaryObject | ArrayObject))
    return False


def _check_pdf(data: bytes) -> bytes:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pypdf warns about every repair it makes
            reader = PdfReader(BytesIO(data), strict=False)
            if reader.is_encrypted:
                raise DomainError("file.pdf_encrypted")
            if _PDF_ACTIVE_RAW.search(data) or any(_active(o) for o in _pdf_objects(reader)):
                raise DomainError("file.pdf_active")
            if len(reader.pages) < 1:
                raise DomainError("file.corrupt", kind="PDF")
    except DomainError:
        raise
    except (
        PdfReadError,
        PyPdfError,
        ValueError,
        KeyError,
        TypeError,
        AttributeError,
        IndexError,
        AssertionError,
        OSError,
        RecursionError,
        struct.error,
        zlib.error,
    ):
        raise DomainError("file.corrupt", kind="PDF") from None
    return data


INSPECT: dict[str, Callable[[bytes], bytes]] = {
    "pdf": _check_pdf,
    "jpeg": _check_jpeg,
    "png": _check_png,
    "docx": _check_docx,
}


# ---- checking in a worker with limits ------------------------------------------------------------


def _worker_start(memory_bytes: int) -> None:
    """Runs once in each worker: cap its address space so a swelling parser gets MemoryError, and
    leave when the bot goes (a killed bot would otherwise leave its idle workers behind)."""
    parent = multiprocessing.parent_process()
    if parent is not None:
        threading.Thread(target=_exit_with, args=(parent.sentinel,), daemon=True).start()
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))


def _exit_with(sentinel: int) -> None:
    multiprocessing.connection.wait([sentinel])
    os._exit(0)


@contextmanager
def _main_module_hidden() -> Iterator[None]:
    """multiprocessing makes each new worker import the parent's main module (for `python -m bot`
    it does not, for the `servicestar` script or a bench script it would: aiogram and all, in every
    worker). Workers need nothing from it, so it is hidden while they start."""
    main = sys.modules.get("__main__")
    if main is None:
        yield
        return
    saved = {key: main.__dict__[key] for key in ("__spec__", "__file__") if key in main.__dict__}
    main.__dict__["__spec__"] = None
    main.__dict__.pop("__file__", None)
    try:
        yield
    finally:
        main.__dict__.pop("__spec__", None)
        main.__dict__.update(saved)


class Inspector:
    """A small pool of worker processes that run `check`. A check that overruns its time gets its
    sender a refusal; the pool (with the stuck worker) is killed and replaced, and checks that were
    running beside it are run again once in the new pool, so nobody else notices beyond a delay."""

    def __init__(
        self, workers: int = 2, timeout: float = CHECK_SECONDS, memory_bytes: int = WORKER_MEMORY
    ) -> None:
        self.workers, self.timeout, self.memory_bytes = workers, timeout, memory_bytes
        self._pool: ProcessPoolExecutor | None = None
        self._slots: tuple[asyncio.AbstractEventLoop, asyncio.Semaphore] | None = None

    def _free_worker(self) -> asyncio.Semaphore:
        """At most one check per worker is submitted, so the time limit counts running time, not
        time spent queueing behind an album of photos. (One semaphore per event loop: tests run
        several loops.)"""
        loop = asyncio.get_running_loop()
        if self._slots is None or self._slots[0] is not loop:
            self._slots = (loop, asyncio.Semaphore(self.workers))
        return self._slots[1]

    def _current(self) -> ProcessPoolExecutor:
        if self._pool is None:
            # forkserver: workers fork from a clean server process that has imported this module
            # only, never the bot's own process (threads, sockets, aiogram).
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload([__name__])
            self._pool = ProcessPoolExecutor(
                self.workers, mp_context=context, initializer=_worker_start, initargs=(self.memory_bytes,)
            )
        return self._pool

    def _discard(self, pool: ProcessPoolExecutor) -> None:
        if self._pool is pool:
            self._pool = None
        processes = getattr(pool, "_processes", None) or {}  # None once shut down
        for process in list(processes.values()):  # no public way to kill workers before 3.14
            if process.is_alive():
                process.kill()
        pool.shutdown(wait=False, cancel_futures=True)

    async def run(self, function: Callable[..., Any], *args: Any, timeout: float | None = None) -> Any:
        """`function(*args)` in a worker; it must be importable by the worker (a module function)."""
        limit = self.timeout if timeout is None else timeout
        async with self._free_worker():
            return await self._attempts(function, args, limit)

    async def _attempts(self, function: Callable[..., Any], args: tuple[Any, ...], limit: float) -> Any:
        for attempt in (1, 2):
            pool = self._current()
            with _main_module_hidden():  # workers are started inside submit()
                future: Future[Any] = pool.submit(function, *args)
            try:
                return await asyncio.wait_for(asyncio.wrap_future(future), limit)
            except TimeoutError:
                self._discard(pool)
                raise DomainError("file.check_timeout", seconds=max(1, round(limit))) from None
            except MemoryError:
                raise DomainError("file.check_failed") from None
            except BrokenProcessPool:
                # A worker died: this file killed it, or another check's timeout replaced the pool.
                self._discard(pool)
                if attempt == 2:
                    raise DomainError("file.check_failed") from None
        raise AssertionError("unreachable")

    async def check(self, data: bytes, declared_name: str, kinds: tuple[str, ...] = KINDS) -> CheckedFile:
        _first_checks(data)  # cheap refusals need no worker
        result: CheckedFile = await self.run(check, data, declared_name, kinds)
        return result

    def close(self) -> None:
        if self._pool is not None:
            self._discard(self._pool)


_inspector = Inspector()


async def check_safely(data: bytes, declared_name: str, kinds: tuple[str, ...] = KINDS) -> CheckedFile:
    """`check` in a worker process, with a time and memory limit; every failure is a DomainError."""
    return await _inspector.check(data, declared_name, kinds)


# ---- storage ----------------------------------------------------------------------------------


class FileStore:
    """Content-addressed: root/ab/abcdef…; the same content twice is stored once."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path(self, sha256: str) -> Path:
        if not re.fullmatch(r"[0-9a-f]{64}", sha256):
            raise ValueError("not a sha256")
        return self.root / sha256[:2] / sha256

    def put(self, data: bytes) -> str:
        digest = hashlib.sha256(data).hexdigest()
        target = self.path(digest)
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=target.parent, delete=False) as handle:
                handle.write(data)
            os.replace(handle.name, target)  # atomic: readers never see half a file
        return digest

    def get(self, sha256: str) -> bytes:
        return self.path(sha256).read_bytes()
