"""The self-check verdict, exact to 第十二条至第十五条.

Items 1-6 (1-5 for enterprises) are conditions: a "no" fails them. "Not sure" never fails: it is
open, and the verdict says what to find out. Priority items (12.7, 13.7) never affect eligibility."""

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from services.catalogue import Criterion, CriterionKind, Honour, Material


class Answer(StrEnum):
    YES = "yes"
    NO = "no"
    UNSURE = "unsure"


class VerdictKind(StrEnum):
    ELIGIBLE = "eligible"  # 符合
    NOT_ELIGIBLE = "not_eligible"  # 不符合
    NEEDS_EVIDENCE = "needs_evidence"  # 基本符合，需补充材料


@dataclass(frozen=True)
class Verdict:
    kind: VerdictKind
    failed: tuple[Criterion, ...]
    open: tuple[Criterion, ...]
    priority: tuple[Criterion, ...]  # priority items answered yes
    checklist: tuple[Material, ...]  # the satisfaction report first, always


def evaluate(honour: Honour, answers: Mapping[str, Answer], satisfaction_report: Material) -> Verdict:
    missing = [c.id for c in honour.criteria if c.id not in answers]
    if missing:
        raise ValueError(f"unanswered: {', '.join(missing)}")
    failed, open_, priority = [], [], []
    materials: dict[str, Material] = {satisfaction_report.id: satisfaction_report}
    for criterion in honour.criteria:
        answer = answers[criterion.id]
        if criterion.kind == CriterionKind.PRIORITY:
            if answer == Answer.YES:
                priority.append(criterion)
                materials.update((m.id, m) for m in criterion.materials if m.id not in materials)
            continue
        if answer == Answer.NO:
            failed.append(criterion)
            continue
        if answer == Answer.UNSURE:
            open_.append(criterion)
        for material in criterion.materials:
            materials.setdefault(material.id, material)
    kind = (
        VerdictKind.NOT_ELIGIBLE if failed else VerdictKind.NEEDS_EVIDENCE if open_ else VerdictKind.ELIGIBLE
    )
    return Verdict(kind, tuple(failed), tuple(open_), tuple(priority), tuple(materials.values()))
