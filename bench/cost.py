"""Cost per million webhooks, from the measured durations, the write and read units the real recorder
issues (bench/capacity_meter.py on its calls under moto) and the real item and message sizes.

Prices are us-east-1 list prices, as constants with their source. They were written on 2026-11-23
from the issue-5 brief (which quotes AWS's pricing pages) and, for the rows the brief does not
quote, from AWS's public pricing pages as last known; this machine has no network, so none was
re-fetched — check them before quoting a figure.
"""

from __future__ import annotations

import math
import re
import statistics
from dataclasses import dataclass
from typing import Any

PRICES_AS_OF = "2026-11-23"
# (value, unit, source)
PRICE = {
    "apigw_http_request": (
        1.00 / 1e6,
        "$/request (first 300 M/month), metered per 512 KB",
        "https://aws.amazon.com/api-gateway/pricing/ (issue 5)",
    ),
    "lambda_request": (0.20 / 1e6, "$/request", "https://aws.amazon.com/lambda/pricing/ (issue 5)"),
    "lambda_gb_s_arm64": (0.0000133334, "$/GB-s, arm64", "https://aws.amazon.com/lambda/pricing/ (issue 5)"),
    "sqs_standard_request": (
        0.40 / 1e6,
        "$/request per 64 KB chunk",
        "https://aws.amazon.com/sqs/pricing/ (issue 5)",
    ),
    "sqs_fifo_request": (
        0.50 / 1e6,
        "$/request per 64 KB chunk",
        "https://aws.amazon.com/sqs/pricing/ (issue 5)",
    ),
    "ddb_wru": (
        0.625 / 1e6,
        "$/write request unit (1 KB)",
        "https://aws.amazon.com/dynamodb/pricing/on-demand/ (issue 5)",
    ),
    "ddb_rru": (
        0.125 / 1e6,
        "$/read request unit (4 KB strongly consistent)",
        "https://aws.amazon.com/dynamodb/pricing/on-demand/ (issue 5)",
    ),
    "ddb_storage_gb_month": (
        0.25,
        "$/GB-month (+100 B per item and per index entry)",
        "https://aws.amazon.com/dynamodb/pricing/on-demand/ (issue 5)",
    ),
    "ddb_pitr_gb_month": (
        0.20,
        "$/GB-month of table data",
        "https://aws.amazon.com/dynamodb/pricing/on-demand/ (not in the brief; not re-verified)",
    ),
    "logs_ingest_gb": (
        0.50,
        "$/GB ingested (Standard class)",
        "https://aws.amazon.com/cloudwatch/pricing/ (not in the brief; not re-verified)",
    ),
    "logs_storage_gb_month": (
        0.03,
        "$/GB-month archived",
        "https://aws.amazon.com/cloudwatch/pricing/ (not in the brief; not re-verified)",
    ),
}

# Assumptions that turn local measurements into Lambda durations. All stated in RESULTS.md.
LAMBDA_VCPU_MB = 1769  # Lambda docs: at 1,769 MB a function has the equivalent of one vCPU
# In-region round trips, per request (not measurable here: no AWS) — assumptions, not data. The
# recorder's are charged per call the meter saw it make (bench/recorder_moto.py), by operation.
ALLOWANCE_MS = {
    "sqs_send": 10.0,  # the ingress's one SendMessage
    "GetItem": 4.0,
    "PutItem": 5.0,
    "UpdateItem": 5.0,
    "SendMessageBatch": 15.0,  # the recorder's publish to the events FIFO queue, per call
}
RUNTIME_INIT_MS = 80.0  # performance-notes.md: the Python runtime's own init floor is ≈ 70–86 ms
COLD_START_RATE = 0.01  # share of ingress invocations that are cold (assumption)
PLATFORM_LOG_BYTES = 260  # START + END + REPORT lines per invocation (assumption, typical lengths)
LOG_RETENTION_MONTHS = 1.0  # template LogRetentionDays default 30
CONSUMER_BATCH = 10  # your consumer: ReceiveMessage of 10 + DeleteMessageBatch of 10 (assumption)
ITEM_OVERHEAD = 100  # DynamoDB storage: +100 B per item and per index entry
KB = 1024
GB = 1024**3
MONTH_DAYS = 365.25 / 12
COST_TARGET = 6.00  # issue 10: ≤ $6.00 per million webhooks at the defaults

