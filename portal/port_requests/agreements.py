"""The agreements step: the statements an owner accepts one by one, each kept with its version.

A statement's version is the SHA-256 of its exact text. An acceptance counts only for the text it
was given to: change a statement's words here and every request asks for that one again.
"""

import hashlib

from peewee import IntegrityError

from portal.db import db
from portal.models import AgreementAcceptance, utcnow

# (key, text), in the order the page shows them.
STATEMENTS = (
    (
        "authority",
        "I am authorized to move these numbers: they are on an account my organization holds "
        "with the current carrier, and I may act for it.",
    ),
    (
        "keep_service",
        "I will keep the service with the current carrier active, and its bills paid, until the "
        "port completes: a line cancelled before then can lose its numbers for good.",
    ),
    (
        "receiving_numbers",
        "I understand that a receiving number I port stops ringing outside the platform: calls "
        "to it are answered by the routing I choose here, not by the phone it rings today.",
    ),
    (
        "left_behind",
        "I understand what happens to the numbers I do not port: they stay with the current "
        "carrier as I said in this request (kept, or disconnected), and the carrier may bill them "
        "differently once the others leave.",
    ),
    (
        "records_match",
        "The details I gave (account number, PIN, names and addresses) match the current "
        "carrier's records: a mismatch is the most common reason a port is rejected.",
    ),
)
TEXTS = dict(STATEMENTS)


def version(text):
    """Return the version of a statement's text: its SHA-256, in hex."""
    return hashlib.sha256(text.encode()).hexdigest()


VERSIONS = {key: version(text) for key, text in STATEMENTS}


def accepted(port_request):
    """Return the keys of the statements accepted in their current text, in one query."""
    rows = (
        AgreementAcceptance.select(AgreementAcceptance.statement, AgreementAcceptance.text_sha256)
        .where(AgreementAcceptance.port_request == port_request)
        .tuples()
    )
    return {key for key, sha in rows if VERSIONS.get(key) == sha}


def acceptances(port_request):
    """Return {key: its acceptance in the current text} and the keys accepted only in an older
    text, which the owner must read again (one query)."""
    current, older = {}, set()
    rows = (
        AgreementAcceptance.select()
        .where(AgreementAcceptance.port_request == port_request)
        .order_by(AgreementAcceptance.accepted_at, AgreementAcceptance.id)
    )
    for row in rows:
        if VERSIONS.get(row.statement) == row.text_sha256:
            current.setdefault(row.statement, row)
        elif row.statement in TEXTS:
            older.add(row.statement)
    return current, older - set(current)


def all_accepted(keys):
    """Say whether the keys cover every statement."""
    return set(TEXTS) <= set(keys)


def accept(port_request, keys, *, user, ip):
    """Record the user's acceptance of the statements' current texts; return the keys new to it.

    Accepting a text already accepted changes nothing (the first acceptance stands).
    """
    new = []
    for key in keys:
        if key not in TEXTS:
            raise KeyError(key)
        try:
            with db.atomic():
                AgreementAcceptance.create(
                    port_request=port_request,
                    statement=key,
                    text=TEXTS[key],
                    text_sha256=VERSIONS[key],
                    user=user,
                    user_name=user.name if user is not None else "",
                    accepted_at=utcnow(),
                    ip=ip or "",
                )
        except IntegrityError:
            continue  # accepted already, perhaps by a second tab at the same moment
        new.append(key)
    return new
