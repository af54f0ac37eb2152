"""The deployment's seal: a PAdES signature (pyHanko) that proves a PDF came from this PortDesk
and has not changed by a byte since.

No Flask. The identity is a key and its certificate: the configured pair (SEAL_KEY_PATH,
SEAL_CERT_PATH), or a self-signed pair generated once into the instance folder. `seal` signs a
PDF with it; `verify` says whether a PDF carries this deployment's seal over every byte.
"""

import contextlib
import datetime
import functools
import io
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from asn1crypto import algos, cms, keys, pem, x509
from cryptography import x509 as crypto_x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.general import get_pyca_cryptography_hash
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore

GENERATED = "seal.pem"  # the generated key and certificate, in the instance folder
FIELD = "PortDesk seal"
DIGEST = "sha256"
SUBJECT = "PortDesk seal"
# A generated seal outlives any packet it seals: verify compares the certificate itself, so its
# dates only matter to a PDF reader that shows them.
VALID_FOR = datetime.timedelta(days=365 * 30)


class SealError(ValueError):
    """The seal's key or certificate cannot be used; str() says which file and why."""


@dataclass(frozen=True)
class Identity:
    """The key and certificate a deployment seals with."""

    signer: signers.SimpleSigner
    certificate: x509.Certificate

    @property
    def fingerprint(self):
        return fingerprint(self.certificate)

    @property
    def subject(self):
        return self.certificate.subject.human_friendly

    @property
    def certificate_pem(self):
        return pem.armor("CERTIFICATE", self.certificate.dump())


@dataclass(frozen=True)
class Verdict:
    """What `verify` found: `sealed` is True only for this deployment's seal over every byte."""

    sealed: bool
    problem: str = ""  # why not, in one sentence
    reason: str = ""  # what the seal says the PDF is ("PortDesk packet", "Signed LOA")
    sealed_at: datetime.datetime | None = None


def fingerprint(certificate):
    """Return a certificate's SHA-256 fingerprint, as hex pairs split by colons."""
    return ":".join(f"{byte:02X}" for byte in certificate.sha256)


def of_config(config, instance_path):
    """Return the identity SEAL_KEY_PATH and SEAL_CERT_PATH name, else the instance folder's."""
    return _identity(config.get("SEAL_KEY_PATH"), config.get("SEAL_CERT_PATH"), instance_path)


@functools.lru_cache(maxsize=32)
def _identity(key_path, cert_path, instance_path):
    if key_path or cert_path:
        if not (key_path and cert_path):
            raise SealError("set both SEAL_KEY_PATH and SEAL_CERT_PATH, or neither")
        return load(_read(key_path, "SEAL_KEY_PATH"), _read(cert_path, "SEAL_CERT_PATH"))
    return in_folder(instance_path)