# Layout v1 (shared/recorder.py before "recorder: layout v2"), as measured by the committed
# bench/RESULTS.md of 16f917d (a full run at e778ee7). Quoted, not re-measured: that code is gone.
V1: dict[str, Any] = {
    "source": "bench/RESULTS.md at 16f917d (full run at e778ee7)",
    "total": 13.76,
    "wru": 11.90,
    "wru_rows": {
        "transaction (dedupe + history, 2×)": 6.00,
        "credential binding (in the transaction, 2×)": 1.93,
        "index entries (by_product, by_status)": 2.00,
        "status update (conditional)": 0.97,
        "mark published (dedupe update)": 1.00,
    },
    "rru": 0.03,
    "components": {
        "API Gateway HTTP API": 1.000,
        "Lambda": 0.492,
        "SQS": 1.038,
        "DynamoDB writes": 7.438,
        "DynamoDB reads": 0.004,
        "DynamoDB storage": 1.965,
        "DynamoDB PITR": 0.916,
        "CloudWatch Logs": 0.904,
    },
    # for the capacity table
    "ingress_ms": 15,
    "recorder_batch_ms": 484,
    "fifo_calls_per_webhook": 0.9167,  # one SendMessage per new event
    "index_partition_keys_per_product": 1,  # gsi1pk = PRODUCT#<product>
}


@dataclass(frozen=True)
class Row:
    component: str
    per_event: float  # units per webhook
    unit: str
    price_key: str
    note: str = ""

    @property
    def dollars_per_million(self) -> float:
        return self.per_event * PRICE[self.price_key][0] * 1e6


def units(size: float, per: int = KB) -> int:
    return max(1, math.ceil(size / per))


def template_facts() -> dict[str, Any]:
    from switchboard.template import default_parameters, load_template, queue_sources

    template = load_template()
    glob = template["Globals"]["Function"]
    params = default_parameters(template)
    fmt = template["Resources"]["HttpApi"]["Properties"]["AccessLogSettings"]["Format"]
    sample = {
        "requestId": "a1B2c3D4e5F6g7H=",
        "identity.sourceIp": "168.63.129.16",
        "httpMethod": "POST",
        "path": "/vonage/messages/status",
        "status": "200",
        "responseLatency": "23",
        "integrationLatency": "21",
        "identity.userAgent": "Vonage-Webhooks/1.0",
    }
    access_line = re.sub(r"\$context\.([A-Za-z.]+)", lambda m: sample.get(m.group(1), "x" * 12), fmt)
    events_queue = template["Resources"]["EventsQueue"]["Properties"]
    return {
        "memory_mb": int(glob["MemorySize"]),
        "retention_days": int(params["RetentionDays"]),
        "log_level": str(params.get("LogLevel", "INFO")),
        "batch_size": next(q.batch_size for q in queue_sources(template) if q.function == "RecorderFunction"),
        "batching_window_s": next(
            q.batching_window_s for q in queue_sources(template) if q.function == "RecorderFunction"
        ),
        "access_log_bytes": len(access_line.replace("\n", " ")) + 1,
        "fifo_high_throughput": events_queue.get("FifoThroughputLimit") == "perMessageGroupId"
        and events_queue.get("DeduplicationScope") == "messageGroup",
        "pitr": bool(
            template["Resources"]["HistoryTable"]["Properties"]
            .get("PointInTimeRecoverySpecification", {})
            .get("PointInTimeRecoveryEnabled")
        ),
    }


@dataclass(frozen=True)
class Design:
    """One way of running the same recorder; the defaults are what template.yaml and shared/ do now."""

    name: str = "as shipped"
    binding: bool = True  # the credential binding (one credential, one event)
    index: bool = True  # the by_product index
    function_urls: bool = False  # Lambda function URLs instead of the HTTP API
    batch: int | None = None  # event source batch size (None: the template's)
    retention_days: int | None = None  # None: the template's RetentionDays
    log_warning: bool = False  # LogLevel WARNING instead of the template's INFO
    pitr: bool | None = None  # None: as the template says


