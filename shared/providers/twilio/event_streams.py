"""Twilio Event Streams webhook sinks (providers-more.md §7): a JSON array of CloudEvents per request.

Two products:

* ``event_streams`` owns the route. Its ``split`` gives the CloudEvents of a body; an event type
  Switchboard has no product for is kept as ``event_streams.<cleaned CloudEvent type>``, subject =
  the CloudEvent ``subject`` (else its ``source``), status = the type's last segment.
* ``verify`` (of Twilio; Vonage's ``verify`` is another product) holds the Verify "Verification
  Status" events (``com.twilio.accountsecurity.verify.verification.<status>``, a Twilio **Pilot**
  feature): subject = the verification SID (VE…), status = the type's last segment
  (``max-attempts-reached`` → ``max_attempts_reached``). Storage keys are per (provider, product,
  subject): a Twilio verification never touches a Vonage Verify request.

Identity: Twilio dedupes on the CloudEvent ``id`` (error 91308: "deduplicate incoming events using
the unique Event ID") and keeps it on retries, so the natural key is ``("cloudevent", id)``.

CloudEvents are read leniently (§7.4: the event-type catalogue's samples have no ``time`` and a
timestamp in ``datacontenttype``): only ``id`` and ``type`` are required (400 ``missing_field``),
both strings (CloudEvents 1.0 says so; a number would let ``5`` and ``"5"`` share an id).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

from shared.errors import InvalidField, MissingField
from shared.payload import Parts, clean_type, parse_timestamp
from shared.providers.base import Lifecycle, Product, Route, end, step

VERIFY_TYPE_PREFIX: Final = "com.twilio.accountsecurity.verify.verification."
# A cleaned type becomes the event's `type` (with its product): bounded like subject ids.
MAX_TYPE_LENGTH: Final = 256
_STATUS_WORD = re.compile(r"[a-z][a-z_-]*")
# CloudEvent attributes (CloudEvents 1.0 core + the ones Twilio sends): other top-level keys are
# kept and logged once. Verify's own fields live under `data` and are not tracked.
CLOUDEVENT_FIELDS: Final = frozenset(
    {"specversion", "type", "source", "id", "subject", "time", "dataschema", "datacontenttype", "data"}
)
# Verify: the `data` field that dates a status when the CloudEvent has no `time`.
_DATED_BY: Final = {"approved": "verified_at", "expired": "expired_at"}


def split(body: Any) -> list[Mapping[str, Any]]:
    """The CloudEvents of a body (a JSON array, as the verifier returns it); each must be an object."""
    if not isinstance(body, list):
        raise InvalidField("the body must be a JSON array of CloudEvents", field="body")
    for index, item in enumerate(body):
        if not isinstance(item, dict):
            raise InvalidField(
                "each item of the array must be a CloudEvent (a JSON object)",
                field=f"[{index}]",
                got=type(item).__name__,
            )
    return body


def parse(kind: str | None, event: Mapping[str, Any]) -> Parts:
    event_id, raw_type = _text(event, "id"), _text(event, "type")
    event_type = clean_type(raw_type)
    if len(event_type) > MAX_TYPE_LENGTH:
        raise InvalidField(f"type is longer than {MAX_TYPE_LENGTH} characters", field="type")
    key = ("cloudevent", event_id)
    occurred = parse_timestamp(event.get("time"))
    if event_type.startswith(VERIFY_TYPE_PREFIX) and "." not in event_type[len(VERIFY_TYPE_PREFIX) :]:
        return _verification(event, event_type[len(VERIFY_TYPE_PREFIX) :], occurred, key)
    subject = event.get("subject")
    if not isinstance(subject, str) or not subject:
        subject = _text(event, "source")
    return Parts(event_type, subject, event_type.rpartition(".")[2], occurred, None, key)


def _verification(
    event: Mapping[str, Any], status: str, occurred: datetime | None, key: tuple[str, str]
) -> Parts:
    """A Verify "Verification Status" event. A status Twilio adds later is kept as one (rank 50)."""
    data = event.get("data")
    data = data if isinstance(data, dict) else {}
    subject = _verification_sid(event, data)
    if occurred is None:
        occurred = parse_timestamp(data.get(_DATED_BY.get(status, "created_at"))) or parse_timestamp(
            data.get("created_at")
        )
    return Parts("verification", subject, status, occurred, _last_channel(data), key, product="verify")


def _verification_sid(event: Mapping[str, Any], data: Mapping[str, Any]) -> str:
    sid = data.get("verification_sid")
    if isinstance(sid, str) and sid:
        return sid
    source = event.get("source")
    last = source.rstrip("/").rpartition("/")[2] if isinstance(source, str) else ""
    if last.startswith("VE"):
        return last
    raise MissingField("data.verification_sid is required", field="data.verification_sid")


def _last_channel(data: Mapping[str, Any]) -> str | None:
    """The channel of the last code sent (``send_code_attempts.attempts[-1].channel``), lower-case."""
    sent = data.get("send_code_attempts")
    attempts = sent.get("attempts") if isinstance(sent, dict) else None
    last = attempts[-1] if isinstance(attempts, list) and attempts else None
    channel = last.get("channel") if isinstance(last, dict) else None
    return channel.lower() if isinstance(channel, str) and channel else None


def _text(event: Mapping[str, Any], name: str) -> str:
    value = event.get(name)
    if value is None or value == "":
        raise MissingField(f"the CloudEvent's {name} is required", field=name)
    if not isinstance(value, str):
        raise InvalidField(f"the CloudEvent's {name} must be a string", field=name)
    return value


def with_status(payload: Any, status: str) -> Any:
    """`switchboard send event_streams/verify-… --status S`: each Verify CloudEvent of the sample
    becomes a ``S`` event (its type and ``data.verification_status``) with a new id derived from
    the old id and ``S`` (the same status again is a retry of the same event)."""
    word = status.strip().lower()
    if not _STATUS_WORD.fullmatch(word):
        raise ValueError(f"--status {status!r}: a Verify status is a word such as approved or canceled")
    events = payload if isinstance(payload, list) else [payload]
    verify = [e for e in events if isinstance(e, dict) and _is_verification(e.get("type"))]
    if not verify:
        raise ValueError("only Twilio Verify verification events (event_streams/verify-…) have a status")
    for event in verify:
        event["type"] = VERIFY_TYPE_PREFIX + word.replace("_", "-")
        event["id"] = hashlib.sha256(f"{event.get('id')}/{word}".encode()).hexdigest()
        if isinstance(event.get("data"), dict):
            event["data"]["verification_status"] = word.replace("-", "_").upper()
    return payload


def _is_verification(value: Any) -> bool:
    return isinstance(value, str) and value.lower().startswith(VERIFY_TYPE_PREFIX)


EVENT_STREAMS = Product(
    provider="twilio",
    name="event_streams",
    parse=parse,
    # Event types without a product of their own (the sink's test event, …): no known lifecycle,
    # so every status ranks in the middle and the latest by time is current.
    lifecycle=Lifecycle(unknown=step(50)),
    # POST only: a sink configured with method GET is refused 405 (a GET carries no body to sign).
    routes=(
        Route(
            "/twilio/event-streams",
            ("POST",),
            "twilio",
            "twilio_event_streams",
            "event_streams",
            answer="event_ids",
        ),
    ),
    samples="event_streams",
    documented_fields=CLOUDEVENT_FIELDS,
    split=split,
    natural_key="the CloudEvent id",
    with_status=with_status,
)

VERIFY = Product(
    provider="twilio",
    name="verify",
    parse=parse,  # reached through the event_streams route, whose parser files these events here
    lifecycle=Lifecycle(
        unknown=step(50),
        statuses={
            "pending": step(10),
            "approved": end(100),
            "canceled": end(100),
            "expired": end(100),
            "max_attempts_reached": end(100),
        },
    ),
    samples=None,
    documented_fields=CLOUDEVENT_FIELDS,
    natural_key="the CloudEvent id",
)
