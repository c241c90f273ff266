"""The real RecorderFunction under moto (in-process ``mock_aws``): what each call it makes costs, the
items it stores, and its throughput per batch size.

1. **Capacity, measured on the code path.** Every valid sample webhook (events/manifest.json) goes
   through the real ingress handler (clock pinned to ``signed_at``) and the exact ingest message it
   would enqueue — body and ``credential`` attribute — is delivered to the real RecorderFunction
   handler (``functions.recorder.app.handler``: Powertools BatchProcessor, ``shared.recorder``) in
   batches of the template's BatchSize, in the samples' order, against a table and queues created
   from template.yaml. The handler's own DynamoDB client carries a ``bench.capacity_meter`` meter and
   its SQS client a send counter (botocore hooks: the recorder's code is not touched), so every
   GetItem, PutItem, UpdateItem and SendMessageBatch it issues is charged by DynamoDB's and SQS's
   published rules from the real items before and after. Then a second pass delivers every sample's
   ingest message again (an SQS redelivery of an event already recorded): its cost is reported as its
   own row, never in the per-webhook headline.
2. **Stored items.** After the passes the table is read back: each history item, status item and
   credential binding, and each history item's index entry under the template's projection (checked
   against what moto's index query returns), for the storage and PITR prices.
3. **Throughput**: batches of 1, 5 and 10 of those events (fresh event and subject ids each time)
   through the handler, meter detached; the anchor, in the same run, is one plain ``put_item`` of
   each event's history item (the least a recorder could do against the same emulator). The table
   and the events queue are emptied before every repeat, so each batch size starts from the same state.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from bench.capacity_meter import Call, CapacityMeter, SendCounter, TableShape, index_entry, item_size
from bench.common import EVENTS, FAKE_AWS_ENV, REGION, Stat
from bench.handler_cpu import CountingSink

BATCH_SIZES = (1, 5, 10)
PROJECTIONS = ("shipped", "keys_only")
EVENTS_PER_REPEAT = 30
REPEATS = 5
SAME_BATCH_PAIRS = 5  # events delivered twice within one batch of 10


# --- what the recorder's calls are --------------------------------------------------------------


def classify(op: str, key: Mapping[str, Any]) -> str:
    """Which of the recorder's items a call touches (shared.storage's keys)."""
    from shared import storage

    pk = str((key.get("pk") or {}).get("S", ""))
    sk = str((key.get("sk") or {}).get("S", ""))
    if pk.startswith(storage.CREDENTIAL_PREFIX):
        return "binding"
    if sk == storage.STATUS_SK:
        return "status"
    if sk.startswith(storage.HISTORY_PREFIX):
        return "history"
    return "other"


def event_of(op: str, request: Mapping[str, Any]) -> str | None:
    """The event id a request names, wherever the recorder puts it (None for a status read)."""
    from shared import storage

    item = request.get("Item") or request.get("Key") or {}
    sk = str((item.get("sk") or {}).get("S", ""))
    if sk.startswith(storage.HISTORY_PREFIX):
        return sk.removeprefix(storage.HISTORY_PREFIX)
    if "event_id" in item:
        return str(item["event_id"]["S"])
    values = request.get("ExpressionAttributeValues") or {}
    if ":event_id" in values:
        return str(values[":event_id"]["S"])
    return None


def attribute(records: list[dict[str, Any]], calls: list[Call]) -> list[list[Call]]:
    """Each call to the record it was made for. BatchProcessor runs steps 1-3 record by record (each
    starts with the history GetItem), then the batch's history puts in record order; a call naming no
    event (an informational event's status read) belongs to the record being prepared."""
    ids = [json.loads(r["body"])["event_id"] for r in records]
    out: list[list[Call]] = [[] for _ in records]
    current = -1
    put_done = [False] * len(records)
    for call in calls:
        if call.label == "history" and call.operation == "PutItem":
            i = next(i for i, e in enumerate(ids) if e == call.event_id and not put_done[i])
            put_done[i] = True
            out[i].append(call)
            continue
        if call.label == "history" and call.operation == "GetItem":
            current = next(i for i in range(current + 1, len(ids)) if ids[i] == call.event_id)
        if current < 0 or (call.event_id is not None and call.event_id != ids[current]):
            raise RuntimeError(f"cannot attribute {call.operation} {call.label} {call.event_id}")
        out[current].append(call)
    return out


def outcome(calls: list[Call]) -> str:
    by = {(c.label, c.operation): c for c in calls}
    got = by.get(("history", "GetItem"))
    if got is not None and got.before_size:
        return "duplicate (history item found)"
    binding = by.get(("binding", "PutItem"))
    if binding is not None and binding.condition_failed:
        return "rejected (credential bound to another event)"
    put = by.get(("history", "PutItem"))
    if put is None:  # another copy of the same event in this batch is published and stored
        return "duplicate (same batch: the first copy is stored)"
    if put.condition_failed:
        return "duplicate (history item written concurrently)"
    return "new"


# --- the samples as the recorder receives them --------------------------------------------------


def _ingest_messages(env: dict[str, str]) -> list[tuple[str, str | None]]:
    """The exact SQS message body and ``credential`` attribute the ingress handlers enqueue for every
    valid sample."""
    from bench.common import dev_secrets_text
    from bench.handler_cpu import FakeSecrets
    from functions.twilio import app as twilio_app
    from functions.vonage import app as vonage_app
    from shared.recorder import CREDENTIAL_ATTRIBUTE
    from shared.webhook import build_deps
    from switchboard.esm import LambdaContext

    manifest = json.loads((EVENTS / "manifest.json").read_text())
    frozen = datetime.fromtimestamp(manifest["signed_at"] + 1, UTC)
    messages: list[tuple[str, str | None]] = []

    class CaptureSQS:
        def send_message(self, **kwargs: Any) -> dict[str, str]:
            attribute = (kwargs.get("MessageAttributes") or {}).get(CREDENTIAL_ATTRIBUTE)
            messages.append((str(kwargs["MessageBody"]), attribute["StringValue"] if attribute else None))
            return {"MessageId": "m"}

        def send_message_batch(self, **kwargs: Any) -> dict[str, Any]:  # an Event Streams delivery
            for entry in kwargs["Entries"]:
                self.send_message(**entry)
            return {"Successful": [{"Id": e["Id"]} for e in kwargs["Entries"]], "Failed": []}

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
    return messages


def sqs_records(
    messages: list[tuple[str, str | None]], tag: str = "", prefix: str = "m"
) -> list[dict[str, Any]]:
    """Lambda's SQS records for ``messages``. ``tag``: fresh event ids, subjects and credentials
    (a new event per message, for the throughput runs)."""
    from shared.recorder import CREDENTIAL_ATTRIBUTE

    out = []
    for i, (body, credential) in enumerate(messages):
        if tag:
            event = json.loads(body)
            event["event_id"] = f"evt_{tag}{i:08x}".ljust(36, "0")
            event["subject_id"] = f"{event['subject_id']}-{tag}{i}"
            body = json.dumps(event, separators=(",", ":"))
            credential = f"{credential}-{tag}" if credential else None
        out.append(
            {
                "messageId": f"{prefix}{tag}-{i}",
                "receiptHandle": f"{prefix}{tag}-{i}",
                "body": body,
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": (
                    {CREDENTIAL_ATTRIBUTE: {"stringValue": credential, "dataType": "String"}}
                    if credential
                    else {}
                ),
                "eventSource": "aws:sqs",
            }
        )
    return out


