"""The Agreements step: each statement accepted on its own, kept with who, when, where from and
the exact words; a changed text asks again."""

import hashlib
import re

import pytest

from portal.models import AgreementAcceptance, PortRequest, RequestEvent, utcnow
from portal.port_requests import agreements
from tests.test_port_request_pages import (
    add_inventory,
    make_complete,
    make_request,
    step_states,
    text_of,
)

KEYS = [key for key, _ in agreements.STATEMENTS]
IP = "203.0.113.9"


@pytest.fixture
def inventory(app, accounts):
    return add_inventory(app, accounts)


@pytest.fixture
def draft(app, inventory):
    """A draft whose General, Details and Numbers steps are complete."""
    return make_complete(app, inventory[0])


def url(request_id):
    return f"/port-requests/{request_id}/agreements"


def accept(client, request_id, keys):
    return client.post(url(request_id), data={"agreements": keys}, environ_base={"REMOTE_ADDR": IP})


def stored(app, request_id=None):
    """The acceptances kept, oldest first: (key, user name, ip, text, its hash)."""
    with app.app_context():
        query = AgreementAcceptance.select().order_by(AgreementAcceptance.id)
        if request_id is not None:
            query = query.where(AgreementAcceptance.port_request == request_id)
        return [(a.statement, a.user_name, a.ip, a.text, a.text_sha256) for a in query]


def checkbox(html, key):
    """Return the checkbox of a statement as the page writes it."""
    return re.search(rf'<input type="checkbox" id="agreement-{key}"[^>]*>', html).group(0)


@pytest.mark.parametrize(("key", "text"), agreements.STATEMENTS)
def test_each_statement_is_a_checkbox_of_its_own_with_its_exact_text(
    owner_client, draft, key, text
):
    html = owner_client.get(url(draft)).get_data(as_text=True)

    box = checkbox(html, key)
    assert f'name="agreements" value="{key}"' in box
    assert "checked" not in box and "disabled" not in box
    assert f'<label for="agreement-{key}">{text}</label>'.replace("'", "&#39;") in html
    assert html.count('name="agreements"') == len(agreements.STATEMENTS)


def test_the_step_page_sits_in_the_wizard(owner_client, draft):
    html = owner_client.get(url(draft)).get_data(as_text=True)
    assert "<h1>Agreements</h1>" in html
    assert f'<a href="{url(draft)}" aria-current="step">' in html
    assert step_states(html)["Agreements"] == "incomplete"


def test_accepting_some_keeps_who_when_where_and_the_texts_hash(app, owner_client, owner, draft):
    response = accept(owner_client, draft, ["authority", "records_match"])

    assert response.status_code == 302
    assert response.headers["Location"] == url(draft)
    assert stored(app) == [
        (
            key,
            "Ann Owner",
            IP,
            agreements.TEXTS[key],
            hashlib.sha256(agreements.TEXTS[key].encode()).hexdigest(),
        )
        for key in ("authority", "records_match")
    ]
    with app.app_context():
        acceptance = AgreementAcceptance.get(AgreementAcceptance.statement == "authority")
        assert acceptance.user_id == owner.id
        [event] = RequestEvent.select().where(RequestEvent.port_request == draft)
        assert (event.actor, event.kind) == ("Ann Owner", "agreed")
        assert event.message == (
            "Accepted: I am authorized to move these numbers; The details I gave (account "
            "number, PIN, names and addresses) match the current carrier's records."
        )
        moment = acceptance.accepted_at.strftime("%Y-%m-%dT%H:%M:%SZ")

    page = owner_client.get(url(draft))
    html, text = page.get_data(as_text=True), text_of(page)
    assert "Accepted 2 statements. 3 statements still to accept: they are marked below." in text
    assert "checked disabled" in checkbox(html, "authority")
    assert "checked" not in checkbox(html, "keep_service")
    assert f'Accepted by Ann Owner on <time datetime="{moment}">' in html
    assert text.count("Not accepted yet.") == 3
    assert html.count("agreement--remaining") == 3
    assert step_states(html)["Agreements"] == "incomplete"


def test_accepting_the_rest_completes_the_step_and_goes_on(app, owner_client, draft):
    before = utcnow()
    accept(owner_client, draft, ["authority"])

    response = accept(owner_client, draft, KEYS[1:])

    # On to the next step, the bill.
    assert response.headers["Location"] == f"/port-requests/{draft}/bill"
    page = owner_client.get(response.headers["Location"])
    text = text_of(page)
    assert "every statement is accepted and the Agreements step is complete" in text
    assert step_states(page.get_data(as_text=True))["Agreements"] == "complete"
    assert [row[0] for row in stored(app)] == KEYS
    with app.app_context():
        assert RequestEvent.select().where(RequestEvent.kind == "agreed").count() == 2
        assert PortRequest.get_by_id(draft).updated_at >= before
    again = owner_client.get(url(draft)).get_data(as_text=True)
    assert "Every statement is accepted: this step is complete." in again
    assert (
        f'<a class="button button--primary" href="/port-requests/{draft}/bill">Continue</a>'
        in again
    )


