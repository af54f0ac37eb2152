"""Faults, end to end through gunicorn (2 workers x 4 threads, CSRF on, as deployed), on the
suite's database (SQLite or PostgreSQL): nothing saved is lost and nothing is half-written.

- The mail server is down when the owner sends the LOA: the page answers as usual, the email
  waits in the outbox with its error, and cron's `outbox send` delivers it once the server is up,
  exactly once.
- gunicorn's whole process group is killed with SIGKILL in the middle of a bill upload, inside a
  signature's transaction and inside a submit's transaction (tests/fault_gunicorn.py stops the
  request at that point, so the kill lands there every time). Started again on the same database
  and instance folder, the database holds no trace of the interrupted action and nothing
  inconsistent, and the same action then succeeds.
- PostgreSQL is restarted under load (PostgreSQL only): pages answer the 503 page with words while
  it is down, and the same gunicorn serves every request again once it is back.
"""

import contextlib
import hashlib
import http.client
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from peewee import JOIN

from portal import mail
from portal.db import open_database
from portal.models import (
    Document,
    DocumentContent,
    NumberClaim,
    OutboxEmail,
    PortNumber,
    PortRequest,
    RequestEvent,
    utcnow,
)
from signing import SigningEnvelope, SigningEvent, envelopes, tokens
from tests.conftest import ON_POSTGRES, OWNER_EMAIL, PASSWORD, POSTGRES_URL, Inbox, free_port
from tests.test_proof_step import bill_pdf, today
from tests.test_submit import make_submittable
from tests.test_wizard_attacks import Tab, at_once

ROOT = Path(__file__).resolve().parent.parent
FAULT_CONFIG = ROOT / "tests" / "fault_gunicorn.py"
START_SECONDS = 60
WAIT_SECONDS = 20
NUMBERS = ("(614) 322-1001", "(614) 322-1002", "(614) 322-1003")
CLAIMED = {"+16143221001", "+16143221002", "+16143221003"}
SIGNER, SIGNER_EMAIL = "Dana Reyes", "dana@harborclinic.com"
MAIL_FROM = "PortDesk <portdesk@portdesk.test>"
UNAVAILABLE = "PortDesk's database is busy or out of reach"
NOTHING_CHANGED = "This is on our side, and nothing was changed."


class Server:
    """A running gunicorn in a process group of its own: `address`, and `kill()` for SIGKILL."""

    def __init__(self, process, port, instance, marker):
        self.process, self.address = process, ("127.0.0.1", port)
        self.instance, self.marker = instance, marker
        self.opened = []  # Tabs, closed when the server stops

    def tab(self, email=None, page=None):
        """A new browser (a connection of its own), signed in as `email`, showing `page`."""
        new = Tab(self.address, self.opened)
        if email is not None:
            assert new.get("/login")[0] == 200
            assert new.post("/login", {"email": email, "password": PASSWORD})[0] == 302
        if page is not None:
            assert new.get(page)[0] == 200
        return new

    def wait_for_fault(self):
        """Return once a request reached the fault point (tests/fault_gunicorn.py)."""
        deadline = time.monotonic() + WAIT_SECONDS
        while not self.marker.exists():
            assert self.process.poll() is None, "gunicorn stopped before the fault point"
            assert time.monotonic() < deadline, "no request reached the fault point"
            time.sleep(0.02)

    def kill(self):
        """SIGKILL the master and every worker at once; return once none of them is left."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        # The workers die with the master; their shared listening socket closes with the last.
        deadline = time.monotonic() + WAIT_SECONDS
        while _listening(self.address):
            assert time.monotonic() < deadline, "gunicorn's workers outlived the SIGKILL"
            time.sleep(0.02)

    def stop(self):
        for tab in self.opened:
            tab.connection.close()
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()


def _listening(address):
    try:
        with socket.create_connection(address, timeout=1):
            return True
    except OSError:
        return False


def environment(app, database_url, instance, **extra):
    """The environment gunicorn and the CLI run with: the test app's database and secret key."""
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "INSTANCE_PATH": str(instance),
        "SECRET_KEY": app.config["SECRET_KEY"],
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        "OUTBOX_SEND_AFTER_COMMIT": "0",
        **extra,
    }


