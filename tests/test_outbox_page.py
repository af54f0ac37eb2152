"""The staff's Outbox page: every email, its delivery, and the message with working links."""

import re
from datetime import timedelta

import pytest

from portal import mail
from portal.models import OutboxEmail, utcnow

SIGNING_LINK = "http://localhost/sign/eyJhbGciOi.abc-DEF_123"


def add_email(app, **fields):
    values = {
        "to_address": "rep@acme.test",
        "subject": "Please sign the Letter of Authorization",
        "text_body": f"Hello,\n\nSign here: {SIGNING_LINK}.\n\nPortDesk",
        "html_body": f'<!doctype html><p style="color:red">Sign <a href="{SIGNING_LINK}">here</a>',
        "purpose": "signing_link",
        "reference": "port_request:7",
    }
    values.update(fields)
    with app.app_context():
        return OutboxEmail.create(**values)


def stored(app, email_id):
    with app.app_context():
        return OutboxEmail.get_by_id(email_id)


def test_staff_see_every_email_newest_first_with_its_delivery(app, staff_client):
    now = utcnow()
    add_email(
        app, subject="Old and sent", status="sent", sent_at=now, created_at=now - timedelta(hours=2)
    )
    add_email(
        app,
        subject="Middle and failing",
        to_address="nobody@acme.test",
        attempts=3,
        last_error="SMTPRecipientsRefused: nobody@acme.test refused: 550 No such user",
        created_at=now - timedelta(hours=1),
    )
    add_email(app, subject="New and queued", purpose="password_reset", created_at=now)

    page = staff_client.get("/outbox/")

    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert (
        html.index("New and queued") < html.index("Middle and failing") < html.index("Old and sent")
    )
    assert "nobody@acme.test" in html
    assert "550 No such user" in html
    assert '<td data-label="Attempts" class="num">3</td>' in html
    assert '<span class="outbox-status outbox-status--sent">Sent</span>' in html
    assert "password_reset" in html
    assert 'href="/outbox/" aria-current="page">Outbox' in html


def test_the_list_filters_by_status_and_pages_within_the_filter(app, staff_client):
    for n in range(52):
        add_email(
            app,
            subject=f"Failed {n:02}",
            status="failed",
            created_at=utcnow() - timedelta(minutes=n),
        )
    add_email(app, subject="Sent one", status="sent")

    first = staff_client.get("/outbox/?status=failed").get_data(as_text=True)
    assert "Sent one" not in first
    assert "Failed 00" in first and "Failed 49" in first and "Failed 50" not in first
    assert 'href="/outbox/?page=2&amp;status=failed" rel="next"' in first
    assert 'aria-current="true">Failed <span class="count">52</span>' in first
    second = staff_client.get("/outbox/?status=failed&page=2").get_data(as_text=True)
    assert "Failed 50" in second and "Failed 51" in second and "Failed 49" not in second

    sent = staff_client.get("/outbox/?status=sent").get_data(as_text=True)
    assert "Sent one" in sent and "Failed 00" not in sent


def test_an_unknown_status_says_so_and_shows_everything(app, staff_client):
    add_email(app, subject="Sent one", status="sent")
    page = staff_client.get("/outbox/?status=lost%00<b>")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "There is no status" in html and "&lt;b&gt;" in html and "<b>" not in html
    assert "Sent one" in html


def test_an_empty_outbox_says_so(staff_client):
    html = staff_client.get("/outbox/").get_data(as_text=True)
    assert "No email has been queued yet." in html
    html = staff_client.get("/outbox/?status=failed").get_data(as_text=True)
    assert "No failed email." in html


def test_an_email_shows_its_text_with_working_links(app, staff_client):
    email = add_email(app)

    html = staff_client.get(f"/outbox/{email.id}").get_data(as_text=True)

    assert "To rep@acme.test" in html
    assert "port_request:7" in html
    # The link ends before the sentence's full stop.
    assert f'Sign here: <a href="{SIGNING_LINK}">{SIGNING_LINK}</a>.' in html
    assert re.search(r'<pre class="outbox-text">Hello,\n\nSign here', html)


def test_the_html_part_is_never_rendered_into_the_page(app, staff_client):
    email = add_email(
        app,
        text_body='<script>alert(1)</script> https://x.test/"onmouseover="alert(2)',
        html_body='<p>Hi<script src="https://evil.test/x.js"></script><img src=x onerror=alert(3)>',
    )

    page = staff_client.get(f"/outbox/{email.id}").get_data(as_text=True)

    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert '<a href="https://x.test/">https://x.test/</a>&#34;onmouseover=&#34;alert(2)' in page
    assert 'evil.test/x.js"' not in page and "onerror=alert(3)>" not in page
    assert "&lt;script src=&#34;https://evil.test/x.js&#34;&gt;" in page
    assert f'<iframe class="outbox-html" src="/outbox/{email.id}/html" sandbox ' in page

    frame = staff_client.get(f"/outbox/{email.id}/html")
    assert frame.status_code == 200
    assert frame.mimetype == "text/html"
    policy = frame.headers["Content-Security-Policy"]
    assert "sandbox" in policy and "default-src 'none'" in policy and "script-src" not in policy
    assert frame.headers["X-Frame-Options"] == "SAMEORIGIN"


