"""Verify a packet: the page (an upload, open to anyone a packet is handed to) and
`flask packet verify FILE.pdf` give the same verdict on the same files."""

import io
import re
from html import unescape

import pytest

from signing import seal
from tests.test_packet import current, download, identity_of, stored_bytes, submitted
from tests.test_seal import small_pdf
from tests.test_submit import text_of

VERIFY = "/packets/verify"


@pytest.fixture
def packet(app, owner_client, owner, staff_client):
    request_id = submitted(app, owner_client, owner)
    return request_id, download(staff_client, request_id)


def post(client, data, name="packet.pdf"):
    return client.post(
        VERIFY,
        data={"packet": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def verdict_of(response):
    """The words of the verdict region."""
    html = response.get_data(as_text=True)
    region = re.search(r'<section id="verify-result".*?</section>', html, re.S).group(0)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", region)).split())


def files(app, packet, tmp_path):
    """Return {case: (bytes, the verdict's words, sealed?)} for the page and the command."""
    request_id, data = packet
    elsewhere = seal.in_folder(tmp_path / "another-portdesk")
    changed = bytearray(data)
    changed[len(data) // 2] ^= 0x01
    return {
        "packet": (data, "A packet sealed by this PortDesk, unchanged since", True),
        "signed LOA": (
            stored_bytes(app, current(app, request_id, "signed_loa")),
            "Signed LOA sealed by this PortDesk, unchanged since",
            True,
        ),
        "one byte changed": (bytes(changed), "This PDF was changed after it was sealed", False),
        "another deployment's": (
            seal.seal(small_pdf(), elsewhere, reason="PortDesk packet"),
            "This PDF is sealed, but not by this deployment's seal",
            False,
        ),
        "unsealed": (small_pdf(), "This PDF carries no seal: PortDesk did not seal it.", False),
        "not a PDF": (b"name,number\nAcme,6143221001\n", "This file is not a PDF.", False),
    }


CASES = [
    "packet",
    "signed LOA",
    "one byte changed",
    "another deployment's",
    "unsealed",
    "not a PDF",
]


def test_the_page_asks_for_a_file_and_shows_the_deployments_seal(app, client):
    response = client.get(VERIFY)

    html, text = response.get_data(as_text=True), text_of(response)
    assert response.status_code == 200
    assert '<label for="packet">The PDF to verify</label>' in html
    assert 'enctype="multipart/form-data"' in html
    assert 'aria-live="polite"' in html
    assert identity_of(app).fingerprint in text
    assert "Verified" not in text and "Not verified" not in text


def test_a_packet_verifies_and_its_parts_are_listed_with_their_hashes(app, client, packet):
    request_id, data = packet

    response = post(client, data)

    words = verdict_of(response)
    assert response.status_code == 200
    assert words.startswith("Verified A packet sealed by this PortDesk, unchanged since")
    assert f"Port request {request_id} of Acme Dental (account 4242)" in words
    assert "2 numbers" in words
    assert "Cover summary 1" in words
    signed_loa, bill = current(app, request_id, "signed_loa"), current(app, request_id, "bill")
    assert f"Signed LOA (Signed LOA.pdf) 2–3 {signed_loa.sha256}" in words
    assert f"Bill (proof of ownership) (harbor-bill.pdf) 4 {bill.sha256}" in words


@pytest.mark.parametrize("case", CASES)
def test_the_page_and_the_command_agree(app, client, runner, packet, tmp_path, case):
    data, words, sealed = files(app, packet, tmp_path)[case]
    path = tmp_path / "file.pdf"
    path.write_bytes(data)

    page = verdict_of(post(client, data))
    result = runner.invoke(args=["packet", "verify", str(path)])

    assert page.startswith("Verified" if sealed else "Not verified")
    assert words in page
    assert result.exit_code == (0 if sealed else 1), result.output
    assert ("verified." if sealed else "NOT VERIFIED.") in result.output
    if not sealed:
        problem = seal.verify(data, identity_of(app)).problem
        assert problem in page and problem in result.output


def test_the_command_lists_a_packets_parts(app, runner, packet, tmp_path):
    request_id, data = packet
    path = tmp_path / "packet.pdf"
    path.write_bytes(data)

    result = runner.invoke(args=["packet", "verify", str(path)])

    bill = current(app, request_id, "bill")
    assert result.exit_code == 0
    assert f"Port request {request_id} of Acme Dental (account 4242)" in result.output
    assert f"  Bill (proof of ownership), pages 4-4: SHA-256 {bill.sha256}" in result.output


def test_the_command_refuses_a_file_that_is_not_there(runner, tmp_path):
    result = runner.invoke(args=["packet", "verify", str(tmp_path / "missing.pdf")])

    assert result.exit_code == 2
    assert "does not exist" in result.output


def test_no_file_says_to_choose_one(client):
    response = client.post(VERIFY, data={}, content_type="multipart/form-data")

    assert response.status_code == 200
    assert "Choose the PDF to verify: a packet or a signed LOA." in text_of(response)
    assert "Verified" not in verdict_of(response)


def test_the_seals_certificate_downloads_as_pem(app, client):
    response = client.get("/packets/seal.pem")

    assert response.status_code == 200
    assert response.data == identity_of(app).certificate_pem
    assert response.data.startswith(b"-----BEGIN CERTIFICATE-----")


def test_a_signed_in_owner_may_verify_too(owner_client, packet):
    _, data = packet

    assert verdict_of(post(owner_client, data)).startswith("Verified")


def test_every_page_links_the_verify_page_for_whoever_is_handed_a_packet(client, staff_client):
    for page in (client.get("/login"), staff_client.get("/queue/")):
        assert 'href="/packets/verify">Verify a packet</a>' in page.get_data(as_text=True)
    assert client.get("/packets/verify").status_code == 200  # no sign-in needed