@contextlib.contextmanager
def gunicorn(env, log_path, fault=None):
    """Run gunicorn with the fault point named (or none) in a new process group; yield Server."""
    port = free_port()
    instance = Path(env["INSTANCE_PATH"])
    marker = log_path.with_name(f"fault-{uuid.uuid4().hex[:8]}")
    env = {**env, "PORTDESK_FAULT": fault or "", "PORTDESK_FAULT_MARKER": str(marker)}
    command = [
        sys.executable, "-m", "gunicorn", "-c", str(FAULT_CONFIG),
        "--workers", "2", "--threads", "4",
        "--bind", f"127.0.0.1:{port}", "--chdir", str(ROOT),
        "--log-level", "warning", "wsgi:app",
    ]  # fmt: skip
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    server = Server(process, port, instance, marker)
    try:
        deadline = time.monotonic() + START_SECONDS
        while not _answers(server.address):
            assert process.poll() is None, f"gunicorn exited:\n{log_path.read_text()}"
            assert time.monotonic() < deadline, f"gunicorn did not answer:\n{log_path.read_text()}"
            time.sleep(0.1)
        yield server
    finally:
        server.stop()


def _answers(address):
    try:
        connection = http.client.HTTPConnection(*address, timeout=5)
        connection.request("GET", "/login")
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()


def flask(env, *args):
    """Run `flask --app wsgi ARGS` as cron does; return what it printed."""
    done = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def multipart(fields, name, filename, data):
    """Return (body, content type) of a multipart form with the fields and one file."""
    boundary = f"----fault{uuid.uuid4().hex}"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode()
        for key, value in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
        "Content-Type: application/pdf\r\n\r\n".encode()
        + data
        + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def bill_upload(tab, request_id, label):
    """The bill step's form as the tab's browser sends it: (path, headers, body)."""
    body, content_type = multipart(
        {"csrf_token": tab.token, "statement_date": today().isoformat()},
        "file",
        label,
        bill_pdf(),
    )
    headers = {
        "Host": f"{tab.address[0]}:{tab.address[1]}",
        "Content-Type": content_type,
        "Content-Length": str(len(body)),
        "Cookie": "; ".join(f"{k}={m.value}" for k, m in tab.cookies.items()),
    }
    return f"/port-requests/{request_id}/bill", headers, body


def in_thread(call):
    """Start `call` on a thread; return the thread: `.outcome` is what it returned or raised."""

    def run():
        try:
            thread.outcome = call()
        except Exception as error:  # the connection the kill cut
            thread.outcome = error

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def files_in(folder):
    """The instance folder's files, but SQLite's own journal files that come and go."""
    return sorted(
        str(path.relative_to(folder))
        for path in folder.rglob("*")
        if path.is_file() and not path.name.endswith(("-wal", "-shm", "-journal"))
    )


def inconsistencies(app):
    """Return, as sentences, everything in the database that a half-done action could leave."""
    found = []
    with app.app_context():
        for document in (
            Document.select()
            .join(DocumentContent, JOIN.LEFT_OUTER)
            .where(DocumentContent.document.is_null())
        ):
            found.append(f"document {document.id} has no stored file")
        for content in DocumentContent.select():
            document, data = content.document, bytes(content.content)
            if (len(data), hashlib.sha256(data).hexdigest()) != (document.size, document.sha256):
                found.append(f"document {document.id}'s file is not the one it names")
        for claim in NumberClaim.select().join(PortRequest).where(PortRequest.status == "draft"):
            found.append(f"{claim.number} is claimed by draft {claim.port_request_id}")
        for port_request in PortRequest.select():
            numbers = list(PortNumber.select().where(PortNumber.port_request == port_request))
            claimed = {
                claim.number
                for claim in NumberClaim.select().where(NumberClaim.port_request == port_request)
            }
            statuses = {number.status or "draft" for number in numbers}
            if port_request.status == "submitted" and claimed != {n.e164 for n in numbers}:
                found.append(f"submitted request {port_request.id} claims {sorted(claimed)}")
            if port_request.status in ("draft", "submitted") and statuses - {port_request.status}:
                found.append(f"request {port_request.id}'s numbers are {sorted(statuses)}")
        for envelope in SigningEnvelope.select():
            found.extend(f"envelope {envelope.id}: {said}" for said in envelopes.verify(envelope))
            if envelope.status == "signed":
                kept = Document.select().where(
                    (Document.kind == "signed_loa") & (Document.sha256 == envelope.signed_sha256)
                )
                if not kept.exists():
                    found.append(f"signed envelope {envelope.id} has no signed LOA kept")
    return found


