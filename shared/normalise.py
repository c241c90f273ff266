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

import hashlib
import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Final, NamedTuple

from shared import safejson
from shared.errors import InvalidEncoding, InvalidField, MissingField

SCHEMA_VERSION: Final = "1"
# Subject ids and statuses become DynamoDB keys (pk <= 2048 bytes, GSI keys) and FIFO group ids:
# the providers' ids are UUIDs or SIDs of a few dozen characters.
MAX_KEY_LENGTH: Final = 256
SCHEMA_ID: Final = "https://switchboard.dev/schemas/event-1.json"

PROVIDERS: Final[tuple[str, ...]] = ("vonage", "twilio")
PRODUCT_PROVIDER: Final[Mapping[str, str]] = {
    "verify": "vonage",
    "messages": "vonage",
    "sms": "vonage",
    "voice": "vonage",
    "number_insight": "vonage",
    "verify_push": "twilio",
}
PRODUCTS: Final[tuple[str, ...]] = tuple(PRODUCT_PROVIDER)
# Products whose webhook kind is chosen by the route; the others derive it from the body (kind=None).
KINDS: Final[Mapping[str, tuple[str, ...]]] = {
    "messages": ("inbound", "status"),
    "sms": ("inbound", "receipt"),
    "voice": ("answer", "event"),
}
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
OPTIONAL_EVENT_KEYS: Final[tuple[str, ...]] = ("repaired_fields",)
# `type` is "<product>.<kind>"; Twilio kinds have dots of their own ("verify_push.factor.created").
TYPE_PATTERN: Final = r"^(verify|messages|sms|voice|number_insight|verify_push)\.[a-z0-9_]+(\.[a-z0-9_]+)*$"

_KEY_SEPARATOR: Final = "\x1f"  # ASCII unit separator: never part of a provider id or status
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_MS_THRESHOLD: Final = 100_000_000_000  # 1e11: as seconds that is year 5138, as milliseconds 1973
_DIGITS = re.compile(r"[0-9]+")
_DECIMAL = re.compile(r"[0-9]+\.[0-9]+")
_INTEGER = re.compile(r"-?[0-9]+")
_SCTS = re.compile(r"([0-9]{2})([0-9]{2})([0-9]{2})([0-9]{2})([0-9]{2})")
_NOT_TYPE_CHAR = re.compile(r"[^a-z0-9_.]")
_UTC_SUFFIXES: Final = (" UTC", " GMT", "UTC", "GMT")
_TWILIO_JSON_FIELDS: Final = frozenset({"challenge_details", "challenge_hidden_details"})


# --- timestamps ----------------------------------------------------------------------------------


def format_timestamp(dt: datetime) -> str:
    """``YYYY-MM-DDTHH:MM:SS.mmmZ`` in UTC. Sub-millisecond digits are truncated; naive means UTC."""
    d = _as_utc(dt)
    return (
        f"{d.year:04d}-{d.month:02d}-{d.day:02d}T{d.hour:02d}:{d.minute:02d}:{d.second:02d}"
        f".{d.microsecond // 1000:03d}Z"
    )


