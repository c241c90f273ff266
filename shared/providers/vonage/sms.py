"""Vonage SMS API inbound messages and delivery receipts (providers.md §3); the parser and ranks
are shared with US Short Codes (``short_codes``), an SMS API subset."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.payload import (
    Parts,
    optional,
    parse_scts,
    parse_timestamp,
    parse_unix,
    required,
    scalar,
    status_of,
)
from shared.providers.base import Lifecycle, Product, Route, end, step


def parse(kind: str | None, data: Mapping[str, Any]) -> Parts:
    message_id = required(data, "messageId", "message-id")
    occurred = parse_timestamp(scalar(data, "message-timestamp"))
    if kind == "inbound":
        occurred = occurred or parse_unix(scalar(data, "timestamp"))
        return Parts("inbound", message_id, "received", occurred, "sms", (message_id, "inbound"))
    status = status_of(data)
    scts = scalar(data, "scts")
    if occurred is None and isinstance(scts, str):
        occurred = parse_scts(scts.strip())
    occurred = occurred or parse_unix(scalar(data, "timestamp"))
    err_code = optional(data, "err-code") or ""
    return Parts("receipt", message_id, status, occurred, "sms", (message_id, "receipt", status, err_code))


# Unknown: level with the provider's own `unknown`.
LIFECYCLE = Lifecycle(
    unknown=step(25),
    statuses={
        "received": step(10),
        "accepted": step(10),
        "buffered": step(20),
        "unknown": step(25),
        "delivered": end(40),
        "expired": end(40),
        "failed": end(40),
        "rejected": end(40),
    },
)
NATURAL_KEY = "inbound: messageId; receipt: messageId + status + err-code"

PRODUCT = Product(
    provider="vonage",
    name="sms",
    parse=parse,
    lifecycle=LIFECYCLE,
    kinds=("inbound", "receipt"),
    routes=(
        Route(
            "/vonage/sms/inbound",
            ("GET", "POST"),
            "vonage",
            "vonage_sms",
            "sms",
            "inbound",
            default_method="GET",
            samples="inbound",
        ),
        Route(
            "/vonage/sms/receipt",
            ("GET", "POST"),
            "vonage",
            "vonage_sms",
            "sms",
            "receipt",
            default_method="GET",
            samples="receipt",
        ),
    ),
    samples="sms",
    account_fields=("api-key", "api_key"),
    natural_key=NATURAL_KEY,
)