def words(html):
    """The text of a page as read, on one line."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def event_kinds(app, request_id):
    with app.app_context():
        return [event.kind for event in RequestEvent.of_request(request_id)]


def emails_about(app, request_id):
    with app.app_context():
        return list(
            OutboxEmail.select().where(OutboxEmail.reference == f"port_request:{request_id}")
        )


@pytest.fixture
def server_env(app, database_url, tmp_path, owner):
    """The environment for gunicorn and the CLI on the test's database and an instance folder
    of their own (kept across restarts); gunicorn's log, printed when a test fails."""
    env = environment(app, database_url, tmp_path / "served")
    log = tmp_path / "gunicorn.log"
    yield env, log
    if log.exists():
        print(log.read_text(errors="replace"))


# 1. The mail server is down while the owner sends the LOA.


def wait_until(check, what):
    deadline = time.monotonic() + WAIT_SECONDS
    while not (found := check()):
        assert time.monotonic() < deadline, f"never: {what}"
        time.sleep(0.05)
    return found


def test_mail_server_down_the_email_waits_in_the_outbox_and_cron_sends_it_once(
    app, owner, server_env
):
    env, log = server_env
    request_id = make_submittable(
        app, owner.account_id, numbers=NUMBERS, created_by=owner, bill=False, loa=False
    )
    mail_port = free_port()  # nothing listens there yet
    env |= {
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(mail_port),
        "MAIL_FROM": MAIL_FROM,
        "OUTBOX_SEND_AFTER_COMMIT": "1",
    }
    with gunicorn(env, log) as server:
        step = f"/port-requests/{request_id}/loa"
        owner_tab = server.tab(OWNER_EMAIL, step)
        status, headers, _ = owner_tab.post(
            f"{step}/send", {"name": SIGNER, "email": SIGNER_EMAIL, "message": "Please sign."}
        )
        assert status == 302
        status, _, page = owner_tab.get(headers["Location"])
        assert status == 200
        assert "Sent: an email with a link to sign the LOA is on its way" in page

        def tried():
            with app.app_context():
                email = OutboxEmail.get(OutboxEmail.to_address == SIGNER_EMAIL)
            return email if email.attempts else None

        email = wait_until(tried, "the worker tried to send the email")
    assert (email.to_address, email.status, email.attempts) == (SIGNER_EMAIL, "queued", 1)
    assert f"connecting to 127.0.0.1:{mail_port}" in email.last_error
    assert "refused" in email.last_error.lower()

    from aiosmtpd.controller import Controller

    inbox = Inbox()
    inbox.port = mail_port
    controller = Controller(inbox, hostname=inbox.host, port=inbox.port)
    controller.start()
    try:
        # Cron's run once the retry is due (tests/test_mail.py shows an earlier run waits).
        with app.app_context():
            OutboxEmail.update(next_attempt_at=utcnow() - timedelta(seconds=1)).execute()
        assert flask(env, "outbox", "send") == "sent 1, still queued 0, failed 0\n"
        # Sent is sent: the next run (or one at the same moment) finds nothing to send.
        with app.app_context():
            assert mail.deliver_due() == (0, 0)
    finally:
        controller.stop()
    [received] = inbox.messages
    assert received["To"] == SIGNER_EMAIL
    assert received["Subject"] == "Acme Dental asks you to sign a Letter of Authorization"
    with app.app_context():
        sent = OutboxEmail.get_by_id(email.id)
    assert (sent.status, sent.attempts, sent.sent_at is not None) == ("sent", 1, True)


# 2. SIGKILL in the middle of an upload, a signature and a submit.