def test_an_email_without_an_html_part_has_no_frame(app, staff_client):
    email = add_email(app, html_body=None)
    assert "<iframe" not in staff_client.get(f"/outbox/{email.id}").get_data(as_text=True)
    assert staff_client.get(f"/outbox/{email.id}/html").status_code == 404


def test_a_password_reset_link_is_never_shown_to_staff(app, staff_client):
    link = "https://portdesk.example.com/reset-password/WzEsImFiYyJd.ZxYw.Sig-_nature"
    email = add_email(
        app,
        purpose="password_reset",
        text_body=f"Choose a new password here:\n\n{link}\n",
        html_body=f'<a href="{link}">Choose</a> or copy {link}',
    )

    page = staff_client.get(f"/outbox/{email.id}").get_data(as_text=True)
    frame = staff_client.get(f"/outbox/{email.id}/html").get_data(as_text=True)

    for shown in (page, frame):
        assert "WzEsImFiYyJd" not in shown
        assert "reset link hidden" in shown


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/outbox/"),
        ("get", "/outbox/{id}"),
        ("get", "/outbox/{id}/html"),
        ("post", "/outbox/{id}/send-again"),
    ],
)
def test_owners_are_refused_and_visitors_sent_to_sign_in(app, owner_client, client, method, path):
    email = add_email(app, status="failed", attempts=5)
    url = path.format(id=email.id)

    refused = getattr(owner_client, method)(url)
    assert refused.status_code == 403
    assert "You can&#39;t open this page" in refused.get_data(as_text=True)
    assert SIGNING_LINK not in refused.get_data(as_text=True)

    anonymous = getattr(client, method)(url)
    assert anonymous.status_code == 302
    assert anonymous.headers["Location"].startswith("/login")

    row = stored(app, email.id)
    assert (row.status, row.attempts) == ("failed", 5)


def test_owners_have_no_outbox_link(owner_client):
    assert 'href="/outbox/"' not in owner_client.get("/port-requests/").get_data(as_text=True)


def test_an_email_that_does_not_exist_is_a_404(staff_client):
    assert staff_client.get("/outbox/999999").status_code == 404
    assert staff_client.post("/outbox/999999/send-again").status_code == 404


def test_send_again_queues_a_failed_email_now_with_its_retries_started_over(app, staff_client):
    email = add_email(
        app,
        status="failed",
        attempts=53,
        last_error="gave up",
        next_attempt_at=utcnow() + timedelta(hours=1),
    )

    response = staff_client.post(f"/outbox/{email.id}/send-again", follow_redirects=True)

    assert response.request.path == f"/outbox/{email.id}"
    assert "Queued to go out again to rep@acme.test" in response.get_data(as_text=True)
    row = stored(app, email.id)
    assert (row.status, row.attempts) == ("queued", 0)
    assert row.next_attempt_at <= utcnow()


@pytest.mark.parametrize("status", ["sent", "sending"])
def test_send_again_never_sends_an_email_twice(app, staff_client, status):
    sent_at = utcnow() if status == "sent" else None
    lease = utcnow() + timedelta(minutes=5) if status == "sending" else None
    email = add_email(app, status=status, sent_at=sent_at, lease_until=lease)

    response = staff_client.post(f"/outbox/{email.id}/send-again", follow_redirects=True)

    assert f"this email is {status} already" in response.get_data(as_text=True)
    assert stored(app, email.id).status == status
    page = staff_client.get(f"/outbox/{email.id}").get_data(as_text=True)
    assert "Send again now" not in page


def test_send_again_goes_out_right_after_the_request(app, staff_client, smtp_server):
    app.config.update(
        OUTBOX_SEND_AFTER_COMMIT=True, SMTP_HOST=smtp_server.host, SMTP_PORT=smtp_server.port
    )
    email = add_email(app, status="failed", attempts=2)

    staff_client.post(f"/outbox/{email.id}/send-again")

    assert mail.wait_for_senders()
    (received,) = smtp_server.wait_for(1)
    assert received["Subject"] == "Please sign the Letter of Authorization"
    assert stored(app, email.id).status == "sent"
    html = staff_client.get(f"/outbox/{email.id}").get_data(as_text=True)
    assert '<span class="outbox-status outbox-status--sent">Sent</span>' in html


def test_send_again_needs_the_forms_csrf_token(app, staff_client):
    email = add_email(app, status="failed", attempts=5)
    app.config["WTF_CSRF_ENABLED"] = True

    refused = staff_client.post(f"/outbox/{email.id}/send-again")
    assert refused.status_code == 400
    assert stored(app, email.id).status == "failed"

    page = staff_client.get(f"/outbox/{email.id}").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    staff_client.post(f"/outbox/{email.id}/send-again", data={"csrf_token": token})
    assert stored(app, email.id).status == "queued"