def test_sending_the_form_again_accepts_nothing_twice(app, owner_client, draft):
    accept(owner_client, draft, KEYS)
    response = accept(owner_client, draft, KEYS)

    assert response.headers["Location"] == f"/port-requests/{draft}/bill"
    assert len(stored(app)) == len(KEYS)
    with app.app_context():
        assert RequestEvent.select().where(RequestEvent.kind == "agreed").count() == 1


def test_unchecking_withdraws_nothing(app, owner_client, draft):
    accept(owner_client, draft, ["authority", "keep_service"])

    response = accept(owner_client, draft, ["left_behind"])

    assert response.status_code == 302
    assert [row[0] for row in stored(app)] == ["authority", "keep_service", "left_behind"]


def test_sending_nothing_checked_says_so_on_the_field(app, owner_client, draft):
    response = accept(owner_client, draft, [])
    html = response.get_data(as_text=True)

    assert response.status_code == 200
    assert (
        '<p class="field__error" id="agreements-error" role="alert">Check each statement you '
        "agree to: none was checked.</p>"
    ) in html
    assert 'aria-describedby="agreements-hint agreements-error"' in html
    assert stored(app) == []


@pytest.mark.parametrize(
    "sent",
    [
        pytest.param(["made_up"], id="unknown"),
        pytest.param(["authority", "made_up"], id="one-good-one-unknown"),
        pytest.param(["author\x00ity"], id="nul-byte"),
        pytest.param(["AUTHORITY"], id="other-case"),
        pytest.param(["x" * 1_000_000], id="a-megabyte"),
    ],
)
def test_a_statement_not_on_the_page_is_refused_in_words(app, owner_client, draft, sent):
    response = accept(owner_client, draft, sent)
    html = response.get_data(as_text=True)

    assert response.status_code == 200
    assert "That form named a statement this page does not show, so nothing was accepted" in html
    assert "made_up" not in html and "x" * 100 not in html
    assert stored(app) == []
    # What was checked and is real stays checked, so nothing the owner did is lost.
    assert ("checked" in checkbox(html, "authority")) == ("authority" in sent)


def test_a_changed_text_must_be_accepted_again(app, owner_client, draft, monkeypatch):
    accept(owner_client, draft, KEYS)
    old_text = agreements.TEXTS["authority"]
    new_text = old_text + " I may also sign for it."
    statements = tuple(
        (key, new_text if key == "authority" else text) for key, text in agreements.STATEMENTS
    )
    monkeypatch.setattr(agreements, "STATEMENTS", statements)
    monkeypatch.setattr(agreements, "TEXTS", dict(statements))
    monkeypatch.setattr(
        agreements, "VERSIONS", {key: agreements.version(text) for key, text in statements}
    )

    page = owner_client.get(url(draft))
    html, text = page.get_data(as_text=True), text_of(page)
    assert "checked" not in checkbox(html, "authority")
    assert "checked disabled" in checkbox(html, "keep_service")
    assert "The wording changed since it was accepted: read it again" in text
    assert new_text in text
    assert step_states(html)["Agreements"] == "incomplete"
    assert "Continue: Agreements" in text_of(owner_client.get(f"/port-requests/{draft}"))

    response = accept(owner_client, draft, ["authority"])

    assert response.headers["Location"] == f"/port-requests/{draft}/bill"
    rows = [row for row in stored(app) if row[0] == "authority"]
    assert [(row[3], row[4]) for row in rows] == [
        (old_text, hashlib.sha256(old_text.encode()).hexdigest()),
        (new_text, hashlib.sha256(new_text.encode()).hexdigest()),
    ]
    page = owner_client.get(f"/port-requests/{draft}").get_data(as_text=True)
    assert step_states(page)["Agreements"] == "complete"


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_request_that_left_draft_takes_no_agreement(app, owner_client, inventory, method):
    request_id = make_request(app, inventory[0], {"friendly_name": "Sent"}, status="submitted")

    response = getattr(owner_client, method)(url(request_id), data={"agreements": KEYS})

    assert response.status_code == 302
    assert response.headers["Location"] == f"/port-requests/{request_id}"
    assert stored(app) == []
    page = text_of(owner_client.get(response.headers["Location"]))
    assert "This request is submitted: it can no longer be changed." in page
