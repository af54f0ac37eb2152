"""Who hears about a request, and the email each gets: its owners at every milestone, Carrier
Relations when an owner resubmits or comments. Emails go through the outbox, in the caller's
transaction: what happened and its email are written together or not at all."""

from flask import current_app

from portal import mail
from portal.models import PortRequest, User


def owners(port_request):
    """Return who gets the request's emails: the owner who started it while they are active,
    else every active owner of its account."""
    active = User.select().where(
        (User.account == port_request.account_id) & (User.role == "owner") & User.is_active
    )
    if port_request.created_by_id is not None:
        creator = active.where(User.id == port_request.created_by_id).first()
        if creator is not None:
            return [creator]
    return list(active.order_by(User.id))


def staff(team_address=None):
    """Return the addresses Carrier Relations is emailed at: the team's, else every active staff
    user's."""
    if team_address:
        return [team_address]
    users = User.select(User.email).where((User.role == "staff") & User.is_active)
    return [user.email for user in users.order_by(User.id)]


def tell_owners(port_request, *, subject, template, **context):
    """Queue the template to the request's owners; `title`, `request_id`, `request_url`, `name`
    and `status` are given to it."""
    for user in owners(port_request):
        mail.enqueue(
            to=user.email,
            subject=subject,
            template=template,
            purpose=template,
            reference=f"port_request:{port_request.id}",
            **_context(port_request, "port_requests.show"),
            name=user.name,
            **context,
        )


def tell_staff(port_request, *, subject, template, **context):
    """Queue the template to Carrier Relations (STAFF_EMAIL, else every staff user), linking to
    the console's page of the request."""
    for address in staff(current_app.config["STAFF_EMAIL"]):
        mail.enqueue(
            to=address,
            subject=subject,
            template=template,
            purpose=template,
            reference=f"port_request:{port_request.id}",
            **_context(port_request, "staff.request"),
            name="Carrier Relations",
            **context,
        )


def title_of(port_request):
    """Return the name the owner gave the request, or "Port request 12"."""
    name = port_request.fields.get("friendly_name")
    if isinstance(name, str) and name.strip():
        return name.strip()
    return f"Port request {port_request.id}"


def _context(port_request: PortRequest, endpoint):
    return {
        "title": title_of(port_request),
        "request_id": port_request.id,
        "request_url": mail.external_url(endpoint, request_id=port_request.id),
        "status": port_request.status,
    }
