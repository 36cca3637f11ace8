"""DOCX and PDF: bombs, DTDs, macros, JavaScript, launch actions, embedded files, encryption refused."""

import re
import struct
import warnings
import zipfile
import zlib
from collections.abc import Iterator
from io import BytesIO
from typing import Any

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError
from defusedxml.ElementTree import fromstring as parse_xml
from pypdf import PdfReader
from pypdf.errors import PdfReadError, PyPdfError
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

from services.errors import DomainError

MAX_DOCX_EXPANDED = 100 * 1024 * 1024  # all parts of a DOCX together, once decompressed
MAX_DOCX_RATIO = 100  # real documents compress 3-20x; a bomb compresses 1000x
MAX_DOCX_PARTS = 5000


# ---- DOCX -------------------------------------------------------------------------------------

_MACRO_PARTS = re.compile(r"(?i)(vbaProject\.bin|vbaData\.xml|/activeX/|/embeddings/oleObject[^/]*\.bin)")
_MACRO_TYPES = re.compile(rb"(?i)macroEnabled|vbaProject|ms-office\.activeX")


def check_docx(data: bytes) -> bytes:
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


def check_pdf(data: bytes) -> bytes:
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
