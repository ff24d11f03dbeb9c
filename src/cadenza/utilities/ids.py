"""Identifiers of runs: time-ordered UUIDs (version 7).

Ids that grow with time keep the B-tree indexes of the store append-mostly, which
is what lets it insert a million task runs quickly, and make "oldest first" a
primary-key order. Within one process ids are strictly increasing, also within a
millisecond: the 12 bits after the timestamp count up (RFC 9562, method 1), so
ids made in the same millisecond already differ in their 15th to 17th hex digit
and short prefixes stay unique.
"""

from __future__ import annotations

import random
import threading
import time

_getrandbits = random.getrandbits  # the module-level generator is re-seeded after fork
_time_ns = time.time_ns
_lock = threading.Lock()
_last_ms = 0
_counter = 0


def uuid7() -> str:
    """A new UUIDv7 string: 48 bits of Unix milliseconds, a 12-bit counter, 62 random bits."""
    global _last_ms, _counter
    ms = _time_ns() // 1_000_000
    with _lock:
        if ms > _last_ms:
            counter = _getrandbits(10)  # a random start leaves room to count up
        else:
            ms = _last_ms
            counter = _counter + 1
            if counter > 0xFFF:  # 4096 ids in one millisecond: borrow the next one
                ms += 1
                counter = _getrandbits(10)
        _last_ms = ms
        _counter = counter
    tail = _getrandbits(62)
    return "%08x-%04x-%04x-%04x-%012x" % (  # noqa: UP031 - the fastest formatting here
        ms >> 16,
        ms & 0xFFFF,
        0x7000 | counter,
        0x8000 | (tail >> 48),
        tail & 0xFFFFFFFFFFFF,
    )
