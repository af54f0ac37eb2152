"""Commands for operators: the schema, the inventory, the demo, users and API keys."""

import secrets
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext
from peewee import IntegrityError

from portal import delivery, mail, schema, webhook_delivery, webhooks
from portal.auth import MIN_PASSWORD_LENGTH
from portal.db import db
from portal.demo import DEMO_PASSWORD, seed_demo
from portal.inventory import InventoryError, import_inventory, load_inventory
from portal.models import (
    ROLES,
    Account,
    ApiKey,
    User,
    Webhook,
    looks_like_email,
    normalize_email,
)
from portal.numbers import InvalidNumber, to_e164
from portal.uploads import uploads_cli

db_cli = AppGroup("db", help="The database schema.")
inventory_cli = AppGroup("inventory", help="The platform's objects: accounts and their numbers.")
user_cli = AppGroup("user", help="People who sign in.")
api_key_cli = AppGroup("api-key", help="Keys for the JSON API.")
outbox_cli = AppGroup("outbox", help="Email and webhook deliveries on their way out.")


@db_cli.command("upgrade")
def db_upgrade():
    """Apply the migrations that have not been applied yet."""
    applied = schema.upgrade(db)
    for name in applied:
        click.echo(f"applied {name}")
    if not applied:
        click.echo("The database is up to date.")


@db_cli.command("status")
def db_status():
    """List the migrations and when each was applied."""
    rows = schema.status(db)
    for name, applied_at in rows:
        click.echo(f"{name}  {applied_at:%Y-%m-%d %H:%M:%S}" if applied_at else f"{name}  pending")
    if any(applied_at is None for _, applied_at in rows):
        raise SystemExit(1)


@inventory_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check the file and report, store nothing.")
def inventory_import(path, dry_run):
    """Load or update the platform's objects from a JSON file (see the README)."""
    try:
        summary = import_inventory(load_inventory(path.read_bytes()), dry_run=dry_run)
    except InventoryError as error:
        click.echo(f"Refused {path.name}: nothing was imported.", err=True)
        for problem in error.problems:
            click.echo(f"  {problem}", err=True)
        raise SystemExit(1) from None
    verb = "Checked (dry run, nothing stored)" if dry_run else "Imported"
    click.echo(f"{verb} {path.name}:" if summary.changed else f"{path.name}: no changes.")
    for line in summary.lines():
        click.echo(f"  {line}")


@click.command("seed-demo")
@with_appcontext
def seed_demo_command():
    """Create (or refresh) the demo accounts, an owner login, a staff login and a submitted
    port request."""
    password_method = current_app.config["PASSWORD_HASH_METHOD"]
    _, logins = seed_demo(method=password_method, with_request=True)
    click.echo("Demo ready. Sign in with:")
    for email, role in logins:
        click.echo(f"  {role:<6} {email}  password: {DEMO_PASSWORD}")
    click.echo("These passwords are public: never seed the demo on a server customers use.")


def _password(generate):
    if generate:
        password = secrets.token_urlsafe(12)
        click.echo(f"Password (shown once): {password}")
        return password
    password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise click.ClickException(f"Use a password of at least {MIN_PASSWORD_LENGTH} characters.")
    return password


@user_cli.command("create")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--role", type=click.Choice(ROLES), default="owner", show_default=True)
@click.option("--account", "account_id", type=int, help="The platform account id (owners).")
@click.option("--phone", help="The user's phone number, any common format.")
@click.option("--generate-password", is_flag=True, help="Make one up and print it once.")
def user_create(email, name, role, account_id, phone, generate_password):
    """Create a user who can sign in; the password is prompted for or generated."""
    email = normalize_email(email)
    if not looks_like_email(email):
        raise click.ClickException(f"{email!r} is not an email address.")
    account = _account_for_role(role, account_id)
    try:
        phone = to_e164(phone) if phone else None
    except InvalidNumber as error:
        raise click.ClickException(f"--phone {error}.") from None
    user = User(email=email, name=name.strip(), role=role, account=account, phone=phone)
    user.set_password(_password(generate_password), current_app.config["PASSWORD_HASH_METHOD"])
    try:
        with db.atomic():
            user.save()
    except IntegrityError:
        raise click.ClickException(f"A user with email {email} already exists.") from None
    click.echo(f"Created {role} {email}" + (f" in account {account.id}." if account else "."))


