"""The seal without an app: the identity generated once (workers at once included) or configured,
a sealed PDF verified, and every way it is not: a byte changed anywhere, another key, no seal."""

import datetime
import io
import os
import re
import subprocess
import sys
import threading

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import NameOID
from fpdf import FPDF
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import signers

from portal import create_app
from portal.config import ConfigError
from signing import seal
from tests.conftest import make_config

CHANGED = "This PDF was changed after it was sealed: it is not the file PortDesk sealed."
NOT_A_PDF = "This file is not a PDF."
UNREADABLE = "This PDF cannot be read: it is damaged, or it was changed after it was sealed."


def small_pdf(text="Port request packet"):
    pdf = FPDF(unit="pt", format="letter")
    pdf.add_page()
    pdf.set_font("Helvetica", size=14)
    pdf.text(72, 96, text)
    return bytes(pdf.output())


@pytest.fixture
def identity(tmp_path):
    return seal.in_folder(tmp_path / "instance-a")


@pytest.fixture
def sealed(identity):
    return seal.seal(small_pdf(), identity, reason="PortDesk packet")


def signature_gap(data):
    """Return where the signature's hex string starts and ends (the bytes the digest skips)."""
    found = re.search(rb"/ByteRange\s*\[\s*0\s+(\d+)\s+(\d+)\s+\d+\s*\]", data)
    return int(found.group(1)), int(found.group(2))


def changed(data, position, new=None):
    out = bytearray(data)
    out[position] = new if new is not None else out[position] ^ 0x01
    return bytes(out)


def test_a_sealed_pdf_verifies_with_what_it_is_and_when(identity, sealed):
    verdict = seal.verify(sealed, identity)

    assert verdict.sealed
    assert (verdict.problem, verdict.reason) == ("", "PortDesk packet")
    assert verdict.sealed_at is not None
    assert sealed.startswith(small_pdf()[:8])


