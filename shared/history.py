"""The history table's read side (layout v2, shared/storage.py): a subject's current status and
history for ``GET /status/{subject_id}``, and one product's events in a time range for
``switchboard history``.

A subject is (provider, product, id). Without ``?product=`` the status API reads every
(provider, product) key the id can have (``storage.subject_pks``: one Query per registered
product, run side by side, each at least one read unit even when empty); ``?product=`` reads one.

The HTTP side (Powertools' resolver, the error mapping) is ``shared.status_api``.
"""

from __future__ import annotations

import heapq
import json
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from shared import providers as registry
from shared import safejson, storage
from shared.errors import (
    BadRequest,
    InvalidField,
    NotFound,
)
from shared.normalise import SCHEMA_VERSION
from shared.observability import logger

MAX_SUBJECT_ID = 256
MAX_HISTORY_ITEMS = 1000  # events served per subject: the latest ones
MAX_READ_ITEMS = 10_000  # history items read per subject, at most (the sort key is not time order)
MAX_READ_BYTES = 16 * 1024 * 1024  # … and stored bytes (deflated events): a 256 MB function's memory
# Lambda answers at most 6 MB: the answer keeps the newest events that fit in this, the rest of the
# budget being the envelope.
MAX_RESPONSE_BYTES = 5 * 1024 * 1024
PROVIDERS = registry.PROVIDERS

Item = Mapping[str, Any]


@dataclass(frozen=True)
class Lookup:
    """What ``GET /status/{subject_id}?product=&provider=`` asks for (None: not narrowed)."""

    subject_id: str
    product: str | None = None
    provider: str | None = None


# --- one subject ---------------------------------------------------------------------------------


