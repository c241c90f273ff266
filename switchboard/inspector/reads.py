"""What the inspector reads from the local stack's emulator: subjects, one subject's timeline, the
queues' depths; and the one thing it changes: a DLQ redrive.

The local table is small (an in-memory emulator that a restart empties), so the subject list is one
bounded Scan: every subject with its event count, current status and latest receipt. In AWS this
would be the wrong tool; the inspector is local only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from shared import history, storage
from switchboard.inspector.timeline import timeline

MAX_SCAN_ITEMS = 20_000  # items read for the subject list, at most
MAX_SUBJECTS = 200  # subjects listed, the most recently received first
QUEUES = ("events", "events_dlq", "ingest", "ingest_dlq")
REDRIVABLE = ("ingest", "events")


def recent_subjects(dynamodb: Any, table: str) -> list[dict[str, Any]]:
    """Every subject of the table, newest receipt first, at most MAX_SUBJECTS."""
    subjects: dict[str, dict[str, Any]] = {}
    for item in _scan(dynamodb, table):
        pk = history.attr(item, "pk")
        if not pk.startswith(storage.SUBJECT_PREFIX):
            continue  # a credential binding
        provider, product, subject_id = history.subject_of(pk)
        entry = subjects.setdefault(
            pk,
            {
                "provider": provider,
                "product": product,
                "subject_id": subject_id,
                "status": None,
                "terminal": False,
                "events": 0,
                "last_received_at": "",
            },
        )
        _add_item(entry, item)
    ordered = sorted(subjects.values(), key=lambda s: s["last_received_at"], reverse=True)
    return ordered[:MAX_SUBJECTS]


def _add_item(entry: dict[str, Any], item: Mapping[str, Any]) -> None:
    sk = history.attr(item, "sk")
    if sk == storage.STATUS_SK:
        current = history.readable_status(item)
        if current is not None:
            entry["status"], entry["terminal"] = current["status"], current["terminal"]
    elif sk.startswith(storage.HISTORY_PREFIX):
        entry["events"] += 1
        received = history.stored_event(item).get("received_at")
        if isinstance(received, str) and received > entry["last_received_at"]:
            entry["last_received_at"] = received


def _scan(dynamodb: Any, table: str) -> Iterable[Mapping[str, Any]]:
    kwargs: dict[str, Any] = {"TableName": table, "ConsistentRead": True}
    read = 0
    while read < MAX_SCAN_ITEMS:
        page = dynamodb.scan(**kwargs, Limit=min(1000, MAX_SCAN_ITEMS - read))
        items = page.get("Items", [])
        read += len(items)
        yield from items
        if not page.get("LastEvaluatedKey"):
            return
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def subject_timeline(
    dynamodb: Any, table: str, provider: str, product: str, subject_id: str, deliveries: Mapping[str, int]
) -> dict[str, Any] | None:
    """The subject's current status and its marked timeline (switchboard.inspector.timeline);
    None when the table holds nothing for it."""
    pk = storage.subject_pk(provider, product, subject_id)
    body, current = history.read_subject_and_current(dynamodb, table, pk)
    if body is None:
        return None
    # the event the status item names settles the ties the receipt order cannot (timeline's docstring)
    points = timeline(body["history"], deliveries, current["event_id"] if current else None)
    return {
        "subject_id": body["subject_id"],
        "provider": body["provider"],
        "product": body["product"],
        "status": body["status"],
        "terminal": body["terminal"],
        "updated_at": body["updated_at"],
        "truncated": body["truncated"],
        "points": [p.as_json() for p in points],
    }


def queue_depths(sqs: Any, queues: Mapping[str, str]) -> dict[str, dict[str, int]]:
    """Each queue's visible and in-flight (received, not yet deleted) message counts."""
    return {name: queue_counts(sqs, queues[name]) for name in QUEUES}


def queue_counts(sqs: Any, url: str) -> dict[str, int]:
    """One queue's visible and in-flight message counts."""
    attrs = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return {
        "visible": int(attrs.get("ApproximateNumberOfMessages", 0)),
        "in_flight": int(attrs.get("ApproximateNumberOfMessagesNotVisible", 0)),
    }


def redrive(sqs: Any, queues: Mapping[str, str], queue: str) -> int:
    """Move the queue's DLQ messages back to it, as `switchboard redrive --queue QUEUE` does locally."""
    from switchboard.cli import _move_messages

    if queue not in REDRIVABLE:
        raise ValueError(f"queue must be one of {', '.join(REDRIVABLE)}")
    return _move_messages(sqs, queues[f"{queue}_dlq"], queues[queue])
