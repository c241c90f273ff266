"""The history table's layout, version 2: every key, item shape and request the table sees.

The recorder, the status API and the tools read the table only through this module.

Items (``pk``, ``sk``):

=================  ====================================  ===================================================
item               key                                   attributes
=================  ====================================  ===================================================
history (1/event)  ``S#<provider>#<product>#<subject>``,  ``v``, ``event`` (the normalised event: JSON,
                   ``E#<event_id>``                       deflated with a preset dictionary), ``status``,
                                                          ``type``, ``gpk``/``gsk`` (index keys), TTL
status (1/subj.)   same ``pk``, ``STATUS``               ``v``, ``status``, ``rank``, ``terminal``,
                                                          ``occurred_at``, ``updated_at``, ``event_id``,
                                                          TTL
binding            ``C#<kind>:<hash>``, ``C``            ``event_id``, ``subject`` (a subject ``pk``), TTL
=================  ====================================  ===================================================

* A subject is its provider, product and id: one product's events never touch another's subject,
  even when two products share an id.
* The history item is its own dedupe record: its key holds only the subject and the event id, both
  fixed by the provider's natural key, so a redelivery finds the same key.
* Index ``by_product`` (``gpk`` = ``<provider>#<product>#<shard>``, ``gsk`` = ``occurred_at``,
  projecting ``status`` and ``type``): every event of a product in a time range, and with a filter
  on ``status``, every event with a status. The partition key is sharded (write sharding) over
  ``INDEX_SHARDS`` by the event id, so one product's events spread over that many partition keys
  instead of one; a query fans out over ``index_partitions(...)`` and merges by ``gsk``.
* Index ``by_workflow`` (``wpk`` = ``<provider>#<product>#<workflow id>``, ``wsk`` =
  ``occurred_at#event_id``, projecting everything) holds only the events that carry a Messages
  failover ``workflow``: every attempt of one workflow in one Query (``shared.workflow``).
* ``v`` is the layout version. Version 1 (before 2026-11-29: ``SUBJECT#``/``EVENT#`` keys) is never
  read nor written by this version; its items age out through the TTL.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Mapping
from typing import Any, Final

LAYOUT_VERSION: Final = 2
TTL_ATTRIBUTE: Final = "expires_at"  # template.yaml TimeToLiveSpecification
INDEX_NAME: Final = "by_product"
WORKFLOW_INDEX: Final = "by_workflow"  # sparse: Messages failover attempts only
INDEX_SHARDS: Final = 16  # 16 partition keys x 1,000 writes/s each; see bench/RESULTS.md capacity
STATUS_SK: Final = "STATUS"
HISTORY_PREFIX: Final = "E#"
SUBJECT_PREFIX: Final = "S#"
CREDENTIAL_PREFIX: Final = "C#"
CREDENTIAL_SK: Final = "C"
# The largest event JSON a history item may inflate to: an event had to fit in an SQS message
# (1 MiB at most) to get here; the bound keeps a damaged item from inflating to gigabytes.
MAX_EVENT_BYTES: Final = 2 * 1024 * 1024

Item = dict[str, Any]


def s(value: str) -> dict[str, str]:
    return {"S": value}


def n(value: int) -> dict[str, str]:
    return {"N": str(value)}


# --- keys --------------------------------------------------------------------------------------


def subject_pk(provider: str, product: str, subject_id: str) -> str:
    """Provider and product come from fixed sets without ``#``: the first two ``#`` split it."""
    return f"{SUBJECT_PREFIX}{provider}#{product}#{subject_id}"


def parse_subject_pk(pk: str) -> tuple[str, str, str]:
    """(provider, product, subject_id) of a subject ``pk``; ValueError for any other key."""
    if not pk.startswith(SUBJECT_PREFIX):
        raise ValueError("not a subject key")
    provider, sep1, rest = pk.removeprefix(SUBJECT_PREFIX).partition("#")
    product, sep2, subject_id = rest.partition("#")
    if not (sep1 and sep2 and provider and product):
        raise ValueError("not a subject key")
    return provider, product, subject_id