def subject_status(dynamodb: Any, table: str, lookup: Lookup) -> dict[str, Any]:
    """The status answer: one subject's body, or ``{"subject_id", "subjects": [...]}`` when several
    products share the id and the lookup did not name one. NotFound when there is none."""
    keys = subject_keys(lookup)
    if len(keys) < 2:
        found = [read_subject(dynamodb, table, pk) for pk in keys]
    else:
        with ThreadPoolExecutor(max_workers=len(keys)) as pool:
            found = list(pool.map(lambda pk: read_subject(dynamodb, table, pk), keys))
    bodies = sorted((b for b in found if b is not None), key=lambda b: (b["provider"], b["product"]))
    if not bodies:
        raise NotFound("no events for this subject", subject_id=lookup.subject_id)
    for body in bodies:
        fit_history(body, MAX_RESPONSE_BYTES // len(bodies))
    if len(bodies) == 1:
        return bodies[0]
    return {"subject_id": lookup.subject_id, "subjects": bodies}


def fit_history(body: dict[str, Any], budget: int) -> None:
    """Keep the newest events whose JSON fits in ``budget`` bytes; ``truncated`` when any was left."""
    size, keep = 0, 0
    for event in reversed(body["history"]):
        size += len(json.dumps(event, separators=(",", ":"))) + 1
        if size > budget:
            break
        keep += 1
    if keep < len(body["history"]):
        body["history"] = body["history"][len(body["history"]) - keep :]
        body["truncated"] = True


def subject_keys(lookup: Lookup) -> list[str]:
    """The subject keys a lookup reads. Refuses an id or a filter that no key can match (the
    messages name the accepted values only: the caller's input is not echoed)."""
    if not lookup.subject_id or len(lookup.subject_id) > MAX_SUBJECT_ID:
        raise BadRequest("subject_id must be 1 to 256 characters", length=len(lookup.subject_id))
    provider = lookup.provider
    if lookup.product is not None:  # validates both; either provider of the product when none is named
        provider_of(lookup.product, lookup.provider)
    if provider is not None and provider not in PROVIDERS:
        raise InvalidField(f"provider must be one of {', '.join(PROVIDERS)}", field="provider")
    keys = []
    for pk in storage.subject_pks(lookup.subject_id):
        key_provider, key_product, _ = storage.parse_subject_pk(pk)
        if provider in (None, key_provider) and lookup.product in (None, key_product):
            keys.append(pk)
    return keys


def provider_of(product: str, provider: str | None = None) -> str:
    """The provider of a product (its home provider when not given: Vonage for ``verify``);
    InvalidField for an unknown product or a provider that has no product of that name."""
    known = registry.providers_of(product)
    if not known:
        raise InvalidField(f"product must be one of {', '.join(registry.PRODUCTS)}", field="product")
    if provider is not None and provider not in known:
        raise InvalidField(f"product {product} is a {' or '.join(known)} product", field="provider")
    return provider or known[0]


def read_subject(dynamodb: Any, table: str, pk: str) -> dict[str, Any] | None:
    """One subject's body (today's shape), or None when the key holds nothing."""
    return read_subject_and_current(dynamodb, table, pk)[0]


def read_subject_and_current(
    dynamodb: Any, table: str, pk: str
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """The subject's body and its readable status item (``readable_status``: which event set it),
    from one read of the key."""
    status_item, items, complete = read_partition(dynamodb, table, pk)
    if not complete:  # stopped before the status item, which sorts after every ``E#`` item
        status_item = dynamodb.get_item(**storage.get_status(table, pk)).get("Item")
    current = readable_status(status_item)
    if current is None and not items:
        return None, None
    provider, product, subject_id = subject_of(pk)
    events = sorted((stored_event(i) for i in items), key=time_order)
    history = events[-MAX_HISTORY_ITEMS:]
    latest = history[-1] if history else {}
    body = {
        "subject_id": subject_id,
        "provider": provider,
        "product": product,
        "status": current["status"] if current else None,
        "terminal": current["terminal"] if current else False,
        "updated_at": current["updated_at"] if current else latest.get("received_at"),
        "history": history,
        "truncated": not complete or len(events) > MAX_HISTORY_ITEMS,
    }
    return body, current


def read_partition(dynamodb: Any, table: str, pk: str) -> tuple[Item | None, list[Item], bool]:
    """(status item, history items, complete) of one subject key, reading at most
    MAX_READ_ITEMS history items. History keys are ``E#<event_id>``, in no time order, so every
    page is read before anything can be sorted; ``complete`` is False when more items remained."""
    kwargs = dict(storage.query_subject(table, pk))
    status_item: Item | None = None
    history: list[Item] = []
    stored = 0
    while True:
        # one item past the cap: the status item, or a history item that shows there are more
        kwargs["Limit"] = MAX_READ_ITEMS + 1 - len(history)
        page = dynamodb.query(**kwargs)
        for item in page.get("Items", []):
            sk = attr(item, "sk")
            if sk == storage.STATUS_SK:
                status_item = item
            elif sk.startswith(storage.HISTORY_PREFIX):
                history.append(item)
                stored += len(item.get("event", {}).get("B", b""))
        if len(history) > MAX_READ_ITEMS or stored > MAX_READ_BYTES:
            return status_item, history[:MAX_READ_ITEMS], False
        last = page.get("LastEvaluatedKey")
        if not last:
            return status_item, history, True
        kwargs["ExclusiveStartKey"] = last


def readable_status(item: Item | None) -> dict[str, Any] | None:
    """The subject's current status from its status item; None when absent (only informational
    events so far) or unreadable (another layout version, damaged), which is logged."""
    if item is None:
        return None
    try:
        storage.check_version(item)
        return storage.current(item)
    except storage.UnreadableItem as exc:
        reason = exc.reason
    except (KeyError, TypeError) as exc:
        reason = f"attribute missing or mistyped: {exc}"
    logger.warning("status item unreadable", extra={"pk": attr(item, "pk"), "reason": reason})
    return None


def time_order(event: Mapping[str, Any]) -> tuple[str, str]:
    return str(event.get("occurred_at") or ""), str(event.get("received_at") or "")


# --- one stored event --------------------------------------------------------------------------


def stored_event(item: Item) -> dict[str, Any]:
    """The event a history item holds. An item this version cannot read back (another layout
    version, damaged bytes, JSON it cannot serve) is answered from its key and attributes, with
    ``data.unreadable`` saying why, rather than failing every later read of the subject."""
    try:
        return decode_stored_event(item)
    except (storage.UnreadableItem, safejson.JsonRejected) as exc:
        logger.warning("stored event unreadable", extra={"sk": attr(item, "sk"), "reason": exc.reason})
        return from_attributes(item, exc.reason)


def decode_stored_event(item: Item) -> dict[str, Any]:
    """The event a history item holds, exactly as recorded; UnreadableItem or JsonRejected when
    this version cannot read it back (`switchboard replay` skips those rather than publish a stand-in)."""
    storage.check_version(item)
    blob = item.get("event", {}).get("B")
    if not isinstance(blob, bytes | bytearray):
        raise storage.UnreadableItem("no event bytes")
    event = safejson.loads(storage.decode_event_text(bytes(blob)), max_depth=safejson.MAX_DEPTH + 2)
    if not isinstance(event, dict):
        raise safejson.JsonRejected("not an object")
    return event


def from_attributes(item: Item, reason: str) -> dict[str, Any]:
    """An event built from what the item's keys and plain attributes say. ``received_at`` is not
    stored outside the event: it is the ``occurred_at`` here."""
    provider, product, subject_id = subject_of(attr(item, "pk"))
    occurred_at = attr(item, "gsk")  # the index's sort key is the event's occurred_at
    return {
        "schema_version": SCHEMA_VERSION,
        "event_id": attr(item, "sk").removeprefix(storage.HISTORY_PREFIX),
        "provider": provider,
        "product": product,
        "type": attr(item, "type"),
        "subject_id": subject_id,
        "status": attr(item, "status"),
        "occurred_at": occurred_at,
        "received_at": occurred_at,
        "account_id": None,
        "channel": None,
        "client_ref": None,
        "data": {"unreadable": f"the stored event cannot be read back ({reason})"},
    }


def subject_of(pk: str) -> tuple[str, str, str]:
    try:
        return storage.parse_subject_pk(pk)
    except ValueError:
        return "", "", pk


def attr(item: Item, name: str) -> str:
    value = item.get(name, {}).get("S", "")
    return value if isinstance(value, str) else ""


# --- one product in a time range (index by_product) ----------------------------------------------


def product_events(
    dynamodb: Any,
    table: str,
    product: str,
    since: str,
    until: str,
    *,
    provider: str | None = None,
    status: str | None = None,
    page_size: int | None = None,
) -> Iterator[dict[str, Any]]:
    """Every event of ``product`` with ``since <= occurred_at <= until``, in ``occurred_at`` order,
    as index rows. One Query per index partition (``storage.INDEX_SHARDS`` of them), merged by
    ``gsk``; pages are read as the merge needs them, so taking the first N rows with
    ``page_size=N`` reads about N items per partition. ``status`` is a filter: the partitions'
    items are still read (and paid for) but only matching ones come back."""
    partitions = storage.index_partitions(provider_of(product, provider), product)
    streams = [
        _pages(dynamodb, storage.query_index(table, p, since, until, status), page_size) for p in partitions
    ]
    return (index_row(item) for item in heapq.merge(*streams, key=lambda item: attr(item, "gsk")))


def _pages(dynamodb: Any, kwargs: dict[str, Any], page_size: int | None) -> Iterator[Item]:
    if page_size is not None:
        kwargs = {**kwargs, "Limit": page_size}
    while True:
        page = dynamodb.query(**kwargs)
        yield from page.get("Items", [])
        last = page.get("LastEvaluatedKey")
        if not last:
            return
        kwargs = {**kwargs, "ExclusiveStartKey": last}


def index_row(item: Item) -> dict[str, Any]:
    """What an index entry says: its projection (``status``, ``type``) and the table keys."""
    provider, product, subject_id = subject_of(attr(item, "pk"))
    return {
        "occurred_at": attr(item, "gsk"),
        "type": attr(item, "type"),
        "status": attr(item, "status"),
        "provider": provider,
        "product": product,
        "subject_id": subject_id,
        "event_id": attr(item, "sk").removeprefix(storage.HISTORY_PREFIX),
    }