def _account_for_role(role, account_id):
    if role == "staff":
        if account_id is not None:
            raise click.ClickException("Staff work across accounts: leave out --account.")
        return None
    if account_id is None:
        raise click.ClickException("An owner belongs to an account: give --account ID.")
    account = Account.get_or_none(Account.id == account_id)
    if account is None:
        raise click.ClickException(
            f"No account {account_id}. Import the inventory first: flask inventory import FILE"
        )
    return account


@user_cli.command("set-password")
@click.argument("email")
@click.option("--generate-password", is_flag=True, help="Make one up and print it once.")
def user_set_password(email, generate_password):
    """Set the password of an existing user (users from the inventory arrive without one)."""
    user = _existing_user(email)
    user.set_password(_password(generate_password), current_app.config["PASSWORD_HASH_METHOD"])
    with db.atomic():
        user.save()
        # Whoever knew the old password may be signed in with it: those sessions end here.
        user.end_sessions()
    click.echo(f"Password set for {user.email}. Every session signed in before has ended.")


@user_cli.command("deactivate")
@click.argument("email")
def user_deactivate(email):
    """Stop a user from signing in, and end every session they have."""
    user = _existing_user(email)
    with db.atomic():
        User.update(is_active=False).where(User.id == user.id).execute()
        user.end_sessions()
    click.echo(f"Deactivated {user.email}: they are signed out and cannot sign in.")


@user_cli.command("activate")
@click.argument("email")
def user_activate(email):
    """Let a deactivated user sign in again (sessions from before stay ended)."""
    user = _existing_user(email)
    User.update(is_active=True).where(User.id == user.id).execute()
    click.echo(f"Activated {user.email}: they can sign in again.")


def _existing_user(email):
    user = User.by_email(email)
    if user is None:
        raise click.ClickException(f"No user with email {normalize_email(email)}.")
    return user


@api_key_cli.command("create")
@click.option("--account", "account_id", type=int, required=True, help="The platform account id.")
@click.option("--name", default="", help="What the key is for, to recognise it later.")
def api_key_create(account_id, name):
    """Create an API key for an account and print it once."""
    account = Account.get_or_none(Account.id == account_id)
    if account is None:
        raise click.ClickException(f"No account {account_id}.")
    row, key = ApiKey.issue(account, name=name.strip())
    click.echo(f"API key for account {account.id} ({account.name}), id {row.id}:")
    click.echo(key)
    click.echo("Store it now: PortDesk keeps only a hash of it and cannot show it again.")


@outbox_cli.command("send")
@click.option(
    "--limit",
    default=500,
    show_default=True,
    type=click.IntRange(min=1),
    help="Send at most this many emails, and at most this many webhook deliveries.",
)
def outbox_send(limit):
    """Send the emails and webhook deliveries that are due (for cron; several at once never
    send one twice)."""
    sent, failed = mail.deliver_due(limit=limit)
    waiting, given_up = delivery.counts()
    click.echo(f"sent {sent}, still queued {waiting}, failed {given_up}")
    if failed:
        click.echo(f"{failed} could not be sent this time; the Outbox page shows why.", err=True)
    # Deliveries exist only while their webhook does: without one there is nothing to say.
    if Webhook.select().exists():
        sending = webhook_delivery.Sending.from_config(current_app.config)
        sent, failed = webhook_delivery.deliver(sending, limit)
        waiting, given_up = webhooks.counts()
        click.echo(f"webhooks: sent {sent}, still queued {waiting}, failed {given_up}")
        if failed:
            click.echo(
                f"{failed} webhook deliveries could not be sent this time; the account's "
                "Webhooks page shows why.",
                err=True,
            )


def init_app(app):
    """Register the commands on the app's `flask` CLI."""
    commands = (
        db_cli,
        inventory_cli,
        user_cli,
        api_key_cli,
        outbox_cli,
        uploads_cli,
        seed_demo_command,
    )
    for command in commands:
        app.cli.add_command(command)
