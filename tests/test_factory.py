"""The factory: defaults, then the environment, then the config dict; the instance folder."""

import os

import pytest

from portal import create_app
from portal.config import ConfigError
from tests.conftest import make_config


def test_defaults_apply_without_environment_or_dict(database_url, tmp_path, monkeypatch):
    monkeypatch.delenv("SMTP_PORT", raising=False)
    monkeypatch.delenv("MAX_UPLOAD_MB", raising=False)
    app = create_app(make_config(database_url, tmp_path))
    assert app.config["SMTP_PORT"] == 25
    assert app.config["MAX_CONTENT_LENGTH"] == 24 * 1024 * 1024
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_environment_overrides_defaults(database_url, tmp_path, monkeypatch):
    monkeypatch.setenv("SMTP_HOST", "mail.example.test")
    monkeypatch.setenv("SMTP_PORT", "2525")
    monkeypatch.setenv("SMTP_STARTTLS", "true")
    monkeypatch.setenv("MAX_UPLOAD_MB", "4")
    app = create_app(make_config(database_url, tmp_path))
    assert app.config["SMTP_HOST"] == "mail.example.test"
    assert app.config["SMTP_PORT"] == 2525
    assert app.config["SMTP_STARTTLS"] is True
    assert app.config["MAX_CONTENT_LENGTH"] == 4 * 1024 * 1024


def test_config_dict_overrides_environment(database_url, tmp_path, monkeypatch):
    monkeypatch.setenv("SMTP_PORT", "2525")
    app = create_app(make_config(database_url, tmp_path, SMTP_PORT=587))
    assert app.config["SMTP_PORT"] == 587


def test_database_url_from_environment_is_used(database_url, tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", database_url)
    config = make_config(database_url, tmp_path)
    del config["DATABASE_URL"]
    app = create_app(config)
    assert app.config["DATABASE_URL"] == database_url


def test_an_unknown_database_scheme_is_refused(tmp_path):
    with pytest.raises(
        ConfigError, match="DATABASE_URL must start with sqlite:/// or postgresql://"
    ):
        create_app(make_config("mysql://localhost/portdesk", tmp_path))


def test_default_database_is_sqlite_in_the_instance_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    config = make_config(None, tmp_path / "instance")
    del config["DATABASE_URL"]
    app = create_app(config)
    expected = tmp_path / "instance" / "portdesk.sqlite3"
    assert app.config["DATABASE_URL"] == f"sqlite:///{expected}"
    assert expected.exists()


def test_secret_key_is_generated_once_and_kept(database_url, tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    config = make_config(database_url, tmp_path / "instance")
    del config["SECRET_KEY"]
    first = create_app(dict(config))
    second = create_app(dict(config))
    key_file = tmp_path / "instance" / "secret_key"
    assert len(first.config["SECRET_KEY"]) == 64
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"]
    assert key_file.read_text() == first.config["SECRET_KEY"]
    assert oct(os.stat(key_file).st_mode & 0o777) == "0o600"


def test_secret_key_from_environment_wins_over_the_file(database_url, tmp_path, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "from-the-environment")
    config = make_config(database_url, tmp_path)
    del config["SECRET_KEY"]
    app = create_app(config)
    assert app.config["SECRET_KEY"] == "from-the-environment"
    assert not (tmp_path / "secret_key").exists()


# The list loads inside zipcodes' compiled core on its first lookup: count the lookups wsgi makes.
READS_ZIP_LIST_ON_IMPORT = """
import zipcodes
asked = []
lookup = zipcodes.matching
zipcodes.matching = lambda five, **kw: asked.append(five) or lookup(five, **kw)
import wsgi
print(len(asked) == 1 and zipcodes.matching(asked[0]) != [])
"""


def test_wsgi_loads_the_zip_list_before_gunicorn_forks(database_url, tmp_path):
    # gunicorn preloads wsgi.py in its master: the USPS list read there is shared by every worker,
    # so no owner's first address check waits half a second for it.
    import subprocess
    import sys

    from portal import ROOT

    loaded = subprocess.run(
        [sys.executable, "-c", READS_ZIP_LIST_ON_IMPORT],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": database_url, "INSTANCE_PATH": str(tmp_path)},
        capture_output=True,
        text=True,
    )
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.split() == ["True"]