def parse_timestamp(value: Any) -> datetime | None:
    """Parse any timestamp a provider sends; an aware UTC datetime, or None when it cannot.

    Accepted: ISO 8601 (``Z``, offsets, fractions, ``T`` or space), ``2020-01-01 14:00:00 UTC``,
    ``YYYY-MM-DD HH:MM:SS`` (naive means UTC), unix seconds or milliseconds as int, float or digit
    string (values >= 1e11 are milliseconds; zero and negative values are placeholders, not times),
    and ``YYMMDDHHMM`` (the SMS ``scts``). A 10-digit string is read as ``YYMMDDHHMM`` when it is a
    valid calendar time, otherwise as unix seconds. A datetime is converted to UTC. Never raises.
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, datetime):
        return _as_utc(value)
    if isinstance(value, int | float):
        return _from_epoch(value)
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text or len(text) > 64:  # no timestamp is longer; int() of a huge digit string raises
        return None
    if _DIGITS.fullmatch(text):
        if len(text) == 10:
            return _parse_scts(text) or _from_epoch(int(text))
        return _from_epoch(int(text))
    if _DECIMAL.fullmatch(text):
        return _from_epoch(float(text))
    return _parse_iso(text)


def _as_utc(dt: datetime) -> datetime:
    if dt.tzinfo is None or dt.tzinfo.utcoffset(dt) is None:
        return dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


def _from_epoch(value: float) -> datetime | None:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value <= 0:
        return None
    try:
        if value >= _MS_THRESHOLD:
            if isinstance(value, int):
                return _EPOCH + timedelta(milliseconds=value)
            return _EPOCH + timedelta(seconds=value / 1000)
        return _EPOCH + timedelta(seconds=value)
    except OverflowError:
        return None


def _parse_scts(text: str) -> datetime | None:
    """``YYMMDDHHMM`` (carrier time on SMS receipts), read as UTC in the 2000s."""
    match = _SCTS.fullmatch(text)
    if match is None:
        return None
    year, month, day, hour, minute = (int(part) for part in match.groups())
    try:
        return datetime(2000 + year, month, day, hour, minute, tzinfo=UTC)
    except ValueError:
        return None


def _parse_unix(value: Any) -> datetime | None:
    """A field known to hold unix seconds (or milliseconds): never read as ``YYMMDDHHMM``."""
    if isinstance(value, str):
        text = value.strip()
        if len(text) > 64:
            return None
        if _DIGITS.fullmatch(text):
            return _from_epoch(int(text))
        if _DECIMAL.fullmatch(text):
            return _from_epoch(float(text))
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _from_epoch(value)
    return None


def _parse_iso(text: str) -> datetime | None:
    candidate = text
    upper = text.upper()
    for suffix in _UTC_SUFFIXES:
        if upper.endswith(suffix) and len(text) > len(suffix):
            candidate = text[: -len(suffix)].rstrip()
            break
    if candidate[-1:] == "z":
        candidate = candidate[:-1] + "Z"
    if len(candidate) > 10 and candidate[10] == "t":
        candidate = candidate[:10] + "T" + candidate[11:]
    try:
        parsed = datetime.fromisoformat(candidate)
    except ValueError:
        return None
    return _as_utc(parsed)


# --- identity ------------------------------------------------------------------------------------


def event_id_for(provider: str, natural_key: Sequence[str]) -> str:
    """``evt_`` + 32 hex of SHA-256 over the provider and the key parts, joined by ``\\x1f``.

    Deterministic and order-sensitive. A part that itself contains ``\\x1f`` (never seen from a
    provider) switches to a JSON-array encoding prefixed by ``\\x1e``, so two different keys can never
    hash the same input.
    """
    if provider not in PROVIDERS:
        raise ValueError(f"unknown provider {provider!r}")
    if isinstance(natural_key, str):
        raise TypeError("natural_key must be a sequence of strings, not a string")
    parts = [provider, *natural_key]
    for part in parts:
        if not isinstance(part, str):
            raise TypeError(f"natural_key parts must be str, got {type(part).__name__}")
    if any(_KEY_SEPARATOR in part for part in parts):
        material = "\x1e" + json.dumps(parts, ensure_ascii=True)
    else:
        material = _KEY_SEPARATOR.join(parts)
    return "evt_" + hashlib.sha256(material.encode("utf-8")).hexdigest()[:32]


# --- field access --------------------------------------------------------------------------------


def _scalar(data: Mapping[str, Any], key: str) -> Any:
    """A field's value; for a repeated form/query parameter (a list), its first value."""
    value = data.get(key)
    if isinstance(value, list):
        return value[0] if value else None
    return value


def _required(data: Mapping[str, Any], *keys: str) -> str:
    """The first of ``keys`` holding a non-empty string (or integer); MissingField names ``keys[0]``."""
    for key in keys:
        value = _scalar(data, key)
        if value is None or value == "":
            continue
        if isinstance(value, str):
            return value
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        raise InvalidField(f"{key} must be a string", field=key)
    raise MissingField(f"{keys[0]} is required", field=keys[0])


def _optional(data: Mapping[str, Any], *keys: str) -> str | None:
    """Like ``_required`` but lenient: absent, empty or non-scalar values give None."""
    for key in keys:
        value = _scalar(data, key)
        if isinstance(value, str) and value:
            return value
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
    return None


def _status(data: Mapping[str, Any]) -> str:
    status = _required(data, "status").strip().lower()
    if not status:
        raise MissingField("status is required", field="status")
    return status


def _clean_type(raw: str) -> str:
    """A provider's event type as a `type` suffix: lower-case, ``[a-z0-9_]`` segments joined by dots."""
    cleaned = _NOT_TYPE_CHAR.sub("_", raw.strip().lower())
    segments = [segment for segment in cleaned.split(".") if segment]
    if not segments:
        raise MissingField("type is required", field="type")
    return ".".join(segments)


# --- per product ---------------------------------------------------------------------------------


class _Parts(NamedTuple):
    kind: str
    subject_id: str
    status: str
    occurred_at: datetime | None
    channel: str | None
    natural_key: tuple[str, ...]