class Rig:
    """The real RecorderFunction handler with a meter on its DynamoDB client and a send counter on its
    SQS client."""

    def __init__(self, handler: Any, db: Any, sqs: Any, raw_db: Any, events_queue: str, sink: CountingSink):
        from switchboard.esm import LambdaContext

        self.handler = handler
        self.ctx: Any = LambdaContext(function_name="RecorderFunction")
        self.db, self.sqs = db, sqs
        self.meter = CapacityMeter(raw_db, classify=classify, event_of=event_of)
        self.sends = SendCounter()
        self.events_queue = events_queue
        self.sink = sink

    def attach(self) -> None:
        self.meter.attach(self.db)
        self.sends.attach(self.sqs)

    def detach(self) -> None:
        self.meter.detach(self.db)
        self.sends.detach(self.sqs)

    def deliver(self, records: list[dict[str, Any]], batch: int, delivery: str) -> dict[str, Any]:
        """``records`` through the handler in batches of ``batch``; per record its calls and outcome."""
        from shared import storage

        per_record: list[dict[str, Any]] = []
        batches: list[dict[str, Any]] = []
        log0 = self.sink.chars
        for start in range(0, len(records), batch):
            chunk = records[start : start + batch]
            self.meter.reset()
            self.sends.reset()
            got = self.handler({"Records": chunk}, self.ctx)
            if got["batchItemFailures"]:
                raise RuntimeError(f"recording failed: {got}")
            calls = self.meter.reset()
            sends = [s for s in self.sends.reset() if s["queue"] == self.events_queue]
            batches.append({"records": len(chunk), "fifo_sends": sends})
            for record, mine in zip(chunk, attribute(chunk, calls), strict=True):
                event = json.loads(record["body"])
                credential = (record["messageAttributes"].get("credential") or {}).get("stringValue")
                per_record.append(
                    {
                        "event_id": event["event_id"],
                        "type": event["type"],
                        "product": event["product"],
                        "subject_pk": storage.event_subject_pk(event),
                        "delivery": delivery,
                        "informational": _informational(event),
                        "credential_kind": credential.partition(":")[0] if credential else None,
                        "ingest_body_bytes": len(record["body"].encode("utf-8")),
                        "outcome": outcome(mine),
                        "calls": [c.to_json() for c in mine],
                    }
                )
        return {
            "records": per_record,
            "batches": batches,
            "batch_size": batch,
            "log_bytes_per_record": (self.sink.chars - log0) / max(1, len(records)),
        }


