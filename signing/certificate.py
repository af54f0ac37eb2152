"""The certificate of completion: who signed what, how, and every event of it, as a PDF.

No Flask. It is appended to the signed document, so a reader of the file alone sees the signer,
how they were reached, the consent they gave, the SHA-256 of the document as shown and as
signed, and each event with its UTC time, IP, browser and hash (the hash chain `verify` reads).
The same summary and events give the same bytes.
"""

import datetime

from signing.pdf import SANS, close, drawable, new_pdf

TITLE = "Certificate of completion"
# What each event was, in words.
EVENTS = {
    "created": "Prepared for signing in the portal",
    "sent": "Sent for signature by email",
    "resent": "Sent again with a new link (older links stopped working)",
    "reminded": "Reminder sent by email",
    "opened": "Opened by the signer",
    "consented": "Agreed to sign electronically",
    "signed": "Signed",
    "declined": "Declined to sign",
    "new_link_requested": "The signer asked for a new link",
    "cancelled": "Cancelled by the requester",
    "void": "Void: the document changed after it was sent",
    "replaced": "Void: a newer request for this document's signature was made",
}
METHODS = {
    "email": "By a link sent to the signer by email",
    "self": "In the portal, by the requester signing themselves",
}
SIGNATURES = {"drawn": "Drawn by hand", "typed": "Typed name, shown in a script font"}
MARGIN = 54
LABEL_WIDTH = 120


def build(summary, events):
    """Return the certificate of completion of an envelope, as PDF bytes."""
    signed_event = next((event for event in events if event["kind"] == "signed"), None)
    signed = signed_event["detail"] if signed_event else {}
    pdf = new_pdf(
        title=f"{TITLE}: {summary['title']}",
        created=summary.get("signed_at"),
        footer=f"{TITLE} · envelope {summary['id']} · {summary['title']}",
    )
    try:
        return _draw(pdf, summary, events, signed)
    finally:
        close(pdf)


