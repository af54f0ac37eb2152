"""The bill read against the request: each detail the owner entered, looked for in the bill's text.

No Flask and no database: the bill's text layer in, warnings out.

    compare(text, fields) -> list[Problem]
    bill_problems(bill, fields, *, today) -> list[Problem]

The losing carrier checks a request against its customer service record, and the bill is the
owner's copy of that record (docs/domain.md): a detail the bill does not show is worth a look
before anything is sent. Written differently is not different. Both sides are read as words
folded alike (case, accents and punctuation aside, the USPS abbreviations of `usps`), and a detail
is on the bill when its folded words, joined, equal whole words of the bill joined: "8123-4465-001",
"8123 4465 001" and "81234465001" are one account number, "HARBOR CLINIC, L.L.C." is "Harbor
Clinic LLC". Digit groups held together by a dash, dot, comma or slash ("8123-4465-001",
"11/02/2026", "$1,200.00") are one number, so a detail that is only a part of one is not found in
it; a ZIP code may carry its +4.

A detail not found is named with the closest text on the bill (rapidfuzz over windows of the
bill's words of about the detail's length), as printed.
"""

import datetime
import itertools
import re
import unicodedata

from rapidfuzz import fuzz, process

from portal.port_requests.fields import MAX_TEXT, Problem, invisible_character, rank
from portal.port_requests.usps import ABBREVIATIONS

MAX_AGE_DAYS = 30
# The rapidfuzz ratio (0-100) the bill's words need to be shown as "the bill shows" (numbers
# need more: see _closest).
CLOSE_ENOUGH = 70
# The compared fields, with the words a message names them by.
COMPARED = {
    "billing.customer_name": "customer name",
    "billing.account_number": "account number",
    "billing.btn": "BTN",
    "service_address.street_number": "street number",
    "service_address.street": "street",
    "service_address.zip": "ZIP code",
}
_TEXT_FIELDS = frozenset(("billing.customer_name", "service_address.street"))

_WORD = re.compile(r"[^\W\d_]+|[0-9]+|&")
_NUMBER_JOINS = frozenset("-.,/\u2010\u2011\u2012\u2013\u2014")
_ZIP = re.compile(r"([0-9]{5})(?:[- ]?[0-9]{4})?")
_NOT_DIGIT = re.compile(r"[^0-9]")
_MAX_WINDOW = 12  # words in one candidate window for "the bill shows"
# Where "the bill shows" looks: the details are on a bill's first pages (20,000 words is some 30
# pages), and a longer text must not make a slower page.
_SCANNED_WORDS = 20_000
# Printed as one number, never in groups: "9 0 2 1 0" in a table is not the ZIP code 90210.
_WHOLE = frozenset(("service_address.zip", "service_address.street_number"))
_MAX_SHOWN = 80  # characters of the bill quoted in a message


def compare(text, fields):
    """Return a warning for each detail the owner entered that the bill's text does not show."""
    bill = _Bill(text) if isinstance(text, str) else None
    if bill is None or not bill.forms:
        return [
            Problem(
                "bill",
                "bill_unreadable",
                "warning",
                "The bill has no text to read (a photo or a scan), so its details could not be "
                "compared with the request: check the customer name, account number, BTN and "
                "service address by eye against the bill.",
            )
        ]
    found = []
    street_at = None
    # The street first: where the bill prints it says which number it prints before it.
    for path in sorted(COMPARED, key=lambda path: path != "service_address.street"):
        value = _value(fields, path)
        keys = _keys(path, value) if value else ()
        if not keys:
            continue
        plus4, whole = path == "service_address.zip", path in _WHOLE
        place = next(filter(None, (bill.find(key, plus4=plus4, whole=whole) for key in keys)), None)
        if place is None:
            if path != "service_address.street_number":
                place = _closest(bill, path, keys)
            elif street_at is not None:
                # Near misses of a short number are all over a bill (amounts, minutes, dates):
                # the one that counts is printed before the street.
                place = bill.number_before(street_at[0])
            found.append(_not_on_bill(bill, path, value, place))
        if path == "service_address.street":
            street_at = place
    return sorted(found, key=lambda problem: rank(problem.field))


