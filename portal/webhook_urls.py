"""Where a webhook may point: an HTTPS URL whose host resolves to public addresses only (no Flask).

Otherwise anyone who can register a webhook could make the portal POST into its own network
(a database's HTTP port, a cloud metadata address). The check runs when the owner registers the
URL and again before every POST, since a DNS answer can change in between; the sender then
connects to the addresses this check allowed and never asks DNS a second time, so a name that
answers a public address to the check and a private one to the connection gets nowhere.
WEBHOOK_ALLOW_PRIVATE lifts the rule (and allows http://) for tests and a private network.
"""

import ipaddress
import re
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

MAX_URL = 2000
EXAMPLE = "https://hooks.example.com/portdesk"
# What an address is, said with its article, checked in this order (127.0.0.1 is private too,
# but "loopback" says more).
KINDS = (
    ("is_loopback", "a loopback address"),
    ("is_link_local", "a link-local address"),
    ("is_multicast", "a multicast address"),
    ("is_unspecified", "an unspecified address"),
    ("is_reserved", "a reserved address"),
    ("is_private", "a private address"),
)
# IPv6 prefixes that carry an IPv4 address a gateway would connect to (RFC 6052 NAT64).
NAT64 = ipaddress.ip_network("64:ff9b::/96")
# Letters, digits, hyphens (and the underscores some DNS names carry), in dot-separated labels.
HOST_NAME = re.compile(r"[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*\.?")


class UrlRefused(ValueError):
    """The URL is not one a webhook may point at; the message says why, for the owner."""


@dataclass(frozen=True)
class Target:
    """A checked webhook URL, taken apart for the connection."""

    url: str
    scheme: str
    host: str  # ASCII (IDNA), without brackets around an IPv6 address
    port: int
    path: str  # the path and query, as the request line carries them


def parse(url, *, allow_private=False):
    """Return the URL taken apart, or raise UrlRefused saying what is wrong with it."""
    url = (url or "").strip()
    if not url:
        raise UrlRefused(f"Enter the URL your system listens on, such as {EXAMPLE}.")
    if len(url) > MAX_URL:
        raise UrlRefused(f"A URL is at most {MAX_URL:,} characters; this one has {len(url):,}.")
    if any(char.isspace() or ord(char) < 32 or ord(char) == 127 for char in url):
        raise UrlRefused("A URL has no spaces or control characters: encode a space as %20.")
    parts = urlsplit(url)
    schemes = ("https", "http") if allow_private else ("https",)
    if parts.scheme.lower() not in schemes:
        raise UrlRefused(
            "Use an https:// or http:// URL."
            if allow_private
            else "Use an https:// URL: events carry your requests' details, so they travel "
            "encrypted."
        )
    if parts.username is not None or parts.password is not None:
        raise UrlRefused(
            "Leave the user name and password out of the URL: every event is signed instead "
            "(the X-PortDesk-Signature header), so your system knows it came from PortDesk."
        )
    if parts.fragment or url.endswith("#"):
        raise UrlRefused("Leave out the part from # on: a browser keeps it, no server gets it.")
    if not parts.hostname:
        raise UrlRefused(f"The URL has no host name: it should look like {EXAMPLE}.")
    try:
        port = parts.port
    except ValueError:
        port = 0
    if port == 0:
        raise UrlRefused("The port in the URL must be a number from 1 to 65535.")
    scheme = parts.scheme.lower()
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    default_port = 443 if scheme == "https" else 80
    return Target(url, scheme, _ascii_host(parts.hostname), port or default_port, path)


def _ascii_host(hostname):
    if _address(hostname) is not None:
        return hostname
    try:
        host = hostname.encode("idna").decode("ascii")
    except UnicodeError:
        host = ""
    if not HOST_NAME.fullmatch(host):
        raise UrlRefused(f"{hostname} is not a host name: it should look like hooks.example.com.")
    return host


def _address(text):
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def resolve(host, port):
    """Return the addresses DNS gives for the host, in its order, each once."""
    found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(info[4][0] for info in found))


def addresses_of(target, *, allow_private=False):
    """Return the addresses to connect to for the target, each one allowed.

    Raise UrlRefused when the host cannot be found or any of its addresses is not public: one
    private address among public ones would let a connection land inside.
    """
    try:
        addresses = resolve(target.host, target.port)
    except (OSError, UnicodeError):
        raise UrlRefused(
            f"{target.host} could not be found (DNS): check the spelling, or register the URL "
            "once its DNS is live."
        ) from None
    if not addresses:
        raise UrlRefused(f"{target.host} has no address (DNS).")
    if allow_private:
        return addresses
    for address in addresses:
        kind = kind_of(address)
        if kind is None:
            continue
        if address == target.host:
            said = f"{address} is {kind}"
        else:
            said = f"{target.host} resolves to {address}, {kind}"
        raise UrlRefused(f"{said}: webhooks go only to public addresses on the internet.")
    return addresses


def check(url, *, allow_private=False):
    """Return the URL taken apart once it and every address of its host are allowed."""
    target = parse(url, allow_private=allow_private)
    addresses_of(target, allow_private=allow_private)
    return target


def kind_of(address):
    """Return what the address is when it is not a public one ("a private address"), else None."""
    ip = ipaddress.ip_address(address.split("%")[0])
    if ip.version == 6:
        # An IPv6 form of an IPv4 address reaches that IPv4 address: judge it by that one.
        if ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        elif ip.sixtofour is not None:
            ip = ip.sixtofour
        elif ip in NAT64:
            ip = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    for test, kind in KINDS:
        if getattr(ip, test):
            return kind
    if not ip.is_global:
        return "a special-purpose address"
    return None
