"""The documents API: a request's bill and signed LOA uploaded, listed and downloaded with a key,
every refusal JSON with a message and nothing stored."""

import io
import logging
from datetime import timedelta

import pytest
from werkzeug.datastructures import FileStorage
from werkzeug.test import stream_encode_multipart

from portal import documents
from portal.models import (
    Document,
    DocumentContent,
    PortRequest,
    RequestEvent,
    WarningConfirmation,
)
from tests.test_api import assert_error, bearer, issue_key
from tests.test_port_request_pages import add_inventory
from tests.test_proof_step import (
    TYPO,
    bill_pdf,
    bill_png,
    make_draft,
    store_bill,
    today,
    with_account,
)

URL = "/api/v1/port-requests"


@pytest.fixture
def inventory(app, accounts):
    return add_inventory(app, accounts)


@pytest.fixture
def acme_key(app, inventory):
    return issue_key(app, inventory[0])


@pytest.fixture
def api(app):
    return app.test_client()


def post(api, key, request_id, form, **kwargs):
    return api.post(
        f"{URL}/{request_id}/documents",
        data=form,
        content_type="multipart/form-data",
        headers=bearer(key),
        **kwargs,
    )


def bill_form(data=None, *, name="bill.pdf", day=None, kind="bill"):
    return {
        "kind": kind,
        "file": (io.BytesIO(bill_pdf() if data is None else data), name),
        "statement_date": (day or today()).isoformat(),
    }


def stored_documents(app):
    with app.app_context():
        return Document.select().count(), DocumentContent.select().count()


def document_events(app):
    with app.app_context():
        return [
            (row.message, row.actor)
            for row in RequestEvent.select()
            .where(RequestEvent.kind == "document")
            .order_by(RequestEvent.id)
        ]


def test_a_bill_is_stored_and_described(app, api, acme_key, inventory):
    request_id = make_draft(app, inventory[0])
    data = bill_pdf()

    response = post(api, acme_key, request_id, bill_form(data, name="harbor.pdf"))

    assert response.status_code == 201
    body = response.get_json()
    with app.app_context():
        stored = Document.get()
    assert body == {
        "id": stored.id,
        "kind": "bill",
        "type": "application/pdf",
        "size": len(data),
        "sha256": stored.sha256,
        "pages": 1,
        "label": "harbor.pdf",
        "uploaded_at": body["uploaded_at"],
        "uploaded_by": stored.uploaded_by_name,
        "statement_date": today().isoformat(),
        "replaced_at": None,
        "url": f"{URL}/{request_id}/documents/{stored.id}",
    }
    assert len(body["sha256"]) == 64
    assert body["uploaded_at"].endswith("Z")
    assert response.headers["Location"] == body["url"]
    assert document_events(app) == [("Uploaded the bill harbor.pdf.", "API key 'tests'")]


def test_the_requests_problems_then_hold_the_bills_warnings(app, api, acme_key, inventory):
    request_id = make_draft(app, inventory[0], with_account(TYPO))
    before = api.get(f"{URL}/{request_id}", headers=bearer(acme_key)).get_json()
    assert {"field": "bill", "code": "bill_required", "severity": "error"}.items() <= next(
        p for p in before["problems"] if p["field"] == "bill"
    ).items()
    assert before["steps"]["bill"] == "incomplete"

    post(api, acme_key, request_id, bill_form())
    after = api.get(f"{URL}/{request_id}", headers=bearer(acme_key)).get_json()

    [warning] = [p for p in after["problems"] if p["code"] == "not_on_bill"]
    assert warning["field"] == "billing.account_number"
    assert warning["severity"] == "warning"
    assert TYPO in warning["message"]
    assert not [p for p in after["problems"] if p["field"].split(".")[0] == "bill"]
    assert after["steps"]["bill"] == "complete"
    assert "bill" not in [step for step, state in after["steps"].items() if state == "locked"]
    assert after["confirmed_warnings"] == []

    with app.app_context():
        WarningConfirmation.create(
            port_request=request_id,
            field=warning["field"],
            code=warning["code"],
            message=warning["message"],
            user_name="Ann Owner",
        )
    confirmed = api.get(f"{URL}/{request_id}", headers=bearer(acme_key)).get_json()

    assert warning not in confirmed["problems"]
    [shown] = confirmed["confirmed_warnings"]
    assert {key: shown[key] for key in ("field", "code", "message", "confirmed_by")} == {
        "field": warning["field"],
        "code": warning["code"],
        "message": warning["message"],
        "confirmed_by": "Ann Owner",
    }
    assert shown["confirmed_at"].endswith("Z")


