"""bench/capacity_meter.py: DynamoDB's on-demand unit rules on small moto tables, and the cost model
(bench/cost.py) kept in step with the calls the real recorder makes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from bench import cost
from bench.capacity_meter import CapacityMeter, SendCounter, item_size
from bench.handler_cpu import CountingSink
from bench.recorder_moto import Rig, classify, event_of
from tests.integration.conftest import fake_aws_env

ROOT = Path(__file__).resolve().parents[2]
REGION = "us-east-1"
TABLE = "meter-test"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    fake_aws_env(monkeypatch)
    with mock_aws():
        yield


@pytest.fixture
def table(aws: None) -> tuple[Any, Any, CapacityMeter]:
    """A table with one INCLUDE [status] index on gpk/gsk; (metered client, raw client, meter)."""
    raw = boto3.client("dynamodb", region_name=REGION)
    raw.create_table(
        TableName=TABLE,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in ("pk", "sk", "gpk", "gsk")],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "gsi",
                "KeySchema": [
                    {"AttributeName": "gpk", "KeyType": "HASH"},
                    {"AttributeName": "gsk", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["status"]},
            }
        ],
    )
    db = boto3.client("dynamodb", region_name=REGION)
    meter = CapacityMeter(raw)
    meter.attach(db)
    return db, raw, meter


KEY = {"pk": {"S": "a"}, "sk": {"S": "b"}}


def sized(total: int, **extra: Any) -> dict[str, Any]:
    """An item of exactly ``total`` bytes by DynamoDB's rules (padded with a binary attribute)."""
    item = {**KEY, **extra, "filler": {"B": b""}}
    pad = total - item_size(item)
    assert pad >= 0
    item["filler"] = {"B": b"x" * pad}
    assert item_size(item) == total
    return item


def only(meter: CapacityMeter) -> Any:
    calls = meter.reset()
    assert len(calls) == 1, calls
    return calls[0]


# --- sizes and write units -------------------------------------------------------------------


def test_item_size_counts_names_and_values() -> None:
    assert item_size({"pk": {"S": "é"}}) == 2 + 2  # UTF-8 bytes
    assert item_size({"n": {"N": "12345"}}) == 1 + 4  # 5 significant digits: ⌈5/2⌉ + 1
    assert item_size({"b": {"BOOL": True}, "x": {"NULL": True}}) == 2 + 2
    assert item_size({"m": {"M": {"k": {"S": "v"}}}}) == 1 + 3 + 1 + 1


@pytest.mark.parametrize(("size", "wru"), [(100, 1), (1024, 1), (1025, 2), (2048, 2), (2049, 3)])
def test_a_put_costs_one_unit_per_started_kilobyte(table: Any, size: int, wru: int) -> None:
    db, _, meter = table
    db.put_item(TableName=TABLE, Item=sized(size))
    call = only(meter)
    assert (call.operation, call.wru, call.after_size) == ("PutItem", wru, size)


def test_an_update_is_charged_on_the_larger_of_before_and_after(table: Any) -> None:
    db, raw, meter = table
    raw.put_item(TableName=TABLE, Item=sized(1500))
    db.update_item(TableName=TABLE, Key=KEY, UpdateExpression="REMOVE filler")  # 1,500 B → 10 B (the keys)
    shrink = only(meter)
    assert (shrink.before_size, shrink.after_size, shrink.wru) == (1500, item_size(KEY), 2)
    db.update_item(
        TableName=TABLE,
        Key=KEY,
        UpdateExpression="SET filler = :b",
        ExpressionAttributeValues={":b": {"B": b"x" * 2100}},
    )
    assert only(meter).wru == 3  # grows to 2,116 B


def test_a_put_over_a_larger_item_is_charged_on_the_old_one(table: Any) -> None:
    db, raw, meter = table
    raw.put_item(TableName=TABLE, Item=sized(3000))
    db.put_item(TableName=TABLE, Item=sized(100))
    assert only(meter).wru == 3


def test_a_failed_condition_is_charged_the_existing_item_and_writes_no_index_entry(table: Any) -> None:
    db, raw, meter = table
    raw.put_item(TableName=TABLE, Item=sized(2100, gpk={"S": "p"}, gsk={"S": "1"}))
    with pytest.raises(db.exceptions.ConditionalCheckFailedException):
        db.put_item(
            TableName=TABLE,
            Item=sized(100, gpk={"S": "q"}, gsk={"S": "2"}),
            ConditionExpression="attribute_not_exists(pk)",
        )
    call = only(meter)
    assert (call.condition_failed, call.wru, call.index_writes) == (True, 3, [])
    with pytest.raises(db.exceptions.ConditionalCheckFailedException):
        db.update_item(
            TableName=TABLE,
            Key={"pk": {"S": "none"}, "sk": {"S": "b"}},
            UpdateExpression="SET x = :x",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues={":x": {"S": "y"}},
        )
    assert only(meter).wru == 1  # nothing there: the minimum, one unit


