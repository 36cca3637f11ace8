"""JPEG and PNG: decompression bombs and broken images refused, metadata (EXIF location) removed."""

import struct
import warnings
import zlib
from io import BytesIO

from PIL import Image, UnidentifiedImageError

from services.errors import DomainError
from services.files.kinds import LABELS

MAX_PIXELS = 40_000_000  # an A4 page scanned at 600 dpi is 35 Mpx; more is not a scan but a bomb


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


def check_jpeg(data: bytes) -> bytes:
    return _check_image(data, "jpeg")


def check_png(data: bytes) -> bytes:
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
