"""Turn a verified provider payload into Switchboard's one event shape.

Pure and standard-library only (it runs on every cold start). ``normalise`` takes the payload the
provider sent, already decoded (a JSON object, or form/query parameters whose values are ``str`` or
``list[str]``), and returns a plain JSON-serialisable dict whose keys are exactly ``EVENT_KEYS``
(described by ``shared/event.schema.json``).

Rules that hold for every product:

* the payload is kept unchanged under ``data`` (a shallow copy); only Twilio's JSON-in-a-string
  fields are decoded, so consumers do not have to parse them twice;
* unknown fields and unknown status strings are kept, never rejected;
* a missing subject id (or a status on a status callback) raises ``MissingField``; a value of the
  wrong type raises ``InvalidField``;
* an absent or unparseable provider timestamp never rejects the event: ``occurred_at`` falls back to
  ``received_at``;
* ``event_id`` is derived from the provider's natural key only (never from ``received_at`` or
  ``occurred_at``), so a retried delivery gets the same id and a new status gets a new one.

Programming errors (unknown ``product``, a ``kind`` that does not belong to it) raise ``ValueError``:
they are bugs in the caller, not bad input from a provider.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

from shared import providers, safejson
from shared.errors import InvalidEncoding, InvalidField
from shared.payload import (
    Parts,
    as_utc,
    content_digest,
    event_id_for,
    format_timestamp,
    optional,
    parse_timestamp,
)

__all__ = [
    "EVENT_KEYS",
    "KINDS",
    "OPTIONAL_EVENT_KEYS",
    "PRODUCTS",
    "PRODUCT_PROVIDER",
    "PROVIDERS",
    "TYPE_PATTERN",
    "content_digest",
    "event_id_for",
    "format_timestamp",
    "normalise",
    "parse_timestamp",
    "undocumented_fields",
]

SCHEMA_VERSION: Final = "1"
# Subject ids and statuses become DynamoDB keys (pk <= 2048 bytes, GSI keys) and FIFO group ids:
# the providers' ids are UUIDs or SIDs of a few dozen characters.
MAX_KEY_LENGTH: Final = 256
SCHEMA_ID: Final = "https://switchboard.dev/schemas/event-1.json"

# All read from the registry (shared/providers).
PROVIDERS: Final[tuple[str, ...]] = providers.PROVIDERS
PRODUCTS: Final[tuple[str, ...]] = providers.PRODUCTS
# Each product name's home provider (see shared.providers); PAIRS has every (provider, product).
PRODUCT_PROVIDER: Final[Mapping[str, str]] = {name: providers.product(name).provider for name in PRODUCTS}
# Products whose webhook kind is chosen by the route; the others derive it from the body (kind=None).
KINDS: Final[Mapping[str, tuple[str, ...]]] = {p.name: p.kinds for p in providers.ALL if p.kinds}
EVENT_KEYS: Final[tuple[str, ...]] = (
    "schema_version",
    "event_id",
    "provider",
    "product",
    "type",
    "subject_id",
    "status",
    "occurred_at",
    "received_at",
    "account_id",
    "channel",
    "client_ref",
    "data",
)
# Present only when it applies (see shared/event.schema.json).
OPTIONAL_EVENT_KEYS: Final[tuple[str, ...]] = ("repaired_fields", "workflow")
# `type` is "<product>.<kind>"; Twilio kinds have dots of their own ("verify_push.factor.created").
TYPE_PATTERN: Final = providers.type_pattern()


def undocumented_fields(product: str, data: Mapping[str, Any], provider: str | None = None) -> list[str]:
    """Fields a product's payload carries that its documentation (seeds) does not list, sorted.

    They are kept in ``data``, never refused (a provider adds fields, and a 4xx is not retried), and
    never part of the event's identity or subject; the webhook path logs each name once.
    """
    known = providers.product(product, provider).documented_fields
    return [] if known is None else sorted(k for k in data if k not in known)


# --- entry point ---------------------------------------------------------------------------------


def normalise(
    product: str,
    kind: str | None,
    data: Mapping[str, Any],
    *,
    account_id: str | None,
    received_at: datetime,
    provider: str | None = None,
) -> dict[str, Any]:
    """One normalised event (keys ``EVENT_KEYS``, plus ``repaired_fields`` when some free text
    held a lone surrogate) for one verified provider payload."""
    spec = _check_product(product, kind, provider)
    if not isinstance(data, Mapping):
        raise InvalidField("the payload must be an object", field="body")
    payload: dict[str, Any] = spec.decode(data) if spec.decode else dict(data)
    valid_text = _is_valid_text(payload)
    if not valid_text and safejson.has_lone_surrogate_key(payload):
        raise InvalidEncoding("a field name is not valid Unicode text (a lone surrogate)")
    parts = spec.parse(kind, data)
    product = parts.product or product
    account = account_id or None
    if account is None and spec.account_fields:
        account = optional(data, *spec.account_fields)
    client_ref = optional(data, "client_ref", "client-ref")
    _check_keys(parts, account, client_ref)
    received = as_utc(received_at)
    repaired: list[str] = []
    if not valid_text:
        payload, repaired = safejson.repair_text(payload, "/data")
    event: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        # Every natural key starts with the product: no two products can share an event id.
        "event_id": event_id_for(spec.provider, (product, *parts.natural_key)),
        "provider": spec.provider,
        "product": product,
        "type": f"{product}.{parts.kind}",
        "subject_id": parts.subject_id,
        "status": parts.status,
        "occurred_at": format_timestamp(parts.occurred_at or received),
        "received_at": format_timestamp(received),
        "account_id": account,
        "channel": parts.channel,
        "client_ref": client_ref,
        "data": payload,
    }
    if repaired:
        event["repaired_fields"] = _bounded(repaired)
    event.update(parts.extra)
    return event


# Each pointer repeats its parents' keys: unbounded, a 10 KB body of repaired strings made a 700 KB
# event. Past these bounds the one pointer "/data" says "somewhere in the payload".
MAX_REPAIRED_FIELDS: Final = 32
MAX_REPAIRED_BYTES: Final = 4096


def _bounded(repaired: list[str]) -> list[str]:
    if len(repaired) > MAX_REPAIRED_FIELDS or sum(len(p) for p in repaired) > MAX_REPAIRED_BYTES:
        return ["/data"]
    return repaired


def _is_valid_text(data: Mapping[str, Any]) -> bool:
    """Whether every string, keys included, is valid Unicode (no lone surrogate): one C-speed
    serialisation, a third of the cost of walking the payload, which is only done when it fails."""
    try:
        json.dumps(data, ensure_ascii=False, default=str).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _check_product(product: str, kind: str | None, provider: str | None) -> providers.Product:
    spec = providers.product(product, provider)  # ValueError: unknown
    if not spec.kinds:
        if kind is not None:
            raise ValueError(f"{product} derives its kind from the body; kind must be None")
    elif kind not in spec.kinds:
        raise ValueError(f"kind for {product} must be one of {spec.kinds}, got {kind!r}")
    return spec


def _check_keys(parts: Parts, account: str | None, client_ref: str | None) -> None:
    """Key fields become DynamoDB keys, FIFO group ids and the event id: bounded and valid text.
    A lone surrogate there is refused (400 ``invalid_encoding``), never repaired: a repaired id
    would name another subject."""
    for field, value in (("subject_id", parts.subject_id), ("status", parts.status)):
        if len(value) > MAX_KEY_LENGTH:
            raise InvalidField(
                f"{field} is longer than {MAX_KEY_LENGTH} characters", field=field, length=len(value)
            )
    named: tuple[tuple[str, str | None], ...] = (
        ("subject_id", parts.subject_id),
        ("status", parts.status),
        ("channel", parts.channel),
        ("account_id", account),
        ("client_ref", client_ref),
    )
    for field, text in (*named, *(("natural key", part) for part in parts.natural_key)):
        if text is not None and not text.isascii() and safejson.has_lone_surrogate(text):
            raise InvalidEncoding(f"{field} is not valid Unicode text (a lone surrogate)", field=field)
