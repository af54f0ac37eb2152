"""Comments on a request: the owner and Carrier Relations write to each other on the request.

A staff comment may be internal (owners never see it, nobody is emailed). A comment that the
other side can read emails them, through the outbox, in the same transaction.
"""

from portal import notify
from portal.models import RequestComment, utcnow
from portal.port_requests.fields import written

# Long enough for a careful explanation; a comment is not a document.
MAX_COMMENT = 5_000


class CommentRefused(ValueError):
    """The comment was empty or too long; nothing was stored."""


def clean(body):
    """Return the comment as stored (`fields.written`: invisible characters out, outer space
    trimmed).

    Raise CommentRefused when nothing is left or it is longer than MAX_COMMENT.
    """
    text = written(body)
    if not text:
        raise CommentRefused("Write a comment first: it was empty.")
    if len(text) > MAX_COMMENT:
        raise CommentRefused(
            f"A comment is at most {MAX_COMMENT:,} characters; this one has {len(text):,}."
        )
    return text


def add(port_request, *, user, body, internal=False):
    """Store a comment by `user` (owner or staff) and email the other side; return it.

    Only staff comments may be internal. Raise CommentRefused (nothing stored) for an empty or
    overlong one.
    """
    text = clean(body)
    by_staff = user.is_staff
    comment = RequestComment.create(
        port_request=port_request,
        user=user,
        author=user.name[:300],
        by_staff=by_staff,
        internal=bool(internal and by_staff),
        body=text,
        created_at=utcnow(),
    )
    if comment.internal:
        return comment
    if by_staff:
        notify.tell_owners(
            port_request,
            subject=f"A message from Carrier Relations: {notify.title_of(port_request)}",
            template="comment_from_staff",
            comment=comment,
        )
    else:
        notify.tell_staff(
            port_request,
            subject=f"{user.name} commented on {notify.title_of(port_request)}",
            template="comment_from_owner",
            comment=comment,
        )
    return comment
