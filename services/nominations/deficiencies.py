"""The items of a return for supplement (一次性告知): their words, the deadline, which are open."""

from collections.abc import Callable
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models import Deficiency, Nomination
from services.catalogue import load_catalogue
from services.errors import DomainError
from services.nominations.queries import checklist
from services.rules import dossier
from services.rules.nomination_flow import Stage
from services.texts import translator

SEAL = "seal"
SHANGHAI = ZoneInfo("Asia/Shanghai")
ITEMS_WITHOUT_FIELD = ("organisation",)
ENDORSEMENT_ITEMS = ("opinion", SEAL)  # the recommending body's part, listed after the applicant's


def deficiency_items(honour: str) -> list[str]:
    """Every item the office may tick in a return for supplement, in the dossier's order."""
    return [
        *(f"field:{f.id}" for f in dossier.FIELDS[honour]),
        *ITEMS_WITHOUT_FIELD,
        *(f"material:{m.id}" for m in checklist(honour)),
        *ENDORSEMENT_ITEMS,
    ]


def item_label(item: str, locale: str, translate: Callable[[str], str] | None = None) -> str:
    """An item id ("field:phone", "material:…", "seal", "consent") in words."""
    translate = translate or translator(locale)
    kind, _, rest = item.partition(":")
    if kind == "field":
        return translate(f"dossier.field.{rest}")
    if kind == "material":
        catalogue = load_catalogue()
        names = {catalogue.satisfaction_report.id: catalogue.satisfaction_report.name}
        for honour in catalogue.honours.values():
            for criterion in honour.criteria:
                names.update({m.id: m.name for m in criterion.materials})
        return names[rest].get(locale) if rest in names else rest
    return translate(f"precheck.item.{item}")


def local_deadline(deadline: datetime) -> str:
    return deadline.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


def deadline_from_day(day: date, now: datetime) -> datetime:
    """The office types a day: the supplement is due by the end of it, Beijing time."""
    deadline = datetime.combine(day, time(23, 59), tzinfo=SHANGHAI).astimezone(UTC)
    if deadline <= now:
        raise DomainError("precheck.deadline_past")
    return deadline


def deficiency_list(honour_items: list[tuple[str, str]], locale: str) -> str:
    """The consolidated list, one numbered line per item: "1. 联系电话：号码无法接通"."""
    translate = translator(locale)
    lines = []
    for number, (item, note) in enumerate(honour_items, 1):
        label = item_label(item, locale, translate)
        lines.append(f"{number}. {label}" + (translate("precheck.note_separator") + note if note else ""))
    return "\n".join(lines)


async def open_deficiencies(session: AsyncSession, nomination_id: int) -> dict[str, str]:
    rows = (
        await session.exec(
            select(Deficiency).where(
                Deficiency.nomination_id == nomination_id, col(Deficiency.resolved_at).is_(None)
            )
        )
    ).all()
    return {row.item: row.note for row in rows}


async def reopened(session: AsyncSession, nomination: Nomination) -> dict[str, str] | None:
    """While returned for supplement, only the items the office listed may change (一次性告知):
    those items with the office's notes. None while everything may change (a draft, or a return by
    the recommending body)."""
    if nomination.stage != Stage.RETURNED_FOR_SUPPLEMENT.value:
        return None
    return await open_deficiencies(session, nomination.id or 0)


async def resolve_deficiencies(session: AsyncSession, nomination_id: int, now: datetime) -> None:
    for row in (
        await session.exec(
            select(Deficiency).where(
                Deficiency.nomination_id == nomination_id, col(Deficiency.resolved_at).is_(None)
            )
        )
    ).all():
        row.resolved_at = now
        session.add(row)
