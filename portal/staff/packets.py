"""The completed packet: staff download it sealed; anyone may verify a packet on its page or with
`flask --app wsgi packet verify FILE.pdf`."""

from flask import Blueprint

bp = Blueprint("packets", __name__, cli_group="packet")
