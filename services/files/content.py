"""`check()`: an upload's type by its content, then that type's checks.

`check()` is pure and synchronous: type by content (PDF, JPEG, PNG, DOCX), size, a name that claims
another type, and per type the things a hostile file uses to hurt whoever opens it or whoever
checks it: decompression bombs (huge images, DOCX that expand to gigabytes), DTDs and macros in
DOCX, JavaScript, launch actions, embedded files and encryption in PDF. Images leave with their
EXIF location (and other metadata) removed, pixels untouched."""

import hashlib
from collections.abc import Callable

from services.errors import DomainError
from services.files.documents import check_docx, check_pdf
from services.files.images import check_jpeg, check_png
from services.files.kinds import KINDS, LABELS, CheckedFile, declared_kind, first_checks, safe_name, sniff


def check(data: bytes, declared_name: str, kinds: tuple[str, ...] = KINDS) -> CheckedFile:
    first_checks(data)
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


INSPECT: dict[str, Callable[[bytes], bytes]] = {
    "pdf": check_pdf,
    "jpeg": check_jpeg,
    "png": check_png,
    "docx": check_docx,
}