def bill_problems(bill, fields, *, today):
    """Return the bill's problems: missing, undated, dated wrong, then what it does not show."""
    if bill is None:
        return [
            Problem(
                "bill",
                "bill_required",
                "error",
                "Upload the latest bill from the losing carrier: carriers want it as proof that "
                "the numbers are yours.",
            )
        ]
    found = []
    path = "bill.statement_date"
    date = getattr(bill, "statement_date", None)
    if isinstance(date, datetime.datetime):
        date = date.date()
    if not isinstance(date, datetime.date):
        message = "Enter the bill's statement date, as printed on the bill."
        found.append(Problem(path, "required", "error", message))
    elif date > today:
        message = f"The statement date {_day(date)} is in the future: enter the date on the bill."
        found.append(Problem(path, "statement_date_future", "error", message))
    elif (today - date).days > MAX_AGE_DAYS:
        # No "n days ago": a confirmed warning is matched on its message, which must not age.
        message = (
            f"The bill is from {_day(date)}: carriers want a bill from the last {MAX_AGE_DAYS} "
            "days. Upload the latest bill, or confirm this one is the latest."
        )
        found.append(Problem(path, "statement_date_old", "warning", message))
    return found + compare(getattr(bill, "text", None), fields)


class _Bill:
    """The bill's text read once: its words folded, joined end to end, and where each was printed.

    `joined` is every folded word end to end; word i covers joined[starts[i]:ends[i]] and was
    printed at text[spans[i][0]:spans[i][1]]. `glued[i]` says word i continues word i - 1 (the
    digit groups of one number, or "1st"), so nothing found may begin or end between them.
    """

    def __init__(self, text):
        self.text = text
        self.forms, self.spans, self.digits, self.glued = [], [], [], []
        folded = {}  # a bill repeats its words: fold each once
        end, was_digit = None, False
        for match in _WORD.finditer(text):
            word = match.group()
            digit = word.isascii() and word.isdigit()
            form = word if digit else folded.get(word)
            if form is None:
                form = folded[word] = _fold(word)
            if not form:
                continue
            start, stop = match.span()
            # A label run into its value ("ACCOUNT81234465001") is not one word; "12A" is.
            self.glued.append(
                was_digit
                and (
                    (digit and start - end == 1 and text[end] in _NUMBER_JOINS)
                    or (not digit and start == end)
                )
            )
            self.forms.append(form)
            self.spans.append((start, stop))
            self.digits.append(digit)
            end, was_digit = stop, digit
        self.glued.append(False)  # past the last word: nothing continues it
        self.joined = "".join(self.forms)
        self.ends = list(itertools.accumulate(len(form) for form in self.forms))
        self.starts = [0, *self.ends[:-1]]
        self.word_at = {start: index for index, start in enumerate(self.starts)}
        self.word_ending = {finish: index for index, finish in enumerate(self.ends)}
        # Where a window may begin (not inside a number), and the last word it may reach: for a
        # number, the last digit word of the digit words that follow one another from there.
        self.free = [i for i in range(len(self.forms)) if not self.glued[i]]
        self.free_digits = [i for i in self.free if self.digits[i]]
        self.digit_run_end = list(range(len(self.forms)))
        for index in range(len(self.forms) - 2, -1, -1):
            if self.digits[index] and self.digits[index + 1]:
                self.digit_run_end[index] = self.digit_run_end[index + 1]

    def find(self, key, *, plus4=False, whole=False):
        """Return (first, last) word of a place where the words joined are `key`, or None.

        `whole`: the words must be printed as one number ("1200", "12A", "1200-1202").
        """
        at = self.joined.find(key)
        while at != -1:
            first = self.word_at.get(at)
            last = self.word_ending.get(at + len(key))
            if (
                first is not None
                and last is not None
                and self.bounded(first, last, plus4)
                and (not whole or all(self.glued[first + 1 : last + 1]))
            ):
                return first, last
            at = self.joined.find(key, at + 1)
        return None

    def bounded(self, first, last, plus4=False):
        """Say whether the words first..last stand alone, not inside a longer number."""
        return not self.glued[first] and self.ends_at(last, plus4)

    def ends_at(self, last, plus4):
        """Say whether a place may end with the word: no digit group of its number follows."""
        after = last + 1
        if not self.glued[after]:
            return True
        # A ZIP code followed by its +4.
        return (
            plus4
            and self.digits[after]
            and len(self.forms[after]) == 4
            and not self.glued[after + 1]
        )

    def windows(self, shortest, longest, *, digits, plus4=False, whole=False):
        """Return {words joined: (first, last)} for every place of that length, first seen first."""
        found = {}
        starts, ends, joined = self.starts, self.ends, self.joined
        reach = self.digit_run_end if digits else None
        last_word = len(self.forms) - 1
        for first in self.free_digits if digits else self.free:
            if first >= _SCANNED_WORDS:
                break
            start = starts[first]
            stop = min(reach[first] if digits else last_word, first + _MAX_WINDOW - 1)
            last = first
            while last <= stop and ends[last] - start <= longest:
                if ends[last] - start >= shortest and self.ends_at(last, plus4):
                    found.setdefault(joined[start : ends[last]], (first, last))
                if whole and not self.glued[last + 1]:
                    break
                last += 1
        return found

    def number_before(self, word):
        """Return (first, last) of the number printed just before the word, or None."""
        last = word - 1
        if last < 0 or not self.digits[last]:
            return None
        first = last
        while first > 0 and self.glued[first]:
            first -= 1
        return first, last

    def shown(self, place):
        """Return the bill's text of the words first..last as printed, on one line."""
        start, end = self.spans[place[0]][0], self.spans[place[1]][1]
        # The opening bracket or sign of a "(614) 322-1000" or "+1 614 ..." is part of it.
        while start > 0 and self.text[start - 1] in "(+#":
            start -= 1
        if self.text.count("(", start, end) > self.text.count(")", start, end):
            end += self.text.startswith(")", end)
        elif not self.digits[place[1]]:
            end += self.text.startswith(".", end)  # "L.L.C.", "ST."
        printed = " ".join(self.text[start:end].split())
        return printed if len(printed) <= _MAX_SHOWN else printed[: _MAX_SHOWN - 1] + "\u2026"


