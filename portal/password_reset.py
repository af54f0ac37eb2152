"""Forgot your password?: a reset link by email, good for an hour and for one use.

The answer to "send me a link" is the same whether or not the email has an account, and whether
or not the email has asked too often (RESET_MAX_REQUESTS an hour, counted like sign-ins). The
link's token holds the user's id and a fingerprint of their password hash and session version:
setting a password (through this link or any other way) or signing out everywhere changes both,
so every link sent before is dead.
"""

import hashlib
import hmac

from flask import (
    Blueprint,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFError
from werkzeug.security import generate_password_hash
from wtforms import EmailField
from wtforms.validators import InputRequired, Length, ValidationError

from portal import mail, throttle
from portal.auth import EMAIL_MAX_LENGTH, EMAIL_TOO_LONG, stored_email_length
from portal.db import db
from portal.models import User, looks_like_email, normalize_email
from portal.user_settings import PasswordForm
from portal.web import EXPIRED_FORM
from signing import tokens

bp = Blueprint("password_reset", __name__)

RESET_MAX_REQUESTS = 3
RESET_WINDOW_SECONDS = 60 * 60
LINK_SECONDS = 60 * 60

# What a dead link's page says, and its status: gone for good (410), or never a link (404).
DEAD_LINKS = {
    "expired": (
        410,
        "This link has expired",
        "A password reset link works for 1 hour after it is sent. Ask for a new one below.",
    ),
    "used": (
        410,
        "This link no longer works",
        "It has been used already, or the password has changed (or every session was signed "
        "out) since it was sent. If you still need a new password, ask for a new link.",
    ),
    "invalid": (
        404,
        "This is not a password reset link",
        "Part of it may be missing: open the link from the email again, or copy the whole "
        "address. If it still does not work, ask for a new link.",
    ),
}


def email_shape(form, field):
    """Refuse text that is not one email address (a NUL or line break among it, say)."""
    email = normalize_email(field.data or "")
    if not email.isprintable() or not looks_like_email(email):
        raise ValidationError("Enter an email address such as name@example.com.")


class ForgotPasswordForm(FlaskForm):
    email = EmailField(
        "Email",
        validators=[
            InputRequired("Enter the email address you sign in with."),
            Length(max=EMAIL_MAX_LENGTH, message=EMAIL_TOO_LONG),
            stored_email_length,
            email_shape,
        ],
    )


class ResetPasswordForm(PasswordForm):
    """The settings page's new password and its confirmation, without the current one."""

    current = None


def fingerprint(user, secret_key):
    """Return what a reset link holds of the user's password and sessions, keyed by the app."""
    key = secret_key.encode() if isinstance(secret_key, str) else secret_key
    state = f"password-reset:{user.id}:{user.password_hash}:{user.session_version}"
    return hmac.new(key, state.encode(), hashlib.sha256).hexdigest()[:32]


def _throttle_key(email):
    # Counted apart from sign-ins; hashed because "reset:" and a 254-character email would not
    # fit the throttle's column.
    return "reset:" + hashlib.sha256(normalize_email(email).encode()).hexdigest()


def request_reset(email):
    """Queue a reset link for the email's user, if there is one who may have it; else nothing."""
    config = current_app.config
    attempt = throttle.take_try(_throttle_key(email), RESET_MAX_REQUESTS, RESET_WINDOW_SECONDS)
    if not attempt.allowed:
        return None
    user = User.by_email(email)
    # A user from the inventory has no password yet: an operator sets the first one.
    if user is None or not user.is_active or user.password_hash is None:
        return None
    token = tokens.make_password_reset(
        config["SECRET_KEY"], user.id, fingerprint(user, config["SECRET_KEY"])
    )
    return mail.enqueue(
        to=user.email,
        subject="Choose a new PortDesk password",
        template="password_reset",
        purpose="password_reset",
        reference=f"user:{user.id}",
        name=user.name,
        email=user.email,
        reset_url=mail.external_url("password_reset.reset", token=token),
    )


def user_for_link(token, secret_key):
    """Return (the user the link is for, None), or (None, why the link is dead)."""
    try:
        user_id, held = tokens.read_password_reset(secret_key, token, LINK_SECONDS)
    except tokens.TokenExpired:
        return None, "expired"
    except tokens.TokenInvalid:
        return None, "invalid"
    user = User.get_or_none(User.id == user_id)
    if (
        user is None
        or not user.is_active
        or user.password_hash is None
        or not hmac.compare_digest(held, fingerprint(user, secret_key))
    ):
        return None, "used"
    return user, None


def replace_password(user, password, method):
    """Set the password unless it changed since the user was read; return the new session
    version, or None when the link was used meanwhile."""
    new_hash = generate_password_hash(password, method=method)
    with db.atomic():
        # Conditional on what the link was checked against: of two uses at once, one wins.
        changed = (
            User.update(password_hash=new_hash, session_version=User.session_version + 1)
            .where(
                (User.id == user.id)
                & (User.password_hash == user.password_hash)
                & (User.session_version == user.session_version)
                & User.is_active
            )
            .execute()
        )
    return user.session_version + 1 if changed else None


@bp.route("/forgot-password", methods=["GET", "POST"])
def forgot():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        email = normalize_email(form.email.data)
        request_reset(email)
        flash(
            f"If {email} is the email of a PortDesk account, a link to choose a new password "
            "is on its way to it. The link works for 1 hour. Nothing there? Check the spam "
            "folder, or ask again in an hour.",
            "success",
        )
        return redirect(url_for("password_reset.forgot"))
    return render_template("auth/forgot_password.html", form=form)


@bp.route("/reset-password/<token>", methods=["GET", "POST"])
def reset(token):
    config = current_app.config
    user, problem = user_for_link(token, config["SECRET_KEY"])
    if problem is not None:
        return _dead_link(problem)
    form = ResetPasswordForm()
    if form.validate_on_submit():
        version = replace_password(user, form.new.data, config["PASSWORD_HASH_METHOD"])
        if version is None:
            return _dead_link("used")
        session.clear()
        session["user_id"] = user.id
        session["session_version"] = version
        flash(
            f"Password changed. You are signed in as {user.name}; every other session of yours "
            "has been signed out.",
            "success",
        )
        return redirect(url_for("pages.home"))
    return _no_store(render_template("auth/reset_password.html", form=form, user=user, token=token))


@bp.errorhandler(CSRFError)
def _expired_form(error):
    # No one is signed in here to have been signed out: the form itself expired.
    flash(EXPIRED_FORM, "warning")
    return redirect(url_for(request.endpoint, **request.view_args))


def _dead_link(problem):
    status, title, advice = DEAD_LINKS[problem]
    page = render_template(
        "auth/reset_password.html",
        dead_title=title,
        dead_advice=advice,
        form=ForgotPasswordForm(formdata=None),
    )
    return _no_store(page, status)


def _no_store(page, status=200):
    # The page's address is the link itself: no cache may keep it.
    response = make_response(page, status)
    response.headers["Cache-Control"] = "no-store"
    return response