def test_a_signed_loa_takes_an_optional_signed_date(app, api, acme_key, inventory):
    request_id = make_draft(app, inventory[0])
    signed = today() - timedelta(days=2)

    dated = post(
        api,
        acme_key,
        request_id,
        {"kind": "signed_loa", "file": (io.BytesIO(bill_png()), "loa.png"), "signed_date": signed},
    )
    undated = post(
        api, acme_key, request_id, {"kind": "signed_loa", "file": (io.BytesIO(bill_pdf()), "l.pdf")}
    )

    assert dated.status_code == undated.status_code == 201
    assert dated.get_json()["signed_date"] == signed.isoformat()
    assert dated.get_json()["type"] == "image/png"
    assert "statement_date" not in dated.get_json()
    assert undated.get_json()["signed_date"] is None
    assert [message for message, _ in document_events(app)] == [
        "Uploaded the signed LOA loa.png.",
        "Replaced the signed LOA loa.png with l.pdf.",
    ]


def test_the_list_holds_the_current_and_the_replaced_documents(app, api, acme_key, inventory):
    request_id = make_draft(app, inventory[0])
    first = post(api, acme_key, request_id, bill_form(name="january.pdf")).get_json()
    second = post(api, acme_key, request_id, bill_form(name="february.pdf")).get_json()

    response = api.get(f"{URL}/{request_id}/documents", headers=bearer(acme_key))

    assert response.status_code == 200
    listed = response.get_json()["documents"]
    assert [(item["id"], item["label"]) for item in listed] == [
        (second["id"], "february.pdf"),
        (first["id"], "january.pdf"),
    ]
    assert listed[0]["replaced_at"] is None
    assert listed[1]["replaced_at"].endswith("Z")


def test_a_download_is_the_stored_bytes_with_the_pages_headers(app, api, acme_key, inventory):
    request_id = make_draft(app, inventory[0])
    data = bill_pdf(pages=2)
    url = post(api, acme_key, request_id, bill_form(data)).get_json()["url"]

    response = api.get(url, headers=bearer(acme_key))

    assert response.status_code == 200
    assert response.data == data
    assert response.mimetype == "application/pdf"
    with app.app_context():
        name = documents.download_name(Document.get())
    assert response.headers["Content-Disposition"] == f'attachment; filename="{name}"'
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"


def test_a_tampered_document_is_a_409_and_logged(app, api, acme_key, inventory, caplog):
    request_id = make_draft(app, inventory[0])
    stored = store_bill(app, request_id)
    with app.app_context():
        DocumentContent.update(content=b"%PDF-1.4 other bytes").where(
            DocumentContent.document == stored.id
        ).execute()

    with caplog.at_level(logging.ERROR):
        response = api.get(f"{URL}/{request_id}/documents/{stored.id}", headers=bearer(acme_key))

    message = assert_error(response, 409, "document_damaged")
    assert "no longer match the SHA-256" in message
    assert any(f"damaged document {stored.id}" in r.getMessage() for r in caplog.records)


# Refusals: JSON with a message, nothing stored


def loa_form(**fields):
    return {"kind": "signed_loa", "file": (io.BytesIO(bill_pdf()), "l.pdf"), **fields}


def in_days(days):
    return (today() + timedelta(days=days)).isoformat()


INVALID = "invalid_request"
REFUSED = "document_refused"