def test_a_kill_in_the_middle_of_an_upload_keeps_nothing_of_it_and_the_upload_then_works(
    app, owner, server_env
):
    env, log = server_env
    request_id = make_submittable(
        app, owner.account_id, numbers=NUMBERS, created_by=owner, bill=False, loa=False
    )
    step = f"/port-requests/{request_id}/bill"
    with gunicorn(env, log, fault="upload") as server:
        owner_tab = server.tab(OWNER_EMAIL, step)
        before = files_in(server.instance)
        path, headers, body = bill_upload(owner_tab, request_id, "half.pdf")
        with socket.create_connection(server.address) as raw:
            head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
            raw.sendall(f"POST {path} HTTP/1.1\r\n{head}\r\n".encode() + body[: len(body) // 2])
            server.wait_for_fault()
            server.kill()

    assert inconsistencies(app) == []
    with app.app_context():
        assert Document.select().count() == 0
    assert "document" not in event_kinds(app, request_id)
    with gunicorn(env, log) as server:
        assert files_in(server.instance) == before  # nothing of the upload left on disk
        owner_tab = server.tab(OWNER_EMAIL, step)
        path, headers, body = bill_upload(owner_tab, request_id, "whole.pdf")
        owner_tab.connection.request("POST", path, body=body, headers=headers)
        answer = owner_tab.connection.getresponse()
        answer.read()
        assert answer.status == 302
        status, _, page = owner_tab.get(step)
        assert status == 200 and "whole.pdf" in page and "half.pdf" not in page
    with app.app_context():
        [document] = Document.select()
    assert (document.label, document.kind, document.sha256) == (
        "whole.pdf",
        "bill",
        hashlib.sha256(bill_pdf()).hexdigest(),
    )
    assert inconsistencies(app) == []


def test_a_kill_inside_a_signature_keeps_none_of_it_and_the_signer_then_signs(
    app, owner, owner_client, server_env
):
    env, log = server_env
    request_id = make_submittable(
        app, owner.account_id, numbers=NUMBERS, created_by=owner, bill=True, loa=False
    )
    sent = owner_client.post(
        f"/port-requests/{request_id}/loa/send", data={"name": SIGNER, "email": SIGNER_EMAIL}
    )
    assert sent.status_code == 302
    with app.app_context():
        envelope = SigningEnvelope.get()
    link = f"/sign/{tokens.make_signing_link(env['SECRET_KEY'], envelope.id, envelope.generation)}"
    signature = {"consent": "y", "typed_name": SIGNER}
    with app.app_context():
        emails = OutboxEmail.select().count()

    with gunicorn(env, log, fault="sign") as server:
        signer = server.tab(page=link)
        signing = in_thread(lambda: signer.post(link, signature))
        server.wait_for_fault()
        server.kill()
        signing.join(WAIT_SECONDS)
    assert isinstance(signing.outcome, (ConnectionError, http.client.HTTPException))

    assert inconsistencies(app) == []
    with app.app_context():
        kept = SigningEnvelope.get_by_id(envelope.id)
        assert (kept.status, kept.signed_sha256) == ("sent", None)
        assert [event.kind for event in SigningEvent.of_envelope(kept)] == ["sent"]
        assert not Document.select().where(Document.kind == "signed_loa").exists()
        assert OutboxEmail.select().count() == emails  # the owner was not told of it
    assert "loa_signed" not in event_kinds(app, request_id)

    with gunicorn(env, log) as server:
        signer = server.tab(page=link)
        status, headers, _ = signer.post(link, signature)
        assert (status, headers["Location"]) == (302, link)
        assert "your signature is in place" in signer.get(link)[2]
    with app.app_context():
        kept = SigningEnvelope.get_by_id(envelope.id)
        [signed_loa] = Document.select().where(Document.kind == "signed_loa")
    assert kept.status == "signed"
    assert signed_loa.sha256 == kept.signed_sha256
    assert inconsistencies(app) == []


def test_a_kill_inside_a_submit_keeps_the_draft_and_the_submit_then_works(app, owner, server_env):
    env, log = server_env
    request_id = make_submittable(app, owner.account_id, numbers=NUMBERS, created_by=owner)
    step = f"/port-requests/{request_id}/submit"

    with gunicorn(env, log, fault="submit") as server:
        owner_tab = server.tab(OWNER_EMAIL, step)
        submitting = in_thread(lambda: owner_tab.post(step, {}))
        server.wait_for_fault()
        server.kill()
        submitting.join(WAIT_SECONDS)
    assert isinstance(submitting.outcome, (ConnectionError, http.client.HTTPException))

    assert inconsistencies(app) == []
    with app.app_context():
        assert PortRequest.get_by_id(request_id).status == "draft"
        assert NumberClaim.select().count() == 0
    assert "submitted" not in event_kinds(app, request_id)
    assert emails_about(app, request_id) == []

    with gunicorn(env, log) as server:
        owner_tab = server.tab(OWNER_EMAIL, step)
        status, headers, _ = owner_tab.post(step, {})
        assert (status, headers["Location"]) == (302, f"/port-requests/{request_id}")
        assert "Status: Submitted" in words(owner_tab.get(headers["Location"])[2])
    with app.app_context():
        assert PortRequest.get_by_id(request_id).status == "submitted"
        assert {claim.number for claim in NumberClaim.select()} == CLAIMED
    assert event_kinds(app, request_id).count("submitted") == 1
    assert [email.purpose for email in emails_about(app, request_id)] == ["request_submitted"]
    assert inconsistencies(app) == []


# 3. PostgreSQL's connections end under load (PostgreSQL only).

needs_postgresql = pytest.mark.skipif(not ON_POSTGRES, reason="PostgreSQL only")
CLUSTER = ["pg_ctlcluster", "--skip-systemctl-redirect"]
LOAD_TABS = 6
# How long a stop may take to shut down (pg_ctl's -t) before it fails.
SHUTDOWN_SECONDS = 300


def named_connections(database_url, name):
    """The URL with every connection named `name` in pg_stat_activity (to end only those)."""
    separator = "&" if "?" in database_url else "?"
    return f"{database_url}{separator}application_name={name}"


def served_pages(tabs, page, rounds=3):
    """Every tab asks for the page at once, `rounds` times; return the (status, text) answers."""
    answers = []
    for _ in range(rounds):
        for status, _, text in at_once(*[lambda tab=tab: tab.get(page) for tab in tabs]):
            answers.append((status, text))
    return answers


@needs_postgresql
def test_connections_the_server_ended_are_dropped_and_the_next_requests_are_served(
    app, owner, server_env, database_url
):
    env, log = server_env
    name = f"portdesk-faults-{uuid.uuid4().hex[:12]}"
    env["DATABASE_URL"] = named_connections(database_url, name)
    page = "/port-requests/"
    with gunicorn(env, log) as server:
        tabs = [server.tab(OWNER_EMAIL, page) for _ in range(LOAD_TABS)]
        assert {status for status, _ in served_pages(tabs, page)} == {200}
        # The pools now hold connections given back moments ago; the server ends every one of
        # them (as a restart or an administrator does) and waits until each backend is gone.
        admin = open_database(POSTGRES_URL)
        ended = admin.execute_sql(
            "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid, 5000)) "
            "FROM pg_stat_activity WHERE application_name = %s",
            (name,),
        ).fetchone()[0]
        admin.close()
        assert ended >= 1

        answers = served_pages(tabs, page)
    assert [status for status, _ in answers] == [200] * len(answers)


class Load:
    """Each tab asks for the page again and again on a thread of its own; every answer is kept
    with the phase of the test it was asked in: (phase, status, text)."""

    def __init__(self, tabs, page):
        self.page, self.phase, self.answers = page, "up", []
        self.asking = {}  # tab -> the phase its request under way was asked in
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self._run, args=(tab,)) for tab in tabs]
        for thread in self.threads:
            thread.start()

    def _run(self, tab):
        while not self.stopping.is_set():
            phase = self.asking[tab] = self.phase
            try:
                status, _, text = tab.get(self.page)
            except (OSError, http.client.HTTPException) as error:
                tab.connection.close()  # http.client opens a new one on the next request
                status, text = None, repr(error)
            self.answers.append((phase, status, text))

    def enter(self, phase):
        """Ask from now on in `phase`; return once every request asked before has its answer."""
        self.phase = phase
        wait_until(
            lambda: (
                len(self.asking) == len(self.threads)
                and all(asked == phase for asked in self.asking.values())
            ),
            f"every tab asking while {phase}",
        )

    def wait_for(self, phase, count):
        wait_until(
            lambda: sum(asked == phase for asked, _, _ in self.answers) >= count,
            f"{count} answers while {phase}",
        )

    def stop(self):
        self.stopping.set()
        for thread in self.threads:
            thread.join(WAIT_SECONDS)

    def of(self, phase):
        return [(status, text) for asked, status, text in self.answers if asked == phase]


