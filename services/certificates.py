"""What an honour certificate (第十七条第1项) states; documents/certificate.py draws it."""

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from services import local_time
from services.catalogue import honour_name  # noqa: F401  (services/honours.py reads it here)


@dataclass(frozen=True)
class CertificateText:
    number: str
    holder: str
    honour: str  # honour code
    unit: str
    campaign_year: int
    valid_from: datetime
    valid_until: datetime


# services/honours.py still draws the certificate and reads the zone through here (it is being
# split); these go once its callers hand it a printer and it reads services.local_time.
ZONE = local_time.zone()


def render(certificate: CertificateText, bot_username: str, *, font_path: Path | None = None) -> bytes:
    from documents import certificate as drawn

    return drawn.render(certificate, bot_username, font_path=font_path)
