"""shared/storage.py: the stored event round-trips, and nothing else decodes."""

from __future__ import annotations

import hashlib
import json
import zlib
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared import storage

EVENT: dict[str, Any] = {
    "schema_version": "1",
    "event_id": "evt_" + "ab" * 16,
    "provider": "vonage",
    "product": "messages",
    "type": "messages.status",
    "subject_id": "e7b0a3c2-5d1f-4b8e-9c6a-2f3e4d5c6b7a",
    "status": "delivered",
    "occurred_at": "2026-01-01T00:00:00.000Z",
    "received_at": "2026-01-01T00:00:01.000Z",
    "account_id": "abcd1234",
    "channel": "whatsapp",
    "client_ref": None,
    "data": {
        "message_uuid": "e7b0a3c2-5d1f-4b8e-9c6a-2f3e4d5c6b7a",
        "status": "delivered",
        "to": "447700900000",
    },
}

text = st.text(st.characters(exclude_categories=["Cs"]), max_size=40)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=200)
@given(data=st.dictionaries(text, json_values, max_size=6))
def test_any_event_round_trips(data: dict[str, Any]) -> None:
    event = {**EVENT, "data": data}
    assert json.loads(storage.decode_event_text(storage.encode_event(event))) == event


def test_the_dictionary_makes_a_small_event_much_smaller_than_plain_deflate() -> None:
    plain = len(zlib.compress(json.dumps(EVENT, sort_keys=True, separators=(",", ":")).encode(), 9))
    assert len(storage.encode_event(EVENT)) < 0.8 * plain


@pytest.mark.parametrize(
    "blob",
    [
        b"",
        b"\x02" + storage.encode_event(EVENT)[1:],  # another encoding
        storage.encode_event(EVENT)[:-3],  # truncated
        storage.encode_event(EVENT) + b"xx",  # trailing bytes
        b"\x01not deflate at all",
    ],
    ids=["empty", "other-encoding", "truncated", "trailing-bytes", "garbage"],
)
def test_anything_but_a_whole_blob_of_this_encoding_is_unreadable(blob: bytes) -> None:
    with pytest.raises(storage.UnreadableItem):
        storage.decode_event_text(blob)


def test_a_blob_that_inflates_past_the_bound_is_unreadable() -> None:
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15, 9, zlib.Z_DEFAULT_STRATEGY, storage._DICTIONARY)
    bomb = b"\x01" + deflate.compress(b" " * (storage.MAX_EVENT_BYTES + 1)) + deflate.flush()
    assert len(bomb) < 10_000
    with pytest.raises(storage.UnreadableItem):
        storage.decode_event_text(bomb)


@settings(max_examples=200)
@given(
    provider=st.sampled_from(["vonage", "twilio"]), product=st.sampled_from(["sms", "verify"]), subject=text
)
def test_a_subject_key_names_one_provider_product_and_id(provider: str, product: str, subject: str) -> None:
    assert storage.parse_subject_pk(storage.subject_pk(provider, product, subject)) == (
        provider,
        product,
        subject,
    )


def test_every_shard_is_used_and_stable() -> None:
    ids = ["evt_" + hashlib.sha256(str(i).encode()).hexdigest()[:32] for i in range(200)]
    shards = [storage.shard(event_id) for event_id in ids]
    assert set(shards) == set(range(storage.INDEX_SHARDS))
    assert storage.shard("evt_" + "0f" * 16) == storage.shard("evt_" + "0f" * 16)


@pytest.mark.parametrize("terminal", [True, False])
def test_the_status_condition_only_names_placeholders_it_sets(terminal: bool) -> None:
    request = storage.update_status("t", EVENT, 30, terminal, 1)
    names = {
        w
        for w in request["ConditionExpression"].replace("(", " ").replace(")", " ").split()
        if w.startswith(":")
    }
    assert names <= set(request["ExpressionAttributeValues"])
    assert ":true" not in request["ConditionExpression"]  # never two placeholders compared
