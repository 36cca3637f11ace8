"""Uploaded materials: recognised by content, kept once under their sha256.

What is checked here: the type by content (PDF, JPEG, PNG, DOCX), emptiness, Telegram's 20 MB
download limit, and a name that claims another type. Deeper checks on hostile content (active PDF
content, decompression bombs, EXIF location) are the next step of issue 4."""

import hashlib
import os
import re
import tempfile
import unicodedata
import zipfile
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

from services.errors import DomainError

MAX_BYTES = 20 * 1024 * 1024  # the most a bot may download (getFile)
EXTENSIONS = {"pdf": (".pdf",), "jpeg": (".jpg", ".jpeg"), "png": (".png",), "docx": (".docx",)}


@dataclass(frozen=True)
class CheckedFile:
    kind: str
    safe_name: str
    data: bytes
    sha256: str


def sniff(data: bytes) -> str | None:
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"PK\x03\x04"):
        try:
            names = set(zipfile.ZipFile(BytesIO(data)).namelist())
        except zipfile.BadZipFile:
            return None
        return "docx" if {"[Content_Types].xml", "word/document.xml"} <= names else None
    return None


def safe_name(name: str, kind: str) -> str:
    """The base name without path parts, control or direction characters, with the real extension."""
    base = unicodedata.normalize("NFKC", name).replace("\\", "/").rsplit("/", 1)[-1]
    base = re.sub(r"[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]", "", base)
    stem = base.rsplit(".", 1)[0].strip(" .")[:80] or "file"
    return f"{stem}{EXTENSIONS[kind][0]}"


def check(data: bytes, declared_name: str) -> CheckedFile:
    if not data:
        raise DomainError("file.empty")
    if len(data) > MAX_BYTES:
        raise DomainError("file.too_large", max_mb=MAX_BYTES // (1024 * 1024))
    kind = sniff(data)
    if kind is None:
        raise DomainError("file.unsupported_type")
    extension = os.path.splitext(declared_name.lower())[1]
    declared = next((k for k, endings in EXTENSIONS.items() if extension in endings), None)
    if extension and declared != kind:
        raise DomainError("file.type_mismatch", declared=extension.lstrip("."), actual=kind)
    return CheckedFile(kind, safe_name(declared_name, kind), data, hashlib.sha256(data).hexdigest())


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
