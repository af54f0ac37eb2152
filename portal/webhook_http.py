"""One POST to a webhook (no Flask): to an address checked beforehand, bounded in time and size.

The socket goes to an address portal/webhook_urls.py allowed, while the Host header, TLS SNI and
the certificate check name the URL's host. No redirect is followed, a 2xx answer's body is never
read and at most MAX_RESPONSE_BYTES of another's is, and a watchdog shuts the socket at the
timeout: socket timeouts bound each read, not the whole, and a receiver dripping a byte a second
would otherwise hold the sender as long as it likes.
"""

import contextlib
import http.client
import socket
import ssl
import threading
import time
from dataclasses import dataclass

# Enough of a refusal's body to say why; the rest is never read.
MAX_RESPONSE_BYTES = 1024


@dataclass(frozen=True)
class Answer:
    """What the receiver answered: its status, and for a refusal the start of its body."""

    status: int
    reason: str
    excerpt: bytes
    location: str | None


def post(target, addresses, body, headers, *, timeout, tls=None):
    """POST to the first of the checked addresses that connects; return its Answer.

    Raise TimeoutError after `timeout` seconds in all, OSError or HTTPException when it fails.
    """
    if target.scheme == "https" and tls is None:
        tls = ssl.create_default_context()
    deadline = time.monotonic() + timeout
    connection = _Pinned(target, addresses, deadline, tls if target.scheme == "https" else None)
    # Socket timeouts bound each read, not the whole POST: the watchdog bounds the whole.
    watchdog = threading.Timer(timeout, connection.cut)
    watchdog.start()
    response = None
    try:
        connection.request("POST", target.path, body=body, headers=headers)
        response = connection.getresponse()
        if connection.cut_off:
            # The shut socket ended the headers early: http.client takes that end for theirs.
            raise TimeoutError(f"no answer within {timeout} s")
        excerpt = b""
        if not 200 <= response.status < 300:
            # One read at most: a body trickling in must not hold the answer.
            with contextlib.suppress(OSError, http.client.HTTPException):
                excerpt = response.read1(MAX_RESPONSE_BYTES)
        return Answer(response.status, response.reason, excerpt, response.getheader("Location"))
    except (OSError, http.client.HTTPException):
        if connection.cut_off:
            raise TimeoutError(f"no answer within {timeout} s") from None
        raise
    finally:
        watchdog.cancel()
        if response is not None:
            response.close()  # unread, a 2xx body included: closing is all it gets
        connection.close()


class _Pinned(http.client.HTTPConnection):
    """A connection to addresses checked beforehand: the socket goes to one of them, while the
    Host header, SNI and the certificate check name the URL's host."""

    def __init__(self, target, addresses, deadline, tls=None):
        super().__init__(target.host, target.port)
        # Host then names the port only when it is not the scheme's own.
        self.default_port = 443 if tls is not None else 80
        self.addresses = addresses
        self.deadline = deadline
        self.tls = tls
        self.cut_off = False
        # The socket itself: the response keeps reading it after `self.sock` is let go.
        self.socket = None

    def connect(self):
        self.sock = self.socket = _connect_first(self.addresses, self.port, self.deadline)
        if self.tls is not None:
            self.sock = self.socket = self.tls.wrap_socket(self.sock, server_hostname=self.host)

    def cut(self):
        """Shut the socket now: whatever waits on it ends (the watchdog's doing)."""
        self.cut_off = True
        sock = self.socket
        if sock is not None:
            with contextlib.suppress(OSError):
                # The plain socket's shutdown, also under TLS: it wakes a read in progress.
                socket.socket.shutdown(sock, socket.SHUT_RDWR)


def _connect_first(addresses, port, deadline):
    error = None
    for address in addresses:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        try:
            return socket.create_connection((address, port), timeout=remaining)
        except OSError as failed:
            error = failed
    raise error or TimeoutError("no time left to connect")
