"""Signing in and out, and who may see what."""

import functools
import math

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_wtf import FlaskForm
from werkzeug.security import check_password_hash, generate_password_hash
from wtforms import EmailField, HiddenField, PasswordField
from wtforms.validators import InputRequired, Length, ValidationError

from portal import throttle
from portal.models import User, normalize_email, utcnow
from portal.web import on_site_path, signed_out

bp = Blueprint("auth", __name__)

# The shortest password a person may choose (the CLI and the settings page alike).
MIN_PASSWORD_LENGTH = 10
EMAIL_MAX_LENGTH = 254
EMAIL_TOO_LONG = "Enter an email address of at most 254 characters."

# From this many tries left on, a failed sign-in says how many remain before the lock.
WARN_WHEN_TRIES_LEFT = 2


def stored_email_length(form, field):
    """Measure the email as it is stored: lower case can be longer ('İ' is two characters)."""
    if len(normalize_email(field.data or "")) > EMAIL_MAX_LENGTH:
        raise ValidationError(EMAIL_TOO_LONG)


class LoginForm(FlaskForm):
    email = EmailField(
        "Email",
        validators=[
            InputRequired("Enter your email address."),
            Length(max=EMAIL_MAX_LENGTH, message=EMAIL_TOO_LONG),
            stored_email_length,
        ],
    )
    password = PasswordField(
        "Password",
        validators=[
            InputRequired("Enter your password."),
            Length(max=1024, message="Enter a password of at most 1,024 characters."),
        ],
    )
    next = HiddenField()


@bp.before_app_request
def load_signed_in_user():
    user_id = session.get("user_id")
    g.user = None
    # Static files need no user, and looking one up would cost a query each.
    if user_id is not None and request.endpoint != "static":
        # One query: the user must still be active and the session not ended since sign-in.
        g.user = User.signed_in(user_id, session.get("session_version"))
        if g.user is None:
            session.clear()


def login_required(view):
    """Send visitors who are not signed in to the sign-in page, and back afterwards."""

    @functools.wraps(view)
    def wrapped(**kwargs):
        if g.user is None and request.htmx:
            return signed_out(back_to=request.full_path.rstrip("?"))
        if g.user is None:
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        return view(**kwargs)

    return wrapped


def role_required(role):
    """Let only signed-in users with this role through; others get 403."""

    def decorator(view):
        @functools.wraps(view)
        def wrapped(**kwargs):
            if g.user.role != role:
                abort(403)
            return view(**kwargs)

        return login_required(wrapped)

    return decorator


def staff_only(view):
    """Let only signed-in staff through; an owner gets 404, as for a page that does not exist.

    The console's pages and downloads answer an owner as if they were not there: a 403 would
    confirm which request ids exist.
    """

    @functools.wraps(view)
    def wrapped(**kwargs):
        if not g.user.is_staff:
            abort(404)
        return view(**kwargs)

    return login_required(wrapped)


@functools.cache
def _decoy_hash(method):
    return generate_password_hash("not a password anyone has", method=method)


def authenticate(email, password, config):
    """Return (user, None) for the right password, else (None, what to tell the person)."""
    attempt = throttle.take_try(email, config["LOGIN_MAX_FAILURES"], config["LOGIN_LOCK_SECONDS"])
    if not attempt.allowed:
        return None, locked_message(attempt.window_ends)
    user = User.by_email(email)
    known_hash = user.password_hash if user is not None else None
    # One hash check on every path (no such user, no password yet, deactivated), so the time
    # an answer takes does not tell them apart.
    matches = check_password_hash(
        known_hash or _decoy_hash(config["PASSWORD_HASH_METHOD"]), password
    )
    if matches and known_hash and user.is_active:
        throttle.give_back(email)
        return user, None
    if not attempt.tries_left:
        return None, locked_message(attempt.window_ends)
    return None, _mismatch_message(attempt.tries_left, config["LOGIN_LOCK_SECONDS"])


def _mismatch_message(tries_left, lock_seconds):
    message = "That email and password do not match."
    if tries_left > WARN_WHEN_TRIES_LEFT:
        return f"{message} Check them and try again."
    tries = "1 try" if tries_left == 1 else f"{tries_left} tries"
    return f"{message} {tries} left before this email is locked for {_minutes(lock_seconds)}."


def locked_message(until):
    """Say that the email is locked, and for how many more minutes."""
    return (
        "Too many failed sign-ins for this email. For your security it is locked: "
        f"try again in {_minutes((until - utcnow()).total_seconds())}."
    )


def _minutes(seconds):
    minutes = max(1, math.ceil(seconds / 60))
    return "1 minute" if minutes == 1 else f"{minutes} minutes"


@bp.route("/login", methods=["GET", "POST"])
def login():
    if g.user is not None:
        return redirect(url_for("pages.home"))
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        user, problem = authenticate(form.email.data, form.password.data, current_app.config)
        if user is not None:
            # A new session at sign-in: nothing from before it carries over.
            session.clear()
            session["user_id"] = user.id
            session["session_version"] = user.session_version
            User.update(last_login_at=utcnow()).where(User.id == user.id).execute()
            flash(f"Signed in as {user.name}.", "success")
            return redirect(on_site_path(form.next.data) or url_for("pages.home"))
        form.form_errors.append(problem)
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
def logout():
    # Every session of the user ends, not just this cookie: a copy of it must not live on.
    if g.user is not None:
        g.user.end_sessions()
    session.clear()
    flash("You are signed out.", "success")
    return redirect(url_for("auth.login"))
