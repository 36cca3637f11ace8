"""The verdict rules, over the real catalogue."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.catalogue import CriterionKind, load_catalogue
from services.rules.eligibility import Answer, VerdictKind, evaluate

pytestmark = pytest.mark.article("第十二条", "第十三条", "第十四条", "第十五条")

CATALOGUE = load_catalogue()
REPORT = CATALOGUE.satisfaction_report


@pytest.mark.parametrize("code", list(CATALOGUE.honours))
def test_all_yes_is_eligible_with_the_report_first(code: str) -> None:
    honour = CATALOGUE.honours[code]
    verdict = evaluate(honour, {c.id: Answer.YES for c in honour.criteria}, REPORT)
    assert verdict.kind == VerdictKind.ELIGIBLE and verdict.checklist[0] == REPORT
    assert not verdict.failed and not verdict.open


def test_unsure_is_open_never_failed() -> None:
    honour = CATALOGUE.honours["STAR"]
    verdict = evaluate(honour, {c.id: Answer.UNSURE for c in honour.criteria}, REPORT)
    assert verdict.kind == VerdictKind.NEEDS_EVIDENCE
    assert [c.id for c in verdict.open] == [
        "12.1",
        "12.2",
        "12.3",
        "12.4",
        "12.5",
        "12.6",
    ]  # not the priority item
    assert {"praise_letters", "evaluation_cards"} <= {m.id for m in verdict.checklist}


def test_priority_items_never_decide() -> None:
    honour = CATALOGUE.honours["TEAM"]
    answers = {c.id: Answer.YES for c in honour.criteria}
    for reply in Answer:
        verdict = evaluate(honour, {**answers, "13.7": reply}, REPORT)
        assert verdict.kind == VerdictKind.ELIGIBLE
        assert [c.id for c in verdict.priority] == (["13.7"] if reply == Answer.YES else [])


def test_an_unanswered_criterion_is_a_bug() -> None:
    with pytest.raises(ValueError, match="unanswered: 15.5"):
        evaluate(CATALOGUE.honours["ENTERPRISE"], {f"15.{i}": Answer.YES for i in range(1, 5)}, REPORT)


@given(st.sampled_from(list(CATALOGUE.honours)), st.data())
def test_without_a_no_nobody_is_ineligible(code: str, data: st.DataObject) -> None:
    honour = CATALOGUE.honours[code]
    answers = {
        c.id: data.draw(
            st.sampled_from([Answer.YES, Answer.UNSURE])
            if c.kind != CriterionKind.PRIORITY
            else st.sampled_from(list(Answer))
        )
        for c in honour.criteria
    }
    verdict = evaluate(honour, answers, REPORT)
    assert verdict.kind != VerdictKind.NOT_ELIGIBLE and verdict.checklist[0] == REPORT
    assert len({m.id for m in verdict.checklist}) == len(verdict.checklist)
