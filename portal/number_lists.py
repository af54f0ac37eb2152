"""Read the numbers owners give us: typed into the check box, or uploaded as the bulk-import CSV.

Both give `Entry` values (the line or row number and the text as written) for the portability
check. A CSV row may also name the tracking source and routing target its number should get; those
are checked against the owner's account here, and every problem is collected with its row and
column so the owner can fix them all at once. A file that cannot be read at all (not CSV, empty,
too big, too many rows, no phone_number column) raises NumberListError instead.

Rows are numbered as a spreadsheet numbers them: the header is row 1 and blank rows count.
"""

import csv
import difflib
import io
import itertools
import re
from dataclasses import dataclass, field
from typing import NamedTuple

from portal.models import RoutingTarget, TrackingSource
from portal.portability import MAX_ENTRIES, Entry
from portal.spreadsheets import to_csv

CSV_MAX_BYTES = 4 * 1024 * 1024
COLUMNS = ("phone_number", "account_id", "tracking_source_id", "routing_id", "friendly_name")
EXAMPLE_NUMBER = "(212) 736-5000"
EXAMPLE_NAME = "Main line"
# The columns that hold ids: the model they point at, and what problems call it.
REFERENCES = {
    "tracking_source_id": (TrackingSource, "tracking source"),
    "routing_id": (RoutingTarget, "routing"),
}
LINE_BREAK = re.compile(r"\r\n|\r|\n")
# Never spaces: "1 212 736 5000" is one number. Full-width ones come from CJK keyboards.
SEPARATOR = re.compile(r"[,;\t\uff0c\uff1b]")
# How a spreadsheet shows a long number in a General cell, after dropping its last digits.
SCIENTIFIC = re.compile(r"\d(\.\d+)?e\+\d+", re.IGNORECASE)
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
LOST_DIGITS = (
    "'{}' is how a spreadsheet shows a long number, and its digits are lost: "
    "format the column as Text, type the numbers again and save"
)
SEE_REFERENCE = "the reference download lists yours"
SAVE_AS_CSV = "save it as CSV (File > Save As > CSV UTF-8) and upload that"
# What people upload instead of a CSV file, known by its first bytes.
NOT_CSV = {
    b"PK\x03\x04": f"This looks like an Excel workbook: {SAVE_AS_CSV}.",  # .xlsx is a zip
    b"\xd0\xcf\x11\xe0": f"This looks like an Excel workbook: {SAVE_AS_CSV}.",  # legacy .xls
    b"%PDF": "This is a PDF, not a CSV file: export the list as CSV and upload that.",
    # UTF-32 before UTF-16: a UTF-32 LE file starts with UTF-16 LE's mark too.
    b"\xff\xfe\x00\x00": f"This file is UTF-32 text: {SAVE_AS_CSV}.",
    b"\x00\x00\xfe\xff": f"This file is UTF-32 text: {SAVE_AS_CSV}.",
    b"\xff\xfe": f"This file is UTF-16 text: {SAVE_AS_CSV}.",
    b"\xfe\xff": f"This file is UTF-16 text: {SAVE_AS_CSV}.",
}
# Spreadsheets set to European conventions save with semicolons; some tools save with tabs.
SEPARATORS = {",": "comma", ";": "semicolon", "\t": "tab"}
QUOTED = re.compile(r'"[^"]*"?')
# How many problems one message lists; the rest are counted.
LISTED_AT_MOST = 50
RESULT_COLUMNS = (
    "line", "where", "input", "e164", "portable", "reason", "message", "number_type", "region",
)  # fmt: skip
# What the results CSV adds for an uploaded file: the row's cells as sent, and its problems.
SENT_COLUMNS = ("tracking_source_id", "routing_id", "friendly_name")
UPLOAD_COLUMNS = (*SENT_COLUMNS, "row_problem")


class NumberListError(ValueError):
    """A list that cannot be read at all; the message says why and what to do."""


class RowProblem(NamedTuple):
    row: int
    column: str  # the template's column name
    message: str


class BulkRow(NamedTuple):
    """What a CSV row asks for its number; an id that is not valid in the account is None."""

    tracking_source_id: int | None
    routing_id: int | None
    friendly_name: str


@dataclass
class BulkUpload:
    entries: list[Entry] = field(default_factory=list)
    rows: dict[int, BulkRow] = field(default_factory=dict)  # by row number, as in entries
    problems: list[RowProblem] = field(default_factory=list)
    # The cells of SENT_COLUMNS exactly as uploaded (trimmed), by row number as in entries.
    sent: dict[int, dict[str, str]] = field(default_factory=dict)

    def problems_by_row(self):
        """Return the problems grouped by row number, in file order."""
        grouped = {}
        for problem in self.problems:
            grouped.setdefault(problem.row, []).append(problem)
        return grouped


