"""Vonage Messages API inbound messages and message statuses (providers.md §2), including native
failover (providers-more.md §3): each attempt's status carries ``workflow {id, item_number,
items_total}``; the event repeats it as a top-level ``workflow`` so that a workflow's attempts can be
read as one timeline (``GET /workflows/{id}``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.payload import Parts, integer, optional, parse_timestamp, required, scalar, status_of
from shared.providers.base import Lifecycle, Product, Route, end, step


def parse(kind: str | None, data: Mapping[str, Any]) -> Parts:
    message_uuid = required(data, "message_uuid")
    occurred = parse_timestamp(scalar(data, "timestamp"))
    channel = optional(data, "channel")
    if kind == "inbound":
        return Parts("inbound", message_uuid, "received", occurred, channel, (message_uuid, "inbound"))
    status = status_of(data)
    # A failover sends each attempt's statuses, perhaps under one message_uuid, each on its own
    # channel and workflow item (providers-more.md §3): both are part of the delivery's identity.
    key = (message_uuid, "status", status, channel or "", *_workflow_key(data))
    workflow = workflow_of(data)
    extra = (("workflow", workflow),) if workflow else ()
    return Parts("status", message_uuid, status, occurred, channel, key, extra=extra)


def _workflow_key(data: Mapping[str, Any]) -> tuple[str, str]:
    """The failover ``workflow`` object's id and item number (string or integer), or blanks."""
    workflow = data.get("workflow")
    if not isinstance(workflow, Mapping):
        return "", ""
    item = integer(workflow.get("item_number"))
    item_text = "" if item is None else str(item)
    workflow_id = workflow.get("id")
    return (workflow_id if isinstance(workflow_id, str) else ""), item_text


def _count(value: Any) -> int | None:
    """``item_number`` / ``items_total`` arrive as integers or digit strings (Java's test)."""
    number = integer(value)
    return number if number is not None and 0 < number < 1_000_000 else None


def workflow_of(data: Mapping[str, Any]) -> dict[str, Any] | None:
    """The failover ``workflow`` as ``{id, item_number, items_total}`` (numbers coerced, ``total_items``
    accepted as Java does), or None when the status has no workflow id."""
    workflow = data.get("workflow")
    if not isinstance(workflow, Mapping):
        return None
    workflow_id = workflow.get("id")
    if not isinstance(workflow_id, str) or not workflow_id or len(workflow_id) > 256:
        return None
    total = workflow.get("items_total", workflow.get("total_items"))
    return {
        "id": workflow_id,
        "item_number": _count(workflow.get("item_number")),
        "items_total": _count(total),
    }


PRODUCT = Product(
    provider="vonage",
    name="messages",
    parse=parse,
    # Unknown: below `delivered` (a confirmed delivery is not undone by a status we cannot
    # interpret) but above `submitted`.
    lifecycle=Lifecycle(
        unknown=step(20),
        statuses={
            "received": step(10),
            "submitted": step(10),
            "delivered": step(30),  # not terminal: `read` follows on OTT channels and RCS
            "read": end(40),
            "rejected": end(40),
            "undeliverable": end(40),
        },
    ),
    kinds=("inbound", "status"),
    routes=(
        Route(
            "/vonage/messages/inbound",
            ("POST",),
            "vonage",
            "vonage_jwt",
            "messages",
            "inbound",
            samples="inbound",
        ),
        Route(
            "/vonage/messages/status",
            ("POST",),
            "vonage",
            "vonage_jwt",
            "messages",
            "status",
            samples="status",
        ),
    ),
    samples="messages",
    natural_key="inbound: message_uuid; status: message_uuid + status + channel + failover workflow id/item",
)
