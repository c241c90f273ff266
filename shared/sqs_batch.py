"""SendMessageBatch's limits, once, for every writer: the ingress (webhook.py), the recorder's
publish and `switchboard replay`.

SQS takes at most 10 entries per call, and counts a message's size — per message and per call,
256 KiB each — as its body plus, for every message attribute, its name, data type and value.
Stdlib only: the ingress imports it on the request path.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

BATCH_ENTRIES = 10
MAX_BYTES = 256 * 1024  # per message, and per SendMessageBatch call

T = TypeVar("T")


def valid_fifo_id(text: str) -> bool:
    """A FIFO message group or deduplication id: at most 128 printable ASCII characters, no spaces."""
    return len(text) <= 128 and all("!" <= c <= "~" for c in text)


def sqs_size(entry: Mapping[str, Any]) -> int:
    """An entry's size as SQS counts it against MAX_BYTES: the body's bytes and each attribute's
    name, data type and value."""
    size = len(entry["MessageBody"].encode("utf-8"))
    for name, attr in (entry.get("MessageAttributes") or {}).items():
        value = attr.get("StringValue")
        size += len(name.encode("utf-8")) + len(attr["DataType"].encode("utf-8"))
        size += len(value.encode("utf-8")) if isinstance(value, str) else len(attr.get("BinaryValue", b""))
    return size


def batches(items: Iterable[T], size: Callable[[T], int]) -> list[list[T]]:
    """Items in call order, cut into SendMessageBatch calls of at most BATCH_ENTRIES and MAX_BYTES.
    An item over MAX_BYTES on its own must be set aside by the caller first (SQS refuses it)."""
    out: list[list[T]] = []
    total = 0
    for item in items:
        n = size(item)
        if not out or len(out[-1]) == BATCH_ENTRIES or total + n > MAX_BYTES:
            out.append([])
            total = 0
        out[-1].append(item)
        total += n
    return out