def subject_pks(subject_id: str) -> list[str]:
    """The keys a subject id can have: one per provider and product (what the status API reads
    when the caller does not say which product it means)."""
    from shared.providers import PAIRS

    return [subject_pk(provider, product, subject_id) for provider, product in PAIRS]


def event_subject_pk(event: Mapping[str, Any]) -> str:
    return subject_pk(event["provider"], event["product"], event["subject_id"])


def history_key(event: Mapping[str, Any]) -> Item:
    return {"pk": s(event_subject_pk(event)), "sk": s(HISTORY_PREFIX + event["event_id"])}


def status_key(pk: str) -> Item:
    return {"pk": s(pk), "sk": s(STATUS_SK)}


def credential_key(credential: str) -> Item:
    return {"pk": s(CREDENTIAL_PREFIX + credential), "sk": s(CREDENTIAL_SK)}


def shard(event_id: str) -> int:
    """The event's index shard: event ids are ``evt_`` + hex of SHA-256, so uniform."""
    digits = event_id.removeprefix("evt_")[:8]
    try:
        return int(digits, 16) % INDEX_SHARDS
    except ValueError:  # not an id this version makes: still a stable shard
        return zlib.crc32(event_id.encode("utf-8")) % INDEX_SHARDS


def index_partition(provider: str, product: str, shard_no: int) -> str:
    return f"{provider}#{product}#{shard_no:02d}"


def index_partitions(provider: str, product: str) -> list[str]:
    """Every index partition key of one product: what a time-range query fans out over."""
    return [index_partition(provider, product, i) for i in range(INDEX_SHARDS)]


# --- the stored event --------------------------------------------------------------------------

# A preset dictionary for deflate: an event is a few hundred bytes of JSON whose keys and common
# values repeat in every event, which plain deflate cannot exploit in so short an input (it halves
# one; with this dictionary it shrinks to about a fifth: bench/RESULTS.md). Written by hand from
# the documented payload shapes (providers.md), never from the test samples. It is part of the
# layout: changing a byte makes every stored event unreadable, so a new dictionary needs a new
# ENCODING id below, and the old one kept for reading.
_DICTIONARY: Final = "".join(
    (
        '"workflow":[{"channel":"sms","initiated_at":"","status":"expired"},{"channel":"whatsapp",',
        '"channel_timeout":300,"submitted_at":"","finalized_at":"","triggered_at":"","price":"0.',
        '"usage":{"currency":"EUR","price":"0.0"},"message_type":"text","text":"","to":"","from":"',
        '"network-code":"","message-timestamp":"","messageId":"","msisdn":"","api-key":"","scts":"',
        '"err-code":"0","concat":"false","keyword":"","type":"text","timestamp":"","nonce":"","sig":"',
        '"conversation_uuid":"CON-","direction":"outbound","duration":"","end_time":"","network":"',
        '"rate":"0.00","start_time":"","uuid":"","status":"completed","dtmf":{"digits":"","timed_out":',
        '"lookup_outcome":0,"lookup_outcome_message":"Success","request_id":"","international_format_number":"',
        '"current_carrier":{"country":"","name":"","network_code":"","network_type":"mobile"},"',
        '"AccountSid":"AC","ChallengeSid":"YC","EntitySid":"YE","FactorSid":"YF","ServiceSid":"VA","',
        '"Type":"challenge.approved","Uuid":"","Metadata":"","Details":"","HiddenDetails":"","',
        '"client_ref":null,"data":{"channel":"whatsapp","message_uuid":"","status":"delivered","',
        '"timestamp":"2026-","to":"447700900000","from":"447700900001","channel":"sms","',
        '"account_id":null,"channel":null,"client_ref":null,"data":{"',
        '"event_id":"evt_","occurred_at":"2026-","product":"messages","provider":"vonage","',
        '"received_at":"2026-","schema_version":"1.0","status":"delivered","subject_id":"","type":"',
    )
).encode("utf-8")
_ENCODING: Final = b"\x01"  # deflate (raw, level 9) with _DICTIONARY


