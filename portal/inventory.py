"""Import the platform's inventory (accounts and what they own) from a JSON document.

The document is `{"accounts": [...]}`; each account has an `id` and a `name` and may have a
`fail_safe_number` and the collections `tracking_sources`, `routing_targets`,
`receiving_numbers`, `tracking_numbers` and `users` (see tests/test_inventory.py for a full one).

How a document is applied:
- Nothing is stored unless the whole document is valid. Every problem is reported at once, each
  starting with its JSON path: `accounts[0].tracking_numbers[3].routing_id: no routing target 77
  in account 4242`. Unknown keys are refused, so a typo never drops data silently.
- Phone numbers may be written in any common format; they are stored in E.164.
- Accounts are upserted by id; accounts not in the document are left alone. An absent
  `fail_safe_number` keeps the stored one; null clears it.
- In each account, a collection key that is present is authoritative: its items are created or
  updated in place (tracking sources and routing targets matched by platform id, receiving and
  tracking numbers by number) and the account's stored items missing from it are removed. An
  absent key leaves the stored items untouched. In an item, an absent optional key means its
  default (no source, no routing, active, owner, ...).
- References (`tracking_source_id`, `routing_id`) resolve against the account's list in the
  document when it is present, otherwise against what is stored for the account.
- A platform id or tracking number stored for another account moves only when that account is in
  the document with the same collection (so it no longer lists it): a typo cannot take over
  someone else's objects. Stored tracking numbers left pointing at a removed source or target, or
  at one that moved to another account, lose the reference.
- Users are matched by email (lower-cased), created or updated (name, phone, role, account) and
  never removed; their password is never touched, and new users cannot sign in until one is set.
  Staff users belong to no account, so they cannot appear in an inventory.
- All of it runs in one transaction. Rows are compared before writing, so re-importing the same
  document writes nothing. Reads and writes are batched by CHUNK rows, so 100,000 tracking
  numbers take a few hundred statements.
- Imports run one at a time: a second one waits up to LOCK_WAIT_MS for the first to commit, then
  reads what it stored; if the wait runs out it is refused and stores nothing.
"""

import json
import re
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field, fields

from peewee import IntegrityError, OperationalError

from portal.db import SQLITE_PRAGMAS, db, is_postgresql
from portal.models import (
    Account,
    ReceivingNumber,
    RoutingTarget,
    TrackingNumber,
    TrackingSource,
    User,
    looks_like_email,
    normalize_email,
)
from portal.numbers import InvalidNumber, to_e164

MAX_PROBLEMS = 50
CHUNK = 500
# Ids are 32-bit integer columns on PostgreSQL: refuse a larger one here, not at insert time.
MAX_ID = 2**31 - 1
KIND = re.compile(r"[a-z][a-z0-9_]*")
# How long an import waits for another to finish: SQLite's busy_timeout, and the same on PostgreSQL.
LOCK_WAIT_MS = SQLITE_PRAGMAS["busy_timeout"]
# The PostgreSQL advisory lock that imports take in turn ("PORT" in ASCII).
IMPORT_LOCK = 0x504F5254


class InventoryError(Exception):
    """A document that cannot be imported; `problems` lists every reason."""

    def __init__(self, problems):
        problems = list(problems)
        if len(problems) > MAX_PROBLEMS:
            more = len(problems) - MAX_PROBLEMS
            problems = [*problems[:MAX_PROBLEMS], f"... and {more} more problems"]
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0


@dataclass
class ImportSummary:
    """What an import created, updated, removed and left unchanged, per kind of object."""

    accounts: Counts = field(default_factory=Counts)
    tracking_sources: Counts = field(default_factory=Counts)
    routing_targets: Counts = field(default_factory=Counts)
    receiving_numbers: Counts = field(default_factory=Counts)
    tracking_numbers: Counts = field(default_factory=Counts)
    users: Counts = field(default_factory=Counts)

    @property
    def changed(self):
        """Say whether anything was created, updated or removed."""
        return any(c.created or c.updated or c.removed for _, c in self._kinds())

    def lines(self):
        """Return one line per kind, like `users: 1 created, 0 updated, 0 removed, 2 unchanged`."""
        return [
            f"{kind.replace('_', ' ')}: {c.created} created, {c.updated} updated, "
            f"{c.removed} removed, {c.unchanged} unchanged"
            for kind, c in self._kinds()
        ]

    def _kinds(self):
        return [(f.name, getattr(self, f.name)) for f in fields(self)]


