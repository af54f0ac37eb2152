"""The deployment's seal: a PAdES signature (pyHanko) that proves a PDF came from this PortDesk
and has not changed by a byte since.

No Flask. `seal` signs a PDF with the deployment's identity (`signing.seal_identity`: the
configured key and certificate, or a pair generated once into the instance folder); `verify`
says whether a PDF carries that seal over every byte.
"""

import datetime
import io
from dataclasses import dataclass

from asn1crypto import algos, cms
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

from signing.seal_identity import (
    GENERATED,
    Identity,
    SealError,
    fingerprint,
    generate,
    in_folder,
    load,
    of_config,
)

__all__ = [
    "GENERATED",
    "Identity",
    "SealError",
    "Verdict",
    "generate",
    "in_folder",
    "load",
    "of_config",
    "seal",
    "verify",
]

FIELD = "PortDesk seal"
DIGEST = "sha256"


@dataclass(frozen=True)
class Verdict:
    """What `verify` found: `sealed` is True only for this deployment's seal over every byte."""

    sealed: bool
    problem: str = ""  # why not, in one sentence
    reason: str = ""  # what the seal says the PDF is ("PortDesk packet", "Signed LOA")
    sealed_at: datetime.datetime | None = None


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
