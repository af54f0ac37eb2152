"""The tables, by area: accounts (and their users, sign-in throttling, API keys), the platform's
inventory, numbers on their way in (claims and uploads), port requests with their numbers, and
their history (the timeline, agreements accepted, receiving-number re-routes, warnings
confirmed, comments), documents (uploads kept by content and hash) with fax port tickets, the
email outbox, and the account's webhooks with their deliveries. The signing tables are
`signing.models`' own.

Numbers are stored in E.164 (`+13122630100`). The platform's own ids (accounts, tracking
sources, routing targets) are the primary keys here, so a port request can say "routing 901"
and mean the same thing the platform does. Import every name from `portal.models`; the modules
are only where each one is written.
"""

from portal.models.accounts import (
    API_KEY_PREFIX,
    EMAIL_SHAPE,
    ROLES,
    Account,
    ApiKey,
    LoginThrottle,
    User,
    looks_like_email,
    normalize_email,
)
from portal.models.base import BaseModel, NulFreeCharField, utcnow
from portal.models.documents import KINDS as DOCUMENT_KINDS
from portal.models.documents import Document, DocumentContent, FaxTicket
from portal.models.history import (
    AgreementAcceptance,
    ReceivingReroute,
    RequestComment,
    RequestEvent,
    WarningConfirmation,
)
from portal.models.inventory import ReceivingNumber, RoutingTarget, TrackingNumber, TrackingSource
from portal.models.numbers import NumberClaim, NumberUpload, TakenNumber
from portal.models.outbox import OUTBOX_STATUSES, OutboxEmail
from portal.models.requests import STATUSES, PortNumber, PortRequest
from portal.models.webhooks import DELIVERY_STATUSES, Webhook, WebhookAttempt, WebhookDelivery

TABLES = [
    Account,
    User,
    LoginThrottle,
    TrackingSource,
    RoutingTarget,
    ReceivingNumber,
    TrackingNumber,
    NumberClaim,
    NumberUpload,
    TakenNumber,
    ApiKey,
    PortRequest,
    PortNumber,
    RequestEvent,
    AgreementAcceptance,
    ReceivingReroute,
    WarningConfirmation,
    FaxTicket,
    Document,
    DocumentContent,
    OutboxEmail,
    RequestComment,
    Webhook,
    WebhookDelivery,
    WebhookAttempt,
]

__all__ = [
    "API_KEY_PREFIX",
    "AgreementAcceptance",
    "DELIVERY_STATUSES",
    "DOCUMENT_KINDS",
    "Document",
    "DocumentContent",
    "FaxTicket",
    "EMAIL_SHAPE",
    "ROLES",
    "STATUSES",
    "TABLES",
    "Account",
    "ApiKey",
    "BaseModel",
    "LoginThrottle",
    "NulFreeCharField",
    "NumberClaim",
    "NumberUpload",
    "OUTBOX_STATUSES",
    "OutboxEmail",
    "PortNumber",
    "PortRequest",
    "ReceivingNumber",
    "ReceivingReroute",
    "RequestComment",
    "RequestEvent",
    "RoutingTarget",
    "TakenNumber",
    "TrackingNumber",
    "TrackingSource",
    "User",
    "WarningConfirmation",
    "Webhook",
    "WebhookAttempt",
    "WebhookDelivery",
    "looks_like_email",
    "normalize_email",
    "utcnow",
]
