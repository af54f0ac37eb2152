"""CSV files people open in a spreadsheet, written so that no cell runs as a formula (no Flask)."""

import csv
import io
import re

# A spreadsheet runs a cell that starts with one of these as a formula...
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# ... but a sign, then digits and a phone number's formatting, calls no function and reads no
# cell: "+44 20 7946 0958" stays as typed.
NUMBER_LIKE = re.compile(r"\+[0-9 ().-]*[0-9][0-9 ().-]*|-[0-9][0-9 ().-]*")


def to_csv(rows):
    """Return the rows as CSV text, with a leading apostrophe on any text cell a spreadsheet
    would run as a formula.

    Names and numbers in these files are anyone's text, `=HYPERLINK(...)` included, and
    Excel, LibreOffice and Google Sheets run a cell that starts with =, +, -, @, a tab or a
    carriage return. The apostrophe makes such a cell plain text in all of them; a phone number
    such as `+1 (212) 736-5000` is left as typed, since it calls nothing.
    """
    out = io.StringIO()
    csv.writer(out).writerows([[_inert(cell) for cell in row] for row in rows])
    return out.getvalue()


def _inert(cell):
    if isinstance(cell, str) and cell.startswith(FORMULA_START) and not NUMBER_LIKE.fullmatch(cell):
        return "'" + cell
    return cell