def cluster(action, *pg_ctl_options):
    """Run `pg_ctlcluster` on the local cluster; return the finished process."""
    version = sorted(os.listdir("/etc/postgresql"))[-1]
    return subprocess.run(
        [*CLUSTER, version, "main", action, "--", *pg_ctl_options],
        capture_output=True,
        text=True,
        timeout=SHUTDOWN_SECONDS + 60,
    )


def postgresql_ready():
    return subprocess.run(["pg_isready", "-q", "-h", "127.0.0.1", "-p", "5432"]).returncode == 0


def cluster_down():
    listed = subprocess.run(["pg_lsclusters", "-h"], capture_output=True, text=True).stdout
    return any(line.split()[1:4] == ["main", "5432", "down"] for line in listed.splitlines())


def checkpoint():
    """Write every dirty page while the server is up, so its stop waits for no long checkpoint
    (a shared test server may hold thousands of tables to sync)."""
    admin = open_database(POSTGRES_URL)
    admin.execute_sql("CHECKPOINT")
    admin.close()


def ensure_running():
    """Start the cluster again, whatever state a failed step left it in (still shutting down,
    down), and return once it accepts connections: the suite and everyone else need it."""
    deadline = time.monotonic() + SHUTDOWN_SECONDS + 60
    while not postgresql_ready():
        if cluster_down():
            cluster("start")
        assert time.monotonic() < deadline, "PostgreSQL did not come back"
        time.sleep(0.5)