# --- the measured write and read units, by what they are for -----------------------------------

WRU_ROWS = {
    "binding": "credential binding (PutItem, conditional)",
    "status": "status update (UpdateItem, conditional)",
    "history": "history put (PutItem, conditional)",
    "index": "index entries ({index})",
    "failed": "failed-condition writes",
}
RRU_ROWS = {
    "history_read": "history read (GetItem, eventually consistent)",
    "status_read": "status read (GetItem, strongly consistent; informational events only)",
}


class UnmodelledCall(Exception):
    """The recorder made a DynamoDB call the cost model has no row for: the model must be updated."""


def breakdown(record: dict[str, Any], d: Design = Design()) -> dict[str, float]:
    """The WRU and RRU one delivery consumed, by row, from the calls the meter charged."""
    out = dict.fromkeys((*WRU_ROWS, *RRU_ROWS), 0.0)
    for c in record["calls"]:
        if c["label"] == "binding" and not d.binding:
            continue
        if d.index:
            out["index"] += sum(w["wru"] for w in c["index_writes"])
        what = (c["operation"], c["label"])
        if c["condition_failed"]:
            out["failed"] += c["wru"]
        elif what == ("GetItem", "history"):
            out["history_read"] += c["rru"]
        elif what == ("GetItem", "status"):
            out["status_read"] += c["rru"]
        elif what in (("PutItem", "binding"), ("UpdateItem", "status"), ("PutItem", "history")):
            out[c["label"]] += c["wru"]
        else:
            raise UnmodelledCall(f"{c['operation']} on a {c['label'] or 'unknown'} item")
        if c["rru"] and not c["operation"].startswith(("GetItem", "Query")):
            raise UnmodelledCall(f"{c['operation']} consumed read units")
    return out


def wru(record: dict[str, Any], d: Design = Design()) -> float:
    b = breakdown(record, d)
    return sum(b[k] for k in WRU_ROWS)


def rru(record: dict[str, Any], d: Design = Design()) -> float:
    b = breakdown(record, d)
    return sum(b[k] for k in RRU_ROWS)


def round_trips(record: dict[str, Any], d: Design = Design()) -> dict[str, int]:
    """The DynamoDB requests one delivery made, by operation (the recorder's duration)."""
    out: dict[str, int] = {}
    for c in record["calls"]:
        if c["label"] == "binding" and not d.binding:
            continue
        out[c["operation"]] = out.get(c["operation"], 0) + 1
    return out


def wrote(record: dict[str, Any], label: str) -> dict[str, Any] | None:
    """The call that created ``label``'s item for this delivery (None if it created none)."""
    return next(
        (
            c
            for c in record["calls"]
            if c["label"] == label
            and c["operation"] == "PutItem"
            and not c["condition_failed"]
            and not c["before_size"]
        ),
        None,
    )


def fifo_shares(delivery: dict[str, Any], batch: int) -> list[tuple[float, float]]:
    """Per record, its share of the events-queue SendMessageBatch calls and billed requests when the
    records arrive in batches of ``batch``: each batch publishes its new events in chunks of ≤ 10
    entries and ≤ 256 KB, each 64 KB of a chunk billed as one request. With the batch size the run
    used this reproduces the calls the counter saw (checked in ``model``)."""
    sizes = {
        dedup: size for b in delivery["batches"] for s in b["fifo_sends"] for dedup, size in s["entries"]
    }
    records = delivery["records"]
    out: list[tuple[float, float]] = []
    for start in range(0, len(records), batch):
        group = records[start : start + batch]
        new = list(dict.fromkeys(r["event_id"] for r in group if r["outcome"] == "new"))
        chunks: list[list[int]] = []
        for event_id in new:
            size = sizes[event_id]
            if not chunks or len(chunks[-1]) == 10 or sum(chunks[-1]) + size > 256 * KB:
                chunks.append([])
            chunks[-1].append(size)
        calls, billed = len(chunks), sum(units(sum(c), 64 * KB) for c in chunks)
        publishers = [r for r in group if r["outcome"] == "new"]
        for r in group:
            share = 1 / len(publishers) if r in publishers else 0.0
            out.append((calls * share, billed * share))
    return out


# --- the model ---------------------------------------------------------------------------------


