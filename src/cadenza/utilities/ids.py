"""Identifiers of runs: time-ordered UUIDs (version 7).

Ids that grow with time keep the B-tree indexes of the store append-mostly, which
is what lets it insert a million task runs quickly, and make "newest first" a
primary-key order.
"""

from __future__ import annotations

import random
import time

_getrandbits = random.getrandbits  # the module-level generator is re-seeded after fork
_time_ns = time.time_ns


def uuid7() -> str:
    """A new UUIDv7 string: 48 bits of Unix milliseconds, then 74 random bits."""
    ms = _time_ns() // 1_000_000
    r = _getrandbits(74)
    h = f"{ms:012x}{0x7000 | (r >> 62):04x}{0x8000 | ((r >> 48) & 0x3FFF):04x}{r & 0xFFFFFFFFFFFF:012x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