def _informational(event: Mapping[str, Any]) -> bool:
    from shared.status_rank import position

    return position(event["product"], event["type"], event["status"]) is None


# --- the run ------------------------------------------------------------------------------------


def run() -> dict[str, Any]:
    sink = CountingSink()
    real_stdout = sys.stdout
    sys.stdout = sink  # the handlers log to stdout, as in Lambda: counted, not printed
    try:
        return _run(sink)
    finally:
        sys.stdout = real_stdout


def _run(sink: CountingSink) -> dict[str, Any]:
    os.environ.update({**FAKE_AWS_ENV, "AWS_SESSION_TOKEN": "bench"})
    os.environ.pop("AWS_ENDPOINT_URL", None)
    os.environ.pop("AWS_PROFILE", None)
    import boto3
    from moto import mock_aws

    from bench.common import dev_secrets_text
    from shared import aws, recorder, storage, webhook
    from switchboard.template import function_environment, functions, load_template, provision, queue_sources

    template = load_template()
    batch = next(q.batch_size for q in queue_sources(template) if q.function == "RecorderFunction")
    with mock_aws():
        aws.client.cache_clear()
        webhook.default_deps.cache_clear()
        recorder.default_recorder.cache_clear()
        stack = provision(lambda s: boto3.client(s, region_name=REGION), secret_string=dev_secrets_text())
        for logical in functions(template):
            os.environ.update(function_environment(template, logical, stack))
        env = dict(os.environ)
        from functions.recorder import app as recorder_app

        table = stack.refs["HistoryTable"]
        raw = boto3.client("dynamodb", region_name=REGION)  # the meter's own reads: not counted
        shape = TableShape.describe(raw, table)
        rec = recorder.default_recorder()
        if rec.db is not aws.client("dynamodb"):
            raise RuntimeError("the recorder does not use shared.aws's DynamoDB client")
        rig = Rig(
            recorder_app.handler,
            aws.client("dynamodb"),
            aws.client("sqs"),
            raw,
            stack.refs["EventsQueue"],
            sink,
        )
        messages = _ingest_messages(env)
        rig.attach()
        first = rig.deliver(sqs_records(messages), batch, "first")
        fifo_sizes = _drain_sizes(aws.client("sqs"), stack.refs["EventsQueue"])
        again = rig.deliver(sqs_records(messages, prefix="again"), batch, "redelivery")
        # A redelivery inside the batch of its first delivery (SQS at-least-once; a provider retry
        # landing in the same batching window): steps 1-3 run for both before either history item.
        pairs = sqs_records(messages[:SAME_BATCH_PAIRS], tag="dup")
        twice = [r for rec in pairs for r in (rec, {**rec, "messageId": rec["messageId"] + "-again"})]
        same_batch = rig.deliver(twice, len(twice), "same batch")
        rig.detach()
        stored = _stored(raw, table, shape, first["records"])
        probe = _moto_probe(raw, table, shape)

        ours: dict[int, list[float]] = {size: [] for size in BATCH_SIZES}
        anchor: dict[int, list[float]] = {size: [] for size in BATCH_SIZES}
        db = aws.client("dynamodb")
        for r in range(REPEATS):  # batch sizes interleaved: emulator drift hits each alike
            for size in BATCH_SIZES:
                _empty(db, table, aws.client("sqs"), stack.refs["EventsQueue"])
                records = sqs_records(messages[:EVENTS_PER_REPEAT], f"b{size}r{r}")
                t0 = time.perf_counter()
                for i in range(0, len(records), size):
                    got = recorder_app.handler({"Records": records[i : i + size]}, rig.ctx)
                    if got["batchItemFailures"]:
                        raise RuntimeError(f"batch failures: {got}")
                ours[size].append(len(records) / (time.perf_counter() - t0))
                plain = sqs_records(messages[:EVENTS_PER_REPEAT], f"p{size}r{r}")
                t0 = time.perf_counter()
                for record in plain:
                    db.put_item(TableName=table, Item=storage.history_item(json.loads(record["body"]), 0))
                anchor[size].append(len(plain) / (time.perf_counter() - t0))
        throughput = {
            str(size): {
                "ours": Stat.of(ours[size], "events/s").to_json(),
                "anchor": Stat.of(anchor[size], "events/s").to_json(),
            }
            for size in BATCH_SIZES
        }
    return {
        "template": {"batch_size": batch},
        "indexes": [
            {"name": i.name, "keys": list(i.keys), "projection": i.projection, "non_key": list(i.non_key)}
            for i in shape.indexes
        ],
        "index_shards": storage.INDEX_SHARDS,
        "first": first,
        "redelivery": again,
        "same_batch": same_batch,
        "stored": stored,
        "moto_probe": probe,
        "fifo_body_bytes": fifo_sizes,
        "throughput": throughput,
        "events_per_repeat": min(EVENTS_PER_REPEAT, len(messages)),
        "emulator": "moto (in-process mock_aws)",
        "meter": "bench.capacity_meter (botocore hooks on the recorder's own clients)",
    }


