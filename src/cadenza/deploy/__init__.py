"""Deployments: flows that run by themselves, on schedules, on workers of a work pool.

The modules here are imported on use: ``import cadenza`` does not load them.
"""