def model(results: dict[str, Any]) -> dict[str, Any]:
    from shared.recorder import CREDENTIAL_TTL_S, UNTIMED_CREDENTIAL_KINDS

    facts = template_facts()
    memory_gb = facts["memory_mb"] / 1024
    template_batch = facts["batch_size"]
    scale = LAMBDA_VCPU_MB / facts["memory_mb"]
    handler = results["handler"]
    rec = results["recorder"]
    cold = results["coldstart"]["configs"]
    first = rec["first"]
    records = first["records"]
    stored = rec["stored"]
    measured_batch = first["batch_size"]
    index_name = ", ".join(i["name"] for i in rec["indexes"]) or "none"

    ingress_cpu_ms = statistics.median(c["stats"]["boto3"]["median"] for c in handler["cases"]) / 1000
    ingress_ms = math.ceil(ingress_cpu_ms * scale + ALLOWANCE_MS["sqs_send"])
    rec_cpu_ms = handler["recorder"]["per_event"]["median"] / 1000
    vonage = cold["VonageFunction"]
    init_ms = RUNTIME_INIT_MS + vonage["import_ms"]["median"] * scale
    first_extra_ms = (vonage["first_ms"]["median"] - vonage["second_ms"]["median"]) * scale

    request_bytes = statistics.fmean(c["request_bytes"] for c in handler["cases"])
    ingress_log = statistics.fmean(c["log_bytes"] for c in handler["cases"])
    ingress_log_warning = statistics.fmean(
        c.get("log_bytes_warning", c["log_bytes"]) for c in handler["cases"]
    )
    recorder_log = first["log_bytes_per_record"]
    per_subject = stored["first_records_per_subject"]

    def ttl_days(kind: str, retention: int) -> float:
        if kind in UNTIMED_CREDENTIAL_KINDS:
            return max(retention * 86400, CREDENTIAL_TTL_S) / 86400
        return CREDENTIAL_TTL_S / 86400

    def byte_days(r: dict[str, Any], d: Design) -> tuple[float, float]:
        """(storage, PITR table data) in byte-days for what this delivery left in the table."""
        retention = d.retention_days or facts["retention_days"]
        storage = data = 0.0
        if r["delivery"] == "first" and r["subject_pk"] in stored["status"]:
            share = 1 / per_subject[r["subject_pk"]]  # the subject's status item, split over its events
            size = stored["status"][r["subject_pk"]]
            storage += (size + ITEM_OVERHEAD) * share * retention
            data += size * share * retention
        if wrote(r, "history") is not None:
            h = stored["history"][r["event_id"]]
            storage += (h["bytes"] + ITEM_OVERHEAD) * retention
            data += h["bytes"] * retention
            if d.index:
                storage += sum(e + ITEM_OVERHEAD for e in h["index_entry_bytes"]["shipped"]) * retention
        if d.binding and wrote(r, "binding") is not None:
            b = stored["bindings"][r["event_id"]]
            days = ttl_days(b["kind"], retention)
            storage += (b["bytes"] + ITEM_OVERHEAD) * days
            data += b["bytes"] * days
        return storage, data

    def recorder_ms(r: dict[str, Any], d: Design, fifo_calls: float) -> float:
        io = sum(n * ALLOWANCE_MS[op] for op, n in round_trips(r, d).items())
        return float(rec_cpu_ms * scale + io + fifo_calls * ALLOWANCE_MS["SendMessageBatch"])

    def rows(d: Design, delivery: dict[str, Any], only: list[int] | None = None) -> list[Row]:
        """The cost rows per webhook of ``delivery``'s records (all, or the indexes in ``only``)."""
        b = d.batch or template_batch
        shares = fifo_shares(delivery, b)
        picked = [i for i in range(len(delivery["records"])) if only is None or i in only]
        rs = [delivery["records"][i] for i in picked]
        fifo = [shares[i] for i in picked]
        retention = d.retention_days or facts["retention_days"]
        pitr = facts["pitr"] if d.pitr is None else d.pitr
        stores = [byte_days(r, d) for r in rs]
        batch_ms = math.ceil(
            b * statistics.fmean(recorder_ms(r, d, f[0]) for r, f in zip(rs, fifo, strict=True))
        )
        published = statistics.fmean(1.0 if r["outcome"] == "new" else 0.0 for r in rs)
        ingest_chunks = statistics.fmean(units(r["ingest_body_bytes"], 64 * KB) for r in rs)
        recorder_log_bytes = 0 if d.log_warning else delivery["log_bytes_per_record"]
        log_bytes = (
            (ingress_log_warning if d.log_warning else ingress_log)
            + PLATFORM_LOG_BYTES
            + (0 if d.function_urls else facts["access_log_bytes"])
            + recorder_log_bytes
            + PLATFORM_LOG_BYTES / b
        )
        out = [
            Row("Lambda requests, ingress", 1, "requests", "lambda_request"),
            Row(
                "Lambda duration, ingress",
                memory_gb * ingress_ms / 1000,
                "GB-s",
                "lambda_gb_s_arm64",
                f"{ingress_ms} ms billed per request",
            ),
            Row(
                "Lambda init + first-invocation setup (cold starts)",
                COLD_START_RATE * memory_gb * (init_ms + first_extra_ms) / 1000,
                "GB-s",
                "lambda_gb_s_arm64",
                f"{COLD_START_RATE:.0%} cold × {init_ms + first_extra_ms:.0f} ms",
            ),
            Row("Lambda requests, recorder", 1 / b, "requests", "lambda_request", f"one per batch of {b}"),
            Row(
                "Lambda duration, recorder",
                memory_gb * batch_ms / 1000 / b,
                "GB-s",
                "lambda_gb_s_arm64",
                f"{batch_ms} ms billed per batch of {b}",
            ),
            Row("SQS ingest SendMessage", ingest_chunks, "requests", "sqs_standard_request", "64 KB chunks"),
            Row("SQS ingest ReceiveMessage (event source)", 1 / b, "requests", "sqs_standard_request"),
            Row("SQS ingest DeleteMessageBatch (event source)", 1 / b, "requests", "sqs_standard_request"),
            Row(
                "SQS events FIFO SendMessageBatch (recorder)",
                statistics.fmean(f[1] for f in fifo),
                "requests",
                "sqs_fifo_request",
                f"one call per batch of {b} with a new event (≤ 10 entries, 64 KB chunks); "
                f"{published:.0%} of the deliveries are new",
            ),
            Row(
                "SQS events FIFO receive + delete (your consumer)",
                published * 2 / CONSUMER_BATCH,
                "requests",
                "sqs_fifo_request",
                f"batches of {CONSUMER_BATCH}",
            ),
            Row(
                "DynamoDB writes",
                statistics.fmean(wru(r, d) for r in rs),
                "WRU",
                "ddb_wru",
                "measured on the recorder's calls; see the WRU table",
            ),
            Row(
                "DynamoDB reads",
                statistics.fmean(rru(r, d) for r in rs),
                "RRU",
                "ddb_rru",
                "the history GetItem (eventually consistent) + informational status reads",
            ),
            Row(
                "DynamoDB storage",
                statistics.fmean(s for s, _ in stores) / MONTH_DAYS / GB,
                "GB-month",
                "ddb_storage_gb_month",
                f"{retention} days; bindings 4 days (Twilio: {ttl_days('twilio', retention):.0f}); "
                "items + index entries + 100 B each",
            ),
        ]
        if pitr:
            out.append(
                Row(
                    "DynamoDB PITR (template enables it)",
                    statistics.fmean(x for _, x in stores) / MONTH_DAYS / GB,
                    "GB-month",
                    "ddb_pitr_gb_month",
                    "table data (items, no index)",
                )
            )
        out += [
            Row(
                "CloudWatch Logs ingestion",
                log_bytes / GB,
                "GB",
                "logs_ingest_gb",
                f"{log_bytes:.0f} B per webhook",
            ),
            Row(
                "CloudWatch Logs storage",
                log_bytes / GB * LOG_RETENTION_MONTHS,
                "GB-month",
                "logs_storage_gb_month",
            ),
        ]
        if not d.function_urls:
            out.insert(
                0,
                Row(
                    "API Gateway HTTP API requests",
                    units(request_bytes, 512 * KB),
                    "requests",
                    "apigw_http_request",
                ),
            )
        return out

    def total(rs: list[Row]) -> float:
        return sum(r.dollars_per_million for r in rs)

    def ddb(rs: list[Row]) -> float:
        return sum(r.dollars_per_million for r in rs if r.component in ("DynamoDB writes", "DynamoDB reads"))

    shipped = Design(
        f"as shipped: batches of {template_batch}, {facts['retention_days']} days, PITR, INFO logs"
    )
    designs = [
        shipped,
        Design("without the credential binding (drops one-credential-one-event)", binding=False),
        Design(f"without the {index_name} index (drops the by-product listing)", index=False),
        Design("RetentionDays 30 instead of 90", retention_days=30),
        Design("LogLevel WARNING instead of INFO", log_warning=True),
        Design("no PITR", pitr=False),
        Design("batches of 1 (traffic under ~1 webhook/s)", batch=1),
        Design("Lambda function URLs instead of the HTTP API", function_urls=True),
        Design(
            "LogLevel WARNING + RetentionDays 30 + no PITR",
            log_warning=True,
            retention_days=30,
            pitr=False,
        ),
    ]
    shipped_rows = rows(shipped, first)
    n = len(records)
    per_record = [total(rows(shipped, first, [i])) for i in range(n)]
    by_type: dict[str, list[int]] = {}
    for i, r in enumerate(records):
        by_type.setdefault(r["type"], []).append(i)
    type_cost = {k: statistics.fmean(per_record[i] for i in idx) for k, idx in by_type.items()}

    def wru_table(delivery: dict[str, Any], idx: list[int] | None = None) -> dict[str, float]:
        rs = [r for i, r in enumerate(delivery["records"]) if idx is None or i in idx]
        return {k: statistics.fmean(breakdown(r)[k] for r in rs) for k in (*WRU_ROWS, *RRU_ROWS)}

    deliveries: list[dict[str, Any]] = []
    for key, name in (
        ("first", "first delivery of each sample webhook (the headline mix)"),
        (
            "redelivery",
            "the same ingest messages again, after they were recorded (SQS or provider redelivery)",
        ),
        ("same_batch", "a redelivery in the same batch as its first delivery (both records counted)"),
    ):
        dv = rec[key]
        rs = rows(shipped, dv)
        deliveries.append(
            {
                "key": key,
                "name": name,
                "records": len(dv["records"]),
                "outcomes": _count(r["outcome"] for r in dv["records"]),
                "units": wru_table(dv),
                "ddb": ddb(rs),
                "total": total(rs),
                "round_trips": {
                    op: statistics.fmean(round_trips(r).get(op, 0) for r in dv["records"])
                    for op in ("GetItem", "PutItem", "UpdateItem")
                },
                "fifo_calls": statistics.fmean(f[0] for f in fifo_shares(dv, dv["batch_size"])),
            }
        )
    # the second copy of each same-batch pair alone: what the extra delivery cost
    same = rec["same_batch"]
    seconds = [i for i, r in enumerate(same["records"]) if r["outcome"].startswith("duplicate")]
    deliveries.append(
        {
            "key": "same_batch_second",
            "name": "… of which the second copy alone (steps 1-3 again; the first copy is the one published and stored)",
            "records": len(seconds),
            "outcomes": _count(same["records"][i]["outcome"] for i in seconds),
            "units": wru_table(same, seconds),
            "ddb": ddb(rows(shipped, same, seconds)),
            "total": float("nan"),
            "round_trips": {
                op: statistics.fmean(round_trips(same["records"][i]).get(op, 0) for i in seconds)
                for op in ("GetItem", "PutItem", "UpdateItem")
            },
            "fifo_calls": 0.0,
        }
    )

    measured_fifo = sum(s["billed_requests"] for b in first["batches"] for s in b["fifo_sends"])
    measured_fifo_calls = sum(len(b["fifo_sends"]) for b in first["batches"])
    regrouped = fifo_shares(first, measured_batch)
    failed_detail = _count(
        f"{c['label']} {c['operation']}" for r in records for c in r["calls"] if c["condition_failed"]
    )
    sizes = _sizes(rec)
    return {
        "target": COST_TARGET,
        "rows": shipped_rows,
        "total": total(shipped_rows),
        "v1": V1,
        "total_range": (min(type_cost.values()), max(type_cost.values())),
        "cheapest_type": min(type_cost, key=lambda k: type_cost[k]),
        "dearest_type": max(type_cost, key=lambda k: type_cost[k]),
        "floor": total(
            [r for r in shipped_rows if r.component.startswith(("API Gateway", "Lambda requests", "SQS"))]
        ),
        "what_ifs": [(d.name, total(rows(d, first))) for d in designs],
        "units": wru_table(first),
        "wru_total": statistics.fmean(wru(r) for r in records),
        "rru_total": statistics.fmean(rru(r) for r in records),
        "index_wru": statistics.fmean(breakdown(r)["index"] for r in records),
        "wru_rows": {k: v.format(index=index_name) for k, v in WRU_ROWS.items()},
        "rru_rows": RRU_ROWS,
        "failed_detail": failed_detail,
        "by_type": [
            {
                "type": t,
                "n": len(idx),
                "units": wru_table(first, idx),
                "dollars": type_cost[t],
            }
            for t, idx in sorted(by_type.items())
        ],
        "deliveries": deliveries,
        "fifo_check": {
            "measured_calls": measured_fifo_calls,
            "measured_billed": measured_fifo,
            "regrouped_calls": round(sum(f[0] for f in regrouped), 6),
            "regrouped_billed": round(sum(f[1] for f in regrouped), 6),
        },
        "round_trips": {
            op: statistics.fmean(round_trips(r).get(op, 0) for r in records)
            for op in ("GetItem", "PutItem", "UpdateItem")
        },
        "fifo_calls_per_webhook": measured_fifo_calls / n,
        "indexes": rec["indexes"],
        "index_shards": rec["index_shards"],
        "index_check": (stored["index_entries_checked"], len(stored["index_entry_mismatches"])),
        "sizes": sizes,
        "events": n,
        "moto_probe": rec.get("moto_probe", []),
        "assumptions": {
            "scale": scale,
            "memory_mb": facts["memory_mb"],
            "batch": template_batch,
            "batching_window_s": facts["batching_window_s"],
            "ingress_cpu_ms": ingress_cpu_ms,
            "ingress_ms": ingress_ms,
            "recorder_cpu_ms": rec_cpu_ms,
            "recorder_batch_ms": math.ceil(
                template_batch
                * statistics.fmean(
                    recorder_ms(r, Design(), f[0]) for r, f in zip(records, regrouped, strict=True)
                )
            ),
            "recorder_log_bytes": recorder_log,
            "init_ms": init_ms,
            "first_extra_ms": first_extra_ms,
            "access_log_bytes": facts["access_log_bytes"],
            "ingress_log_bytes": ingress_log,
            "ingress_log_bytes_warning": ingress_log_warning,
            "retention_days": facts["retention_days"],
            "credential_ttl_days": CREDENTIAL_TTL_S / 86400,
            "status_items_per_webhook": len(stored["status"]) / n,
            "request_bytes": request_bytes,
            "fifo_high_throughput": facts["fifo_high_throughput"],
        },
    }


def _count(values: Any) -> dict[str, int]:
    out: dict[str, int] = {}
    for v in values:
        out[v] = out.get(v, 0) + 1
    return out


def _sizes(rec: dict[str, Any]) -> dict[str, tuple[float, float, float]]:
    stored = rec["stored"]

    def spread(values: list[float]) -> tuple[float, float, float]:
        return (min(values), statistics.median(values), max(values)) if values else (0, 0, 0)

    history = list(stored["history"].values())
    return {
        "history_bytes": spread([h["bytes"] for h in history]),
        "event_bytes": spread([h["event_bytes"] for h in history]),
        "event_json_bytes": spread([h["event_json_bytes"] for h in history]),
        "index_entry_bytes": spread([e for h in history for e in h["index_entry_bytes"]["shipped"]]),
        "status_bytes": spread(list(stored["status"].values())),
        "binding_bytes": spread([b["bytes"] for b in stored["bindings"].values()]),
        "ingest_body_bytes": spread([r["ingest_body_bytes"] for r in rec["first"]["records"]]),
        "fifo_body_bytes": spread(rec["fifo_body_bytes"]),
    }
