"""The electronic-records consent a signer accepts before signing, and its version.

The version is the SHA-256 of the exact text shown: a signer's consent event records it, so a
later change of wording never makes an old signature look as if it agreed to the new words.
"""

import hashlib

CONSENT_TEXT = (
    "I agree to use electronic records and signatures for this document. I understand that my "
    "electronic signature has the same legal effect as my handwritten signature (the U.S. "
    "Electronic Signatures in Global and National Commerce Act, 15 U.S.C. 7001). I can download "
    "and keep a copy of the document, and I may instead ask the sender for a paper copy to sign "
    "by hand, at no charge, before I sign. This consent covers only this document, and I can "
    "withdraw it at any time before I sign by declining to sign."
)
CONSENT_SHA256 = hashlib.sha256(CONSENT_TEXT.encode("utf-8")).hexdigest()
# The short name shown on the certificate: the first 12 hex digits of the text's SHA-256.
CONSENT_VERSION = f"esign-{CONSENT_SHA256[:12]}"
