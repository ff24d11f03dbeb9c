"""Clients of a cadenza server."""