# --- index entries ---------------------------------------------------------------------------


def test_index_entries_are_counted_only_when_the_write_touches_keys_or_projected_attributes(
    table: Any,
) -> None:
    db, _, meter = table
    item = {**KEY, "gpk": {"S": "p#01"}, "gsk": {"S": "2026"}, "status": {"S": "sent"}, "note": {"S": "n"}}
    db.put_item(TableName=TABLE, Item=item)
    [put] = only(meter).index_writes
    assert (put.index, put.kind, put.wru) == ("gsi", "put", 1)
    assert put.size == item_size(
        {k: v for k, v in item.items() if k != "note"}
    )  # table + index keys + status

    def update(expression: str, values: dict[str, Any]) -> list[tuple[str, float]]:
        db.update_item(
            TableName=TABLE, Key=KEY, UpdateExpression=expression, ExpressionAttributeValues=values
        )
        call = only(meter)
        assert call.wru == 1
        return [(w.kind, w.wru) for w in call.index_writes]

    assert update("SET note = :n", {":n": {"S": "not projected"}}) == []
    db.update_item(
        TableName=TABLE,
        Key=KEY,
        UpdateExpression="SET #s = :s",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":s": {"S": "delivered"}},
    )
    assert [(w.kind, w.wru) for w in only(meter).index_writes] == [("update", 1)]
    assert update("SET gpk = :p", {":p": {"S": "p#02"}}) == [("delete", 1), ("put", 1)]
    db.put_item(TableName=TABLE, Item={**item, "gpk": {"S": "p#02"}, "status": {"S": "delivered"}})
    assert [w.kind for w in only(meter).index_writes] == ["update"]  # a put rewrites the whole entry
    db.update_item(TableName=TABLE, Key=KEY, UpdateExpression="REMOVE gsk")
    assert [w.kind for w in only(meter).index_writes] == ["delete"]  # sparse: the entry goes


# --- reads -----------------------------------------------------------------------------------


def test_an_eventually_consistent_read_costs_half_and_a_projection_does_not_lower_it(table: Any) -> None:
    db, raw, meter = table
    raw.put_item(TableName=TABLE, Item=sized(5000))  # two 4 KB units
    db.get_item(TableName=TABLE, Key=KEY)
    assert only(meter).rru == 1.0
    db.get_item(TableName=TABLE, Key=KEY, ConsistentRead=True)
    assert only(meter).rru == 2.0
    db.get_item(TableName=TABLE, Key=KEY, ProjectionExpression="pk")
    assert only(meter).rru == 1.0
    db.get_item(TableName=TABLE, Key={"pk": {"S": "none"}, "sk": {"S": "b"}})
    assert only(meter).rru == 0.5  # nothing found: still the minimum


def test_a_query_is_charged_on_what_it_reads_before_the_filter(table: Any) -> None:
    db, raw, meter = table
    for sk in ("1", "2"):
        raw.put_item(TableName=TABLE, Item={**sized(3000), "sk": {"S": sk}})
    db.query(
        TableName=TABLE,
        KeyConditionExpression="pk = :pk",
        FilterExpression="sk = :one",
        ProjectionExpression="pk",
        ExpressionAttributeValues={":pk": {"S": "a"}, ":one": {"S": "1"}},
    )
    assert only(meter).rru == 1.0  # ⌈6,000 B / 4 KB⌉ × ½, though the filter returns one item


# --- the real recorder ------------------------------------------------------------------------


def _records(credential_kind: str = "vonage-jwt") -> list[dict[str, Any]]:
    doc = json.loads((ROOT / "events" / "sqs" / "batch-message-lifecycle.json").read_text())
    out = []
    for i, record in enumerate(doc["Records"]):
        record = dict(record)
        record["messageAttributes"] = {
            "credential": {"stringValue": f"{credential_kind}:{i:040x}", "dataType": "String"}
        }
        out.append(record)
    return out


