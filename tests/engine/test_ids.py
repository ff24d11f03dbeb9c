"""Run ids: valid UUIDv7, strictly increasing, unique, short prefixes."""

from __future__ import annotations

import threading
import uuid

from cadenza.utilities.ids import uuid7


def test_ids_are_uuid7_increasing_and_unique() -> None:
    ids = [uuid7() for _ in range(50_000)]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
    parsed = uuid.UUID(ids[0])
    assert parsed.version == 7 and parsed.variant == uuid.RFC_4122


def test_ids_made_together_differ_early() -> None:
    # Ids of the same millisecond differ in the counter right after the timestamp.
    a, b = uuid7(), uuid7()
    assert a[:14] == b[:14] or a[:8] != b[:8]
    assert a[:19] != b[:19]


def test_ids_from_many_threads_are_unique() -> None:
    out: list[str] = []

    def make() -> None:
        out.extend(uuid7() for _ in range(5_000))

    threads = [threading.Thread(target=make) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(out)) == 20_000
