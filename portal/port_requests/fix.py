"""The owner's fix page for a request sent back by Carrier Relations, and its resubmit."""

from portal.port_requests.blueprint import bp  # noqa: F401  (its routes join the bp)
