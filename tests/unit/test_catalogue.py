"""The criteria catalogue against the regulation itself: every item of 第十二条至第十五条, once,
with the right article and item, in the regulation's own words."""

import re

import pytest

from services.catalogue import CHINESE_NUMERALS, CriterionKind, load_catalogue, parse, regulation_text

pytestmark = pytest.mark.article("第十一条", "第十二条", "第十三条", "第十四条", "第十五条")


def regulation_items() -> dict[tuple[int, int], str]:
    """(article, item) -> wording, read from the regulation text for Articles 12 to 15."""
    text = regulation_text()
    items: dict[tuple[int, int], str] = {}
    for article in (12, 13, 14, 15):
        start = text.index(f"第{CHINESE_NUMERALS[article]}条")
        end = text.index(f"第{CHINESE_NUMERALS[article + 1]}条")
        for number, wording in re.findall(r"^\s*(\d+)、(.+?)[；。]?\s*$", text[start:end], flags=re.M):
            items[(article, int(number))] = wording
    return items


def test_every_item_of_articles_12_to_15_is_there_once_in_the_regulations_words() -> None:
    expected = regulation_items()
    assert len(expected) == 7 + 7 + 6 + 5
    found = [
        (c.article, c.item, c.regulation_zh) for h in load_catalogue().honours.values() for c in h.criteria
    ]
    assert sorted((a, i) for a, i, _ in found) == sorted(expected)
    for article, item, wording in found:
        assert wording == expected[(article, item)], f"{article}.{item}"


def test_each_honour_holds_its_own_article() -> None:
    honours = load_catalogue().honours
    assert {code: h.article for code, h in honours.items()} == {
        "STAR": 12,
        "TEAM": 13,
        "MANAGER": 14,
        "ENTERPRISE": 15,
    }
    for honour in honours.values():
        assert {c.article for c in honour.criteria} == {honour.article}


def test_kinds_follow_the_domain_reading() -> None:
    kinds = {c.id: c.kind for h in load_catalogue().honours.values() for c in h.criteria}
    assert [i for i, k in kinds.items() if k == CriterionKind.PRIORITY] == ["12.7", "13.7"]
    assert {"12.1", "13.1", "14.1", "15.1", "15.2", "15.3"} <= {
        i for i, k in kinds.items() if k == CriterionKind.GATE
    }
    for criterion in (c for h in load_catalogue().honours.values() for c in h.criteria):
        if criterion.kind in (CriterionKind.EVIDENCE, CriterionKind.PRIORITY):
            assert criterion.materials, criterion.id
        assert (
            criterion.question.zh and criterion.question.en and criterion.explain.zh and criterion.explain.en
        )


def test_a_broken_edit_is_refused_naming_the_item() -> None:
    good = {
        "version": "x",
        "satisfaction_report": {"id": "r", "zh": "报告", "en": "report"},
        "honours": [
            {
                "code": "STAR",
                "article": 12,
                "name_zh": "星",
                "name_en": "Star",
                "who_zh": "人",
                "who_en": "p",
                "criteria": [
                    {
                        "id": "12.1",
                        "article": 12,
                        "item": 1,
                        "kind": "gate",
                        "regulation_zh": "x",
                        "question_zh": "问",
                        "question_en": "q",
                        "explain_zh": "释",
                        "explain_en": "e",
                    }
                ],
            }
        ],
    }
    assert parse(good).honours["STAR"].criteria[0].id == "12.1"
    good["honours"][0]["criteria"][0]["kind"] = "wish"
    with pytest.raises(ValueError, match="STAR 12.1 has an unknown kind"):
        parse(good)
    good["honours"][0]["criteria"][0].update(kind="gate", question_en="")
    with pytest.raises(ValueError, match="12.1 lacks question"):
        parse(good)
