"""The signer's pages at /sign/<token>: no account, reached only by a signing link."""

from flask import Blueprint

bp = Blueprint("signing", __name__, url_prefix="/sign")
