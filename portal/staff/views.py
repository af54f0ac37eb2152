"""A request for Carrier Relations: everything the owner entered, its documents, timeline and
comments, and the moves staff make on it."""

from flask import Blueprint

bp = Blueprint("staff", __name__, url_prefix="/staff")
