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
    "STAR": (
        FieldSpec("name", max_length=50),
        FieldSpec("employer"),
        FieldSpec("position", max_length=50),
        FieldSpec("years_front_line", Kind.INT, minimum=0, maximum=60),
        FieldSpec("city", max_length=30),
        FieldSpec("industry", max_length=50),
        FieldSpec("phone", Kind.PHONE),
    ),
    "TEAM": (
        FieldSpec("team_name"),
        FieldSpec("team_type", Kind.CHOICE, choices=TEAM_TYPES),
        FieldSpec("team_size", Kind.INT, minimum=2, maximum=10000),
        FieldSpec("leader", max_length=50),
        FieldSpec("employer"),
    ),
    "MANAGER": (FieldSpec("name", max_length=50), FieldSpec("enterprise"), FieldSpec("title", max_length=50)),
    "ENTERPRISE": (
        FieldSpec("name"),
        FieldSpec("credit_code", Kind.USCC),
        FieldSpec("address", max_length=200),
        FieldSpec("industry", max_length=50),
    ),
}

# Characters that make text read differently from what it is, or not show at all, are refused
# (never silently dropped: the person should see that what they pasted was not what it looked like):
# format characters (Unicode Cf: bidirectional overrides and isolates such as U+202E, zero-width
# space and joiners, the word joiner, the BOM, soft hyphen), controls (Cc, C0 and C1), surrogates,
# private-use characters, line and paragraph separators, and blank letters that are not Cf.
_REFUSED_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Zl", "Zp"}
_BLANK_LETTERS = {"\u034f", "\u115f", "\u1160", "\u3164", "\uffa0", "\u2800"}
LONG_TEXT = 500  # texts allowed this long (opinions, reasons, notes) may run over several lines


def invisible_character(text: str, multiline: bool) -> tuple[int, str] | None:
    """The first character (1-based position, the character) that has no place in the text."""
    for position, char in enumerate(text, 1):
        if char == "\n" and multiline:
            continue
        if unicodedata.category(char) in _REFUSED_CATEGORIES or char in _BLANK_LETTERS:
            return position, char
    return None


def normalise_digits(text: str) -> str:
    """Full-width and other compatibility digits (１３８) become ASCII digits. Only digits: NFKC on
    the whole text would also turn Chinese full-width punctuation (，：（）) into ASCII."""
    return "".join(unicodedata.normalize("NFKC", c) if unicodedata.category(c) == "Nd" else c for c in text)


def clean_text(value: str, max_length: int, multiline: bool | None = None) -> str:
    """Text that other people will read. Line breaks are allowed in long texts only."""
    text = normalise_digits(unicodedata.normalize("NFC", value))
    # checked before stripping: str.strip() would quietly remove some controls (U+001C, U+0085)
    found = invisible_character(text, max_length >= LONG_TEXT if multiline is None else multiline)
    if found is not None:
        position, char = found
        raise DomainError("dossier.invisible_characters", position=position, codepoint=f"U+{ord(char):04X}")
    text = text.strip()
    if not text:
        raise DomainError("dossier.empty")
    if len(text) > max_length:
        raise DomainError("dossier.too_long", max=max_length)
    return text


PHONE_CHARACTERS = re.compile(r"\+?[0-9 -]+")


def validate_field(spec: FieldSpec, raw: str) -> str | int:
    text = clean_text(raw, spec.max_length, multiline=False)
    if spec.kind != Kind.TEXT:
        text = unicodedata.normalize("NFKC", text)  # codes and numbers: full-width letters too
    if spec.kind == Kind.INT:
        if not text.isascii() or not text.isdigit() or not spec.minimum <= int(text) <= spec.maximum:
            raise DomainError("dossier.bad_number", minimum=spec.minimum, maximum=spec.maximum)
        return int(text)
    if spec.kind == Kind.CHOICE:
        if text not in spec.choices:
            raise DomainError("dossier.bad_choice", choices="、".join(spec.choices))
        return text
    if spec.kind == Kind.PHONE:
        # phonenumbers reads letters as keypad digits (138-abcd-8000 would pass): digits first.
        if not PHONE_CHARACTERS.fullmatch(text) or not any(c.isdigit() for c in text):
            raise DomainError("dossier.bad_phone")
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
