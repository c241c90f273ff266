"""The recorder against moto (in-process ``mock_aws``): throughput per batch size and real item sizes.

1. Every valid sample webhook (events/manifest.json) goes through the real ingress handler (clock
   pinned to ``signed_at``), and the exact message it would enqueue is recorded by the real
   RecorderFunction handler into a table created from template.yaml. The items DynamoDB then holds
   are measured with DynamoDB's item-size rules, which give the write units the cost model bills.
   Each history item's index entries are sized from that same item under the projection template.yaml
   gives each GSI (table keys + index keys + NonKeyAttributes for INCLUDE), and, for the before →
   after and the what-ifs, under ALL (the whole item, the template's previous projection) and
   KEYS_ONLY.
2. Throughput: batches of 1, 5 and 10 of those events (fresh event and subject ids each time) through
   the RecorderFunction handler; the anchor, in the same run, is one plain ``put_item`` of the
   event's history item per event (the least a recorder could do against the same emulator).
   moto's ``transact_write_items`` and ``update_item`` deep-copy the whole table on every call, so
   its cost grows with the table: the table and the events queue are emptied before every repeat,
   so each batch size starts from the same state.
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from bench.common import EVENTS, FAKE_AWS_ENV, REGION, Stat
from bench.handler_cpu import CountingSink

BATCH_SIZES = (1, 5, 10)
# History-item attributes that repeat fields of the `event` JSON the same item holds.
_DUPLICATED = (
    "event_id",
    "provider",
    "product",
    "type",
    "status",
    "occurred_at",
    "received_at",
    "account_id",
)
PROJECTIONS = ("shipped", "all", "keys_only")
EVENTS_PER_REPEAT = 30
REPEATS = 5


def attribute_size(value: dict[str, Any]) -> int:
    """DynamoDB's size of one attribute value (developer guide, "Item sizes and formats")."""
    kind, inner = next(iter(value.items()))
    if kind == "S":
        return len(str(inner).encode("utf-8"))
    if kind == "N":
        digits = str(Decimal(str(inner)).normalize()).lstrip("-").replace(".", "").lstrip("0") or "0"
        digits = digits.split("E")[0]
        return math.ceil(len(digits) / 2) + 1
    if kind == "B":
        return len(inner)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "M":
        return 3 + sum(len(k.encode("utf-8")) + attribute_size(v) for k, v in inner.items())
    if kind == "L":
        return 3 + sum(1 + attribute_size(v) for v in inner)
    if kind in ("SS", "NS", "BS"):
        return sum(attribute_size({kind[0]: v}) for v in inner)
    raise ValueError(f"unknown DynamoDB type {kind}")


def item_size(item: dict[str, Any]) -> int:
    return sum(len(name.encode("utf-8")) + attribute_size(value) for name, value in item.items())


def units(size: int, per: int = 1024) -> int:
    return max(1, math.ceil(size / per))


def table_indexes(template: dict[str, Any]) -> tuple[list[str], list[dict[str, Any]]]:
    """The history table's key attributes and its GSIs (name, key attributes, projection), from
    template.yaml."""
    props = template["Resources"]["HistoryTable"]["Properties"]
    table_keys = [k["AttributeName"] for k in props["KeySchema"]]
    indexes = [
        {
            "name": g["IndexName"],
            "keys": [k["AttributeName"] for k in g["KeySchema"]],
            "projection": g["Projection"]["ProjectionType"],
            "non_key": list(g["Projection"].get("NonKeyAttributes") or []),
        }
        for g in props.get("GlobalSecondaryIndexes") or []
    ]
    return table_keys, indexes


def index_entry(
    item: dict[str, Any], table_keys: list[str], index: dict[str, Any], projection: str
) -> dict[str, Any] | None:
    """The entry ``item`` makes in ``index`` under ``projection`` ("shipped": the template's), or
    None when the item lacks the index's keys (a sparse index holds no entry for it)."""
    if not all(k in item for k in index["keys"]):
        return None
    kind = index["projection"] if projection == "shipped" else projection.upper()
    if kind == "ALL":
        return dict(item)
    names = {*table_keys, *index["keys"], *(index["non_key"] if kind == "INCLUDE" else ())}
    return {k: v for k, v in item.items() if k in names}


