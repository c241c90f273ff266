"""Twilio Verify Push factor and challenge webhooks (providers.md §6, seed 002)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from shared import safejson
from shared.payload import Parts, clean_type, optional, required
from shared.providers.base import Lifecycle, Product, Route, end, step

_JSON_FIELDS: Final = frozenset({"challenge_details", "challenge_hidden_details"})


def parse(kind: str | None, data: Mapping[str, Any]) -> Parts:
    event_type = clean_type(required(data, "type"))
    family = event_type.split(".", 1)[0]
    if family == "challenge":
        subject = required(data, "challenge_sid")
    elif family == "factor":
        subject = required(data, "factor_sid")
    else:
        subject = optional(data, "challenge_sid") or required(data, "factor_sid")
    status = event_type.rpartition(".")[2]
    # Twilio's `uuid` is "the unique identifier for the webhook": the event's identity, and nothing
    # else is, so that no re-split or added parameter can make a captured delivery a new event.
    delivery = required(data, "uuid")
    return Parts(event_type, subject, status, None, None, ("uuid", delivery))


def decode(data: Mapping[str, Any]) -> dict[str, Any]:
    """Twilio sends details and metadata as JSON strings: decode the ones that hold a JSON object
    (depth-bounded like a body; a value that is not acceptable JSON stays a string)."""
    out = dict(data)
    for key, value in list(out.items()):
        if not isinstance(value, str) or not (key in _JSON_FIELDS or key.endswith("_metadata")):
            continue
        try:
            decoded = safejson.loads(value, max_depth=safejson.MAX_DEPTH - 1)
        except safejson.JsonRejected:
            continue
        # A lone surrogate in a decoded key could be neither stored nor repaired: keep the string.
        if isinstance(decoded, dict) and ("\\u" not in value or not safejson.has_lone_surrogate_key(decoded)):
            out[key] = decoded
    return out


def with_status(payload: dict[str, Any], status: str) -> dict[str, Any]:
    import uuid  # a dev tool's hook: not loaded on the request path

    kind = str(payload.get("type", "challenge.approved")).split(".")[0]
    payload["type"] = f"{kind}.{status}"
    # A new status is a new Twilio delivery; the same status again is a retry of the same one.
    payload["uuid"] = str(uuid.uuid5(uuid.NAMESPACE_URL, f"verify_push/{status}/{payload.get('uuid')}"))
    return payload


PRODUCT = Product(
    provider="twilio",
    name="verify_push",
    parse=parse,
    lifecycle=Lifecycle(
        unknown=step(50),
        statuses={
            "created": step(10),
            "verified": step(20),
            "deleted": end(100),
            "approved": end(100),
            "denied": end(100),
            "expired": end(100),
        },
    ),
    routes=(Route("/twilio/verify-push", ("GET", "POST"), "twilio", "twilio", "verify_push"),),
    samples="verify_push",
    account_fields=("account_sid", "AccountSid"),
    # Seed 002 (v2 webhooks) and the real v1 capture in providers.md §6.
    documented_fields=frozenset(
        {
            "uuid",
            "type",
            "account_sid",
            "service_sid",
            "entity_identity",
            "factor_sid",
            "factor_type",
            "factor_friendly_name",
            "factor_metadata",
            "challenge_sid",
            "challenge_details",
            "challenge_hidden_details",
            "challenge_metadata",
        }
    ),
    decode=decode,
    natural_key="the webhook's uuid",
    with_status=with_status,
)
