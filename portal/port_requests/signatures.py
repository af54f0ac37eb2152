"""The portal's side of signing an LOA: what `signing` is asked to do, and what it is told back."""


class PortalHooks:
    """What the portal does at each turn of an LOA's signature (see `signing.envelopes.Hooks`)."""
