"""What every provider module uses to read a payload: timestamps, field access, event ids.

Pure and standard-library only (it runs on every cold start). Split out of ``shared.normalise`` so
that the provider packages (``shared.providers.*``) and the normaliser can both use it without an
import cycle; ``shared.normalise`` re-exports the public names.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Final, NamedTuple

from shared.errors import InvalidField, MissingField

_KEY_SEPARATOR: Final = "\x1f"  # ASCII unit separator: never part of a provider id or status
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_MS_THRESHOLD: Final = 100_000_000_000  # 1e11: as seconds that is year 5138, as milliseconds 1973
_DIGITS = re.compile(r"[0-9]+")
_DECIMAL = re.compile(r"[0-9]+\.[0-9]+")
# An integer sent as text: at most 18 digits, so int() is cheap and never refuses (Python will not
# convert a string of more than 4,300 digits: that ValueError was a 500).
INTEGER = re.compile(r"-?[0-9]{1,18}")


def integer(value: Any) -> int | None:
    """An integer, or a string holding one (``INTEGER``, surrounding spaces allowed); None for
    anything else (a bool is not an integer)."""
    if isinstance(value, str):
        text = value.strip()
        return int(text) if INTEGER.fullmatch(text) else None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return None


_SCTS = re.compile(r"([0-9]{2})([0-9]{2})([0-9]{2})([0-9]{2})([0-9]{2})")
_NOT_TYPE_CHAR = re.compile(r"[^a-z0-9_.]")
_UTC_SUFFIXES: Final = (" UTC", " GMT", "UTC", "GMT")

# --- timestamps ----------------------------------------------------------------------------------


def format_timestamp(dt: datetime) -> str:
    """``YYYY-MM-DDTHH:MM:SS.mmmZ`` in UTC. Sub-millisecond digits are truncated; naive means UTC."""
    d = as_utc(dt)
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
        return as_utc(value)
    if isinstance(value, int | float):
        return _from_epoch(value)
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text or len(text) > 64:  # no timestamp is longer; int() of a huge digit string raises
        return None
    if _DIGITS.fullmatch(text):
        if len(text) == 10:
            return parse_scts(text) or _from_epoch(int(text))
        return _from_epoch(int(text))
    if _DECIMAL.fullmatch(text):
        return _from_epoch(float(text))
    return _parse_iso(text)


def as_utc(dt: datetime) -> datetime:
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


def parse_scts(text: str) -> datetime | None:
    """``YYMMDDHHMM`` (carrier time on SMS receipts), read as UTC in the 2000s."""
    match = _SCTS.fullmatch(text)
    if match is None:
        return None
    year, month, day, hour, minute = (int(part) for part in match.groups())
    try:
        return datetime(2000 + year, month, day, hour, minute, tzinfo=UTC)
    except ValueError:
        return None


def parse_unix(value: Any) -> datetime | None:
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
    return as_utc(parsed)


# --- identity ------------------------------------------------------------------------------------


def event_id_for(provider: str, natural_key: Sequence[str]) -> str:
    """``evt_`` + 32 hex of SHA-256 over the provider and the key parts, joined by ``\\x1f``.

    Deterministic and order-sensitive. A part that itself contains ``\\x1f`` (never seen from a
    provider) switches to a JSON-array encoding prefixed by ``\\x1e``, so two different keys can never
    hash the same input.
    """
    from shared.providers import PROVIDERS  # the registry imports this module: resolved on use

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


def scalar(data: Mapping[str, Any], key: str) -> Any:
    """A field's value; for a repeated form/query parameter (a list), its first value."""
    value = data.get(key)
    if isinstance(value, list):
        return value[0] if value else None
    return value


def required(data: Mapping[str, Any], *keys: str) -> str:
    """The first of ``keys`` holding a non-empty string (or integer); MissingField names ``keys[0]``."""
    for key in keys:
        value = scalar(data, key)
        if value is None or value == "":
            continue
        if isinstance(value, str):
            return value
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        raise InvalidField(f"{key} must be a string", field=key)
    raise MissingField(f"{keys[0]} is required", field=keys[0])


def optional(data: Mapping[str, Any], *keys: str) -> str | None:
    """Like ``required`` but lenient: absent, empty or non-scalar values give None."""
    for key in keys:
        value = scalar(data, key)
        if isinstance(value, str) and value:
            return value
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
    return None


def status_of(data: Mapping[str, Any]) -> str:
    status = required(data, "status").strip().lower()
    if not status:
        raise MissingField("status is required", field="status")
    return status


def clean_type(raw: str) -> str:
    """A provider's event type as a `type` suffix: lower-case, ``[a-z0-9_]`` segments joined by dots."""
    cleaned = _NOT_TYPE_CHAR.sub("_", raw.strip().lower())
    segments = [segment for segment in cleaned.split(".") if segment]
    if not segments:
        raise MissingField("type is required", field="type")
    return ".".join(segments)


def content_digest(data: Mapping[str, Any]) -> str:
    """SHA-256 of the payload's canonical JSON (sorted keys, ASCII escapes: lone surrogates too)."""
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True, default=str)
    return "sha256:" + hashlib.sha256(canonical.encode("ascii")).hexdigest()


class Parts(NamedTuple):
    """What a product's parser reads from one payload; ``normalise`` builds the event from it.

    ``natural_key`` is the provider's identity of the delivery (never a receive time): the event id
    is derived from the provider, the product and it. ``product`` is set by a parser that files the
    payload under another product of its provider (Twilio Event Streams' Verify events are ``verify``);
    ``extra`` holds optional top-level event keys (e.g. a Messages failover ``workflow``).
    """

    kind: str
    subject_id: str
    status: str
    occurred_at: datetime | None
    channel: str | None
    natural_key: tuple[str, ...]
    product: str | None = None
    extra: tuple[tuple[str, Any], ...] = ()
