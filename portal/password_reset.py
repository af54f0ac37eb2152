"""Forgot your password?: a reset link by email, good for an hour and for one use."""

from flask import Blueprint

bp = Blueprint("password_reset", __name__)
