"""A database of the benchmark's own: a throwaway SQLite file or PostgreSQL schema."""

import uuid
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

from portal.db import open_database


@contextmanager
def database(url, scratch, name):
    """Yield the URL of an empty database of its own; remove it afterwards.

    Without a URL, a SQLite file in the folder `scratch`; a sqlite:/// URL names a new file; a
    postgresql:// URL gets a schema `portdesk_bench_<name>_...`, selected through `options`.
    """
    if url.startswith(("postgres://", "postgresql://")):
        schema = f"portdesk_bench_{name}_{uuid.uuid4().hex[:8]}"
        admin = open_database(url)
        admin.execute_sql(f'CREATE SCHEMA "{schema}"')
        try:
            separator = "&" if "?" in url else "?"
            yield f"{url}{separator}options={quote(f'-c search_path={schema}')}"
        finally:
            admin.execute_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
            admin.close()
        return
    if url and not url.startswith("sqlite:///"):
        raise SystemExit(f"--database-url must be sqlite:///FILE or postgresql://..., not {url}")
    path = Path(url.removeprefix("sqlite:///")) if url else Path(scratch) / "bench.sqlite3"
    if path.exists():
        raise SystemExit(f"{path} already exists: give the name of a new file")
    try:
        yield f"sqlite:///{path}"
    finally:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
