"""Serve PortDesk with gunicorn on a loopback port while a benchmark runs, as deployments do.

Shared by bench/check.py and bench/live_check.py. The server is configured only through the
environment (as in production), binds 127.0.0.1 on a free port, and is stopped when the `with`
block ends, whatever happens inside it.
"""

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from http.cookies import SimpleCookie
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORKERS, THREADS = 2, 4
START_SECONDS = 60
STOP_SECONDS = 10
REQUEST_TIMEOUT = 30
# Every worker signs sessions and signing links with it: a bench or test making a link uses it.
SECRET_KEY = "bench"


def free_port():
    """Return a TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def gunicorn(database_url, instance_path, log_path):
    """Run `gunicorn wsgi:app` (WORKERS x THREADS) on the database; yield its (host, port)."""
    port = free_port()
    environment = {
        **os.environ,
        "DATABASE_URL": database_url,
        "INSTANCE_PATH": str(instance_path),
        "SECRET_KEY": SECRET_KEY,
    }
    command = [
        sys.executable, "-m", "gunicorn",
        "--workers", str(WORKERS), "--threads", str(THREADS),
        "--bind", f"127.0.0.1:{port}", "--chdir", str(ROOT),
        "--log-level", "warning",
        "wsgi:app",
    ]  # fmt: skip
    with open(log_path, "wb") as log:
        server = subprocess.Popen(command, env=environment, stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_until_serving(server, port, log_path)
        yield "127.0.0.1", port
    finally:
        _stop(server)


def _wait_until_serving(server, port, log_path):
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited with {server.returncode}:\n{_tail(log_path)}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                pass
        except OSError:
            time.sleep(0.2)
            continue
        # Listening: now let every worker boot, so no request waits for one.
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)
        for _ in range(WORKERS * THREADS):
            connection.request("GET", "/login")
            connection.getresponse().read()
        connection.close()
        return
    raise SystemExit(f"gunicorn did not answer within {START_SECONDS} s:\n{_tail(log_path)}")


def _stop(server):
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(STOP_SECONDS)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _tail(log_path, lines=20):
    return "\n".join(Path(log_path).read_text(errors="replace").splitlines()[-lines:])


class Client:
    """One keep-alive HTTP connection with its own cookies, like one browser tab."""

    def __init__(self, address):
        self.address = address
        self.connection = http.client.HTTPConnection(*address, timeout=REQUEST_TIMEOUT)
        self.cookies = SimpleCookie()

    def request(self, method, path, body=None, headers=None):
        """Send one request; return (status, headers, body as text)."""
        sent = dict(headers or {})
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={m.value}" for k, m in self.cookies.items())
        self.connection.request(method, path, body=body, headers=sent)
        response = self.connection.getresponse()
        text = response.read().decode("utf-8", errors="replace")
        for cookie in response.headers.get_all("Set-Cookie") or ():
            self.cookies.load(cookie)
        return response.status, response.headers, text

    def reconnect(self):
        """Start a new connection (after an error left the old one unusable); keep the cookies."""
        self.connection.close()
        self.connection = http.client.HTTPConnection(*self.address, timeout=REQUEST_TIMEOUT)

    def close(self):
        self.connection.close()
