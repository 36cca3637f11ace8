"""The Chinese font in every document we make (certificates, evaluation cards and reports, dossier
summaries): Debian's fonts-wqy-microhei, embedded as a subset in each PDF. No PyPI package ships a
Chinese font and none may be downloaded at run time, so `setup` installs it."""

from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

from services.errors import DomainError

PATH = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
PACKAGE = "fonts-wqy-microhei"
NAME = "WenQuanYiMicroHei"


def font_file(path: Path | None = None) -> Path:
    path = path or PATH
    if not path.is_file():
        raise DomainError("font.missing", package=PACKAGE, path=str(path))
    return path


def installed() -> bool:
    return PATH.is_file()


def pdf_font(path: Path | None = None) -> str:
    """The font's name for reportlab, registered on first use (subfont 0 of the collection)."""
    file = font_file(path)
    if NAME not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(NAME, str(file), subfontIndex=0))
    return NAME
