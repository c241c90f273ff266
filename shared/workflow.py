"""A Messages API native failover as one timeline (providers-more.md §3).

Each attempt of a failover is its own message (most likely its own ``message_uuid``) whose statuses
carry ``workflow {id, item_number, items_total}``; the normalised event repeats it as ``workflow``
and the recorder's history item is then also in the sparse index ``by_workflow``. This module reads
one workflow's events and answers:

* each attempt (by item number and message): its current status, folded from its own events with
  the same rule as a subject's status item (``status_rank.supersedes``);
* the workflow's state: ``succeeded`` when an attempt reached ``delivered`` or ``read``;
  ``failed`` when the last attempt (``item_number == items_total``) ended ``rejected`` or
  ``undeliverable``; otherwise ``in_progress``. Vonage fails over only on ``rejected``
  (providers-more.md §3.1); whether ``undeliverable`` also fails over is unknown, so an
  ``undeliverable`` attempt before the last does not by itself fail the workflow.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from shared import storage
from shared.history import MAX_READ_ITEMS, stored_event, time_order
from shared.status_rank import position, supersedes

SUCCESS: Final = frozenset({"delivered", "read"})
FAILURE: Final = frozenset({"rejected", "undeliverable"})
MAX_WORKFLOW_ID: Final = 256

Item = dict[str, Any]


def read_workflow(
    dynamodb: Any, table: str, workflow_id: str, provider: str = "vonage", product: str = "messages"
) -> dict[str, Any] | None:
    """The workflow's answer, or None when no event of it is recorded."""
    items, complete = _read_index(dynamodb, table, storage.workflow_partition(provider, product, workflow_id))
    if not items:
        return None
    events = sorted((stored_event(item) for item in items), key=time_order)
    return {**summarise(workflow_id, events), "truncated": not complete}


def _read_index(dynamodb: Any, table: str, partition: str) -> tuple[list[Item], bool]:
    kwargs = storage.query_workflow(table, partition)
    items: list[Item] = []
    while True:
        page = dynamodb.query(**{**kwargs, "Limit": MAX_READ_ITEMS + 1 - len(items)})
        items.extend(page.get("Items", []))
        if len(items) > MAX_READ_ITEMS:
            return items[:MAX_READ_ITEMS], False
        last = page.get("LastEvaluatedKey")
        if not last:
            return items, True
        kwargs = {**kwargs, "ExclusiveStartKey": last}


def summarise(workflow_id: str, events: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Attempts and state of one workflow from its events (in time order)."""
    attempts: dict[tuple[int, str], dict[str, Any]] = {}
    totals: list[int] = []
    for event in events:
        flow = event.get("workflow") or {}
        number = flow.get("item_number")
        item = number if isinstance(number, int) else 0
        if isinstance(flow.get("items_total"), int):
            totals.append(flow["items_total"])
        key = (item, str(event.get("subject_id", "")))
        attempt = attempts.setdefault(key, _attempt(item, event))
        _fold(attempt, event)
    ordered = sorted(attempts.values(), key=lambda a: (a["item_number"] or 0, a["message_uuid"]))
    items_total = max(totals) if totals else None
    first = events[0] if events else {}
    return {
        "workflow_id": workflow_id,
        "provider": first.get("provider"),
        "product": first.get("product"),
        "state": state(ordered, items_total),
        "items_total": items_total,
        "attempts": [{k: v for k, v in a.items() if not k.startswith("_")} for a in ordered],
        "history": list(events),
    }


def _attempt(item: int, event: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "item_number": item or None,
        "message_uuid": event.get("subject_id"),
        "channel": event.get("channel"),
        "status": None,
        "terminal": False,
        "occurred_at": None,
        "event_id": None,
        "_position": None,
        "_received_at": None,
    }


def _fold(attempt: dict[str, Any], event: Mapping[str, Any]) -> None:
    """The attempt's current status: the event replaces it when it supersedes it, as the recorder's
    condition on a subject's status item decides."""
    new = position(event["product"], event["type"], event["status"], event.get("provider"))
    current = attempt["_position"]
    if not supersedes(
        new,
        event["occurred_at"],
        current,
        attempt["occurred_at"],
        new_received_at=event.get("received_at"),
        current_received_at=attempt["_received_at"],
    ):
        return
    assert new is not None  # supersedes() is False for an informational status
    attempt.update(
        status=event["status"],
        terminal=new.terminal,
        occurred_at=event["occurred_at"],
        event_id=event["event_id"],
        channel=event.get("channel") or attempt["channel"],
        _position=new,
        _received_at=event.get("received_at"),
    )


def state(attempts: Sequence[Mapping[str, Any]], items_total: int | None) -> str:
    if any(a["status"] in SUCCESS for a in attempts):
        return "succeeded"
    last = [a for a in attempts if items_total is not None and a["item_number"] == items_total]
    if last and all(a["status"] in FAILURE for a in last):
        return "failed"
    return "in_progress"
