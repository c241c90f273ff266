"""Vonage Voice API answer and event webhooks (providers.md §5)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.errors import InvalidField
from shared.payload import Parts, content_digest, parse_timestamp, required, scalar
from shared.providers.base import Lifecycle, Product, Route, end, step


def parse(kind: str | None, data: Mapping[str, Any]) -> Parts:
    # AMD (human/machine) events carry `call_uuid`; record events may carry only `conversation_uuid`.
    call_uuid = required(data, "uuid", "call_uuid", "conversation_uuid")
    occurred = parse_timestamp(scalar(data, "timestamp"))
    if kind == "answer":
        return Parts("answer", call_uuid, "answered", occurred, "voice", (call_uuid, "answer"))
    status = event_status(data)
    # Vonage gives no id to an event webhook, and two deliveries can share uuid, status and timestamp
    # (two DTMF inputs in one second): the identity is the payload itself. A retry, even re-signed,
    # carries the same payload, so it is the same event.
    return Parts(
        "event", call_uuid, status, occurred, "voice", (call_uuid, "event", status, content_digest(data))
    )


def event_status(data: Mapping[str, Any]) -> str:
    """An event's status, or the word for a status-less event (input, recorded, transfer, event)."""
    raw_status = scalar(data, "status")
    if isinstance(raw_status, str) and raw_status.strip():
        return raw_status.strip().lower()
    if raw_status is not None and raw_status != "":
        raise InvalidField("status must be a string", field="status")
    if "dtmf" in data or "speech" in data:
        return "input"
    if "recording_url" in data:
        return "recorded"
    if "conversation_uuid_to" in data:
        return "transfer"
    return "event"


LIFECYCLE = Lifecycle(
    unknown=step(50),
    statuses={
        "started": step(10),
        "ringing": step(20),
        "answered": step(30),
        "human": step(35),
        "machine": step(35),
        "disconnected": step(80),
        "busy": end(100),
        "cancelled": end(100),
        "unanswered": end(100),
        "rejected": end(100),
        "failed": end(100),
        "timeout": end(100),
        "completed": end(100),
        # not call states: events about the call, never its current status
        "input": None,
        "recorded": None,
        "transcribed": None,
        "transfer": None,
        "event": None,
        "success": None,  # payment event
        "failure": None,  # payment event
    },
)

PRODUCT = Product(
    provider="vonage",
    name="voice",
    parse=parse,
    lifecycle=LIFECYCLE,
    kinds=("answer", "event"),
    routes=(
        Route(
            "/vonage/voice/answer",
            ("GET", "POST"),
            "vonage",
            "vonage_jwt",
            "voice",
            "answer",
            answer="answer_ncco",
            default_method="GET",
            samples="answer",
        ),
        Route(
            "/vonage/voice/event",
            ("GET", "POST"),
            "vonage",
            "vonage_jwt",
            "voice",
            "event",
            answer="empty",
            samples="event",
        ),
    ),
    samples="voice",
    natural_key="answer: call uuid; event: call uuid + status + SHA-256 of the payload (Vonage gives no event id)",
)