def entries_from_text(text):
    """Split typed numbers on commas, semicolons, tabs and line breaks, keeping line numbers."""
    entries = []
    for line, content in enumerate(LINE_BREAK.split(text), start=1):
        pieces = [piece for piece in map(str.strip, SEPARATOR.split(content)) if piece]
        if len(pieces) == 1:
            entries.append(Entry(line, pieces[0], f"line {line}"))
        else:
            entries += [
                Entry(line, piece, f"line {line}, number {position}")
                for position, piece in enumerate(pieces, 1)
            ]
    if len(entries) > MAX_ENTRIES:
        raise NumberListError(
            f"You entered {len(entries):,} numbers; one check takes at most {MAX_ENTRIES:,}. "
            "Split the list."
        )
    return entries


def read_bulk_csv(data, account):
    """Read an uploaded bulk-import CSV (or one column of numbers) for the owner's account."""
    text = _decode(data)
    separator = _separator(text)
    filled = _rows(text, separator)
    # Keep the header and at most MAX_ENTRIES rows; only count the rest, so memory stays small.
    rows = list(itertools.islice(filled, MAX_ENTRIES + 1))
    if not rows:
        raise NumberListError("The file is empty: add your numbers to the template and upload it.")
    columns, rows = _header(rows)
    if not rows:
        raise NumberListError("The file has only a header row: add your numbers below it.")
    count = len(rows) + sum(1 for _ in filled)
    if count > MAX_ENTRIES:
        raise NumberListError(
            f"The file has {count:,} rows of numbers; one check takes at most {MAX_ENTRIES:,}. "
            "Split the file."
        )
    known = {key: _known(model, account) for key, (model, _) in REFERENCES.items()}
    upload = BulkUpload()
    for number, cells in rows:
        values = dict(zip(columns, cells, strict=False))
        problems, ids = _check_row(values, account, known)
        if not any(column == "phone_number" for column, _ in problems):
            upload.entries.append(Entry(number, values["phone_number"], f"row {number}"))
            upload.rows[number] = BulkRow(**ids, friendly_name=values.get("friendly_name", ""))
            upload.sent[number] = {column: values.get(column, "") for column in SENT_COLUMNS}
        if any(cells[len(columns) :]):
            width = max(i for i, cell in enumerate(cells) if cell) + 1
            # Most often an unquoted comma in the last column (the friendly name) split it.
            wide = "1 column" if len(columns) == 1 else f"{len(columns)} columns"
            message = f"this row has {width} cells but the file has {wide}"
            advice = f"put a name that contains a {SEPARATORS[separator]} in quotes"
            problems.append((columns[-1], f"{message}: {advice}"))
        upload.problems += [RowProblem(number, column, message) for column, message in problems]
    return upload


def template_csv(account):
    """Return the bulk-import template: the exact header line and one example row."""
    source, routing = (
        _owned(model, account, model.id).scalar() for model, _ in REFERENCES.values()
    )
    return to_csv([COLUMNS, (EXAMPLE_NUMBER, account.id, source, routing, EXAMPLE_NAME)])


def reference_csv(account):
    """Return the account's id, tracking sources and routing targets, so owners can find ids."""
    rows = [("type", "id", "name", "kind"), ("account", account.id, account.name, "")]
    sources = _owned(TrackingSource, account, TrackingSource.id, TrackingSource.name)
    rows += [("tracking_source", *row, "") for row in sources]
    targets = _owned(
        RoutingTarget, account, RoutingTarget.id, RoutingTarget.name, RoutingTarget.kind
    )
    rows += [("routing", *row) for row in targets]
    return to_csv(rows)


def results_csv(results, upload=None):
    """Return a check's results as CSV, one row per entry in input order.

    Given the BulkUpload the results were checked from, each row also carries the ids and name
    as uploaded, and that row's problems: a number can be portable while its row is not usable.
    """
    columns = RESULT_COLUMNS + (UPLOAD_COLUMNS if upload is not None else ())
    by_row = upload.problems_by_row() if upload is not None else {}
    rows = [columns]
    for result in results:
        fields = {
            **result.as_json(),
            "line": result.line,
            "where": result.where,
            "portable": "yes" if result.portable else "no",
        }
        if upload is not None:
            fields |= upload.sent.get(result.line, dict.fromkeys(SENT_COLUMNS, ""))
            problems = by_row.get(result.line, [])
            fields["row_problem"] = "; ".join(f"{p.column}: {p.message}" for p in problems)
        rows.append([fields[column] for column in columns])
    return to_csv(rows)


