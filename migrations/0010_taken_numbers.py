"""taken_number: one row per number that is a tracking number or claimed by a port request, so
the portability check probes one index per number instead of two (tracking_number's and
number_claim's, a million rows each on a full platform).

The row is kept by triggers on tracking_number and number_claim, created here for SQLite and
PostgreSQL alike: every way a row of those changes (the app's bulk INSERT ... SELECT and
deletes, an account's or a request's delete cascading to them, an import moving a number
between accounts) passes through them, so no code path can forget the mirror. Each trigger
writes with INSERT ... ON CONFLICT DO UPDATE of its own columns only, so a tracking number and a
claim added to the same number by two transactions at once both land on the one row; the row is
deleted once it is neither. A tracking number's account is not mirrored (the check does not ask
whose it is), so moving one between accounts fires nothing.
"""

from peewee import SQL, BooleanField, CharField, IntegerField, Model

# The statements each trigger runs, with NEW/OLD as both databases spell them.
_TRACKING_ADD = (
    "INSERT INTO taken_number (number, tracking) VALUES (NEW.number, TRUE) "
    "ON CONFLICT (number) DO UPDATE SET tracking = TRUE"
)
_TRACKING_REMOVE = "UPDATE taken_number SET tracking = FALSE WHERE number = OLD.number"
_CLAIM_ADD = (
    "INSERT INTO taken_number (number, tracking, claim_account_id, claim_request_id) "
    "VALUES (NEW.number, FALSE, NEW.account_id, NEW.port_request_id) "
    "ON CONFLICT (number) DO UPDATE SET claim_account_id = excluded.claim_account_id, "
    "claim_request_id = excluded.claim_request_id"
)
_CLAIM_REMOVE = (
    "UPDATE taken_number SET claim_account_id = NULL, claim_request_id = NULL "
    "WHERE number = OLD.number"
)
# After either removal: a number neither tracking nor claimed is not taken.
_FORGET = (
    "DELETE FROM taken_number WHERE number = OLD.number "
    "AND NOT tracking AND claim_account_id IS NULL"
)

# (table, the columns whose update moves the mirror, statements on insert, on delete)
_SOURCES = {
    "tracking": ("tracking_number", "number", [_TRACKING_ADD], [_TRACKING_REMOVE, _FORGET]),
    "claim": (
        "number_claim",
        "number, account_id, port_request_id",
        [_CLAIM_ADD],
        [_CLAIM_REMOVE, _FORGET],
    ),
}

_BACKFILL = (
    "INSERT INTO taken_number (number, tracking, claim_account_id, claim_request_id) "
    "SELECT number, TRUE, NULL, NULL FROM tracking_number",
    # WHERE TRUE: SQLite needs it to read ON CONFLICT after INSERT ... SELECT.
    "INSERT INTO taken_number (number, tracking, claim_account_id, claim_request_id) "
    "SELECT number, FALSE, account_id, port_request_id FROM number_claim WHERE TRUE "
    "ON CONFLICT (number) DO UPDATE SET claim_account_id = excluded.claim_account_id, "
    "claim_request_id = excluded.claim_request_id",
)


def _table(db):
    class TakenNumber(Model):
        number = CharField(max_length=16, primary_key=True)
        tracking = BooleanField(default=False, constraints=[SQL("DEFAULT FALSE")])
        claim_account_id = IntegerField(null=True)
        claim_request_id = IntegerField(null=True)

        class Meta:
            database = db
            table_name = "taken_number"

    return TakenNumber


def up(migrator, db):
    db.create_tables([_table(db)])
    for statement in _BACKFILL:
        db.execute_sql(statement)
    for kind, (table, columns, adding, removing) in _SOURCES.items():
        if _is_postgresql(db):
            _postgresql_triggers(db, kind, table, columns, adding, removing)
        else:
            _sqlite_triggers(db, kind, table, columns, adding, removing)


def _postgresql_triggers(db, kind, table, columns, adding, removing):
    # One plpgsql function per source table: on UPDATE it removes the old row's mark, then adds
    # the new row's (the new one may be the same number).
    remove = "; ".join(removing)
    add = "; ".join(adding)
    db.execute_sql(
        f"CREATE FUNCTION taken_number_{kind}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
        "BEGIN\n"
        f"  IF TG_OP IN ('DELETE', 'UPDATE') THEN {remove}; END IF;\n"
        f"  IF TG_OP IN ('INSERT', 'UPDATE') THEN {add}; END IF;\n"
        "  RETURN NULL;\n"
        "END $$"
    )
    db.execute_sql(
        f"CREATE TRIGGER {table}_taken AFTER INSERT OR DELETE OR UPDATE OF {columns} "
        f"ON {table} FOR EACH ROW EXECUTE FUNCTION taken_number_{kind}()"
    )


def _sqlite_triggers(db, kind, table, columns, adding, removing):
    # SQLite has no trigger functions and one event per trigger: three triggers per table.
    bodies = {"insert": adding, "delete": removing, "update": removing + adding}
    for event, statements in bodies.items():
        when = f"UPDATE OF {columns}" if event == "update" else event.upper()
        body = "".join(f"  {statement};\n" for statement in statements)
        db.execute_sql(
            f"CREATE TRIGGER {table}_taken_{event} AFTER {when} ON {table} FOR EACH ROW\n"
            f"BEGIN\n{body}END"
        )


def down(migrator, db):
    for table, *_ in _SOURCES.values():
        if _is_postgresql(db):
            db.execute_sql(f"DROP TRIGGER {table}_taken ON {table}")
        else:
            for event in ("insert", "delete", "update"):
                db.execute_sql(f"DROP TRIGGER {table}_taken_{event}")
    if _is_postgresql(db):
        for kind in _SOURCES:
            db.execute_sql(f"DROP FUNCTION taken_number_{kind}()")
    db.execute_sql("DROP TABLE taken_number")


def _is_postgresql(db):
    from peewee import PostgresqlDatabase

    return isinstance(db, PostgresqlDatabase)
