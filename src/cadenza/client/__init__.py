"""Clients of a cadenza server's REST API, implementing the store interfaces over HTTP."""
