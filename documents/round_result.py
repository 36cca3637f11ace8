"""A review round's result (第十六条第2项) as a workbook: the round's thresholds, then one row per
nomination with its count and outcome, in the office's language."""

from documents import Document, sheets
from documents.sheets import Sheet, Value
from documents.words import Translate, translator
from services.reviews.common import nominee_name
from services.reviews.results import ItemReport, RoundReport
from services.rules.tally import Outcome

COLUMNS = ("id", "honour", "name", "for", "against", "abstain", "recused", "quorum", "passed", "outcome")


def workbook(report: RoundReport, locale: str) -> Document:
    t = translator(locale)
    thresholds: list[Value] = [
        t("review.sheet.quorum"),
        report.quorum,
        t("review.sheet.passing"),
        report.passing,
        t("review.sheet.panel"),
        report.panel,
    ]
    header: list[Value] = [t(f"review.sheet.col.{column}") for column in COLUMNS]
    rows = [_row(item, report.round.closed_at is not None, t) for item in report.items]
    sheet = Sheet(t("review.sheet.title", round=report.round.id), [thresholds, header, *rows], headings=2)
    return Document(f"review-round-{report.round.id}.xlsx", sheets.workbook([sheet]))


def _row(item: ItemReport, closed: bool, t: Translate) -> list[Value]:
    count = item.count
    # As in the chat's report: an open round's outcome is still pending.
    outcome = item.outcome or (count.outcome.value if closed else "pending")
    return [
        item.nomination.id,
        t(f"honour.{item.nomination.honour}"),
        nominee_name(item.nomination),
        count.for_,
        count.against,
        count.abstain,
        count.recused,
        _yes_no(count.has_quorum, t),
        _yes_no(count.outcome == Outcome.PASSED, t),
        t(f"review.outcome.{outcome}"),
    ]


def _yes_no(value: bool, t: Translate) -> str:
    return t("review.sheet.yes" if value else "review.sheet.no")
