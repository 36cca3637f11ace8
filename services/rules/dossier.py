"""The dossier's fields per honour, and the checks on text that other people will read."""

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum

import phonenumbers
from stdnum.cn import uscc
from stdnum.exceptions import ValidationError

from services.errors import DomainError


class Kind(StrEnum):
    TEXT = "text"
    INT = "int"
    PHONE = "phone"
    USCC = "uscc"  # 统一社会信用代码
    CHOICE = "choice"


@dataclass(frozen=True)
class FieldSpec:
    id: str
    kind: Kind = Kind.TEXT
    max_length: int = 100
    minimum: int = 0
    maximum: int = 0
    choices: tuple[str, ...] = ()


TEAM_TYPES = ("站", "店", "所", "队", "班组")

FIELDS: dict[str, tuple[FieldSpec, ...]] = {
    "STAR": (FieldSpec("name", max_length=50), FieldSpec("employer"), FieldSpec("position", max_length=50),
             FieldSpec("years_front_line", Kind.INT, minimum=0, maximum=60), FieldSpec("city", max_length=30),
             FieldSpec("industry", max_length=50), FieldSpec("phone", Kind.PHONE)),
    "TEAM": (FieldSpec("team_name"), FieldSpec("team_type", Kind.CHOICE, choices=TEAM_TYPES),
             FieldSpec("team_size", Kind.INT, minimum=2, maximum=10000), FieldSpec("leader", max_length=50),
             FieldSpec("employer")),
    "MANAGER": (FieldSpec("name", max_length=50), FieldSpec("enterprise"), FieldSpec("title", max_length=50)),
    "ENTERPRISE": (FieldSpec("name"), FieldSpec("credit_code", Kind.USCC), FieldSpec("address", max_length=200),
                   FieldSpec("industry", max_length=50)),
}

# Bidirectional overrides and isolates, zero-width characters and the word joiner can make a name
# read differently from what it is; control characters have no place in a name.
INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff\u0000-\u001f\u007f-\u009f]")


def clean_text(value: str, max_length: int) -> str:
    text = unicodedata.normalize("NFKC", value).strip()
    if INVISIBLE.search(text):
        raise DomainError("dossier.invisible_characters")
    if not text:
        raise DomainError("dossier.empty")
    if len(text) > max_length:
        raise DomainError("dossier.too_long", max=max_length)
    return text


def validate_field(spec: FieldSpec, raw: str) -> str | int:
    text = clean_text(raw, spec.max_length)
    if spec.kind == Kind.INT:
        if not text.isdigit() or not spec.minimum <= int(text) <= spec.maximum:
            raise DomainError("dossier.bad_number", minimum=spec.minimum, maximum=spec.maximum)
        return int(text)
    if spec.kind == Kind.CHOICE:
        if text not in spec.choices:
            raise DomainError("dossier.bad_choice", choices="、".join(spec.choices))
        return text
    if spec.kind == Kind.PHONE:
        try:
            number = phonenumbers.parse(text, "CN")
        except phonenumbers.NumberParseException:
            raise DomainError("dossier.bad_phone") from None
        if not phonenumbers.is_valid_number(number):
            raise DomainError("dossier.bad_phone")
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if spec.kind == Kind.USCC:
        try:
            return str(uscc.validate(text.upper()))
        except ValidationError:
            raise DomainError("dossier.bad_uscc") from None
    return text


def excel_safe(value: object) -> object:
    """A cell that starts like a formula is written as text (a leading apostrophe), never run."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