def _verify(data: Mapping[str, Any]) -> _Parts:
    callback = _clean_type(_required(data, "type"))
    request_id = _required(data, "request_id")
    status = _status(data)
    channel = _optional(data, "channel", "channel_used")
    if callback == "summary":
        occurred = parse_timestamp(_scalar(data, "finalized_at"))
        return _Parts("summary", request_id, status, occurred, channel, ("summary", request_id, status))
    occurred = parse_timestamp(_scalar(data, "triggered_at"))
    if callback == "event":
        kind = "silent_auth" if channel is not None and channel.lower() == "silent_auth" else "event"
        # Not triggered_at: the event callback reports the request's result (one per status), and a
        # retry that Vonage re-stamps must keep its id.
        key = ("event", request_id, channel or "", status)
        return _Parts(kind, request_id, status, occurred, channel, key)
    # A callback type Vonage adds later: kept under its own name rather than rejected.
    return _Parts(callback, request_id, status, occurred, channel, (callback, request_id, status))


def _messages(kind: str, data: Mapping[str, Any]) -> _Parts:
    message_uuid = _required(data, "message_uuid")
    occurred = parse_timestamp(_scalar(data, "timestamp"))
    channel = _optional(data, "channel")
    if kind == "inbound":
        return _Parts(kind, message_uuid, "received", occurred, channel, (message_uuid, "inbound"))
    status = _status(data)
    # A failover sends each attempt's statuses, perhaps under one message_uuid, each on its own
    # channel and workflow item (providers-more.md §3): both are part of the delivery's identity.
    workflow_id, item = _workflow(data)
    key = (message_uuid, "status", status, channel or "", workflow_id, item)
    return _Parts(kind, message_uuid, status, occurred, channel, key)


def _workflow(data: Mapping[str, Any]) -> tuple[str, str]:
    """The failover ``workflow`` object's id and item number (string or integer), or blanks."""
    workflow = data.get("workflow")
    if not isinstance(workflow, Mapping):
        return "", ""
    item = workflow.get("item_number")
    if isinstance(item, str) and _INTEGER.fullmatch(item.strip()):
        item = int(item.strip())
    item_text = str(item) if isinstance(item, int) and not isinstance(item, bool) else ""
    workflow_id = workflow.get("id")
    return (workflow_id if isinstance(workflow_id, str) else ""), item_text


def _sms(kind: str, data: Mapping[str, Any]) -> _Parts:
    message_id = _required(data, "messageId", "message-id")
    occurred = parse_timestamp(_scalar(data, "message-timestamp"))
    if kind == "inbound":
        occurred = occurred or _parse_unix(_scalar(data, "timestamp"))
        return _Parts(kind, message_id, "received", occurred, "sms", (message_id, "inbound"))
    status = _status(data)
    scts = _scalar(data, "scts")
    if occurred is None and isinstance(scts, str):
        occurred = _parse_scts(scts.strip())
    occurred = occurred or _parse_unix(_scalar(data, "timestamp"))
    err_code = _optional(data, "err-code") or ""
    return _Parts(kind, message_id, status, occurred, "sms", (message_id, "receipt", status, err_code))


def _voice(kind: str, data: Mapping[str, Any]) -> _Parts:
    # AMD (human/machine) events carry `call_uuid`; record events may carry only `conversation_uuid`.
    call_uuid = _required(data, "uuid", "call_uuid", "conversation_uuid")
    occurred = parse_timestamp(_scalar(data, "timestamp"))
    if kind == "answer":
        return _Parts(kind, call_uuid, "answered", occurred, "voice", (call_uuid, "answer"))
    raw_status = _scalar(data, "status")
    if isinstance(raw_status, str) and raw_status.strip():
        status = raw_status.strip().lower()
    elif raw_status is not None and raw_status != "":
        raise InvalidField("status must be a string", field="status")
    elif "dtmf" in data or "speech" in data:
        status = "input"
    elif "recording_url" in data:
        status = "recorded"
    elif "conversation_uuid_to" in data:
        status = "transfer"
    else:
        status = "event"
    # Vonage gives no id to an event webhook, and two deliveries can share uuid, status and timestamp
    # (two DTMF inputs in one second): the identity is the payload itself. A retry, even re-signed,
    # carries the same payload, so it is the same event.
    return _Parts(
        kind, call_uuid, status, occurred, "voice", (call_uuid, "event", status, content_digest(data))
    )


def content_digest(data: Mapping[str, Any]) -> str:
    """SHA-256 of the payload's canonical JSON (sorted keys, ASCII escapes: lone surrogates too)."""
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True, default=str)
    return "sha256:" + hashlib.sha256(canonical.encode("ascii")).hexdigest()


def _number_insight(data: Mapping[str, Any]) -> _Parts:
    request_id = _required(data, "request_id")
    raw = _scalar(data, "status")
    if raw is None or raw == "":
        raise MissingField("status is required", field="status")
    if isinstance(raw, int) and not isinstance(raw, bool):
        code = raw
    elif isinstance(raw, str) and _INTEGER.fullmatch(raw.strip()):
        code = int(raw.strip())
    else:
        raise InvalidField("status must be an integer", field="status")
    status = "success" if code == 0 else f"error_{code}"
    return _Parts("result", request_id, status, None, None, (request_id, "result"))


