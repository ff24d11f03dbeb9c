"""The ``cadenza`` command line: one module per noun (runs, flows, db).

Only :mod:`click` is imported at module level; the store, SQLAlchemy and rich are
imported by the commands that use them, so that ``cadenza --help`` starts fast.
"""