def load(key_pem, cert_pem):
    """Return the identity of a PEM key (unencrypted PKCS#8 or traditional) and its certificate."""
    try:
        key = serialization.load_pem_private_key(key_pem, password=None)
    except (TypeError, ValueError) as error:
        raise SealError(f"the seal's key is not an unencrypted PEM private key ({error})") from None
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise SealError("the seal's key must be an RSA or an EC (ECDSA) key, as PDF readers check")
    try:
        certificate = crypto_x509.load_pem_x509_certificate(cert_pem)
    except ValueError as error:
        raise SealError(f"the seal's certificate is not a PEM certificate ({error})") from None
    if _public(certificate) != _public(key):
        raise SealError("the seal's certificate is not the certificate of its key")
    cert = x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER))
    info = keys.PrivateKeyInfo.load(
        key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    # Only the seal's own certificate goes in: the certificates beside the signature are not
    # signed, so verify accepts exactly this one and nothing more.
    signer = _Signer(
        key, signing_cert=cert, signing_key=info, cert_registry=SimpleCertificateStore()
    )
    return Identity(signer=signer, certificate=cert)


class _Signer(signers.SimpleSigner):
    """pyHanko's signer, with the key loaded once.

    SimpleSigner loads its key again for every signature, and the check that loading runs on an
    RSA key costs 40 ms (2048 bits) to 250 ms (4096 bits): at each signed LOA, each packet.
    """

    def __init__(self, key, **kwargs):
        super().__init__(**kwargs)
        self._key = key

    def sign_raw(self, data, digest_algorithm):
        algorithm = get_pyca_cryptography_hash(digest_algorithm)
        if isinstance(self._key, rsa.RSAPrivateKey):
            return self._key.sign(data, padding.PKCS1v15(), algorithm)
        return self._key.sign(data, ec.ECDSA(algorithm))


def in_folder(folder):
    """Return the identity kept in the folder, generating it the first time.

    Workers starting at once each generate a pair, and the first to link its file in place wins:
    a link, like O_EXCL, fails when the name exists, and the file it names is already whole, so
    no worker reads a half-written key. The others read the winner's.
    """
    path = Path(folder) / GENERATED
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        _create(path)
    text = path.read_bytes()
    try:
        key_pem, cert_pem = _split_pem(text)
        return load(key_pem, cert_pem)
    except SealError as error:
        raise SealError(f"{path}: {error}; delete it to generate a new seal") from None


def generate():
    """Return (key PEM, certificate PEM) of a new self-signed seal (EC P-256)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = crypto_x509.Name(
        [
            crypto_x509.NameAttribute(NameOID.COMMON_NAME, SUBJECT),
            crypto_x509.NameAttribute(NameOID.ORGANIZATION_NAME, "PortDesk"),
        ]
    )
    now = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
    certificate = (
        crypto_x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(crypto_x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + VALID_FOR)
        .add_extension(crypto_x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            crypto_x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,  # non-repudiation: what a seal is for
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return key_pem, certificate.public_bytes(serialization.Encoding.PEM)


def seal(data, identity, *, reason):
    """Return the PDF with the seal over all of it; `reason` says what it is ("PortDesk packet")."""
    meta = signers.PdfSignatureMetadata(
        field_name=FIELD,
        reason=reason,
        md_algorithm=DIGEST,
        subfilter=fields.SigSeedSubFilter.PADES,
        # Certified with no changes allowed: a reader flags anything added later.
        certify=True,
        docmdp_permissions=fields.MDPPerm.NO_CHANGES,
    )
    writer = IncrementalPdfFileWriter(io.BytesIO(data), strict=False)
    # Room for the signature, said rather than estimated: pyHanko would sign once more, blank,
    # to measure it (two fifths of a seal's time). The CMS holds the certificate, the signed
    # attributes and the signature (at most 512 bytes, an RSA-4096 key's): twice the
    # certificate and 2 KB more leave room to spare.
    room = 2 * len(identity.certificate.dump()) + 2048
    return signers.sign_pdf(writer, meta, signer=identity.signer, bytes_reserved=room).getvalue()


def verify(data, identity):
    """Return whether the PDF carries this deployment's seal, unchanged since by a single byte."""
    if b"%PDF-" not in data[:1024]:
        return Verdict(False, "This file is not a PDF.")
    try:
        found = PdfFileReader(io.BytesIO(data), strict=False).embedded_signatures
    except Exception:
        return Verdict(False, _UNREADABLE)
    if not found:
        return Verdict(False, "This PDF carries no seal: PortDesk did not seal it.")
    if len(found) > 1:
        return Verdict(
            False, "This PDF carries more than one signature: it is not as PortDesk sealed it."
        )
    signature = found[0]
    try:
        signer_cert = signature.signer_cert
    except Exception:
        return Verdict(False, _CHANGED)
    if signer_cert.sha256 != identity.certificate.sha256:
        return Verdict(
            False,
            "This PDF is sealed, but not by this deployment's seal: it was sealed by "
            f"“{signer_cert.subject.human_friendly}”, certificate fingerprint "
            f"{fingerprint(signer_cert)}.",
        )
    if not _as_written(data, signature, identity):
        return Verdict(False, _CHANGED)
    try:
        status = validate_pdf_signature(
            signature,
            signer_validation_context=ValidationContext(
                trust_roots=[identity.certificate], allow_fetching=False
            ),
        )
    except Exception:
        return Verdict(False, _CHANGED)
    if (
        not (status.intact and status.valid)
        or status.coverage != SignatureCoverageLevel.ENTIRE_FILE
    ):
        return Verdict(False, _CHANGED)
    return Verdict(
        True,
        reason=str(signature.sig_object.get("/Reason", "")),
        sealed_at=status.signer_reported_dt,
    )


_UNREADABLE = "This PDF cannot be read: it is damaged, or it was changed after it was sealed."
_CHANGED = "This PDF was changed after it was sealed: it is not the file PortDesk sealed."


def _as_written(data, signature, identity):
    """Say whether the seal's bytes are exactly as `seal` writes them.

    The digest covers every byte but the signature's own hex string, and inside that string
    the CMS structure has parts no signature covers (versions, the list of digest algorithms,
    the certificates beside it, the padding after it, the case of its hex digits): each must be
    what this deployment writes, or a byte changed there would go unnoticed.
    """
    try:
        start, gap_start, gap_end, tail = (int(value) for value in signature.byte_range)
        contents = bytes(signature.sig_object["/Contents"])
        written = cms.ContentInfo.load(contents, strict=False).dump()
        found = cms.ContentInfo.load(written)["content"]["signer_infos"][0]
        expected = _expected_cms(found, identity)
    except Exception:
        return False
    hex_string = b"<" + contents.hex().upper().encode() + b">"
    return (
        start == 0
        and gap_end + tail == len(data)
        and written == expected
        and contents == written + bytes(len(contents) - len(written))
        and data[gap_start:gap_end] == hex_string
    )


def _expected_cms(found, identity):
    """Return the CMS `seal` writes with the signed attributes and signature found."""
    certificate = identity.certificate
    signer_info = cms.SignerInfo(
        {
            "version": "v1",
            "sid": cms.SignerIdentifier(
                name="issuer_and_serial_number",
                value={"issuer": certificate.issuer, "serial_number": certificate.serial_number},
            ),
            "digest_algorithm": algos.DigestAlgorithm({"algorithm": DIGEST}),
            "signed_attrs": found["signed_attrs"],
            "signature_algorithm": identity.signer.get_signature_mechanism_for_digest(DIGEST),
            "signature": found["signature"],
        }
    )
    return cms.ContentInfo(
        {
            "content_type": "signed_data",
            "content": cms.SignedData(
                {
                    "version": "v1",
                    "digest_algorithms": [algos.DigestAlgorithm({"algorithm": DIGEST})],
                    "encap_content_info": {"content_type": "data"},
                    "certificates": [certificate],
                    "signer_infos": [signer_info],
                }
            ),
        }
    ).dump()


def _public(holder):
    return holder.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _read(path, setting):
    try:
        return Path(path).read_bytes()
    except OSError as error:
        raise SealError(f"{setting} {path} cannot be read ({error.strerror})") from None


def _create(path):
    """Write a new pair to `path` unless another process has already (see `in_folder`)."""
    key_pem, cert_pem = generate()
    draft = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(key_pem + cert_pem)
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(FileExistsError):  # another worker's seal is the one
            os.link(draft, path)
    finally:
        draft.unlink()


def _split_pem(text):
    """Return (key PEM, certificate PEM) of a file holding both."""
    key_pem = cert_pem = None
    try:
        for kind, _headers, der in pem.unarmor(text, multiple=True):
            if kind.endswith("PRIVATE KEY") and key_pem is None:
                key_pem = pem.armor(kind, der)
            elif kind == "CERTIFICATE" and cert_pem is None:
                cert_pem = pem.armor(kind, der)
    except ValueError:
        pass  # not PEM at all: said below
    if key_pem is None or cert_pem is None:
        raise SealError("it does not hold a PEM private key and a PEM certificate")
    return key_pem, cert_pem