def _decode(data):
    """Return the file's text, or raise saying why it is not a CSV file we can read."""
    if len(data) > CSV_MAX_BYTES:
        limit = f"{CSV_MAX_BYTES // 2**20} MB"
        raise NumberListError(f"The file is over the {limit} limit: split it into smaller files.")
    for signature, message in NOT_CSV.items():
        if data.startswith(signature):
            raise NumberListError(message)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Excel's plain "CSV" on Windows is cp1252; a name like "Café" should not sink the file.
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError:
            raise NumberListError(f"This file is not UTF-8 text: {SAVE_AS_CSV}.") from None
    if CONTROL.search(text):
        raise NumberListError(f"This is not a CSV file (it holds binary data): {SAVE_AS_CSV}.")
    return text


def _separator(text):
    """Return the separator the header line uses most (outside quotes): comma, semicolon or tab."""
    for line in io.StringIO(text, newline=""):
        if line.strip():
            unquoted = QUOTED.sub("", line)
            counts = {separator: unquoted.count(separator) for separator in SEPARATORS}
            best = max(counts, key=counts.get)  # the first of equals: the comma
            return best if counts[best] else ","
    return ","


def _rows(text, separator):
    """Yield each row that is not blank, as its number and its trimmed cells.

    Each row is one line: a quoted cell that runs over a line break (almost always a quote
    that is never closed) would merge the rows after it into one cell, so it is refused.
    """
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator)
    header = number = None
    try:
        for number, cells in enumerate(reader, 1):
            if reader.line_num != number:
                raise NumberListError(_run_on(text, number, cells, header, reader.line_num))
            cells = [cell.strip() for cell in cells]
            if any(cells):
                header = header or cells
                yield number, cells
    except csv.Error as exc:
        row = (number or 0) + 1  # the rows before it are one line each
        line = next(itertools.islice(io.StringIO(text, newline=""), row - 1, None), "")
        try:
            cells = next(csv.reader([line], delimiter=separator), [""])
        except csv.Error:
            # The line alone fails too: a cell longer than the csv module reads (128 KB).
            raise NumberListError(_too_long(row, line, separator, header)) from None
        column = _column_name(len(cells) - 1, header)
        if '"' in line:
            raise NumberListError(_never_closed(row, column)) from None
        raise NumberListError(
            f"Row {row}: this file cannot be read as CSV ({exc}) in {column}. "
            "Check that it is the list of numbers you meant to upload."
        ) from None


def _too_long(row, line, separator, header):
    """Return the message for a row with a cell too long to read as CSV."""
    limit = csv.field_size_limit()
    index = next(
        (i for i, cell in enumerate(line.split(separator)) if len(cell) > limit),
        0,
    )
    return (
        f"Row {row}: a cell in {_column_name(index, header)} is over {limit:,} characters, "
        "longer than any number or name. Check that it is the list of numbers you meant to upload."
    )


def _run_on(text, row, cells, header, last_line):
    """Return the message for a row whose quoted cell runs on to `last_line`."""
    breaks = (i for i, cell in enumerate(cells) if "\n" in cell or "\r" in cell)
    index = next(breaks, len(cells) - 1)
    column = _column_name(index, header)
    if last_line >= sum(1 for _ in io.StringIO(text, newline="")):
        return _never_closed(row, column)
    return (
        f"Row {row}: a quote opened in {column} closes only on line {last_line}, so lines "
        f"{row} to {last_line} would be read as one row. A cell cannot hold a line break: "
        "close the quote on its own line, or remove it."
    )


def _never_closed(row, column):
    return (
        f"Row {row}: a quote opened in {column} is never closed, so the rest of the file would "
        "be lost. Close the quote or remove it."
    )


def _column_name(index, header):
    """Return the template's name of the column at index, or "column 3"."""
    if header and index < len(header):
        name = re.sub(r"[\s_]+", "_", header[index].lower())
        if name in COLUMNS:
            return name
    return f"column {index + 1}"


