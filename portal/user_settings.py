"""Settings: every user changes their own password; owners keep their account's API keys.

A new API key is shown once, in the answer to the POST that made it: it is never stored, not
even in the session cookie a redirect would carry it in.
"""

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    session,
    url_for,
)
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, InputRequired, Length

from portal import throttle
from portal.auth import MIN_PASSWORD_LENGTH, locked_message, login_required, role_required
from portal.db import db
from portal.models import ApiKey, User, utcnow

bp = Blueprint("settings", __name__, url_prefix="/settings")


class PasswordForm(FlaskForm):
    current = PasswordField(
        "Current password", validators=[InputRequired("Enter your current password.")]
    )
    new = PasswordField(
        "New password",
        validators=[
            InputRequired("Enter a new password."),
            Length(
                min=MIN_PASSWORD_LENGTH,
                max=1024,
                message=f"Use at least {MIN_PASSWORD_LENGTH} characters (and at most 1,024).",
            ),
        ],
    )
    confirm = PasswordField(
        "New password again",
        validators=[
            InputRequired("Type the new password again."),
            EqualTo("new", message="The two new passwords differ: type the same one twice."),
        ],
    )


class ApiKeyForm(FlaskForm):
    name = StringField(
        "Name",
        filters=[lambda value: value.strip() if isinstance(value, str) else value],
        validators=[
            DataRequired("Name the key after what will use it, such as CRM sync."),
            Length(max=200, message="Use a name of at most 200 characters."),
        ],
    )


@bp.get("/")
@login_required
def index():
    return _page()


@bp.post("/password")
@login_required
def change_password():
    form = PasswordForm()
    if form.validate_on_submit():
        problem = _check_current_password(g.user, form.current.data)
        if problem is None:
            _replace_password(g.user, form.new.data)
            flash("Password changed. Every other session of yours has been signed out.", "success")
            return redirect(url_for("settings.index"))
        form.current.errors.append(problem)
    return _page(password_form=form), 400


@bp.post("/api-keys")
@role_required("owner")
def create_api_key():
    form = ApiKeyForm(prefix="key")
    if not form.validate_on_submit():
        return _page(key_form=form), 400
    row, key = ApiKey.issue(g.user.account, name=form.name.data)
    # Shown here once and never again: PortDesk keeps only its SHA-256.
    return _page(new_key=key, new_key_row=row), 201


@bp.post("/api-keys/<int:key_id>/revoke")
@role_required("owner")
def revoke_api_key(key_id):
    key = ApiKey.get_or_none((ApiKey.id == key_id) & (ApiKey.account == g.user.account_id))
    if key is None:
        abort(404)
    if key.revoked_at is None:
        ApiKey.update(revoked_at=utcnow()).where(ApiKey.id == key.id).execute()
        flash(f"Key {key.prefix}… is revoked: calls with it now get 401.", "success")
    return redirect(url_for("settings.index"))


def _page(password_form=None, key_form=None, new_key=None, new_key_row=None):
    keys = []
    if not g.user.is_staff:
        keys = list(
            ApiKey.select()
            .where(ApiKey.account == g.user.account_id)
            .order_by(ApiKey.revoked_at.is_null(False), ApiKey.created_at.desc(), ApiKey.id.desc())
        )
    return render_template(
        "settings/index.html",
        password_form=password_form or PasswordForm(formdata=None),
        key_form=key_form or ApiKeyForm(prefix="key", formdata=None),
        keys=keys,
        new_key=new_key,
        new_key_row=new_key_row,
    )


def _check_current_password(user, password):
    """Return None when the password is the user's, else what to tell them.

    Counted with the sign-in tries of the same email, so a session left open is no way around
    the lock: five wrong passwords here lock sign-in too.
    """
    config = current_app.config
    attempt = throttle.take_try(
        user.email, config["LOGIN_MAX_FAILURES"], config["LOGIN_LOCK_SECONDS"]
    )
    if not attempt.allowed:
        return locked_message(attempt.window_ends)
    if user.check_password(password):
        throttle.give_back(user.email)
        return None
    return "That is not your current password."


def _replace_password(user, password):
    """Set the new password and end every other session, keeping this one signed in."""
    user.set_password(password, method=current_app.config["PASSWORD_HASH_METHOD"])
    with db.atomic():
        User.update(password_hash=user.password_hash).where(User.id == user.id).execute()
        user.end_sessions()
        version = User.select(User.session_version).where(User.id == user.id).scalar()
    session["session_version"] = version