def _stored(raw: Any, table: str, shape: TableShape, records: list[dict[str, Any]]) -> dict[str, Any]:
    """What the table holds after the first pass, per event id / subject, with each history item's
    index entries (as the template projects them, and KEYS_ONLY for a what-if) and a check of those
    against what moto's index query returns."""
    from shared import storage

    items: list[dict[str, Any]] = []
    start: dict[str, Any] | None = None
    for _ in range(1000):  # bounded: a few hundred items
        kwargs: dict[str, Any] = {"TableName": table}
        if start:
            kwargs["ExclusiveStartKey"] = start
        got = raw.scan(**kwargs)
        items += got.get("Items") or []
        start = got.get("LastEvaluatedKey")
        if not start:
            break
    history: dict[str, Any] = {}
    status: dict[str, int] = {}
    bindings: dict[str, dict[str, Any]] = {}
    mismatches: list[dict[str, Any]] = []
    for item in items:
        label = classify("", item)
        if label == "history":
            event_id = item["sk"]["S"].removeprefix(storage.HISTORY_PREFIX)
            entries = {
                p: [
                    item_size(e)
                    for index in shape.indexes
                    if (e := index_entry(item, shape.keys, index, None if p == "shipped" else p)) is not None
                ]
                for p in PROJECTIONS
            }
            emulator = _index_entry_sizes(raw, table, shape, item)
            if emulator != entries["shipped"]:
                mismatches.append(
                    {"event_id": event_id, "emulator": emulator, "computed": entries["shipped"]}
                )
            history[event_id] = {
                "bytes": item_size(item),
                "event_bytes": len(item["event"]["B"]),
                "event_json_bytes": len(storage.decode_event_text(item["event"]["B"]).encode("utf-8")),
                "index_entry_bytes": entries,
            }
        elif label == "status":
            status[item["pk"]["S"]] = item_size(item)
        elif label == "binding":
            kind = item["pk"]["S"].removeprefix(storage.CREDENTIAL_PREFIX).partition(":")[0]
            bindings[item["event_id"]["S"]] = {"bytes": item_size(item), "kind": kind}
    return {
        "history": history,
        "status": status,
        "bindings": bindings,
        "items": len(items),
        "index_entries_checked": len(history),
        "index_entry_mismatches": mismatches,
        "first_records_per_subject": _count(r["subject_pk"] for r in records),
    }