def _ingest_messages(env: dict[str, str]) -> list[str]:
    """The exact SQS message bodies the ingress handlers enqueue for every valid sample."""
    from bench.common import dev_secrets_text
    from bench.handler_cpu import FakeSecrets
    from functions.twilio import app as twilio_app
    from functions.vonage import app as vonage_app
    from shared.webhook import build_deps
    from switchboard.esm import LambdaContext

    manifest = json.loads((EVENTS / "manifest.json").read_text())
    frozen = datetime.fromtimestamp(manifest["signed_at"] + 1, UTC)
    bodies: list[str] = []

    class CaptureSQS:
        def send_message(self, **kwargs: Any) -> dict[str, str]:
            bodies.append(str(kwargs["MessageBody"]))
            return {"MessageId": "m"}

    clients: dict[str, Any] = {"sqs": CaptureSQS(), "secretsmanager": FakeSecrets(dev_secrets_text())}
    deps = build_deps(env, clock=lambda: frozen, client=lambda s: clients[s])
    modules = {"VonageFunction": vonage_app, "TwilioFunction": twilio_app}
    for case in manifest["cases"]:
        if case["case"] != "valid" or case["function"] not in modules:
            continue
        module: Any = modules[case["function"]]
        module.default_deps = lambda: deps
        result = module.handler(
            json.loads((EVENTS / case["file"]).read_text()), LambdaContext(case["function"])
        )
        if result["statusCode"] != case["expect_status"]:
            raise RuntimeError(f"{case['file']}: HTTP {result['statusCode']}")
    return bodies


def _records(bodies: list[str], tag: str) -> list[dict[str, Any]]:
    out = []
    for i, body in enumerate(bodies):
        event = json.loads(body)
        if tag:
            event["event_id"] = f"evt_{tag}{i:08x}".ljust(36, "0")
            event["subject_id"] = f"{event['subject_id']}-{tag}{i}"
        out.append(
            {
                "messageId": f"{tag}-{i}",
                "receiptHandle": f"{tag}-{i}",
                "body": json.dumps(event, separators=(",", ":")),
                "attributes": {"ApproximateReceiveCount": "1"},
                "eventSource": "aws:sqs",
            }
        )
    return out


def run() -> dict[str, Any]:
    sink = CountingSink()
    real_stdout = sys.stdout
    sys.stdout = sink
    try:
        return _run()
    finally:
        sys.stdout = real_stdout


def _run() -> dict[str, Any]:
    os.environ.update({**FAKE_AWS_ENV, "AWS_SESSION_TOKEN": "bench"})
    os.environ.pop("AWS_ENDPOINT_URL", None)
    os.environ.pop("AWS_PROFILE", None)
    import boto3
    from moto import mock_aws

    from bench.common import dev_secrets_text
    from shared import aws, recorder, webhook
    from shared.recorder import EVENT_PREFIX, STATUS_SK, SUBJECT_PREFIX, history_sk
    from shared.status_rank import rank
    from switchboard.esm import LambdaContext
    from switchboard.template import function_environment, functions, load_template, provision

    template = load_template()
    table_keys, indexes = table_indexes(template)
    projected = {a for i in indexes if i["projection"] != "ALL" for a in i["non_key"]}
    if any(i["projection"] == "ALL" for i in indexes):
        projected = set(_DUPLICATED)
    with mock_aws():
        aws.client.cache_clear()
        webhook.default_deps.cache_clear()
        recorder.default_recorder.cache_clear()
        stack = provision(lambda s: boto3.client(s, region_name=REGION), secret_string=dev_secrets_text())
        for logical in functions(template):
            os.environ.update(function_environment(template, logical, stack))
        env = dict(os.environ)
        from functions.recorder import app as recorder_app

        ctx: Any = LambdaContext(function_name="RecorderFunction")
        bodies = _ingest_messages(env)
        result = recorder_app.handler({"Records": _records(bodies, "")}, ctx)
        if result["batchItemFailures"]:
            raise RuntimeError(f"recording the samples failed: {result}")
        db = aws.client("dynamodb")
        table = stack.refs["HistoryTable"]

        per_event = []
        mismatches: list[dict[str, Any]] = []
        for body in bodies:
            event = json.loads(body)
            key_dedupe = {"pk": {"S": EVENT_PREFIX + event["event_id"]}, "sk": {"S": "EVENT"}}
            key_history = {"pk": {"S": SUBJECT_PREFIX + event["subject_id"]}, "sk": {"S": history_sk(event)}}
            key_status = {"pk": {"S": SUBJECT_PREFIX + event["subject_id"]}, "sk": {"S": STATUS_SK}}
            dedupe = db.get_item(TableName=table, Key=key_dedupe)["Item"]
            history = db.get_item(TableName=table, Key=key_history)["Item"]
            status = db.get_item(TableName=table, Key=key_status).get("Item")
            entries = {
                projection: [
                    item_size(entry)
                    for index in indexes
                    if (entry := index_entry(history, table_keys, index, projection)) is not None
                ]
                for projection in PROJECTIONS
            }
            emulator = _index_entry_sizes(db, table, indexes, history)
            if emulator != entries["shipped"]:
                mismatches.append(
                    {"type": event["type"], "emulator": emulator, "computed": entries["shipped"]}
                )
            per_event.append(
                {
                    "type": event["type"],
                    "dedupe_bytes": item_size(dedupe),
                    "history_bytes": item_size(history),
                    "status_bytes": item_size(status) if status else 0,
                    # one size per index entry this item makes, under each projection
                    "gsi_entry_bytes": entries,
                    # What-ifs for the cost model, from the same real item (the status API reads
                    # only `sk` and `event`; these attributes repeat fields of `event`):
                    # without those no index projects (what the shipped INCLUDE projections keep);
                    "history_lean_bytes": item_size(
                        {k: v for k, v in history.items() if k not in _DUPLICATED or k in projected}
                    ),
                    # without any of them: only keys, TTL, GSI keys and `event` (KEYS_ONLY or no GSIs).
                    "history_minimal_bytes": item_size(
                        {k: v for k, v in history.items() if k not in _DUPLICATED}
                    ),
                    "informational": rank(event["product"], event["status"]) is None,
                    "ingest_body_bytes": len(body.encode("utf-8")),
                }
            )
        fifo_sizes = _drain_sizes(aws.client("sqs"), stack.refs["EventsQueue"])
        subjects = len({json.loads(b)["subject_id"] for b in bodies})

        ours: dict[int, list[float]] = {size: [] for size in BATCH_SIZES}
        anchor: dict[int, list[float]] = {size: [] for size in BATCH_SIZES}
        for r in range(REPEATS):  # batch sizes interleaved: emulator drift hits each alike
            for size in BATCH_SIZES:
                _empty(db, table, aws.client("sqs"), stack.refs["EventsQueue"])
                records = _records(bodies[:EVENTS_PER_REPEAT], f"b{size}r{r}")
                t0 = time.perf_counter()
                for i in range(0, len(records), size):
                    got = recorder_app.handler({"Records": records[i : i + size]}, ctx)
                    if got["batchItemFailures"]:
                        raise RuntimeError(f"batch failures: {got}")
                ours[size].append(len(records) / (time.perf_counter() - t0))
                plain = _records(bodies[:EVENTS_PER_REPEAT], f"p{size}r{r}")
                t0 = time.perf_counter()
                for rec in plain:
                    event = json.loads(rec["body"])
                    db.put_item(
                        TableName=table,
                        Item={
                            "pk": {"S": SUBJECT_PREFIX + event["subject_id"]},
                            "sk": {"S": history_sk(event)},
                            "event": {"S": rec["body"]},
                        },
                    )
                anchor[size].append(len(plain) / (time.perf_counter() - t0))
        throughput = {
            str(size): {
                "ours": Stat.of(ours[size], "events/s").to_json(),
                "anchor": Stat.of(anchor[size], "events/s").to_json(),
            }
            for size in BATCH_SIZES
        }
    return {
        "indexes": indexes,
        # what the lean-history what-if leaves out: attributes that repeat `event`, no index projects
        "lean_dropped": [a for a in _DUPLICATED if a not in projected],
        # the computed entries checked against what the emulator's index queries return
        "index_entries_checked": len(per_event),
        "index_entry_mismatches": mismatches,
        "events": per_event,
        "fifo_body_bytes": fifo_sizes,
        "distinct_subjects": subjects,
        "throughput": throughput,
        "events_per_repeat": min(EVENTS_PER_REPEAT, len(bodies)),
        "emulator": "moto (in-process mock_aws)",
    }


