"""bench/load.py's mix of clients, short: a small world served by gunicorn (2 workers x 4
threads, CSRF on, as deployed) on the suite's database, four clients for two seconds. Every
answer is a success with what its reader needs; no timing is asserted (bench/load.py prints it)."""

import re
from urllib.parse import parse_qs

import pytest

from bench import load
from bench.serving import ROOT, gunicorn

SECONDS = 2


@pytest.fixture
def world(app):
    return load.seed_world(
        app, accounts=2, owners_per_account=2, tracking_numbers=800, submitted=2, awaiting=1
    )


@pytest.fixture
def served(database_url, tmp_path, world):
    log = tmp_path / "gunicorn.log"
    with gunicorn(database_url, tmp_path / "gunicorn", log) as address:
        yield address
    print(log.read_text(errors="replace"))  # shown when a test fails


def test_every_kind_is_answered_with_what_its_reader_needs(served, world):
    fired = load.drive(served, world, seconds=SECONDS, clients=len(load.ROLES))

    assert fired.errors == []
    assert {kind: bool(times) for kind, times in fired.timings.items()} == dict.fromkeys(
        load.KINDS, True
    )
    the_live_check_names_every_number_typed(*fired.samples["check"])
    owners_see_their_account_s_requests_and_no_one_else_s(world, *fired.samples["list"])
    a_request_page_shows_the_request_and_its_numbers(world, *fired.samples["request"])
    the_signer_sees_the_loa_to_sign(*fired.samples["sign"])
    the_static_file_is_the_file(world, *fired.samples["static"])


def the_live_check_names_every_number_typed(sent, fragment):
    typed = parse_qs(sent)["numbers"][0].splitlines()
    text = load.visible_text(fragment)

    assert len(typed) == load.NUMBERS_PER_CHECK
    # 10 tracking numbers of the inventory and 5 numbers submitted requests hold are refused.
    assert "25 numbers checked from the numbers you typed: 10 portable, 15 refused." in text
    assert "Already on the platform 10 In another port request 5" in text
    for line, entered in enumerate(typed, start=1):
        digits = re.sub(r"\D", "", entered)[-10:]
        shown = f"({digits[:3]}) {digits[3:6]}-{digits[6:]}"
        assert f"Line {line} {entered} {shown}" in text
    assert "<html" not in fragment  # the fragment htmx swaps in, not a whole page


def owners_see_their_account_s_requests_and_no_one_else_s(world, _, page):
    listed = {int(found) for found in re.findall(r'href="/port-requests/(\d+)"', page)}
    accounts = {frozenset(owner.requests) for owner in world.owners}

    assert frozenset(listed) in accounts
    assert "3 requests, newest first." in load.visible_text(page)


def a_request_page_shows_the_request_and_its_numbers(world, path, page):
    request_id = int(path.rsplit("/", 1)[1])
    shown = next(o.requests[request_id] for o in world.owners if request_id in o.requests)
    text = load.visible_text(page)

    status = re.search(r"Office lines \d+-\d+ Status: (Submitted|Draft)", text)
    assert status
    # A submitted request's table has a Status column (each number's); a draft's does not.
    column = "Status" if status.group(1) == "Submitted" else "Portability"
    assert f"Numbers 5 Numbers of this request, page 1 of 1 Number {column}" in text
    assert shown in text


def the_signer_sees_the_loa_to_sign(path, page):
    text = load.visible_text(page)

    assert "Sign: Letter of Authorization for HARBOR CLINIC, LLC" in text
    assert "asks you, Dana Reyes, to sign this document." in text
    assert f'<iframe src="{path}/document.pdf"' in page
    assert "Sign the document" in text


def the_static_file_is_the_file(world, _, body):
    assert body.encode() == (ROOT / world.static_path.lstrip("/")).read_bytes()
