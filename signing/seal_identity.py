"""The seal's identity: the key and certificate a deployment seals with, configured
(SEAL_KEY_PATH, SEAL_CERT_PATH) or generated once into the instance folder.

No Flask. `signing.seal` seals and verifies with it, and names these for its callers.
"""

import contextlib
import datetime
import functools
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from asn1crypto import keys, pem, x509
from cryptography import x509 as crypto_x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID
from pyhanko.sign import signers
from pyhanko.sign.general import get_pyca_cryptography_hash
from pyhanko_certvalidator.registry import SimpleCertificateStore

GENERATED = "seal.pem"  # the generated key and certificate, in the instance folder
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
