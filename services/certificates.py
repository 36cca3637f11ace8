"""What an honour certificate (第十七条第1项) states. The edge draws it (documents/certificate.py):
services hand the facts to a printer they are given and keep the PDF it returns, with its hash."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class CertificateText:
    number: str
    holder: str
    honour: str  # honour code
    unit: str
    campaign_year: int
    valid_from: datetime
    valid_until: datetime


Printer = Callable[[CertificateText], bytes]
