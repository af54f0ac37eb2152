"""Carrier Relations' console: the queue, a request's page and its moves, and the packet."""
