"""The nomination transition table and the dossier's field checks."""

from datetime import UTC, datetime, timedelta

import pytest

from services.errors import DomainError
from services.rules.dossier import FIELDS, clean_text, excel_safe, validate_field
from services.rules.nomination_flow import TRANSITIONS, Mover, Stage, check_move, editable

NOW = datetime(2026, 5, 1, tzinfo=UTC)
SPEC = {spec.id: spec for specs in FIELDS.values() for spec in specs}


def refused(code: str, call, *args, **kwargs) -> DomainError:  # type: ignore[no-untyped-def]
    with pytest.raises(DomainError) as error:
        call(*args, **kwargs)
    assert error.value.code == code
    return error.value


@pytest.mark.parametrize(
    ("move", "rule"), list(TRANSITIONS.items()), ids=[f"{a}->{b}" for a, b in TRANSITIONS]
)
def test_each_move_is_allowed_only_to_its_movers(move: tuple[Stage, Stage], rule) -> None:  # type: ignore[no-untyped-def]
    current, target = move
    for mover in Mover:
        arguments = {"reason": "理由", "deadline": NOW + timedelta(days=3), "now": NOW}
        if mover in rule.movers:
            check_move(current, target, mover, **arguments)
        else:
            refused("nomination.move_not_allowed", check_move, current, target, mover, **arguments)


def test_returns_and_rejections_need_a_reason_and_returns_a_deadline() -> None:
    refused(
        "nomination.reason_required",
        check_move,
        Stage.SUBMITTED,
        Stage.RETURNED_BY_RECOMMENDER,
        Mover.RECOMMENDER,
        reason=" ",
        now=NOW,
    )
    refused("nomination.reason_required", check_move, Stage.ENDORSED, Stage.REJECTED, Mover.OFFICE, now=NOW)
    refused(
        "nomination.deadline_required",
        check_move,
        Stage.ENDORSED,
        Stage.RETURNED_FOR_SUPPLEMENT,
        Mover.OFFICE,
        reason="缺材料",
        deadline=NOW - timedelta(days=1),
        now=NOW,
    )


def test_a_supplement_after_the_deadline_is_refused() -> None:
    check_move(
        Stage.RETURNED_FOR_SUPPLEMENT,
        Stage.RESUBMITTED,
        Mover.APPLICANT,
        deadline=NOW + timedelta(hours=1),
        now=NOW,
    )
    refused(
        "nomination.deadline_passed",
        check_move,
        Stage.RETURNED_FOR_SUPPLEMENT,
        Stage.RESUBMITTED,
        Mover.APPLICANT,
        deadline=NOW,
        now=NOW,
    )


def test_nothing_skips_the_recommending_body_or_the_office() -> None:
    refused(
        "nomination.move_not_allowed", check_move, Stage.DRAFT, Stage.ENDORSED, Mover.RECOMMENDER, now=NOW
    )
    refused("nomination.move_not_allowed", check_move, Stage.SUBMITTED, Stage.PASSED, Mover.OFFICE, now=NOW)
    assert editable(Stage.DRAFT) and not editable(Stage.ENDORSED) and not editable(Stage.PASSED)


def test_credit_code_is_checked_with_its_check_digit() -> None:
    assert validate_field(SPEC["credit_code"], "91350100m000100y43") == "91350100M000100Y43"
    refused("dossier.bad_uscc", validate_field, SPEC["credit_code"], "91350100M000100Y44")
    refused("dossier.bad_uscc", validate_field, SPEC["credit_code"], "9135010")


def test_phone_numbers_are_normalised_including_full_width_digits() -> None:
    assert validate_field(SPEC["phone"], "１３８００１３８０００") == "+8613800138000"
    assert validate_field(SPEC["phone"], "020-8888 8888") == "+862088888888"
    refused("dossier.bad_phone", validate_field, SPEC["phone"], "12345")


def test_a_phone_number_with_letters_is_refused_not_read_as_keypad_digits() -> None:
    for raw in ("138-abcd-8000", "1380013800O", "+86 138 0013 8000 ext. 5", "(020) 8888 8888"):
        refused("dossier.bad_phone", validate_field, SPEC["phone"], raw)
    assert validate_field(SPEC["phone"], "+86 138-0013-8000") == "+8613800138000"


def test_text_others_will_read_is_clean() -> None:
    refused("dossier.invisible_characters", clean_text, "张\u202e伟", 50)
    refused("dossier.invisible_characters", clean_text, "张\u200b伟", 50)
    refused("dossier.empty", clean_text, "   ", 50)
    assert refused("dossier.too_long", clean_text, "长" * 51, 50).params == {"max": 50}
    assert clean_text(" 广州 ", 50) == "广州"
    assert validate_field(SPEC["years_front_line"], "１２") == 12
    refused("dossier.bad_number", validate_field, SPEC["years_front_line"], "十二")
    refused("dossier.bad_choice", validate_field, SPEC["team_type"], "部门")


def test_cells_that_look_like_formulas_stay_text() -> None:
    assert excel_safe('=HYPERLINK("http://x")') == '\'=HYPERLINK("http://x")'
    assert excel_safe("张伟") == "张伟" and excel_safe(12) == 12