def _verify_push(data: Mapping[str, Any]) -> _Parts:
    event_type = _clean_type(_required(data, "type"))
    family = event_type.split(".", 1)[0]
    if family == "challenge":
        subject = _required(data, "challenge_sid")
    elif family == "factor":
        subject = _required(data, "factor_sid")
    else:
        subject = _optional(data, "challenge_sid") or _required(data, "factor_sid")
    status = event_type.rpartition(".")[2]
    # Twilio's `uuid` is "the unique identifier for the webhook": the event's identity, and nothing
    # else is, so that no re-split or added parameter can make a captured delivery a new event.
    delivery = _required(data, "uuid")
    return _Parts(event_type, subject, status, None, None, ("uuid", delivery))


def _decode_twilio(data: Mapping[str, Any]) -> dict[str, Any]:
    """Twilio sends details and metadata as JSON strings: decode the ones that hold a JSON object
    (depth-bounded like a body; a value that is not acceptable JSON stays a string)."""
    out = dict(data)
    for key, value in list(out.items()):
        if not isinstance(value, str) or not (key in _TWILIO_JSON_FIELDS or key.endswith("_metadata")):
            continue
        try:
            decoded = safejson.loads(value, max_depth=safejson.MAX_DEPTH - 1)
        except safejson.JsonRejected:
            continue
        # A lone surrogate in a decoded key could be neither stored nor repaired: keep the string.
        if isinstance(decoded, dict) and ("\\u" not in value or not safejson.has_lone_surrogate_key(decoded)):
            out[key] = decoded
    return out


def undocumented_fields(product: str, data: Mapping[str, Any]) -> list[str]:
    """Fields a product's payload carries that its documentation (seeds) does not list, sorted.

    They are kept in ``data``, never refused (a provider adds fields, and a 4xx is not retried), and
    never part of the event's identity or subject; the webhook path logs each name once.
    """
    known = DOCUMENTED_FIELDS.get(product)
    return [] if known is None else sorted(k for k in data if k not in known)


DOCUMENTED_FIELDS: Final[Mapping[str, frozenset[str]]] = {
    # Seed 002 (v2 webhooks) and the real v1 capture in providers.md §6.
    "verify_push": frozenset(
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
}


# --- entry point ---------------------------------------------------------------------------------

_PARSERS: Final[Mapping[str, Callable[[str, Mapping[str, Any]], _Parts]]] = {
    "verify": lambda kind, data: _verify(data),
    "messages": _messages,
    "sms": _sms,
    "voice": _voice,
    "number_insight": lambda kind, data: _number_insight(data),
    "verify_push": lambda kind, data: _verify_push(data),
}


def normalise(
    product: str,
    kind: str | None,
    data: Mapping[str, Any],
    *,
    account_id: str | None,
    received_at: datetime,
) -> dict[str, Any]:
    """One normalised event (keys ``EVENT_KEYS``, plus ``repaired_fields`` when some free text
    held a lone surrogate) for one verified provider payload."""
    provider = _check_product(product, kind)
    if not isinstance(data, Mapping):
        raise InvalidField("the payload must be an object", field="body")
    payload: dict[str, Any] = _decode_twilio(data) if provider == "twilio" else dict(data)
    valid_text = _is_valid_text(payload)
    if not valid_text and safejson.has_lone_surrogate_key(payload):
        raise InvalidEncoding("a field name is not valid Unicode text (a lone surrogate)")
    parts = _PARSERS[product](str(kind), data)
    account = account_id or None
    if account is None and product == "verify_push":
        account = _optional(data, "account_sid", "AccountSid")
    elif account is None and product == "sms":
        account = _optional(data, "api-key", "api_key")
    client_ref = _optional(data, "client_ref", "client-ref")
    _check_keys(parts, account, client_ref)
    received = _as_utc(received_at)
    repaired: list[str] = []
    if not valid_text:
        payload, repaired = safejson.repair_text(payload, "/data")
    event: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        # Every natural key starts with the product: no two products can share an event id.
        "event_id": event_id_for(provider, (product, *parts.natural_key)),
        "provider": provider,
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


def _check_product(product: str, kind: str | None) -> str:
    provider = PRODUCT_PROVIDER.get(product)
    if provider is None:
        raise ValueError(f"unknown product {product!r}")
    allowed = KINDS.get(product)
    if allowed is None:
        if kind is not None:
            raise ValueError(f"{product} derives its kind from the body; kind must be None")
    elif kind not in allowed:
        raise ValueError(f"kind for {product} must be one of {allowed}, got {kind!r}")
    return provider


def _check_keys(parts: _Parts, account: str | None, client_ref: str | None) -> None:
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