@pytest.fixture
def recorder_rig(aws: None) -> tuple[Rig, list[str]]:
    """The real recorder (shared.recorder + the real batch loop) on the template's table and queues,
    with the meter on its clients; and an independent list of the DynamoDB and SQS calls it makes."""
    from shared.observability import logger
    from shared.recorder import Recorder, fifo_publisher
    from shared.recorder_batch import handle_batch
    from switchboard.template import provision

    stack = provision(lambda s: boto3.client(s, region_name=REGION))
    db = boto3.client("dynamodb", region_name=REGION)
    sqs = boto3.client("sqs", region_name=REGION)
    seen: list[str] = []
    db.meta.events.register("before-call.dynamodb", lambda model, **_: seen.append(model.name))
    sqs.meta.events.register("before-call.sqs.SendMessageBatch", lambda model, **_: seen.append(model.name))
    recorder = Recorder(
        db, stack.refs["HistoryTable"], fifo_publisher(sqs, stack.refs["EventsQueue"]), retention_days=90
    )
    rig = Rig(
        lambda event, _ctx: handle_batch(event, recorder, logger),
        db,
        sqs,
        boto3.client("dynamodb", region_name=REGION),
        stack.refs["EventsQueue"],
        CountingSink(),
    )
    rig.attach()
    return rig, seen


def _check_model_matches_the_calls(delivery: dict[str, Any], seen: list[str]) -> None:
    records = delivery["records"]
    ddb_seen = [op for op in seen if op != "SendMessageBatch"]
    metered = [c["operation"] for r in records for c in r["calls"]]
    assert sorted(metered) == sorted(ddb_seen)  # the meter saw every DynamoDB call, once
    for r in records:
        assert cost.wru(r) == sum(c["wru"] + sum(w["wru"] for w in c["index_writes"]) for c in r["calls"])
        assert cost.rru(r) == sum(c["rru"] for c in r["calls"])
        assert sum(cost.round_trips(r).values()) == len(r["calls"])
    sends = seen.count("SendMessageBatch")
    assert sum(len(b["fifo_sends"]) for b in delivery["batches"]) == sends
    assert round(sum(calls for calls, _ in cost.fifo_shares(delivery, delivery["batch_size"])), 9) == sends


def test_the_cost_model_prices_every_call_the_real_recorder_makes(recorder_rig: Any) -> None:
    rig, seen = recorder_rig
    records = _records()
    first = rig.deliver(records, len(records), "first")
    _check_model_matches_the_calls(first, seen)
    assert [r["outcome"] for r in first["records"]] == ["new"] * len(records)
    for r in first["records"]:
        units = cost.breakdown(r)
        # a new signed event: its binding, its status, its history item and that item's index entry
        assert units["binding"] and units["history"] and units["index"] and units["history_read"]
        assert units["status"] + units["failed"] > 0
    assert seen.count("SendMessageBatch") == 1  # one publish for the batch

    seen.clear()
    again = rig.deliver(_records(), len(records), "redelivery")
    _check_model_matches_the_calls(again, seen)
    for r in again["records"]:
        assert r["outcome"].startswith("duplicate")
        assert cost.wru(r) == 0 and cost.rru(r) == 0.5  # one eventually consistent GetItem
    assert "SendMessageBatch" not in seen


def test_an_operation_the_meter_does_not_price_is_recorded_and_refused_by_the_model(table: Any) -> None:
    db, _, meter = table
    db.scan(TableName=TABLE)
    call = only(meter)
    assert (call.operation, call.label, call.wru, call.rru) == ("Scan", "unmetered", 0, 0)
    with pytest.raises(cost.UnmodelledCall):
        cost.breakdown({"calls": [call.to_json()]})


def test_a_call_the_model_does_not_know_fails_loudly() -> None:
    record = {
        "calls": [
            {
                "operation": "DeleteItem",
                "label": "history",
                "condition_failed": False,
                "wru": 1.0,
                "rru": 0.0,
                "index_writes": [],
            }
        ]
    }
    with pytest.raises(cost.UnmodelledCall):
        cost.breakdown(record)


def test_the_classifier_and_event_attribution_follow_the_storage_layout() -> None:
    from shared import storage

    event = {"provider": "vonage", "product": "messages", "subject_id": "s1", "event_id": "evt_1"}
    put = storage.put_history(
        "t", {**event, "status": "sent", "type": "messages.status", "occurred_at": "x"}, 1
    )
    assert classify("PutItem", storage.history_key(event)) == "history"
    assert event_of("PutItem", put) == "evt_1"
    assert classify("UpdateItem", storage.status_key(storage.event_subject_pk(event))) == "status"
    assert classify("PutItem", storage.credential_key("vonage-jwt:ab")) == "binding"
    assert event_of("GetItem", storage.get_status("t", storage.event_subject_pk(event))) is None


def test_send_counter_bills_64_kb_chunks() -> None:
    counter = SendCounter()
    counter._batch(
        {"QueueUrl": "q", "Entries": [{"MessageBody": "x" * 40_000, "MessageDeduplicationId": "a"}] * 2}
    )
    [call] = counter.reset()
    assert (call["messages"], call["billed_requests"], call["entries"][0]) == (2, 2, ["a", 40_000])
