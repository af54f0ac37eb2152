"""The owner's webhooks page: register a URL, see the secret once, follow each delivery."""

from flask import Blueprint

bp = Blueprint("webhooks", __name__, url_prefix="/settings/webhooks")
