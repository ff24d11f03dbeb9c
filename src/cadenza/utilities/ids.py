"""Identifiers of runs: time-ordered UUIDs (version 7).

Ids that grow with time keep the B-tree indexes of the store append-mostly, which
is what lets it insert a million task runs quickly, and make "oldest first" a
primary-key order. Within one process ids are strictly increasing, also within a
millisecond (RFC 9562, method 2: the random part counts up).
"""

from __future__ import annotations

import random
import threading
import time

_getrandbits = random.getrandbits  # the module-level generator is re-seeded after fork
_time_ns = time.time_ns
_lock = threading.Lock()
_last_ms = 0
_last_rand = 0
_RAND_MAX = (1 << 74) - 1


def uuid7() -> str:
    """A new UUIDv7 string: 48 bits of Unix milliseconds, then 74 random bits."""
    global _last_ms, _last_rand
    ms = _time_ns() // 1_000_000
    with _lock:
        if ms <= _last_ms:
            ms = _last_ms
            r = _last_rand + 1 + _getrandbits(16)
            if r > _RAND_MAX:  # more than ~2^58 ids in one millisecond: borrow the next
                ms += 1
                r = _getrandbits(73)
        else:
            r = _getrandbits(73)  # leave headroom for counting up
        _last_ms = ms
        _last_rand = r
    h = f"{ms:012x}{0x7000 | (r >> 62):04x}{0x8000 | ((r >> 48) & 0x3FFF):04x}{r & 0xFFFFFFFFFFFF:012x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