def _value(fields, path):
    """Return the field's text if it is usable text, else None (the rules name the rest)."""
    section, name = path.split(".")
    part = fields.get(section) if isinstance(fields, dict) else None
    value = part.get(name) if isinstance(part, dict) else None
    if not isinstance(value, str):
        return None
    value = value.strip()
    if not value or len(value) > MAX_TEXT or invisible_character(value):
        return None
    return " ".join(value.split())


def _keys(path, value):
    """Return the folded forms the bill may print the value as (none: nothing to compare)."""
    if path == "billing.btn":
        digits = _NOT_DIGIT.sub("", value)
        if len(digits) == 11 and digits.startswith("1"):
            digits = digits[1:]
        return (digits, "1" + digits) if len(digits) == 10 else ()
    if path == "service_address.zip":
        match = _ZIP.fullmatch(value)
        return (match.group(1),) if match else ()
    folded = "".join(_fold(word) for word in _WORD.findall(value))
    return (folded,) if folded else ()


def _closest(bill, path, keys):
    """Return (first, last) of the bill's text closest to the value, or None when none is close."""
    key = keys[0]
    number = key.isdigit()
    if path == "billing.btn":
        # A BTN printed with its leading 1 is compared without it.
        windows = bill.windows(10, 11, digits=True)
        choices = [w[1:] if len(w) == 11 and w.startswith("1") else w for w in windows]
    else:
        if path == "service_address.zip" or (number and len(key) <= 5):
            slack = 0
        else:
            slack = 1 if number else max(1, len(key) // 4)
        windows = bill.windows(
            len(key) - slack,
            len(key) + slack,
            digits=number,
            plus4=path == "service_address.zip",
            whole=path in _WHOLE,
        )
        choices = list(windows)
    if number:
        # Up to one digit in five mistyped: any closer cutoff lets unrelated numbers through.
        mistyped = max(1, len(key) // 5)
        cutoff = max(CLOSE_ENOUGH, 100 * (len(key) - mistyped) / len(key) - 0.01)
    else:
        cutoff = CLOSE_ENOUGH
    best = process.extractOne(key, choices, scorer=fuzz.ratio, score_cutoff=cutoff)
    return None if best is None else list(windows.values())[best[2]]


def _not_on_bill(bill, path, value, closest):
    noun = COMPARED[path]
    entered = f'"{value}"' if path in _TEXT_FIELDS else value
    if closest is None:
        message = (
            f"The {noun} {entered} is not on the bill, nor anything close to it: check it by eye "
            "against the bill."
        )
    else:
        shown = bill.shown(closest)
        shown = f'"{shown}"' if path in _TEXT_FIELDS else shown
        message = (
            f"The {noun} {entered} is not on the bill; the bill shows {shown}. Correct it to "
            "match the bill."
        )
    return Problem(path, "not_on_bill", "warning", message)


def _fold(word):
    """Return the word as both sides are compared: lower case, no accents, USPS abbreviations."""
    if not word.isascii():
        decomposed = unicodedata.normalize("NFKD", word)
        word = "".join(c for c in decomposed if not unicodedata.combining(c))
    word = word.casefold()
    return ABBREVIATIONS.get(word, word)


def _day(day):
    return f"{day:%b} {day.day}, {day.year}"
