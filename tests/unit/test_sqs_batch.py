"""SendMessageBatch's limits, shared by the ingress, the recorder and replay."""

from __future__ import annotations

from shared.sqs_batch import BATCH_ENTRIES, MAX_BYTES, batches, sqs_size


def test_an_entry_counts_its_body_and_every_attributes_name_type_and_value() -> None:
    entry = {
        "MessageBody": "é" * 10,  # 20 bytes
        "MessageAttributes": {
            "credential": {"DataType": "String", "StringValue": "jwt:abc"},  # 10 + 6 + 7
            "blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01"},  # 4 + 6 + 2
        },
    }
    assert sqs_size(entry) == 20 + 23 + 12
    assert sqs_size({"MessageBody": "x"}) == 1


def test_calls_hold_at_most_ten_entries_and_the_byte_limit_and_keep_the_order() -> None:
    assert [len(b) for b in batches(range(23), lambda _: 1)] == [10, 10, 3]
    third = MAX_BYTES // 3
    cut = batches(range(7), lambda _: third + 1)  # two fit in a call, three do not
    assert [len(b) for b in cut] == [2, 2, 2, 1]
    assert [i for b in cut for i in b] == list(range(7))
    assert all(len(b) <= BATCH_ENTRIES for b in cut)
    assert batches([], len) == []
