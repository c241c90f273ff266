"""Vonage Voice API answer and event webhooks (providers.md §5), and the fallback URL
(``fallback_answer_url``, providers-more.md §6)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from shared import safejson
from shared.errors import InvalidField
from shared.payload import Parts, content_digest, parse_timestamp, required, scalar
from shared.providers.base import Lifecycle, Product, Route, end, step


def parse(kind: str | None, data: Mapping[str, Any]) -> Parts:
    # AMD (human/machine) events carry `call_uuid`; record events may carry only `conversation_uuid`.
    call_uuid = required(data, "uuid", "call_uuid", "conversation_uuid")
    occurred = parse_timestamp(scalar(data, "timestamp"))
    if kind == "answer":
        return Parts("answer", call_uuid, "answered", occurred, "voice", (call_uuid, "answer"))
    if kind == "fallback":
        return _fallback(call_uuid, occurred, data)
    status = event_status(data)
    # Vonage gives no id to an event webhook, and two deliveries can share uuid, status and timestamp
    # (two DTMF inputs in one second): the identity is the payload itself. A retry, even re-signed,
    # carries the same payload, so it is the same event.
    return Parts(
        "event", call_uuid, status, occurred, "voice", (call_uuid, "event", status, wire_digest(data))
    )


def wire_digest(data: Mapping[str, Any]) -> str:
    """The payload's digest as one request reads over POST (JSON) or GET (text): every value as its
    text — numbers and booleans as JSON writes them, objects and arrays as canonical JSON, a string
    holding a JSON object or array as that value. An event POSTed with ``dtmf`` as an object and
    ``size`` as a number, and its fallback by GET (the default: providers-more §6) carrying them as
    text, are then one event. (Vonage does not document how GET carries nested values; JSON text is
    assumed, and ``[key]`` brackets would not match.)"""
    return content_digest({key: _as_text(value) for key, value in data.items()})


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        if value.lstrip()[:1] not in ("{", "["):
            return value
        try:  # only an object or an array starts so
            value = safejson.loads(value, max_depth=safejson.MAX_DEPTH - 1)
        except safejson.JsonRejected:
            return str(value)
    if value is None:
        return ""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True, default=str)


def _fallback(call_uuid: str, occurred: datetime | None, data: Mapping[str, Any]) -> Parts:
    """A fallback repeats an answer or event request that failed (and that may have been recorded
    all the same, had our answer only been slow): its identity is the original request's, computed
    from the payload without ``reason`` and ``original_request*``, so a fallback of a recorded
    request, and a retry of the fallback, are that one event (the recorder keeps the first copy).
    The type stays ``voice.fallback``; the status is the one the original would have. A fallback
    whose original type is neither answer nor event is an event of its own."""
    original = {k: v for k, v in data.items() if k != "reason" and not k.startswith("original_request")}
    original_type = _original_type(data)
    if original_type == "answer":
        return Parts("fallback", call_uuid, "answered", occurred, "voice", (call_uuid, "answer"))
    status = event_status(original)
    key: tuple[str, ...]
    if original_type == "event":
        key = (call_uuid, "event", status, wire_digest(original))
    else:
        key = (call_uuid, "fallback", wire_digest(original))
    return Parts("fallback", call_uuid, status, occurred, "voice", key)


def _original_type(data: Mapping[str, Any]) -> str | None:
    """``original_request.type``, however it travelled: a JSON object (POST), ``original_request
    [type]`` or ``original_request.type`` (GET), or the object as JSON text (GET; Vonage does not
    document the GET encoding). Lower-case, or None."""
    value = data.get("original_request")
    if isinstance(value, list):  # a GET parameter given twice: the first, like every field
        value = value[0] if value else None
    if isinstance(value, str):
        try:
            value = safejson.loads(value, max_depth=safejson.MAX_DEPTH - 1)
        except safejson.JsonRejected:
            value = None
    found = value.get("type") if isinstance(value, Mapping) else None
    if found is None:
        found = scalar(data, "original_request[type]")
    if found is None:
        found = scalar(data, "original_request.type")
    return found.strip().lower() if isinstance(found, str) else None


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
    kinds=("answer", "event", "fallback"),
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
        # The fallback's http_method is configured like the answer URL's, and GET is the answer
        # URL's default: GET here too. Its answer is the fallback NCCO (VoiceFallbackNcco; unset:
        # the answer NCCO), since Vonage disconnects a call whose fallback returns no NCCO.
        Route(
            "/vonage/voice/fallback",
            ("GET", "POST"),
            "vonage",
            "vonage_jwt",
            "voice",
            "fallback",
            answer="fallback_ncco",
            default_method="GET",
            samples="fallback",
        ),
    ),
    samples="voice",
    natural_key=(
        "answer: call uuid; event: call uuid + status + SHA-256 of the payload (Vonage gives no event"
        " id); fallback: the original answer's or event's key (without reason, original_request)"
    ),
)