def named_changes(data):
    """Return (name, the sealed PDF with one byte changed there) for each part of the file."""
    gap_start, gap_end = signature_gap(data)
    hex_letter = next(i for i in range(gap_start + 1, gap_end) if data[i : i + 1] in b"ABCDEF")
    byte_range = data.index(b"/ByteRange") + len(b"/ByteRange [0 ")
    return [
        ("the header", changed(data, 1)),
        ("the page", changed(data, gap_start // 2)),
        ("the signature's certificate", changed(data, gap_start + 200)),
        ("the signature's last bytes", changed(data, gap_start + 2 * 480)),
        ("the padding after the signature", changed(data, gap_end - 3, ord("1"))),
        ("a hex digit's case", changed(data, hex_letter, data[hex_letter] | 0x20)),
        ("the byte range", changed(data, byte_range, ord("9"))),
        ("the last byte", changed(data, len(data) - 1)),
        ("a byte added", data + b"\n"),
        ("the last byte cut", data[:-1]),
    ]


def test_one_changed_byte_anywhere_fails_the_seal(identity, sealed):
    for name, copy in named_changes(sealed):
        verdict = seal.verify(copy, identity)
        assert not verdict.sealed, name
        assert verdict.problem in (CHANGED, UNREADABLE, NOT_A_PDF), name


def test_a_changed_byte_at_every_stride_through_the_file_fails_the_seal(identity, sealed):
    stride = max(1, len(sealed) // 150)
    missed = [
        position
        for position in range(0, len(sealed), stride)
        if seal.verify(changed(sealed, position), identity).sealed
    ]

    assert missed == []


def test_a_pdf_sealed_by_another_key_is_not_this_deployments(identity, tmp_path):
    elsewhere = seal.in_folder(tmp_path / "instance-b")
    theirs = seal.seal(small_pdf(), elsewhere, reason="PortDesk packet")

    verdict = seal.verify(theirs, identity)

    assert elsewhere.fingerprint != identity.fingerprint
    assert not verdict.sealed
    assert verdict.problem.startswith("This PDF is sealed, but not by this deployment's seal")
    assert elsewhere.fingerprint in verdict.problem
    assert seal.verify(theirs, elsewhere).sealed


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (small_pdf(), "This PDF carries no seal: PortDesk did not seal it."),
        (b"", "This file is not a PDF."),
        (b"PK\x03\x04 a zip archive", "This file is not a PDF."),
        (b"%PDF-1.7\n garbage with no cross-reference table", UNREADABLE),
    ],
    ids=["unsealed", "empty", "zip", "damaged"],
)
def test_what_is_not_sealed_says_why(identity, data, problem):
    verdict = seal.verify(data, identity)

    assert (verdict.sealed, verdict.problem) == (False, problem)


def signed(data, identity, field):
    """Return the PDF with one more (uncertified) signature by the identity's key."""
    writer = IncrementalPdfFileWriter(io.BytesIO(data))
    meta = signers.PdfSignatureMetadata(field_name=field)
    return signers.sign_pdf(writer, meta, signer=identity.signer).getvalue()


def test_a_pdf_with_two_signatures_is_not_as_portdesk_seals(identity):
    twice = signed(signed(small_pdf(), identity, "Another signature"), identity, seal.FIELD)

    verdict = seal.verify(twice, identity)

    assert not verdict.sealed
    assert "more than one signature" in verdict.problem


def test_workers_starting_at_once_generate_one_seal(tmp_path):
    folder = tmp_path / "instance"
    folder.mkdir()
    workers = 8
    barrier = threading.Barrier(workers)
    found = [None] * workers

    def start(slot):
        barrier.wait()
        found[slot] = seal.in_folder(folder).fingerprint

    threads = [threading.Thread(target=start, args=(slot,)) for slot in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(set(found)) == 1 and found[0] is not None
    assert sorted(path.name for path in folder.iterdir()) == [seal.GENERATED]
    assert (folder / seal.GENERATED).stat().st_mode & 0o777 == 0o600
    assert seal.in_folder(folder).fingerprint == found[0]


def test_a_damaged_generated_seal_says_to_delete_it(tmp_path):
    (tmp_path / seal.GENERATED).write_text("not a key\n")

    with pytest.raises(seal.SealError, match="delete it to generate a new seal"):
        seal.in_folder(tmp_path)


def pem_pair(kind):
    """Return (key PEM, certificate PEM) of a self-signed pair with a key of this kind."""
    if kind == "generated":
        return seal.generate()
    key = {
        "RSA 2048": lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048),
        "EC P-384": lambda: ec.generate_private_key(ec.SECP384R1()),
        "Ed25519": ed25519.Ed25519PrivateKey.generate,
    }[kind]()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Carrier Relations")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=365))
        .sign(key, None if kind == "Ed25519" else hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return key_pem, certificate.public_bytes(serialization.Encoding.PEM)


def write_pair(folder, key_pem=None, cert_pem=None, kind="generated"):
    folder.mkdir(parents=True, exist_ok=True)
    made_key, made_cert = pem_pair(kind)
    (folder / "seal.key").write_bytes(key_pem or made_key)
    (folder / "seal.crt").write_bytes(cert_pem or made_cert)
    return {"SEAL_KEY_PATH": str(folder / "seal.key"), "SEAL_CERT_PATH": str(folder / "seal.crt")}


@pytest.mark.parametrize("kind", ["generated", "RSA 2048", "EC P-384"])
def test_a_configured_key_and_certificate_are_the_seal(tmp_path, kind):
    settings = write_pair(tmp_path / "keys", kind=kind)
    instance = tmp_path / "instance"
    instance.mkdir()

    identity = seal.of_config(settings, str(instance))
    data = seal.seal(small_pdf(), identity, reason="Signed LOA")

    configured = seal.load(
        (tmp_path / "keys" / "seal.key").read_bytes(), (tmp_path / "keys" / "seal.crt").read_bytes()
    )
    assert identity.fingerprint == configured.fingerprint
    assert seal.verify(data, configured).sealed
    assert not seal.verify(changed(data, len(data) // 2), configured).sealed
    assert list(instance.iterdir()) == []  # nothing generated beside a configured seal


def unusable_settings(tmp_path, case):
    if case == "key only":
        return {"SEAL_KEY_PATH": write_pair(tmp_path / "keys")["SEAL_KEY_PATH"]}
    if case == "missing file":
        return {**write_pair(tmp_path / "keys"), "SEAL_CERT_PATH": str(tmp_path / "nowhere.crt")}
    if case == "another key's certificate":
        _, other_cert = seal.generate()
        return write_pair(tmp_path / "keys", cert_pem=other_cert)
    if case == "an Ed25519 key":
        return write_pair(tmp_path / "keys", kind="Ed25519")
    return write_pair(tmp_path / "keys", key_pem=b"-----BEGIN PRIVATE KEY-----\nxx\n")


@pytest.mark.parametrize(
    ("case", "words"),
    [
        ("key only", "set both SEAL_KEY_PATH and SEAL_CERT_PATH, or neither"),
        ("missing file", "nowhere.crt cannot be read (No such file or directory)"),
        ("another key's certificate", "the seal's certificate is not the certificate of its key"),
        ("not a key", "the seal's key is not an unencrypted PEM private key"),
        ("an Ed25519 key", "the seal's key must be an RSA or an EC (ECDSA) key"),
    ],
)
def test_a_configured_seal_that_cannot_be_used_stops_the_app(database_url, tmp_path, case, words):
    settings = unusable_settings(tmp_path, case)

    with pytest.raises(ConfigError, match=re.escape(words)) as refused:
        create_app(make_config(database_url, tmp_path / "instance", **settings))

    assert str(refused.value).startswith("the seal cannot be used: ")


def test_the_seal_and_the_packet_load_no_flask():
    program = (
        "import sys, signing.seal, portal.staff.packet; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('flask', 'flask_wtf')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", program],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONWARNINGS": "error"},
    )
    assert result.stdout.strip() == "[]"