@pytest.mark.parametrize(
    ("form", "status", "code", "names"),
    [
        pytest.param(
            lambda: {"file": (io.BytesIO(bill_pdf()), "b.pdf")}, 400, INVALID, "kind", id="no-kind"
        ),
        pytest.param(lambda: bill_form(kind="fax_proof"), 400, INVALID, "kind", id="fax-kind"),
        pytest.param(lambda: bill_form(kind="invoice"), 400, INVALID, "kind", id="unknown-kind"),
        pytest.param(
            lambda: {"kind": "bill", "statement_date": in_days(0)}, 400, INVALID, "file",
            id="no-file",
        ),
        pytest.param(
            lambda: {**bill_form(), "file": (io.BytesIO(bill_pdf()), "")}, 400, INVALID, "file",
            id="nameless-file",
        ),
        pytest.param(
            lambda: {**bill_form(), "statement_date": ""}, 400, INVALID, "statement_date",
            id="no-date",
        ),
        pytest.param(
            lambda: {**bill_form(), "statement_date": "01/05/2027"}, 400, INVALID,
            "statement_date", id="us-date",
        ),
        pytest.param(
            lambda: {**bill_form(), "statement_date": "2027-13-01"}, 400, INVALID,
            "statement_date", id="no-such-month",
        ),
        pytest.param(
            lambda: {**bill_form(), "statement_date": in_days(3)}, 400, INVALID,
            "statement_date", id="future-date",
        ),
        pytest.param(
            lambda: {**bill_form(), "signed_date": in_days(0)}, 400, INVALID, "signed_date",
            id="loa-date-on-bill",
        ),
        pytest.param(
            lambda: loa_form(statement_date=in_days(0)), 400, INVALID, "statement_date",
            id="bill-date-on-loa",
        ),
        pytest.param(
            lambda: loa_form(signed_date="soon"), 400, INVALID, "signed_date", id="bad-signed"
        ),
        pytest.param(
            lambda: loa_form(signed_date=in_days(1)), 400, INVALID, "signed_date",
            id="future-signed",
        ),
        pytest.param(
            lambda: bill_form(b"<svg xmlns='http://www.w3.org/2000/svg'/>"), 422, REFUSED, None,
            id="svg",
        ),
        pytest.param(lambda: bill_form(b"MZ" + b"\x00" * 300), 422, REFUSED, None, id="exe"),
        pytest.param(lambda: bill_form(b""), 422, REFUSED, None, id="empty"),
    ],
)  # fmt: skip
def test_a_refused_upload_says_why_and_stores_nothing(
    app, api, acme_key, inventory, form, status, code, names
):
    request_id = make_draft(app, inventory[0])

    response = post(api, acme_key, request_id, form())

    message = assert_error(response, status, code)
    if names:
        assert names in message
    else:
        sent = form()["file"][0].getvalue()
        with pytest.raises(documents.DocumentRefused) as refused:
            documents.inspect(sent, "bill", max_bytes=app.config["MAX_DOCUMENT_BYTES"])
        assert message == str(refused.value)
    assert stored_documents(app) == (0, 0)
    assert document_events(app) == []


