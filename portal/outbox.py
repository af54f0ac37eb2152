"""The staff's Outbox page: every email, its delivery, and the message itself."""

from flask import Blueprint

bp = Blueprint("outbox", __name__, url_prefix="/outbox")
