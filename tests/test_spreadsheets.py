"""The CSV writer: a cell a spreadsheet would run as a formula is written as text (no Flask)."""

import csv
import io

import pytest

from portal.spreadsheets import to_csv


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        pytest.param("+44 20 7946 0958", "+44 20 7946 0958", id="international-number"),
        pytest.param("+12127365000", "+12127365000", id="e164"),
        pytest.param("+1 (212) 736-5000", "+1 (212) 736-5000", id="formatted-plus"),
        pytest.param("+1.212.736.5000", "+1.212.736.5000", id="dots"),
        pytest.param("-5", "-5", id="negative-number"),
        pytest.param("-212-736-5000", "-212-736-5000", id="minus-then-digits"),
        pytest.param("(212) 736-5000", "(212) 736-5000", id="no-sign"),
        pytest.param("=1+1", "'=1+1", id="equals"),
        pytest.param('=HYPERLINK("http://x.test")', '\'=HYPERLINK("http://x.test")', id="link"),
        pytest.param("@SUM(A1)", "'@SUM(A1)", id="at"),
        pytest.param("-cmd", "'-cmd", id="minus-then-letters"),
        pytest.param("- 1", "'- 1", id="minus-then-space"),
        pytest.param("-2+3", "'-2+3", id="minus-arithmetic"),
        pytest.param("+", "'+", id="plus-alone"),
        pytest.param("+ ()", "'+ ()", id="plus-without-digits"),
        pytest.param("+1 ad", "'+1 ad", id="plus-then-letters"),
        pytest.param("+1+A1", "'+1+A1", id="plus-reference"),
        pytest.param("+1 212 736 5000\n=cmd", "'+1 212 736 5000\n=cmd", id="plus-then-a-line"),
        pytest.param("+SUM(1)", "'+SUM(1)", id="plus-function"),
        pytest.param("\t212", "'\t212", id="tab"),
        pytest.param("\r212", "'\r212", id="carriage-return"),
        pytest.param("212 = 1", "212 = 1", id="equals-inside"),
        pytest.param(4242, "4242", id="not-text"),
        pytest.param(None, "", id="none"),
    ],
)
def test_only_cells_that_would_run_as_formulas_are_escaped(cell, written):
    text = to_csv([["before", cell, "after"]])
    assert list(csv.reader(io.StringIO(text, newline=""))) == [["before", written, "after"]]
