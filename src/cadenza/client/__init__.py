"""Clients of a cadenza server: the stores of each domain, implemented over its REST API."""
