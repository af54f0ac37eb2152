"""The deployment files in deploy/: gunicorn started from deploy/gunicorn.conf.py with the settings
of deploy/portdesk.env.example (only the database, folder, port and mail server changed for the
test), answered as nginx (deploy/nginx.conf) would pass requests on, takes an owner through the
journey's first steps: sign in over "HTTPS" (the session cookie is Secure), start a request, open
its next step, accept the agreements, which record the client's address the proxy gave. The unit,
the proxy and the cron lines name what exists."""

import os
import re
import subprocess
import sys

import pytest

from bench.serving import _stop, _wait_until_serving, free_port
from portal import ROOT
from portal.models import AgreementAcceptance, PortRequest, RequestEvent
from portal.port_requests.agreements import TEXTS
from tests.conftest import OWNER_EMAIL, PASSWORD
from tests.test_wizard_attacks import Tab

DEPLOY = ROOT / "deploy"
CLIENT = "198.51.100.23"
# What nginx adds to every request it passes on (deploy/nginx.conf).
# A browser's same-origin Referer comes too: over HTTPS Flask-WTF checks it (WTF_CSRF_SSL_STRICT).
PROXIED = {
    "X-Forwarded-For": CLIENT,
    "X-Forwarded-Proto": "https",
    "Host": "portdesk.example.com",
    "Referer": "https://portdesk.example.com/",
}


def example_settings():
    """Return the settings of deploy/portdesk.env.example as a dict, as systemd reads them."""
    settings = {}
    for line in (DEPLOY / "portdesk.env.example").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, value = line.partition("=")
            settings[name] = value[1:-1] if value[:1] == value[-1:] == '"' else value
    return settings


@pytest.fixture
def deployed(database_url, tmp_path, owner):
    """gunicorn as deploy/portdesk.service starts it; yield its (host, port)."""
    port = free_port()
    environment = {
        **os.environ,
        **example_settings(),
        "DATABASE_URL": database_url,
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "SEAL_KEY_PATH": "",
        "SEAL_CERT_PATH": "",
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(free_port()),  # nobody listens: emails wait in the outbox
        "PORTDESK_BIND": f"127.0.0.1:{port}",
    }
    log = tmp_path / "gunicorn.log"
    command = [sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py", "wsgi:app"]
    with open(log, "wb") as out:
        server = subprocess.Popen(
            command, cwd=ROOT, env=environment, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        _wait_until_serving(server, port, log)
        yield "127.0.0.1", port
    finally:
        _stop(server)
        print(log.read_text(errors="replace"))  # shown when the test fails


def test_the_deployment_files_serve_the_journeys_first_steps(app, deployed):
    opened = []
    tab = Tab(deployed, opened)
    try:
        status, headers, _ = tab.get("/login", headers=PROXIED)
        assert status == 200
        status, headers, _ = tab.post(
            "/login", {"email": OWNER_EMAIL, "password": PASSWORD}, headers=PROXIED
        )
        assert status == 302
        cookie = next(c for c in headers.get_all("Set-Cookie") if c.startswith("session="))
        assert "Secure" in cookie and "HttpOnly" in cookie

        tab.get("/port-requests/new", headers=PROXIED)
        status, headers, _ = tab.post(
            "/port-requests/new", {"friendly_name": "Deployed lines"}, headers=PROXIED
        )
        assert status == 302
        details = headers["Location"]
        assert re.search(r"/port-requests/\d+/details$", details)
        status, _, text = tab.get(details, headers=PROXIED)
        assert status == 200 and "Deployed lines" in text
        request_id = int(re.search(r"/port-requests/(\d+)/", details)[1])
        agreements = f"/port-requests/{request_id}/agreements"
        tab.get(agreements, headers=PROXIED)
        status, _, _ = tab.post(agreements, {"agreements": list(TEXTS)}, headers=PROXIED)
        assert status == 302
    finally:
        for each in opened:
            each.connection.close()

    with app.app_context():
        request = PortRequest.get()
        assert request.fields["friendly_name"] == "Deployed lines"
        accepted = AgreementAcceptance.select().where(AgreementAcceptance.port_request == request)
        assert {row.ip for row in accepted} == {CLIENT}
        assert [event.kind for event in RequestEvent.of_request(request)] == ["created", "agreed"]


def test_the_unit_nginx_and_cron_name_what_exists(tmp_path):
    unit = (DEPLOY / "portdesk.service").read_text()
    start = re.search(r"^ExecStart=\S+/gunicorn -c (\S+) wsgi:app$", unit, re.M)
    assert start and (ROOT / start[1]).exists()
    assert "EnvironmentFile=/etc/portdesk/portdesk.env" in unit
    assert "RestartPreventExitStatus=4" in unit  # a bad setting's exit status

    nginx = (DEPLOY / "nginx.conf").read_text()
    assert "proxy_pass http://127.0.0.1:8000;" in nginx
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in nginx
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in nginx
    assert example_settings()["PROXY_COUNT"] == "1"  # nginx is the one hop believed

    # The crontab's shell reads the environment file as systemd does.
    shell = subprocess.run(
        ["bash", "-c", f"set -a && . {DEPLOY / 'portdesk.env.example'} && set +a && env"],
        capture_output=True,
        text=True,
        env={"PATH": os.environ["PATH"]},
    )
    assert shell.returncode == 0, shell.stderr
    read = dict(line.split("=", 1) for line in shell.stdout.splitlines() if "=" in line)
    assert {name: read[name] for name in example_settings()} == example_settings()

    commands = re.findall(r'eval "\$RUN ([a-z ]+)"', (DEPLOY / "crontab").read_text())
    assert commands == ["outbox send", "signing remind", "uploads prune"]
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "--help"],
        cwd=ROOT,
        env={**os.environ, "INSTANCE_PATH": str(tmp_path), "DATABASE_URL": ""},
        capture_output=True,
        text=True,
    )
    for command in commands:
        assert command.split()[0] in result.stdout
