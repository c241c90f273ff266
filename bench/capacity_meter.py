"""Count the DynamoDB read and write units a client's calls consume, from the real items.

``CapacityMeter(raw).attach(client)`` registers two botocore hooks on ``client`` (nothing else about
it changes: the code under test keeps calling its own client). Before each call the meter reads the
item(s) the call will touch with ``raw`` — another client on the same table, uninstrumented, so the
reads are not counted — and after it reads them again; each call is then charged by DynamoDB's
published on-demand rules (developer guide: "Item sizes and formats", "Read/write capacity units",
"Provisioned throughput considerations for global secondary indexes"):

- item size: UTF-8 attribute names + values (strings UTF-8 bytes, numbers ≈ ⌈significant digits / 2⌉
  + 1, binary its bytes, booleans and null 1, lists and maps 3 + their elements);
- a write (PutItem, UpdateItem, DeleteItem) costs ⌈size / 1 KB⌉ WRU, min 1, where size is the LARGER of
  the item before and after; a write whose ConditionExpression fails still costs ⌈existing item / 1 KB⌉,
  min 1, and writes no index entry; transactional writes cost 2×;
- each global secondary index entry the write creates, updates or deletes is one more write of the
  entry's size (table keys + index keys + projected attributes): a new entry is a put, a vanished one
  a delete, a changed index key a delete + a put, a changed projected attribute an update; an
  UpdateItem that changes no projected attribute nor index key writes no entry; a PutItem over an item
  that keeps its entry updates the entry (a put replaces the whole item);
- reads: ⌈size / 4 KB⌉ RRU when strongly consistent, half when eventually consistent, min one unit
  (a GetItem that finds nothing still costs it); a ProjectionExpression does not lower the charge
  (the whole item is read); a Query is charged on the sum of the items it reads, before any filter.

Any other operation (a Scan, say) is recorded with the label ``unmetered`` and no units, so a cost
model that prices calls by kind refuses it instead of missing it.

moto's own ``ReturnConsumedCapacity`` is a constant per operation, whatever the item size, the
condition or the indexes (bench/recorder_moto.py probes it each run), so it is never used here.
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

KB = 1024
READ_UNIT = 4 * KB
Item = dict[str, Any]


# --- DynamoDB's item size rules -----------------------------------------------------------------


def attribute_size(value: Mapping[str, Any]) -> int:
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


def item_size(item: Mapping[str, Any] | None) -> int:
    if not item:
        return 0
    return sum(len(name.encode("utf-8")) + attribute_size(value) for name, value in item.items())


def units(size: float, per: int = KB) -> int:
    """Whole units of ``per`` bytes, at least one."""
    return max(1, math.ceil(size / per))


# --- the table's shape --------------------------------------------------------------------------


@dataclass(frozen=True)
class Index:
    name: str
    keys: tuple[str, ...]
    projection: str  # ALL | INCLUDE | KEYS_ONLY
    non_key: tuple[str, ...] = ()


@dataclass(frozen=True)
class TableShape:
    name: str
    keys: tuple[str, ...]
    indexes: tuple[Index, ...]

    @classmethod
    def describe(cls, client: Any, table: str) -> TableShape:
        t = client.describe_table(TableName=table)["Table"]
        return cls(
            name=table,
            keys=tuple(k["AttributeName"] for k in t["KeySchema"]),
            indexes=tuple(
                Index(
                    name=g["IndexName"],
                    keys=tuple(k["AttributeName"] for k in g["KeySchema"]),
                    projection=g["Projection"]["ProjectionType"],
                    non_key=tuple(g["Projection"].get("NonKeyAttributes") or ()),
                )
                for g in t.get("GlobalSecondaryIndexes") or []
            ),
        )

    def key_of(self, item: Mapping[str, Any]) -> Item:
        return {k: item[k] for k in self.keys}


def index_entry(
    item: Mapping[str, Any] | None, table_keys: tuple[str, ...], index: Index, projection: str | None = None
) -> Item | None:
    """The entry ``item`` makes in ``index`` (under ``projection``, default the index's own), or None
    when the item lacks one of the index's keys (a sparse index holds no entry for it)."""
    if not item or not all(k in item for k in index.keys):
        return None
    kind = (projection or index.projection).upper()
    if kind == "ALL":
        return dict(item)
    names = {*table_keys, *index.keys, *(index.non_key if kind == "INCLUDE" else ())}
    return {k: v for k, v in item.items() if k in names}


# --- what one call cost -------------------------------------------------------------------------


@dataclass(frozen=True)
class IndexWrite:
    index: str
    kind: str  # put | update | delete
    size: int
    wru: float


@dataclass
class Call:
    """One DynamoDB request item (a batch or transaction makes one per item)."""

    operation: str  # GetItem, PutItem, UpdateItem, DeleteItem, Query, ...
    table: str
    key: Item
    label: str = ""  # what the caller's classifier says it is
    event_id: str | None = None
    consistent: bool = False
    condition_failed: bool = False
    before_size: int = 0
    after_size: int = 0
    wru: float = 0.0  # the table write, without index entries
    rru: float = 0.0
    index_writes: list[IndexWrite] = field(default_factory=list)

    @property
    def index_wru(self) -> float:
        return sum(w.wru for w in self.index_writes)

    @property
    def total_wru(self) -> float:
        return self.wru + self.index_wru

    def to_json(self) -> dict[str, Any]:
        return {
            "operation": self.operation,
            "label": self.label,
            "event_id": self.event_id,
            "consistent": self.consistent,
            "condition_failed": self.condition_failed,
            "before_size": self.before_size,
            "after_size": self.after_size,
            "wru": self.wru,
            "rru": self.rru,
            "index_writes": [w.__dict__ for w in self.index_writes],
        }


def index_writes(
    shape: TableShape, before: Mapping[str, Any] | None, after: Mapping[str, Any] | None, *, replace: bool
) -> list[IndexWrite]:
    """The index entries a write from ``before`` to ``after`` puts, updates or deletes. ``replace``:
    the write was a PutItem (it rewrites the whole item, so a kept entry is rewritten too)."""
    out: list[IndexWrite] = []
    for index in shape.indexes:
        old = index_entry(before, shape.keys, index)
        new = index_entry(after, shape.keys, index)
        if old is None and new is None:
            continue
        if old is None:
            assert new is not None
            out.append(IndexWrite(index.name, "put", item_size(new), units(item_size(new))))
        elif new is None:
            out.append(IndexWrite(index.name, "delete", item_size(old), units(item_size(old))))
        elif any(old[k] != new[k] for k in index.keys):
            out.append(IndexWrite(index.name, "delete", item_size(old), units(item_size(old))))
            out.append(IndexWrite(index.name, "put", item_size(new), units(item_size(new))))
        elif replace or old != new:
            size = max(item_size(old), item_size(new))
            out.append(IndexWrite(index.name, "update", size, units(size)))
    return out


def write_units(before: int, after: int) -> int:
    return units(max(before, after))


def read_units(size: int, consistent: bool) -> float:
    return units(size, READ_UNIT) * (1.0 if consistent else 0.5)


# --- the meter ----------------------------------------------------------------------------------

Classifier = Callable[[str, Item], str]  # (operation, key) -> label
EventOf = Callable[[str, Mapping[str, Any]], "str | None"]  # (operation, request item) -> event id

_CONDITION_FAILED = "ConditionalCheckFailedException"
_TOKEN = re.compile(r"[#:][A-Za-z0-9_]+")


class CapacityMeter:
    """Charges every DynamoDB call a client makes; see the module docstring for the rules."""

    def __init__(
        self,
        raw: Any,
        *,
        classify: Classifier | None = None,
        event_of: EventOf | None = None,
    ) -> None:
        self.raw = raw
        self.classify = classify or (lambda op, key: "")
        self.event_of = event_of or (lambda op, request: None)
        self.calls: list[Call] = []
        self._shapes: dict[str, TableShape] = {}

    # botocore hooks ---------------------------------------------------------------------------

    def attach(self, client: Any) -> Any:
        client.meta.events.register("before-parameter-build.dynamodb", self._before)
        client.meta.events.register("after-call.dynamodb", self._after)
        return client

    def detach(self, client: Any) -> Any:
        client.meta.events.unregister("before-parameter-build.dynamodb", self._before)
        client.meta.events.unregister("after-call.dynamodb", self._after)
        return client

    def shape(self, table: str) -> TableShape:
        if table not in self._shapes:
            self._shapes[table] = TableShape.describe(self.raw, table)
        return self._shapes[table]

    def _get(self, table: str, key: Mapping[str, Any]) -> Item | None:
        got: Item | None = self.raw.get_item(TableName=table, Key=dict(key), ConsistentRead=True).get("Item")
        return got

    def _before(self, params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        op = model.name
        params = copy.deepcopy(params)
        state: dict[str, Any] = {"op": op, "params": params}
        if op == "PutItem":
            key = self.shape(params["TableName"]).key_of(params["Item"])
            state["before"] = [self._get(params["TableName"], key)]
        elif op in ("UpdateItem", "DeleteItem"):
            state["before"] = [self._get(params["TableName"], params["Key"])]
        elif op == "TransactWriteItems":
            state["before"] = [self._get(*self._target(entry)) for entry in params["TransactItems"]]
        elif op == "BatchWriteItem":
            state["before"] = [
                self._get(table, self._batch_key(table, request))
                for table, requests in params["RequestItems"].items()
                for request in requests
            ]
        context["capacity_meter"] = state

    def _target(self, entry: Mapping[str, Any]) -> tuple[str, Item]:
        kind, body = next(iter(entry.items()))
        if kind == "Put":
            return body["TableName"], self.shape(body["TableName"]).key_of(body["Item"])
        return body["TableName"], body["Key"]

    def _batch_key(self, table: str, request: Mapping[str, Any]) -> Item:
        if "PutRequest" in request:
            return self.shape(table).key_of(request["PutRequest"]["Item"])
        return dict(request["DeleteRequest"]["Key"])

    def _after(self, parsed: Mapping[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        state = context.pop("capacity_meter", None)
        if state is None or state["op"] != model.name:
            return
        op, params = state["op"], state["params"]
        error = (parsed.get("Error") or {}).get("Code")
        if error and error not in (_CONDITION_FAILED, "TransactionCanceledException"):
            return  # rejected before any work (validation, throttling, missing table): no units
        if op in ("PutItem", "UpdateItem", "DeleteItem"):
            table = params["TableName"]
            key = self.shape(table).key_of(params["Item"]) if op == "PutItem" else params["Key"]
            self.calls.append(
                self._write(op, table, key, params, state["before"][0], failed=error == _CONDITION_FAILED)
            )
        elif op == "GetItem":
            self.calls.append(self._read_item(op, params["TableName"], params["Key"], params))
        elif op == "BatchGetItem":
            for table, spec in params["RequestItems"].items():
                for key in spec["Keys"]:
                    self.calls.append(self._read_item(op, table, key, spec))
        elif op == "Query":
            self.calls.append(self._query(params))
        elif op == "TransactWriteItems":
            failed = error is not None
            for entry, before in zip(params["TransactItems"], state["before"], strict=True):
                kind, body = next(iter(entry.items()))
                table, key = self._target(entry)
                name = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem"}.get(kind, kind)
                call = self._write(name, table, key, body, before, failed=failed, transactional=True)
                call.operation = f"TransactWriteItems/{kind}"
                self.calls.append(call)
        elif op == "BatchWriteItem":
            befores = iter(state["before"])
            for table, requests in params["RequestItems"].items():
                for request in requests:
                    key = self._batch_key(table, request)
                    name = "PutItem" if "PutRequest" in request else "DeleteItem"
                    body = request.get("PutRequest") or {}
                    call = self._write(name, table, key, body, next(befores), failed=False)
                    call.operation = f"BatchWriteItem/{name}"
                    self.calls.append(call)
        elif op != "DescribeTable":  # anything else is recorded unpriced, so a cost model can refuse it
            self.calls.append(Call(op, str(params.get("TableName", "")), {}, label="unmetered"))

    # charges ----------------------------------------------------------------------------------

    def _write(
        self,
        op: str,
        table: str,
        key: Mapping[str, Any],
        request: Mapping[str, Any],
        before: Item | None,
        *,
        failed: bool,
        transactional: bool = False,
    ) -> Call:
        factor = 2.0 if transactional else 1.0
        call = Call(
            op, table, dict(key), label=self.classify(op, dict(key)), event_id=self.event_of(op, request)
        )
        call.before_size = item_size(before)
        if failed:  # charged the existing item (min 1); nothing written, so no index entry
            call.condition_failed = True
            call.after_size = call.before_size
            call.wru = factor * units(call.before_size)
            return call
        after = self._get(table, key)
        call.after_size = item_size(after)
        call.wru = factor * write_units(call.before_size, call.after_size)
        call.index_writes = [
            IndexWrite(w.index, w.kind, w.size, factor * w.wru)
            for w in index_writes(self.shape(table), before, after, replace=op == "PutItem")
        ]
        return call

    def _read_item(self, op: str, table: str, key: Mapping[str, Any], request: Mapping[str, Any]) -> Call:
        consistent = bool(request.get("ConsistentRead"))
        item = self._get(table, key)  # the whole item: a projection does not lower the charge
        call = Call(
            op, table, dict(key), label=self.classify(op, dict(key)), event_id=self.event_of(op, request)
        )
        call.consistent = consistent
        call.before_size = call.after_size = item_size(item)
        call.rru = read_units(call.before_size, consistent)
        return call

    def _query(self, params: Mapping[str, Any]) -> Call:
        """Re-run the query's key condition uninstrumented, without projection or filter, and sum
        what it reads (index entries for an index query)."""
        condition = params["KeyConditionExpression"]
        used = set(_TOKEN.findall(condition))
        kwargs: dict[str, Any] = {
            "TableName": params["TableName"],
            "KeyConditionExpression": condition,
            "ExpressionAttributeValues": {
                k: v for k, v in (params.get("ExpressionAttributeValues") or {}).items() if k in used
            },
        }
        names = {k: v for k, v in (params.get("ExpressionAttributeNames") or {}).items() if k in used}
        if names:
            kwargs["ExpressionAttributeNames"] = names
        for k in ("IndexName", "Limit", "ExclusiveStartKey", "ScanIndexForward"):
            if k in params:
                kwargs[k] = params[k]
        items = self.raw.query(**kwargs).get("Items") or []
        consistent = bool(params.get("ConsistentRead"))
        size = sum(item_size(i) for i in items)
        call = Call(
            "Query",
            params["TableName"],
            dict(kwargs["ExpressionAttributeValues"]),
            label=self.classify("Query", {}),
            event_id=self.event_of("Query", params),
        )
        call.consistent = consistent
        call.before_size = call.after_size = size
        call.rru = read_units(size, consistent)
        return call

    # totals -----------------------------------------------------------------------------------

    def reset(self) -> list[Call]:
        calls, self.calls = self.calls, []
        return calls


class SendCounter:
    """Counts SQS SendMessage / SendMessageBatch requests on a client and the billed requests they
    make (SQS bills each 64 KB chunk of a request's payload as one request)."""

    CHUNK = 64 * KB

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def attach(self, client: Any) -> Any:
        client.meta.events.register("before-parameter-build.sqs.SendMessageBatch", self._batch)
        client.meta.events.register("before-parameter-build.sqs.SendMessage", self._single)
        return client

    def detach(self, client: Any) -> Any:
        client.meta.events.unregister("before-parameter-build.sqs.SendMessageBatch", self._batch)
        client.meta.events.unregister("before-parameter-build.sqs.SendMessage", self._single)
        return client

    @staticmethod
    def _payload(entry: Mapping[str, Any]) -> int:
        size = len(str(entry.get("MessageBody", "")).encode("utf-8"))
        for name, attr in (entry.get("MessageAttributes") or {}).items():
            size += len(name.encode()) + len(str(attr.get("DataType", "")).encode())
            size += len(str(attr.get("StringValue", "")).encode("utf-8")) + len(attr.get("BinaryValue", b""))
        return size

    def _batch(self, params: Mapping[str, Any], **_: Any) -> None:
        entries = list(params.get("Entries") or [])
        self._add("SendMessageBatch", params.get("QueueUrl", ""), entries)

    def _single(self, params: Mapping[str, Any], **_: Any) -> None:
        self._add("SendMessage", params.get("QueueUrl", ""), [params])

    def _add(self, op: str, queue: str, entries: list[Mapping[str, Any]]) -> None:
        sizes = [self._payload(e) for e in entries]
        self.calls.append(
            {
                "operation": op,
                "queue": queue,
                "messages": len(sizes),
                "payload_bytes": sum(sizes),
                "billed_requests": units(sum(sizes), self.CHUNK),
                # per message: its deduplication id (the event id, on the events queue) and size
                "entries": [
                    [str(e.get("MessageDeduplicationId", "")), b] for e, b in zip(entries, sizes, strict=True)
                ],
            }
        )

    def reset(self) -> list[dict[str, Any]]:
        calls, self.calls = self.calls, []
        return calls