class UnreadableItem(Exception):
    """A stored item this version cannot read back (another layout version, or damaged)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def encode_event(event: Mapping[str, Any]) -> bytes:
    # UTF-8, not \u escapes: the item stays about the size of the payload (400 KB item limit).
    text = json.dumps(event, separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode("utf-8")
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15, 9, zlib.Z_DEFAULT_STRATEGY, _DICTIONARY)
    return _ENCODING + deflate.compress(text) + deflate.flush()


def decode_event_text(blob: bytes) -> str:
    """The event's JSON text; UnreadableItem when the blob is not one this version wrote."""
    if blob[:1] != _ENCODING:
        raise UnreadableItem("unknown encoding")
    inflate = zlib.decompressobj(-15, _DICTIONARY)
    try:
        text = inflate.decompress(blob[1:], MAX_EVENT_BYTES)
        if inflate.unconsumed_tail or inflate.unused_data or not inflate.eof:
            raise UnreadableItem("truncated or too large")
        return text.decode("utf-8")
    except (zlib.error, UnicodeDecodeError) as exc:
        raise UnreadableItem(type(exc).__name__) from None


# --- items and requests ------------------------------------------------------------------------


def history_item(event: Mapping[str, Any], expires_at: int) -> Item:
    return {
        **history_key(event),
        "v": n(LAYOUT_VERSION),
        "event": {"B": encode_event(event)},
        "status": s(event["status"]),
        "type": s(event["type"]),
        "gpk": s(index_partition(event["provider"], event["product"], shard(event["event_id"]))),
        "gsk": s(event["occurred_at"]),
        **workflow_keys(event),
        TTL_ATTRIBUTE: n(expires_at),
    }


def workflow_partition(provider: str, product: str, workflow_id: str) -> str:
    return f"{provider}#{product}#{workflow_id}"


def workflow_keys(event: Mapping[str, Any]) -> Item:
    """``wpk``/``wsk`` of index ``by_workflow`` for an event that is one attempt of a failover
    workflow (``event["workflow"]``); nothing for any other event (the index is sparse)."""
    workflow = event.get("workflow")
    if not isinstance(workflow, Mapping) or not workflow.get("id"):
        return {}
    return {
        "wpk": s(workflow_partition(event["provider"], event["product"], str(workflow["id"]))),
        "wsk": s(f"{event['occurred_at']}#{event['event_id']}"),
    }


def query_workflow(table: str, partition: str) -> dict[str, Any]:
    return {
        "TableName": table,
        "IndexName": WORKFLOW_INDEX,
        "KeyConditionExpression": "wpk = :w",
        "ExpressionAttributeValues": {":w": s(partition)},
    }


def put_history(table: str, event: Mapping[str, Any], expires_at: int) -> Item:
    """PutItem kwargs: the history item, unless this event's is already there."""
    return {
        "TableName": table,
        "Item": history_item(event, expires_at),
        "ConditionExpression": "attribute_not_exists(pk)",
    }


def get_history(table: str, event: Mapping[str, Any]) -> Item:
    """GetItem kwargs for the event's history item. Eventually consistent on purpose (half the
    price): a read that misses a just-written item only repeats a publish the FIFO queue drops
    (same deduplication id within 5 minutes) and a conditional put that then fails."""
    return {"TableName": table, "Key": history_key(event), "ProjectionExpression": "pk"}


def put_binding(table: str, credential: str, event: Mapping[str, Any], expires_at: int) -> Item:
    """PutItem kwargs binding a signed credential to one event of one subject. A second use for
    the same event and subject (a redelivery) passes; any other fails its condition."""
    pk = event_subject_pk(event)
    return {
        "TableName": table,
        "Item": {
            **credential_key(credential),
            "v": n(LAYOUT_VERSION),
            "event_id": s(event["event_id"]),
            "subject": s(pk),
            TTL_ATTRIBUTE: n(expires_at),
        },
        "ConditionExpression": "attribute_not_exists(pk) OR (event_id = :event_id AND subject = :subject)",
        "ExpressionAttributeValues": {":event_id": s(event["event_id"]), ":subject": s(pk)},
    }