def _index_entry_sizes(db: Any, table: str, indexes: list[dict[str, Any]], item: dict[str, Any]) -> list[int]:
    """The sizes of ``item``'s entries as the emulator's index queries return them."""
    sizes = []
    for index in indexes:
        if not all(k in item for k in index["keys"]):
            continue
        names = {f"#k{i}": k for i, k in enumerate(index["keys"])}
        got = db.query(
            TableName=table,
            IndexName=index["name"],
            KeyConditionExpression=" AND ".join(f"#k{i} = :k{i}" for i in range(len(index["keys"]))),
            ExpressionAttributeNames=names,
            ExpressionAttributeValues={f":k{i}": item[k] for i, k in enumerate(index["keys"])},
        )["Items"]
        match = [g for g in got if g.get("pk") == item["pk"] and g.get("sk") == item["sk"]]
        sizes.append(item_size(match[0]) if match else 0)
    return sizes


def _empty(db: Any, table: str, sqs: Any, queue_url: str) -> None:
    """Delete every item and drain the events queue (both bounded: a few hundred per repeat)."""
    for _ in range(100):
        items = db.scan(TableName=table, ProjectionExpression="pk, sk", Limit=25).get("Items") or []
        if not items:
            break
        db.batch_write_item(RequestItems={table: [{"DeleteRequest": {"Key": i}} for i in items]})
    _drain_sizes(sqs, queue_url)  # PurgeQueue is limited to once a minute, in moto too


def _drain_sizes(sqs: Any, url: str) -> list[int]:
    sizes: list[int] = []
    for _ in range(60):  # bounded: at most a few hundred messages, 10 per receive
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)
        messages = got.get("Messages") or []
        if not messages:
            break
        for m in messages:
            sizes.append(len(m["Body"].encode("utf-8")))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    return sizes
