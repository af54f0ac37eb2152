"""Signing in and out, and who may see what."""

import functools
import math
from urllib.parse import urlsplit

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
from wtforms.validators import InputRequired, Length

from portal import throttle
from portal.models import User, utcnow

bp = Blueprint("auth", __name__)


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[InputRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[InputRequired(), Length(max=1024)])
    next = HiddenField()


@bp.before_app_request
def load_signed_in_user():
    user_id = session.get("user_id")
    g.user = None
    # Static files need no user, and looking one up would cost a query each.
    if user_id is not None and request.endpoint != "static":
        g.user = User.get_or_none((User.id == user_id) & User.is_active)
        if g.user is None:
            session.clear()


def login_required(view):
    """Send visitors who are not signed in to the sign-in page, and back afterwards."""

    @functools.wraps(view)
    def wrapped(**kwargs):
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


@functools.cache
def _decoy_hash(method):
    return generate_password_hash("not a password anyone has", method=method)


def authenticate(email, password, config):
    """Return (user, None) for the right password, else (None, what to tell the person)."""
    until = throttle.locked_until(email)
    if until is not None:
        return None, _locked_message(until)
    user = User.by_email(email)
    if user is not None and user.is_active and user.check_password(password):
        throttle.clear(email)
        return user, None
    if user is None or user.password_hash is None:
        # Same work as a real check, so the time taken does not tell who has an account.
        check_password_hash(_decoy_hash(config["PASSWORD_HASH_METHOD"]), password)
    until = throttle.record_failure(
        email, config["LOGIN_MAX_FAILURES"], config["LOGIN_LOCK_SECONDS"]
    )
    if until is not None:
        return None, _locked_message(until)
    return None, "That email and password do not match. Check them and try again."


def _locked_message(until):
    minutes = max(1, math.ceil((until - utcnow()).total_seconds() / 60))
    unit = "minute" if minutes == 1 else "minutes"
    return (
        "Too many failed sign-ins for this email. For your security it is locked: "
        f"try again in {minutes} {unit}."
    )


def _safe_next(target):
    # Only paths on this site: never another host, never a scheme-relative //host.
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else None


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
            User.update(last_login_at=utcnow()).where(User.id == user.id).execute()
            flash(f"Signed in as {user.name}.", "success")
            return redirect(_safe_next(form.next.data) or url_for("pages.home"))
        form.form_errors.append(problem)
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
def logout():
    session.clear()
    flash("You are signed out.", "success")
    return redirect(url_for("auth.login"))