def load_inventory(text):
    """Parse a JSON document from text or UTF-8 bytes."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            problem = f"byte {exc.start + 1}: not UTF-8 text (save the file as UTF-8)"
            raise InventoryError([problem]) from None
    try:
        return json.loads(text.removeprefix("\ufeff"))
    except json.JSONDecodeError as exc:
        raise InventoryError([f"line {exc.lineno}, column {exc.colno}: {exc.msg}"]) from None
    except RecursionError:
        # Thousands of brackets deep: valid JSON, but no inventory (accounts, lists, items).
        problem = "top level: nested more deeply than an inventory is (accounts, lists, items)"
        raise InventoryError([problem]) from None


def import_inventory(data, dry_run=False):
    """Check the whole document, then store it in one transaction (dry_run: only count)."""
    problems = []
    accounts = _clean_document(data, problems)
    try:
        with _one_import_at_a_time() as transaction:
            stored = _load_stored(accounts)
            _check(accounts, stored, problems)
            if problems:
                raise InventoryError(problems)
            summary = _apply(accounts, stored)
            if dry_run:
                transaction.rollback()
    except IntegrityError as exc:
        # Another import or an edit committed between our reads and writes: the schema caught it.
        problem = f"the stored inventory changed during the import; nothing was stored ({exc})"
        raise InventoryError([problem]) from exc
    except OperationalError as exc:
        if not _lock_timed_out(exc):
            raise
        problem = (
            f"another import was still writing after {LOCK_WAIT_MS / 1000:g} seconds; "
            "run this import again when it has finished"
        )
        raise InventoryError([problem]) from None
    return summary


@contextmanager
def _one_import_at_a_time():
    """Begin a transaction holding the write lock, so that a second import waits for the first
    to commit and then reads what it stored, instead of failing halfway through.

    SQLite: BEGIN IMMEDIATE, waiting busy_timeout. PostgreSQL: a transaction-scoped advisory lock,
    waiting lock_timeout (the inventory stays readable meanwhile, as in SQLite's WAL mode).
    """
    if not is_postgresql(db):
        with db.atomic(lock_type="IMMEDIATE") as transaction:
            yield transaction
        return
    with db.atomic() as transaction:
        db.execute_sql(f"SET LOCAL lock_timeout = {int(LOCK_WAIT_MS)}")
        db.execute_sql("SELECT pg_advisory_xact_lock(%s)", (IMPORT_LOCK,))
        yield transaction


def _lock_timed_out(error):
    # SQLite: "database is locked"; PostgreSQL: "canceling statement due to lock timeout".
    text = str(error)
    return "database is locked" in text or "lock timeout" in text


# Checking one value: each returns the value as stored or raises _Bad saying what is wrong.


class _Bad(ValueError):
    pass


REQUIRED = object()  # the key must be present
KEEP = object()  # an absent key keeps what is stored


def _shown(value):
    text = json.dumps(value, ensure_ascii=False, default=repr)
    return text if len(text) <= 40 else text[:37] + "..."


def _platform_id(value):
    if isinstance(value, bool) or not isinstance(value, int):
        raise _Bad(f"must be a whole number, got {_shown(value)}")
    if not 0 < value <= MAX_ID:
        raise _Bad(f"must be between 1 and {MAX_ID}, got {value}")
    return value


def _text(max_length, required=True):
    def check(value):
        if not isinstance(value, str):
            raise _Bad(f"must be text, got {_shown(value)}")
        value = value.strip()
        if required and not value:
            raise _Bad("must not be empty")
        if len(value) > max_length:
            raise _Bad(f"must be at most {max_length} characters, got {len(value)}")
        return value

    return check


def _kind(value):
    value = _text(40)(value)
    if not KIND.fullmatch(value):
        raise _Bad(f"must be a kind like call_queue (a-z, 0-9, _), got {_shown(value)}")
    return value


def _number(value):
    if not isinstance(value, str):
        raise _Bad(f"must be text, got {_shown(value)}")
    try:
        return to_e164(value)
    except InvalidNumber as exc:
        raise _Bad(str(exc)) from None


def _email(value):
    value = normalize_email(_text(254)(value))
    if not looks_like_email(value):
        raise _Bad(f"{value!r} does not look like an email address")
    return value


def _flag(value):
    if not isinstance(value, bool):
        raise _Bad(f"must be true or false, got {_shown(value)}")
    return value


def _role(value):
    if value == "staff":
        raise _Bad('staff users belong to no account; a user in an account must be "owner"')
    if value != "owner":
        raise _Bad(f'must be "owner", got {_shown(value)}')
    return value


def _nullable(check):
    return lambda value: None if value is None else check(value)


_name = _text(200)
ACCOUNT_FIELDS = {
    "id": (_platform_id, REQUIRED),
    "name": (_name, REQUIRED),
    "fail_safe_number": (_nullable(_number), KEEP),
}
# Per collection: its items' keys, each with its check and its default.
ITEM_FIELDS = {
    "tracking_sources": {"id": (_platform_id, REQUIRED), "name": (_name, REQUIRED)},
    "routing_targets": {
        "id": (_platform_id, REQUIRED),
        "name": (_name, REQUIRED),
        "kind": (_kind, REQUIRED),
        "number": (_nullable(_number), None),
    },
    "receiving_numbers": {
        "number": (_number, REQUIRED),
        "name": (_text(200, required=False), ""),
        "active": (_flag, True),
    },
    "tracking_numbers": {
        "number": (_number, REQUIRED),
        "tracking_source_id": (_nullable(_platform_id), None),
        "routing_id": (_nullable(_platform_id), None),
    },
    "users": {
        "email": (_email, REQUIRED),
        "name": (_name, REQUIRED),
        "phone": (_nullable(_number), None),
        "role": (_role, "owner"),
    },
}
MODELS = {
    "accounts": Account,
    "tracking_sources": TrackingSource,
    "routing_targets": RoutingTarget,
    "receiving_numbers": ReceivingNumber,
    "tracking_numbers": TrackingNumber,
    "users": User,
}
# The columns that identify a stored row, per kind.
MATCHED_BY = {
    "accounts": ("id",),
    "tracking_sources": ("id",),
    "routing_targets": ("id",),
    "receiving_numbers": ("account", "number"),
    "tracking_numbers": ("number",),
    "users": ("email",),
}
# A tracking number's references: document key -> (the collection it names, its column, noun).
REFERENCES = {
    "tracking_source_id": ("tracking_sources", TrackingNumber.tracking_source, "tracking source"),
    "routing_id": ("routing_targets", TrackingNumber.routing_target, "routing target"),
}
COLUMNS = {key: column.name for key, (_, column, _) in REFERENCES.items()}


def _clean_object(value, checks, path, problems, collections=()):
    """Return the object's valid values (and its path), adding a problem for each other key."""
    if not isinstance(value, dict):
        problems.append(f"{path}: must be an object, got {_shown(value)}")
        return None
    expected = [*checks, *collections]
    for key in value:
        if key not in expected:
            problems.append(f"{path}.{key}: unknown key (expected one of: {', '.join(expected)})")
    cleaned = {"path": path}
    for key, (check, default) in checks.items():
        if key in value:
            try:
                cleaned[key] = check(value[key])
            except _Bad as bad:
                problems.append(f"{path}.{key}: {bad}")
        elif default is REQUIRED:
            problems.append(f"{path}.{key}: is required")
        elif default is not KEEP:
            cleaned[key] = default
    return cleaned


def _clean_document(data, problems):
    """Return the accounts with their values checked one by one, adding every problem found."""
    if not isinstance(data, dict):
        problems.append(f'top level: must be an object with an "accounts" list, got {_shown(data)}')
        return []
    for key in data:
        if key != "accounts":
            problems.append(f"{key}: unknown key (expected one of: accounts)")
    if not isinstance(data.get("accounts"), list):
        problems.append("accounts: must be a list of accounts")
        return []
    accounts = []
    for index, raw in enumerate(data["accounts"]):
        path = f"accounts[{index}]"
        account = _clean_object(raw, ACCOUNT_FIELDS, path, problems, ITEM_FIELDS)
        if account is None:
            continue
        # A list with a bad item is incomplete: a reference to it may be right, so do not judge it.
        account["lists"], account["complete"] = {}, {}
        for key, checks in ITEM_FIELDS.items():
            if key not in raw:
                continue
            before = len(problems)
            items = raw[key]
            if not isinstance(items, list):
                problems.append(f"{path}.{key}: must be a list of {key.replace('_', ' ')}")
                items = []
            cleaned = [
                _clean_object(x, checks, f"{path}.{key}[{i}]", problems)
                for i, x in enumerate(items)
            ]
            account["lists"][key] = [item for item in cleaned if item is not None]
            account["complete"][key] = len(problems) == before
        accounts.append(account)
    return accounts


def _chunks(values):
    values = list(values)
    return [values[start : start + CHUNK] for start in range(0, len(values), CHUNK)]


def _select(kind, lookups):
    """Return the stored rows of a kind that match any (column, values) lookup, keyed by match."""
    model, found = MODELS[kind], {}
    for column, values in lookups:
        # A row the account lookup found already needs no second look by value.
        known = {row[column.name] for row in found.values()}
        for chunk in _chunks(set(values) - known):
            for row in model.select().where(column.in_(chunk)).dicts().iterator():
                found[tuple(row[name] for name in MATCHED_BY[kind])] = row
    return found


def _load_stored(accounts):
    """Return, per kind, the stored rows that the document could touch, in batched queries."""
    ids = [a["id"] for a in accounts if "id" in a]

    def listing(kind):
        return [a["id"] for a in accounts if "id" in a and kind in a["lists"]]

    def listed(kind, key):
        return [item[key] for a in accounts for item in a["lists"].get(kind, ()) if key in item]

    # By account for what the document replaces, by value for what it may take from elsewhere.
    return {
        "accounts": _select("accounts", [(Account.id, ids)]),
        "tracking_sources": _select(
            "tracking_sources",
            [(TrackingSource.account, ids), (TrackingSource.id, listed("tracking_sources", "id"))],
        ),
        "routing_targets": _select(
            "routing_targets",
            [(RoutingTarget.account, ids), (RoutingTarget.id, listed("routing_targets", "id"))],
        ),
        "receiving_numbers": _select(
            "receiving_numbers", [(ReceivingNumber.account, listing("receiving_numbers"))]
        ),
        "tracking_numbers": _select(
            "tracking_numbers",
            [
                (TrackingNumber.account, listing("tracking_numbers")),
                (TrackingNumber.number, listed("tracking_numbers", "number")),
            ],
        ),
        "users": _select("users", [(User.email, listed("users", "email"))]),
    }


def _releasing(accounts):
    # An account that lists a collection gives up whatever of it the list leaves out.
    return {
        kind: {a["id"] for a in accounts if "id" in a and kind in a["lists"]} for kind in MODELS
    }


def _check(accounts, stored, problems):
    """Add the problems that only the whole document and the stored rows can show."""
    accounts = [a for a in accounts if "id" in a]
    in_file = {a["id"] for a in accounts}
    releasing = _releasing(accounts)
    stored_ids = defaultdict(set)
    for kind in ("tracking_sources", "routing_targets"):
        for row in stored[kind].values():
            stored_ids[kind, row["account"]].add(row["id"])
    first = {}

    def repeated(scope, value, path, key):
        earlier = first.setdefault((scope, value), path)
        if earlier != path:
            problems.append(f"{path}.{key}: {value} is already {earlier}")
        return earlier != path

    def taken(kind, noun, account_id, item, key):
        row = stored[kind].get((item[key],))
        if row and row["account"] != account_id and row["account"] not in releasing[kind]:
            problems.append(
                f"{item['path']}.{key}: {item[key]} is a {noun} of account {row['account']}"
            )

    def known(account, kind):
        if kind not in account["lists"]:
            return stored_ids[kind, account["id"]]
        if account["complete"][kind]:
            return {item["id"] for item in account["lists"][kind]}
        return None

    for account in accounts:
        account_id, lists = account["id"], account["lists"]
        repeated("accounts", account_id, account["path"], "id")
        for kind, _, noun in REFERENCES.values():
            for item in lists.get(kind, ()):
                if "id" in item and not repeated(kind, item["id"], item["path"], "id"):
                    taken(kind, noun, account_id, item, "id")
        for item in lists.get("receiving_numbers", ()):
            if "number" in item:
                repeated(("receiving", account_id), item["number"], item["path"], "number")
        targets = {key: known(account, kind) for key, (kind, _, _) in REFERENCES.items()}
        for item in lists.get("tracking_numbers", ()):
            if "number" in item and not repeated(
                "tracking", item["number"], item["path"], "number"
            ):
                taken("tracking_numbers", "tracking number", account_id, item, "number")
            for key, (_, _, noun) in REFERENCES.items():
                target = item.get(key)
                if target is not None and targets[key] is not None and target not in targets[key]:
                    problems.append(
                        f"{item['path']}.{key}: no {noun} {target} in account {account_id}"
                    )
        for item in lists.get("users", ()):
            if "email" not in item or repeated("users", item["email"], item["path"], "email"):
                continue
            row = stored["users"].get((item["email"],))
            if row and row["role"] == "staff":
                problems.append(f"{item['path']}.email: {item['email']} is a staff user")
            elif row and row["account"] != account_id and row["account"] not in in_file:
                problems.append(
                    f"{item['path']}.email: {item['email']} is a user of account {row['account']}"
                )


@dataclass
class _Changes:
    create: list = field(default_factory=list)
    update: list = field(default_factory=list)  # (row id, {column: new value})
    remove: list = field(default_factory=list)  # row ids
    unchanged: int = 0


def _wanted(accounts):
    """Return, per kind, the rows the document describes, keyed as in MATCHED_BY."""
    wanted = {kind: {} for kind in MODELS}
    for account in accounts:
        wanted["accounts"][(account["id"],)] = {
            k: account[k] for k in ACCOUNT_FIELDS if k in account
        }
        for kind, items in account["lists"].items():
            for item in items:
                row = {COLUMNS.get(key, key): value for key, value in item.items() if key != "path"}
                row["account"] = account["id"]
                wanted[kind][tuple(row[column] for column in MATCHED_BY[kind])] = row
    return wanted


def _compare(stored, wanted, releasing):
    changes = _Changes()
    for key, row in wanted.items():
        old = stored.get(key)
        if old is None:
            changes.create.append(row)
            continue
        difference = {column: value for column, value in row.items() if old[column] != value}
        if difference:
            changes.update.append((old["id"], difference))
        else:
            changes.unchanged += 1
    changes.remove = [
        old["id"]
        for key, old in stored.items()
        if key not in wanted and old.get("account") in releasing
    ]
    return changes


def _apply(accounts, stored):
    """Write only what differs from the stored rows; return the counts."""
    wanted = _wanted(accounts)
    releasing = _releasing(accounts)
    releasing["accounts"] = releasing["users"] = set()  # neither is ever removed
    changes = {kind: _compare(stored[kind], wanted[kind], releasing[kind]) for kind in MODELS}
    for row in changes["accounts"].create:
        row.setdefault("fail_safe_number", None)
    # Foreign keys: parents first, then children, and parents are removed last.
    for kind in ("accounts", "tracking_sources", "routing_targets"):
        _write(MODELS[kind], changes[kind])
    for kind in ("receiving_numbers", "tracking_numbers"):
        _remove(MODELS[kind], changes[kind])
        _write(MODELS[kind], changes[kind])
    detached = set()
    for kind, column, _ in REFERENCES.values():
        row_ids = _left_pointing(column, changes[kind])
        for chunk in _chunks(row_ids):
            TrackingNumber.update({column: None}).where(TrackingNumber.id.in_(chunk)).execute()
        detached.update(row_ids)
        _remove(MODELS[kind], changes[kind])
    _write(User, changes["users"])
    summary = ImportSummary()
    for kind, change in changes.items():
        counts = len(change.create), len(change.update), len(change.remove), change.unchanged
        setattr(summary, kind, Counts(*counts))
    summary.tracking_numbers.updated += len(detached)
    return summary


def _write(model, changes):
    for chunk in _chunks(changes.create):
        model.insert_many(chunk).execute()
    # Rows that change the same way (numbers rerouted to one target) share one statement.
    alike = defaultdict(list)
    for row_id, difference in changes.update:
        alike[tuple(difference.items())].append(row_id)
    for difference, row_ids in alike.items():
        for chunk in _chunks(row_ids):
            model.update(dict(difference)).where(model.id.in_(chunk)).execute()


def _remove(model, changes):
    for chunk in _chunks(changes.remove):
        model.delete().where(model.id.in_(chunk)).execute()


def _left_pointing(column, changes):
    """Return the tracking numbers that point at a removed target, or at one now elsewhere."""
    # The numbers this import wrote point where the document says: these are the others.
    found = set()
    for chunk in _chunks(changes.remove):
        found.update(TrackingNumber.select(TrackingNumber.id).where(column.in_(chunk)).tuples())
    moved = defaultdict(list)
    for row_id, difference in changes.update:
        if "account" in difference:
            moved[difference["account"]].append(row_id)
    for account_id, row_ids in moved.items():
        for chunk in _chunks(row_ids):
            query = TrackingNumber.select(TrackingNumber.id)
            found.update(
                query.where(column.in_(chunk), TrackingNumber.account != account_id).tuples()
            )
    return [row_id for (row_id,) in found]