def _draw(pdf, summary, events, signed):
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.set_auto_page_break(True, margin=MARGIN)
    pdf.add_page()
    pdf.set_font(SANS, "B", 18)
    pdf.cell(0, 24, TITLE, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(SANS, "", 11)
    _wrapped(pdf, summary["title"], 14)
    pdf.ln(8)

    _heading(pdf, "Document")
    _row(pdf, "Title", summary["title"])
    _row(pdf, "Envelope", str(summary["id"]))
    _row(pdf, "Status", _status(summary))
    _row(pdf, "SHA-256 as shown", summary["document_sha256"])
    _row(pdf, "SHA-256 as signed", signed.get("signed_document_sha256") or "not signed")

    _heading(pdf, "Requested by")
    _row(pdf, "Account", summary["requester_name"])
    _row(pdf, "Person", summary["requested_by"])

    _heading(pdf, "Signer")
    _row(pdf, "Name", summary["signer_name"])
    _row(pdf, "Email", summary["signer_email"])
    _row(pdf, "How", METHODS.get(summary["method"], summary["method"]))
    if signed:
        kind = signed.get("signature", "")
        signature = SIGNATURES.get(kind, kind)
        if kind == "typed" and signed.get("typed_name"):
            signature = f"{signature}: {signed['typed_name']}"
        _row(pdf, "Signature", signature)
    if summary.get("signed_at"):
        _row(pdf, "Signed at", _utc(summary["signed_at"]))

    _heading(pdf, "Consent to electronic records and signatures")
    _row(pdf, "Version", summary["consent_version"])
    _row(pdf, "SHA-256 of its text", summary["consent_sha256"])

    _heading(pdf, f"Events ({len(events)})")
    pdf.set_font(SANS, "", 8)
    _wrapped(
        pdf,
        "Times are UTC. Each event's hash covers its own values and the hash of the event "
        "before it, so an event changed or removed later breaks every hash after it.",
        10,
    )
    pdf.ln(4)
    for event in events:
        _event(pdf, event)
    return bytes(pdf.output())


def _status(summary):
    words = {
        "signed": "Signed",
        "declined": "Declined",
        "cancelled": "Cancelled",
        "void": "Void",
        "opened": "Waiting for the signature (opened)",
        "sent": "Waiting for the signature",
    }
    return words.get(summary.get("status"), str(summary.get("status") or ""))


def _heading(pdf, text):
    pdf.ln(6)
    pdf.set_font(SANS, "B", 11)
    pdf.cell(0, 16, text, new_x="LMARGIN", new_y="NEXT")
    pdf.set_draw_color(180)
    pdf.line(pdf.l_margin, pdf.get_y(), pdf.w - pdf.r_margin, pdf.get_y())
    pdf.set_draw_color(0)
    pdf.ln(3)


def _row(pdf, label, value):
    pdf.set_font(SANS, "", 9)
    top = pdf.get_y()
    pdf.set_text_color(90)
    pdf.multi_cell(LABEL_WIDTH, 12, label, new_x="RIGHT", new_y="TOP")
    pdf.set_text_color(0)
    pdf.multi_cell(0, 12, drawable(pdf, value), new_x="LMARGIN", new_y="NEXT")
    # A page break inside the value starts the next row on the new page.
    if pdf.get_y() < top:
        return
    pdf.set_y(max(pdf.get_y(), top + 12))


def _wrapped(pdf, text, height):
    pdf.multi_cell(0, height, drawable(pdf, text), new_x="LMARGIN", new_y="NEXT")


def _event(pdf, event):
    # An event is kept on one page when it fits: its lines read together.
    if pdf.get_y() > pdf.h - MARGIN - 80:
        pdf.add_page()
    pdf.set_font(SANS, "B", 9)
    what = EVENTS.get(event["kind"], str(event["kind"]).replace("_", " ").capitalize())
    _wrapped(pdf, f"{event['seq']}. {what} · {_utc(event['at'])}", 12)
    pdf.set_font(SANS, "", 8)
    for label, value in _event_lines(event):
        top = pdf.get_y()
        pdf.set_x(pdf.l_margin + 12)
        pdf.set_text_color(90)
        pdf.multi_cell(LABEL_WIDTH - 12, 10, label, new_x="RIGHT", new_y="TOP")
        pdf.set_text_color(0)
        pdf.multi_cell(0, 10, drawable(pdf, value), new_x="LMARGIN", new_y="NEXT")
        if pdf.get_y() >= top:
            pdf.set_y(max(pdf.get_y(), top + 10))
    pdf.ln(5)


def _event_lines(event):
    detail = event.get("detail") or {}
    lines = [
        ("By", event.get("actor") or "unknown"),
        ("IP address", event.get("ip") or "not recorded"),
        ("Browser", event.get("user_agent") or "not recorded"),
    ]
    if detail.get("reason"):
        lines.append(("Reason given", detail["reason"]))
    if detail.get("consent_version"):
        lines.append(("Consent version", detail["consent_version"]))
    if detail.get("signature"):
        lines.append(("Signature", SIGNATURES.get(detail["signature"], detail["signature"])))
    if detail.get("signed_document_sha256"):
        lines.append(("Signed SHA-256", detail["signed_document_sha256"]))
    elif detail.get("document_sha256"):
        lines.append(("Document SHA-256", detail["document_sha256"]))
    if detail.get("generation"):
        lines.append(("Link generation", str(detail["generation"])))
    if detail.get("reminder"):
        lines.append(("Reminder", f"number {detail['reminder']}"))
    lines.append(("Event hash", event["hash"]))
    return lines


def _utc(moment):
    if isinstance(moment, datetime.datetime):
        if moment.tzinfo is not None:
            moment = moment.astimezone(datetime.UTC).replace(tzinfo=None)
        return f"{moment:%Y-%m-%d %H:%M:%S} UTC"
    return str(moment)
