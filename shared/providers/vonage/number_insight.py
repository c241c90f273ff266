"""Vonage Number Insight Advanced async results (providers.md §5.4). Unsigned by Vonage: the route
carries a secret URL token. Number Insight sunsets on 4 February 2027 (providers-more.md §9)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.errors import InvalidField, MissingField
from shared.payload import Parts, integer, required, scalar
from shared.providers.base import Lifecycle, Product, Route, end, step

TERMINAL_RANK = 100


def parse(kind: str | None, data: Mapping[str, Any]) -> Parts:
    request_id = required(data, "request_id")
    raw = scalar(data, "status")
    if raw is None or raw == "":
        raise MissingField("status is required", field="status")
    code = integer(raw)
    if code is None:
        raise InvalidField("status must be an integer", field="status")
    status = "success" if code == 0 else f"error_{code}"
    return Parts("result", request_id, status, None, None, (request_id, "result"))


def with_status(payload: dict[str, Any], status: str) -> dict[str, Any]:
    # The normalised status is "success" (status 0) or "error_<n>"; the payload carries the number.
    code = "0" if status == "success" else status.removeprefix("error_")
    if not code.isdigit():
        raise ValueError("Number Insight statuses are success or error_<n>, e.g. error_5")
    payload["status"] = int(code)
    return payload


PRODUCT = Product(
    provider="vonage",
    name="number_insight",
    parse=parse,
    # `error_<n>` is terminal too.
    lifecycle=Lifecycle(
        unknown=step(50), statuses={"success": end(TERMINAL_RANK)}, prefixes={"error_": end(TERMINAL_RANK)}
    ),
    routes=(Route("/vonage/number-insight", ("POST",), "vonage", "url_token", "number_insight"),),
    samples="number_insight",
    natural_key="request_id (one result per request)",
    with_status=with_status,
)
