"""The kinds of file accepted, their size limit, their safe names, and recognising a kind by content."""

import os
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from io import BytesIO

import filetype

from services.errors import DomainError

MAX_BYTES = 20 * 1024 * 1024  # the most a bot may download (getFile)

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


def first_checks(data: bytes) -> None:
    if not data:
        raise DomainError("file.empty")
    refuse_oversized(len(data))
