"""Every article and item of chapters 3 and 4 has code that implements it and a test that proves it,
as `python -m services.catalogue.articles` prints them."""

import subprocess
import sys

import pytest

from services.catalogue.articles import ROOT, index

pytestmark = pytest.mark.article("第十一条")


def test_every_article_and_item_is_implemented_and_tested() -> None:
    entries = index()
    assert len(entries) == 1 + 25 + 3 + 4  # Art. 11, the 25 items of Art. 12-15, the items of Art. 16 and 17
    assert [e.citation for e in entries if not e.implements] == []
    assert [e.citation for e in entries if not e.tests] == []


def test_the_index_names_the_moves_and_tests_of_an_item() -> None:
    printed = subprocess.run(
        [sys.executable, "-m", "services.catalogue.articles"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    review = printed[printed.index("第十六条第3项") : printed.index("第十七条第1项")]
    assert "nomination shortlist: passed → shortlisted by committee" in review
    assert "round close: open → closed by system" in review
    assert "tests/unit/test_tally.py" in review
