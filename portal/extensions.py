"""The Flask extensions, created unbound here and bound to an app in `create_app`."""

from flask_wtf.csrf import CSRFProtect
from htmx_flask import Htmx

csrf = CSRFProtect()
htmx = Htmx()
