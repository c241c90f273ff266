"""Vonage Conversation API RTC events, the application's ``rtc`` event_url (providers-more.md §1).

Decisions where the reference is unknown (README, "RTC events"):

* Signing: a Vonage JWT is required. Whether RTC callbacks are signed when the application's
  ``capabilities.rtc.signed_callbacks`` is unset is not documented; Switchboard never accepts an
  unsigned one (``connect vonage`` turns the flag on). An unsigned request gets the JWT routes' 503.
* Type: ``rtc.<Vonage type>`` with ``:`` read as ``.`` (``rtc.member.joined``,
  ``rtc.leg.status.update``); the kind comes from the body.
* Subject: the conversation (``conversation_id``, or ``cid``, the older name). An event before any
  conversation exists (``app:knocking``, the first ``sip:ringing``) has neither and no ``id``: its
  subject is ``from`` (``knocker:<uuid>``).
* Status: ``leg_<body.status>`` for ``leg:status:update`` (``leg_ringing``); otherwise the type
  with ``_`` for ``:`` (``member_joined``). Every status ranks alike except ``conversation_created``
  (first) and ``conversation_deleted`` (terminal): the latest event is the conversation's status.
* Identity: ``id`` is the event's sequence number in its conversation, so (conversation, ``id``) is
  the event and a retry Vonage re-stamps keeps it. Without ``id`` the payload is the identity, as
  for voice events (Vonage gives none).
* The messaging part of the Conversation API ended on 30 April 2026; ``message``/``text``/``image``
  events are still accepted and kept.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from typing import Any

from shared.errors import InvalidField, MissingField
from shared.payload import Parts, clean_type, content_digest, integer, parse_timestamp, required, scalar
from shared.providers.base import Lifecycle, Product, Route, end, step

LEG_STATUS_UPDATE = "leg.status.update"
MAX_ID_DIGITS = 18  # a conversation's event sequence number; int() of a huge digit string raises


def parse(kind: str | None, data: Mapping[str, Any]) -> Parts:
    event_type = clean_type(required(data, "type").replace(":", "."))
    event_id = _sequence_id(data)
    conversation = _text(data, "conversation_id") or _text(data, "cid")
    occurred = parse_timestamp(scalar(data, "timestamp"))
    status, channel = _status(event_type, data), _channel(event_type, data)
    if event_id is not None:
        if conversation is None:  # a sequence number means nothing outside its conversation
            raise MissingField("conversation_id is required", field="conversation_id")
        return Parts(event_type, conversation, status, occurred, channel, (conversation, "id", event_id))
    subject = conversation or _text(data, "from")
    if subject is None:
        raise MissingField("conversation_id is required", field="conversation_id")
    # Not the timestamp: should Vonage re-stamp a retry (its RTC retry policy is unknown), it is the
    # same event; two knocks differ by their knocker uuid and channel anyway.
    key = (subject, event_type, content_digest({k: v for k, v in data.items() if k != "timestamp"}))
    return Parts(event_type, subject, status, occurred, channel, key)


def _text(data: Mapping[str, Any], name: str) -> str | None:
    """A string field, None when absent or empty; another type is an InvalidField."""
    value = data.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise InvalidField(f"{name} must be a string", field=name)
    return value


def _sequence_id(data: Mapping[str, Any]) -> str | None:
    """``id``: an integer or a string of digits, as its decimal text; None when absent."""
    value = data.get("id")
    if value is None or value == "":
        return None
    number = integer(value)
    if number is not None and 0 <= number < 10**MAX_ID_DIGITS:
        return str(number)
    raise InvalidField("id must be a non-negative integer", field="id")


def _body(data: Mapping[str, Any]) -> Mapping[str, Any]:
    body = data.get("body")
    return body if isinstance(body, Mapping) else {}


def _status(event_type: str, data: Mapping[str, Any]) -> str:
    if event_type == LEG_STATUS_UPDATE:
        leg_status = _body(data).get("status")
        if isinstance(leg_status, str) and leg_status.strip():
            return "leg_" + leg_status.strip().lower()
        # A leg update without a status: kept under its type's name rather than refused.
    return event_type.replace(".", "_")


def _channel(event_type: str, data: Mapping[str, Any]) -> str | None:
    """The leg's type (``phone``, ``app``, ``sip``…) for a leg update, else ``body.channel.type``."""
    body = _body(data)
    if event_type == LEG_STATUS_UPDATE and isinstance(body.get("type"), str) and body["type"]:
        return str(body["type"])
    channel = body.get("channel")
    kind = channel.get("type") if isinstance(channel, Mapping) else None
    return kind if isinstance(kind, str) and kind else None


def with_status(payload: dict[str, Any], status: str) -> dict[str, Any]:
    """``send --status``: ``leg_<s>`` is a leg update with ``body.status`` s, any other status the
    type it spells (``member_left`` is ``member:left``). An event with a sequence id gets one per
    status (the same status again: a retry, one event)."""
    if status.startswith("leg_") and len(status) > 4:
        body = payload.get("body")
        payload["type"] = "leg:status:update"
        payload["body"] = {**(body if isinstance(body, dict) else {}), "status": status.removeprefix("leg_")}
    else:
        payload["type"] = status.replace("_", ":")
    if "id" in payload:
        payload["id"] = 1 + zlib.crc32(status.encode()) % 10**6
    return payload


PRODUCT = Product(
    provider="vonage",
    name="rtc",
    parse=parse,
    lifecycle=Lifecycle(
        unknown=step(50),
        statuses={"conversation_created": step(10), "conversation_deleted": end(100)},
    ),
    routes=(Route("/vonage/rtc/event", ("POST",), "vonage", "vonage_jwt", "rtc"),),
    samples="rtc",
    natural_key="conversation_id (or cid) + id; without id: subject + type + SHA-256 of the payload",
    with_status=with_status,
)
