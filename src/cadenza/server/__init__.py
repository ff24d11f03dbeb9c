"""The cadenza server: REST API, web UI and background services in one process.

Start it with ``cadenza server start``; build the app with
:func:`cadenza.server.app.create_app`. Nothing here is imported by ``import cadenza``.
"""