def _moto_probe(raw: Any, table: str, shape: TableShape) -> list[dict[str, Any]]:
    """What moto's ReturnConsumedCapacity says for calls whose cost the rules know: why it is no
    cross-check. Items under keys the recorder never uses, deleted afterwards."""
    from bench.capacity_meter import read_units, units

    key = {"pk": {"S": "bench#probe"}, "sk": {"S": "probe"}}
    item = {**key, "blob": {"B": b"x" * 3000}}
    size = item_size(item)
    put = raw.put_item(TableName=table, Item=item, ReturnConsumedCapacity="TOTAL")
    get = raw.get_item(TableName=table, Key=key, ReturnConsumedCapacity="TOTAL")
    failed: Any = None
    try:
        raw.put_item(
            TableName=table,
            Item=item,
            ConditionExpression="attribute_not_exists(pk)",
            ReturnConsumedCapacity="TOTAL",
        )
    except raw.exceptions.ConditionalCheckFailedException as exc:
        failed = (exc.response.get("ConsumedCapacity") or {}).get("CapacityUnits")
    raw.delete_item(TableName=table, Key=key)
    return [
        {
            "what": f"a {size:,} B PutItem",
            "moto": (put.get("ConsumedCapacity") or {}).get("CapacityUnits"),
            "meter": units(size),
        },
        {
            "what": "an eventually consistent GetItem of it",
            "moto": (get.get("ConsumedCapacity") or {}).get("CapacityUnits"),
            "meter": read_units(size, consistent=False),
        },
        {"what": "the same PutItem failing its condition", "moto": failed, "meter": units(size)},
    ]


def _count(values: Any) -> dict[str, int]:
    out: dict[str, int] = {}
    for v in values:
        out[v] = out.get(v, 0) + 1
    return out


def _index_entry_sizes(db: Any, table: str, shape: TableShape, item: dict[str, Any]) -> list[int]:
    """The sizes of ``item``'s entries as the emulator's index queries return them."""
    sizes = []
    for index in shape.indexes:
        if not all(k in item for k in index.keys):
            continue
        names = {f"#k{i}": k for i, k in enumerate(index.keys)}
        got = db.query(
            TableName=table,
            IndexName=index.name,
            KeyConditionExpression=" AND ".join(f"#k{i} = :k{i}" for i in range(len(index.keys))),
            ExpressionAttributeNames=names,
            ExpressionAttributeValues={f":k{i}": item[k] for i, k in enumerate(index.keys)},
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