# The projection rule of shared.status_rank.supersedes, as a DynamoDB condition: a higher rank wins
# (over a terminal status only when itself terminal); at equal rank the event that did not occur
# earlier wins unless the current status is terminal (at the same instant: the one not received
# earlier, so a retried older event cannot win a tie back). Stored occurred_at and updated_at (the
# event's received_at) values are all normalise.format_timestamp output: string order is time order.
_LOWER_RANK: Final = "(#rank < :rank AND #terminal = :false)"  # a non-terminal gives way to more
_LOWER_RANK_ANY: Final = "#rank < :rank"  # a terminal new status: any lower-ranked current one
_STATUS_CONDITION: Final = (
    "attribute_not_exists(pk) OR {lower}"
    " OR (#rank = :rank AND #terminal = :false AND (#occurred_at < :occurred_at"
    " OR (#occurred_at = :occurred_at AND updated_at <= :updated_at)))"
)


def status_condition(terminal: bool) -> str:
    """The update's condition for a new status that is (or is not) terminal."""
    return _STATUS_CONDITION.format(lower=_LOWER_RANK_ANY if terminal else _LOWER_RANK)


def update_status(table: str, event: Mapping[str, Any], rank: int, terminal: bool, expires_at: int) -> Item:
    """UpdateItem kwargs: make the event the subject's current status when it supersedes it."""
    values = {
        ":status": s(event["status"]),
        ":rank": n(rank),
        ":terminal": {"BOOL": terminal},
        ":false": {"BOOL": False},
        ":occurred_at": s(event["occurred_at"]),
        ":updated_at": s(event["received_at"]),
        ":event_id": s(event["event_id"]),
        ":v": n(LAYOUT_VERSION),
        ":ttl": n(expires_at),
    }
    return {
        "TableName": table,
        "Key": status_key(event_subject_pk(event)),
        "UpdateExpression": (
            "SET #status = :status, #rank = :rank, #terminal = :terminal, #occurred_at = :occurred_at, "
            "updated_at = :updated_at, event_id = :event_id, v = :v, #ttl = :ttl"
        ),
        "ConditionExpression": status_condition(terminal),
        "ExpressionAttributeNames": {
            "#status": "status",
            "#rank": "rank",
            "#terminal": "terminal",
            "#occurred_at": "occurred_at",
            "#ttl": TTL_ATTRIBUTE,
        },
        "ExpressionAttributeValues": values,
        "ReturnValues": "ALL_NEW",
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }


def get_status(table: str, pk: str) -> Item:
    return {"TableName": table, "Key": status_key(pk), "ConsistentRead": True}


def current(item: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The ``current`` object of the events queue's messages, from a status item."""
    if not item:
        return None
    return {
        "status": item["status"]["S"],
        "occurred_at": item["occurred_at"]["S"],
        "updated_at": item["updated_at"]["S"],
        "event_id": item["event_id"]["S"],
        "terminal": item["terminal"]["BOOL"],
    }


def check_version(item: Mapping[str, Any]) -> None:
    version = item.get("v", {}).get("N")
    if version != str(LAYOUT_VERSION):
        raise UnreadableItem(f"layout version {version or 1}, this code reads {LAYOUT_VERSION}")


def query_subject(table: str, pk: str) -> Item:
    """Query kwargs for a subject's partition: its status item and its history items."""
    return {
        "TableName": table,
        "KeyConditionExpression": "pk = :pk",
        "ExpressionAttributeValues": {":pk": s(pk)},
        "ConsistentRead": True,
    }


def query_index(table: str, partition: str, since: str, until: str, status: str | None = None) -> Item:
    """Query kwargs for one index partition between two ``occurred_at`` values (inclusive)."""
    kwargs: Item = {
        "TableName": table,
        "IndexName": INDEX_NAME,
        "KeyConditionExpression": "gpk = :p AND gsk BETWEEN :since AND :until",
        "ExpressionAttributeValues": {":p": s(partition), ":since": s(since), ":until": s(until)},
    }
    if status is not None:
        kwargs["FilterExpression"] = "#status = :status"
        kwargs["ExpressionAttributeNames"] = {"#status": "status"}
        kwargs["ExpressionAttributeValues"][":status"] = s(status)
    return kwargs