def _header(rows):
    """Return the file's column names and its data rows, or raise if the header is unusable."""
    number, cells = rows[0]
    names = [re.sub(r"[\s_]+", "_", cell.lower()) for cell in cells]
    if cells[0] and not any(cells[1:]) and names[0] not in COLUMNS:
        # One column of numbers: a first cell without a digit is its header.
        has_header = not any(char.isdigit() for char in cells[0])
        return ("phone_number",), rows[has_header:]
    while not names[-1]:
        names.pop()  # spreadsheets pad rows with empty cells
    listed = f"The template's header line is {','.join(COLUMNS)}"
    if not set(names) & set(COLUMNS) and any(char.isdigit() for char in "".join(cells)):
        raise NumberListError(f"Row {number} should be the header line. {listed}.")
    unknown = [
        (cell, name)
        for cell, name in zip(cells, names, strict=False)
        if name and name not in COLUMNS
    ]
    if unknown:
        noun = "column" if len(unknown) == 1 else "columns"
        shown = [f"'{_shown(cell)}'{_suggestion(name)}" for cell, name in unknown[:LISTED_AT_MOST]]
        described = _listed(shown, len(unknown))
        raise NumberListError(f"Row {number}: unknown {noun} {described}. {listed}.")
    if "" in names:
        position = names.index("") + 1
        raise NumberListError(f"Row {number}: column {position} has no name. {listed}.")
    repeated = [name for name in COLUMNS if names.count(name) > 1]
    if repeated:
        raise NumberListError(f"Row {number}: the column {repeated[0]} appears twice. {listed}.")
    if "phone_number" not in names:
        raise NumberListError(f"Row {number}: the phone_number column is missing. {listed}.")
    return tuple(names), rows[1:]


def _listed(shown, count):
    """Return "a, b and c", or "a, b, ... and 9,950 more" when fewer are shown than there are."""
    if count > len(shown):
        return f"{', '.join(shown)} and {count - len(shown):,} more"
    if len(shown) <= 2:
        return " and ".join(shown)
    return f"{', '.join(shown[:-1])} and {shown[-1]}"


def _suggestion(name):
    """Return " (did you mean 'routing_id'?)" for a name close to one column, else ""."""
    containing = [column for column in COLUMNS if name in column]
    close = containing if len(containing) == 1 else difflib.get_close_matches(name, COLUMNS, 1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _known(model, account):
    """Return the account's ids of this model and its ids by folded name, in one query."""
    ids, by_name = set(), {}
    for row_id, name in _owned(model, account, model.id, model.name):
        ids.add(row_id)
        by_name.setdefault(_folded(name), []).append((row_id, name))
    return ids, by_name


def _reference(value, noun, ids, by_name):
    """Return (the id, None) for a valid reference or a blank one, else (None, the problem)."""
    if not value:
        return None, None
    if value.isdecimal():
        if _whole(value) in ids:
            return _whole(value), None
        return None, f"{noun} {_shown(value)} does not exist in your account; {SEE_REFERENCE}"
    if named := by_name.get(_folded(value)):
        listed = " or ".join(str(row_id) for row_id, _ in named)
        return None, f"use the {noun} ID, not the name: '{named[0][1]}' is {noun} {listed}"
    return None, f"'{_shown(value)}' is not a {noun} ID: IDs are numbers; {SEE_REFERENCE}"


def _check_row(values, account, known):
    """Return a row's problems as (column, message) in column order, and its valid ids."""
    problems, ids = [], {}
    phone = values["phone_number"]
    if not phone:
        problems.append(("phone_number", "the phone number is empty"))
    elif SCIENTIFIC.fullmatch(phone):
        problems.append(("phone_number", LOST_DIGITS.format(_shown(phone))))
    if message := _account_problem(values.get("account_id", ""), account):
        problems.append(("account_id", message))
    for key, (_, noun) in REFERENCES.items():
        ids[key], message = _reference(values.get(key, ""), noun, *known[key])
        if message:
            problems.append((key, message))
    return problems, ids


def _account_problem(value, account):
    """Return what is wrong with an account_id cell (blank means the owner's), or None."""
    if not value or _whole(value) == account.id:
        return None
    if value.isdecimal():
        return f"account {_shown(value)} is not your account; yours is {account.id}"
    if _folded(value) == _folded(account.name):
        return f"use the account ID, not the name: '{account.name}' is account {account.id}"
    return f"'{_shown(value)}' is not an account ID: IDs are numbers; yours is {account.id}"


def _whole(value):
    # Full-width digits count; a thousand digits are no id (and int() refuses that many).
    return int(value) if value.isdecimal() and len(value) <= 18 else None


def _folded(name):
    return " ".join(name.split()).casefold()


def _shown(value):
    return value if len(value) <= 40 else value[:37] + "..."


def _owned(model, account, *columns):
    """Return the account's rows of the model, by id, as tuples of these columns."""
    return model.select(*columns).where(model.account == account).order_by(model.id).tuples()
