"""Vonage Verify v2 status callbacks (providers.md §1, providers-more.md §4).

Kinds come from the body: ``event`` (one per request result; ``silent_auth`` for the silent-auth
channel's events) and ``summary`` (the request's final record, authoritative). Ranks: see
``shared.status_rank``'s module docstring.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.payload import Parts, clean_type, optional, parse_timestamp, required, scalar, status_of
from shared.providers.base import Lifecycle, Product, Route, end, step

TERMINAL_RANK = 100
_CHANNEL_FAILURE = step(60)  # not terminal: the workflow may try its next channel


def parse(kind: str | None, data: Mapping[str, Any]) -> Parts:
    callback = clean_type(required(data, "type"))
    request_id = required(data, "request_id")
    status = status_of(data)
    channel = optional(data, "channel", "channel_used")
    if callback == "summary":
        occurred = parse_timestamp(scalar(data, "finalized_at"))
        return Parts("summary", request_id, status, occurred, channel, ("summary", request_id, status))
    occurred = parse_timestamp(scalar(data, "triggered_at"))
    if callback == "event":
        kind = "silent_auth" if channel is not None and channel.lower() == "silent_auth" else "event"
        # Not triggered_at: the event callback reports the request's result (one per status), and a
        # retry that Vonage re-stamps must keep its id.
        key = ("event", request_id, channel or "", status)
        return Parts(kind, request_id, status, occurred, channel, key)
    # A callback type Vonage adds later: kept under its own name rather than rejected.
    return Parts(callback, request_id, status, occurred, channel, (callback, request_id, status))


PRODUCT = Product(
    provider="vonage",
    name="verify",
    parse=parse,
    # Verify events other than the summary (`verify.event`, `verify.silent_auth`, kinds to come).
    lifecycle=Lifecycle(
        unknown=step(50),
        statuses={
            "action_pending": step(10),
            "failed": _CHANNEL_FAILURE,
            "expired": _CHANNEL_FAILURE,
            "user_rejected": _CHANNEL_FAILURE,
            "rejected": _CHANNEL_FAILURE,
            "blocked": _CHANNEL_FAILURE,
            "cancelled": _CHANNEL_FAILURE,
            "unused": _CHANNEL_FAILURE,
            "completed": end(70),  # only a summary outranks it
        },
    ),
    # The summary is authoritative: any status it carries is the request's final one.
    kind_lifecycles={"summary": Lifecycle(unknown=end(TERMINAL_RANK))},
    routes=(Route("/vonage/verify", ("POST",), "vonage", "vonage_jwt", "verify"),),
    samples="verify",
    natural_key="summary: request_id + status; event: request_id + channel + status",
)
