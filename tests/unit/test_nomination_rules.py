"""The nomination's moves that need more than a role (a reason, a deadline) and the dossier's field
checks; who may make each move is tests/unit/test_permissions.py."""

from datetime import UTC, datetime, timedelta

import pytest

from services.errors import DomainError
from services.lifecycles.core import Party
from services.lifecycles.nomination import NOMINATION, check_deadline
from services.rules.dossier import FIELDS, clean_text, validate_field
from services.rules.nomination_flow import Stage, editable

pytestmark = pytest.mark.article("第十六条第1项", "第十六条第2项")

NOW = datetime(2026, 5, 1, tzinfo=UTC)
SPEC = {spec.id: spec for specs in FIELDS.values() for spec in specs}


def refused(code: str, call, *args, **kwargs) -> DomainError:  # type: ignore[no-untyped-def]
    with pytest.raises(DomainError) as error:
        call(*args, **kwargs)
    assert error.value.code == code
    return error.value


def check(current: Stage | None, action: str, party: Party, reason: str = "") -> None:
    NOMINATION.check(current, action, party, None, reason=reason)


def test_returns_and_rejections_need_a_reason_and_returns_a_deadline() -> None:
    refused(
        "nomination.reason_required", check, Stage.SUBMITTED, "return_to_applicant", Party.RECOMMENDER, " "
    )
    refused("nomination.reason_required", check, Stage.ENDORSED, "reject", Party.OFFICE)
    refused(
        "nomination.deadline_required", check_deadline, "return_for_supplement", NOW - timedelta(days=1), NOW
    )
    check_deadline("return_for_supplement", NOW + timedelta(days=3), NOW)


def test_a_supplement_after_the_deadline_is_refused() -> None:
    check_deadline("resubmit", NOW + timedelta(hours=1), NOW)
    refused("nomination.deadline_passed", check_deadline, "resubmit", NOW, NOW)


def test_nothing_skips_the_recommending_body_or_the_office() -> None:
    refused("nomination.move_not_allowed", check, Stage.DRAFT, "endorse", Party.RECOMMENDER)
    refused("nomination.move_not_allowed", check, Stage.SUBMITTED, "pass", Party.OFFICE)
    refused("nomination.move_not_allowed", NOMINATION.action_to, Stage.SUBMITTED, Stage.PASSED)
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