def the_503_page(status, text):
    """Say whether an answer is the database's 503 page, in words and without a traceback."""
    said = words(text)
    return (
        status == 503
        and UNAVAILABLE in said
        and NOTHING_CHANGED in said
        and "Traceback" not in text
        and "OperationalError" not in text
    )


@needs_postgresql
@pytest.mark.skipif(
    shutil.which("pg_ctlcluster") is None or os.geteuid() != 0,
    reason="restarts the local PostgreSQL cluster, as root",
)
def test_postgresql_restarted_under_load_pages_say_so_and_the_same_gunicorn_serves_again(
    app, owner, server_env
):
    env, log = server_env
    page = "/port-requests/"
    with gunicorn(env, log) as server:
        load = Load([server.tab(OWNER_EMAIL, page) for _ in range(LOAD_TABS)], page)
        try:
            load.wait_for("up", 2 * LOAD_TABS)
            checkpoint()
            load.enter("stopping")
            stopped = cluster("stop", "-t", str(SHUTDOWN_SECONDS))
            assert stopped.returncode == 0, stopped.stderr
            load.enter("down")
            load.wait_for("down", 2 * LOAD_TABS)
            load.enter("starting")
            started = cluster("start")
            assert started.returncode == 0, started.stderr
            ensure_running()
            load.enter("back")
            load.wait_for("back", 3 * LOAD_TABS)
        finally:
            load.stop()
            # Whatever failed above, the rest of the suite (and everyone else) gets its server.
            ensure_running()

        assert {status for status, _ in load.of("up")} == {200}
        # While the server stops and starts, a page either is served or says what happened.
        for phase in ("stopping", "starting"):
            assert all(s == 200 or the_503_page(s, t) for s, t in load.of(phase)), phase
        down = load.of("down")
        assert all(the_503_page(status, text) for status, text in down), down[:3]
        # Back: the same gunicorn, no restart, serves every page again.
        assert {status for status, _ in load.of("back")} == {200}
        server.tab(OWNER_EMAIL, page)  # a new browser signs in and is shown the page
    # The test process's own pooled connections, which the restart ended too, work again.
    with app.app_context():
        assert PortRequest.select().count() == 0