def test_a_document_over_the_limit_is_a_413(app, api, acme_key, inventory, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_DOCUMENT_BYTES", 2_000)
    request_id = make_draft(app, inventory[0])

    response = post(api, acme_key, request_id, bill_form(bill_pdf(pages=6) + b"\n" * 3_000))

    assert_error(response, 413, "document_too_large")
    assert stored_documents(app) == (0, 0)


def test_a_body_over_the_servers_limit_is_a_413_about_documents(app, api, acme_key, inventory):
    request_id = make_draft(app, inventory[0])
    huge = b"%PDF-1.4\n" + b"0" * (app.config["MAX_CONTENT_LENGTH"] + 10)
    # Encoded in memory: the test client's own temporary file for it would be left open.
    form = {**bill_form(), "file": FileStorage(io.BytesIO(huge), filename="huge.pdf")}
    body, length, boundary = stream_encode_multipart(form, use_tempfile=False)

    response = api.post(
        f"{URL}/{request_id}/documents",
        input_stream=body,
        content_length=length,
        content_type=f'multipart/form-data; boundary="{boundary}"',
        headers=bearer(acme_key),
    )

    message = assert_error(response, 413, "document_too_large")
    assert "send a document of at most 10 MB" in message
    assert stored_documents(app) == (0, 0)


def test_a_json_body_is_refused_for_its_type(app, api, acme_key, inventory):
    request_id = make_draft(app, inventory[0])

    response = api.post(
        f"{URL}/{request_id}/documents", json={"kind": "bill"}, headers=bearer(acme_key)
    )

    assert "multipart/form-data" in assert_error(response, 415, "unsupported_media_type")


def test_a_request_that_left_draft_takes_no_document_but_lists_and_downloads(
    app, api, acme_key, inventory
):
    request_id = make_draft(app, inventory[0])
    stored = store_bill(app, request_id)
    with app.app_context():
        PortRequest.update(status="submitted").where(PortRequest.id == request_id).execute()

    refused = post(api, acme_key, request_id, bill_form())
    listed = api.get(f"{URL}/{request_id}/documents", headers=bearer(acme_key))
    download = api.get(f"{URL}/{request_id}/documents/{stored.id}", headers=bearer(acme_key))

    assert_error(refused, 409, "not_a_draft")
    assert stored_documents(app) == (1, 1)
    assert listed.status_code == download.status_code == 200


@pytest.fixture
def foreign(app, inventory):
    request_id = make_draft(app, inventory[1])
    return request_id, store_bill(app, request_id).id


@pytest.mark.parametrize(
    ("method", "path"),
    [("post", "/documents"), ("get", "/documents"), ("get", "/documents/{doc}")],
)
def test_another_accounts_request_is_the_same_404_as_a_missing_one(
    app, api, acme_key, foreign, method, path
):
    request_id, doc = foreign
    messages = set()
    for target in (request_id, 999_999):
        kwargs = (
            {"data": bill_form(), "content_type": "multipart/form-data"} if method == "post" else {}
        )
        response = getattr(api, method)(
            f"{URL}/{target}{path.format(doc=doc)}", headers=bearer(acme_key), **kwargs
        )
        message = assert_error(response, 404, "not_found")
        messages.add(message.replace(f"port request {target} ", "port request N "))
    assert len(messages) == 1
    assert stored_documents(app) == (1, 1)


def test_another_requests_document_is_a_404(app, api, acme_key, inventory, foreign):
    mine = make_draft(app, inventory[0])
    my_other = make_draft(app, inventory[0])
    own_elsewhere = store_bill(app, my_other)
    _, foreign_doc = foreign

    for doc in (foreign_doc, own_elsewhere.id, 999_999, 2**31, 2**64):
        response = api.get(f"{URL}/{mine}/documents/{doc}", headers=bearer(acme_key))
        assert_error(response, 404, "not_found")


@pytest.mark.parametrize("method", ["get", "post"])
def test_no_key_no_documents(app, api, foreign, method):
    request_id, _ = foreign

    response = getattr(api, method)(f"{URL}/{request_id}/documents")

    assert_error(response, 401, "unauthorized")


def test_a_signed_loa_uploaded_through_the_api_counts_until_a_field_on_it_changes(
    app, api, acme_key, inventory
):
    request_id = make_draft(app, inventory[0])

    stored = post(api, acme_key, request_id, loa_form(signed_date=today().isoformat()))
    after_upload = api.get(f"{URL}/{request_id}", headers=bearer(acme_key)).get_json()
    api.patch(
        f"{URL}/{request_id}",
        json={"billing": {**after_upload["billing"], "account_number": "999-000-111"}},
        headers=bearer(acme_key),
    )
    after_change = api.get(f"{URL}/{request_id}", headers=bearer(acme_key)).get_json()

    assert stored.status_code == 201
    assert after_upload["steps"]["loa"] == "complete"
    assert [p["code"] for p in after_upload["problems"] if p["field"] == "loa"] == []
    assert after_change["steps"]["loa"] == "incomplete"
    assert [p["code"] for p in after_change["problems"] if p["field"] == "loa"] == ["loa_outdated"]
