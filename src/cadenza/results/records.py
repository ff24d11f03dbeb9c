"""A stored result: its metadata and its serialized value, in one file.

Layout: the magic ``CZR1``, the length of the metadata (4 bytes, big endian), the
metadata as JSON, then the serialized value. The metadata says how to read the
value (``serializer``), where it came from (``task_run_id``, ``task_key``,
``cache_key``) and until when it may be used (``expires``).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

_MAGIC = b"CZR1"


class CorruptResult(ValueError):
    """The bytes are not a result record."""


@dataclass(slots=True)
class ResultRecord:
    serializer: str
    payload: bytes
    task_run_id: str | None = None
    task_key: str | None = None
    cache_key: str | None = None
    created: float = field(default_factory=time.time)
    expires: float | None = None

    def is_expired(self, now: float | None = None) -> bool:
        return self.expires is not None and (now or time.time()) >= self.expires

    def to_bytes(self) -> bytes:
        meta = json.dumps(
            {
                "serializer": self.serializer,
                "task_run_id": self.task_run_id,
                "task_key": self.task_key,
                "cache_key": self.cache_key,
                "created": self.created,
                "expires": self.expires,
            },
            separators=(",", ":"),
        ).encode()
        return b"".join((_MAGIC, len(meta).to_bytes(4, "big"), meta, self.payload))

    @classmethod
    def from_bytes(cls, data: bytes) -> ResultRecord:
        if data[:4] != _MAGIC or len(data) < 8:
            raise CorruptResult("not a cadenza result file")
        size = int.from_bytes(data[4:8], "big")
        try:
            meta: dict[str, Any] = json.loads(data[8 : 8 + size])
        except ValueError as exc:
            raise CorruptResult(f"unreadable metadata: {exc}") from None
        if len(data) < 8 + size or "serializer" not in meta:
            raise CorruptResult("truncated result file")
        return cls(
            serializer=meta["serializer"],
            payload=data[8 + size :],
            task_run_id=meta.get("task_run_id"),
            task_key=meta.get("task_key"),
            cache_key=meta.get("cache_key"),
            created=meta.get("created") or 0.0,
            expires=meta.get("expires"),
        )
