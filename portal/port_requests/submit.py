"""The Submit step and cancelling a submitted request."""
