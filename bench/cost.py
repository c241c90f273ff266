"""Cost per million webhooks, from the measured durations and the real item and message sizes.

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
ALLOWANCE_MS = {  # in-region round trips (not measurable here: no AWS) — assumptions, not data
    "sqs_send": 10.0,
    "sqs_fifo_send": 15.0,
    "ddb_transact_write": 12.0,
    "ddb_update": 5.0,
    "ddb_get": 4.0,
}
RUNTIME_INIT_MS = 80.0  # performance-notes.md: the Python runtime's own init floor is ≈ 70–86 ms
COLD_START_RATE = 0.01  # share of ingress invocations that are cold (assumption)
PLATFORM_LOG_BYTES = 260  # START + END + REPORT lines per invocation (assumption, typical lengths)
LOG_RETENTION_MONTHS = 1.0  # template LogRetentionDays default 30
KB = 1024
GB = 1024**3
MONTH_DAYS = 365.25 / 12


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


def _template_facts() -> dict[str, Any]:
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
    return {
        "memory_mb": int(glob["MemorySize"]),
        "retention_days": int(params["RetentionDays"]),
        "batch_size": queue_sources(template)[0].batch_size,
        "access_log_bytes": len(access_line.replace("\n", " ")) + 1,
    }


@dataclass(frozen=True)
class Design:
    """One way of storing the same events; the defaults are what template.yaml and shared/ do now."""

    name: str = "as shipped"
    history: str = "history_bytes"  # which measured size the history item has
    projection: str = "shipped"  # GSI entries: "shipped" (template.yaml's), "all" or "keys_only"
    gsis: bool = True
    single_put: bool = False  # one conditional put of the history item, which is also the dedupe record
    function_urls: bool = False  # Lambda function URLs instead of the HTTP API
    batch: int | None = None  # event source batch size (None: the template's)
    retention_days: int | None = None  # None: the template's RetentionDays
    log_warning: bool = False  # LogLevel WARNING instead of the template's INFO
    pitr: bool = True


# The recorder binds each signed credential to its event (shared/recorder.py, CRED# item, in the same
# transaction): a Vonage JWT, an SMS sig or a Twilio signature — every route but Number Insight's
# URL token. pk "CRED#<kind>:" + 40 hex, sk "CRED", event_id, expires_at.
CREDENTIAL_BYTES = len("pk") + 56 + len("sk") + 4 + len("event_id") + 36 + len("expires_at") + 21
_SIGNED_TYPES = ("verify.", "messages.", "voice.", "sms.", "verify_push.")


def credential_bytes(e: dict[str, Any]) -> int:
    return CREDENTIAL_BYTES if str(e["type"]).startswith(_SIGNED_TYPES) else 0


def wru_breakdown(e: dict[str, Any], d: Design = Design()) -> dict[str, float]:
    """Write and read units one recorded event costs, from its real item sizes."""
    hist = e[d.history]
    gsi = sum(units(b) for b in gsi_entries(e, d)) if d.gsis else 0
    insert = units(hist) if d.single_put else 2 * (units(e["dedupe_bytes"]) + units(hist))
    cred = credential_bytes(e)
    return {
        "transaction (dedupe + history, 2x)": insert,
        "credential binding (signed events, in the transaction, 2x)": 0
        if d.single_put or not cred
        else 2 * units(cred),
        "GSI writes (by_product, by_status)": gsi,
        "status update (conditional)": 0 if e["informational"] else units(e["status_bytes"]),
        "mark published (dedupe update)": 0 if d.single_put else units(e["dedupe_bytes"]),
        "rru": 1 if e["informational"] else 0,
    }


def gsi_entries(e: dict[str, Any], d: Design) -> list[int]:
    """The sizes of the index entries one recorded event makes under design ``d``. A leaner history
    item changes an ALL-projection entry (the whole item) but no INCLUDE or KEYS_ONLY one (it keeps
    every projected attribute)."""
    if not d.gsis:
        return []
    if d.projection == "all":
        return [e[d.history] for _ in e["gsi_entry_bytes"]["all"]]
    return [int(b) for b in e["gsi_entry_bytes"][d.projection]]


def _mean(events: list[dict[str, Any]], key: str, d: Design = Design()) -> float:
    return statistics.fmean(wru_breakdown(e, d)[key] for e in events)


def model(results: dict[str, Any]) -> dict[str, Any]:
    facts = _template_facts()
    memory_gb = facts["memory_mb"] / 1024
    batch = facts["batch_size"]
    scale = LAMBDA_VCPU_MB / facts["memory_mb"]
    handler = results["handler"]
    rec = results["recorder"]
    cold = results["coldstart"]["configs"]
    events = rec["events"]

    ingress_cpu_ms = statistics.median(c["stats"]["boto3"]["median"] for c in handler["cases"]) / 1000
    ingress_ms = math.ceil(ingress_cpu_ms * scale + ALLOWANCE_MS["sqs_send"])
    rec_cpu_ms = handler["recorder"]["per_event"]["median"] / 1000
    rec_io_ms = (
        ALLOWANCE_MS["ddb_transact_write"] + ALLOWANCE_MS["ddb_update"] * 2 + ALLOWANCE_MS["sqs_fifo_send"]
    )
    vonage = cold["VonageFunction"]
    init_ms = RUNTIME_INIT_MS + vonage["import_ms"]["median"] * scale
    first_extra_ms = (vonage["first_ms"]["median"] - vonage["second_ms"]["median"]) * scale

    request_bytes = statistics.fmean(c["request_bytes"] for c in handler["cases"])
    fifo_chunks = statistics.fmean(units(b, 64 * KB) for b in rec["fifo_body_bytes"])
    published_share = len(rec["fifo_body_bytes"]) / len(events)
    status_share = rec["distinct_subjects"] / len(events)
    ingress_log = statistics.fmean(c["log_bytes"] for c in handler["cases"])
    ingress_log_warning = statistics.fmean(
        c.get("log_bytes_warning", c["log_bytes"]) for c in handler["cases"]
    )

    def rows(d: Design, evs: list[dict[str, Any]]) -> list[Row]:
        b = d.batch or batch
        months = (d.retention_days or facts["retention_days"]) / MONTH_DAYS
        wru = sum(_mean(evs, k, d) for k in wru_breakdown(evs[0]) if k != "rru")
        rec_ms = math.ceil(b * (rec_cpu_ms * scale + rec_io_ms))
        ingest_chunks = statistics.fmean(units(e["ingest_body_bytes"], 64 * KB) for e in evs)

        def stored(e: dict[str, Any]) -> float:
            hist = e[d.history]
            index = sum(x + 100 for x in gsi_entries(e, d))
            dedupe = 0 if d.single_put else e["dedupe_bytes"] + 100
            # kept 4 days (CREDENTIAL_TTL_S), not the retention, scaled to the months stored above;
            # a Twilio signature (no time in it) is kept as long as the history
            untimed = str(e["type"]).startswith("verify_push.")
            cred_days = 1.0 if untimed else 4 / (d.retention_days or facts["retention_days"])
            cred = 0 if d.single_put or not credential_bytes(e) else (credential_bytes(e) + 100) * cred_days
            return float(dedupe + cred + hist + 100 + index + (e["status_bytes"] + 100) * status_share)

        def table_data(e: dict[str, Any]) -> float:
            dedupe = 0 if d.single_put else e["dedupe_bytes"]
            return float(dedupe + e[d.history] + e["status_bytes"] * status_share)

        log_bytes = (
            (ingress_log_warning if d.log_warning else ingress_log)
            + PLATFORM_LOG_BYTES
            + (0 if d.function_urls else facts["access_log_bytes"])
            + (0 if d.log_warning else handler["recorder"]["log_bytes_per_event"])
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
                memory_gb * rec_ms / 1000 / b,
                "GB-s",
                "lambda_gb_s_arm64",
                f"{rec_ms} ms billed per batch of {b}",
            ),
            Row("SQS ingest SendMessage", ingest_chunks, "requests", "sqs_standard_request", "64 KB chunks"),
            Row("SQS ingest ReceiveMessage (event source)", 1 / b, "requests", "sqs_standard_request"),
            Row("SQS ingest DeleteMessageBatch (event source)", 1 / b, "requests", "sqs_standard_request"),
            Row(
                "SQS events FIFO SendMessage",
                published_share * fifo_chunks,
                "requests",
                "sqs_fifo_request",
                f"new events only ({published_share:.0%} of the samples)",
            ),
            Row(
                "SQS events FIFO receive + delete (your consumer)",
                2 / b,
                "requests",
                "sqs_fifo_request",
                f"batches of {b}",
            ),
            Row("DynamoDB writes", wru, "WRU", "ddb_wru", "see the WRU table"),
            Row("DynamoDB reads (informational events)", _mean(evs, "rru", d), "RRU", "ddb_rru"),
            Row(
                "DynamoDB storage",
                statistics.fmean(stored(e) for e in evs) / GB * months,
                "GB-month",
                "ddb_storage_gb_month",
                f"{d.retention_days or facts['retention_days']} days, items + index entries",
            ),
            *(
                [
                    Row(
                        "DynamoDB PITR (template enables it)",
                        statistics.fmean(table_data(e) for e in evs) / GB * months,
                        "GB-month",
                        "ddb_pitr_gb_month",
                    )
                ]
                if d.pitr
                else []
            ),
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

    shipped = Design()
    before = Design("before: GSIs projected ALL (the previous template.yaml)", projection="all")
    minimal = Design(
        "minimal: one conditional put per event (the history item is the dedupe record; no transaction, "
        "no `published` mark), history item of keys, TTL and `event` only, no GSIs, function URLs",
        history="history_minimal_bytes",
        gsis=False,
        single_put=True,
        function_urls=True,
    )
    indexes = rec["indexes"]
    projection = ", ".join(
        sorted(
            {i["projection"] + (f" {len(i['non_key'])} attributes" if i["non_key"] else "") for i in indexes}
        )
    )
    designs = [
        Design(f"as shipped: GSIs {projection or 'none'}, batches of {batch}"),
        before,
        Design("as shipped, batches of 1 (traffic under ~1 webhook/s)", batch=1),
        Design("as shipped, RetentionDays 30 instead of 90", retention_days=30),
        Design("as shipped, LogLevel WARNING instead of INFO", log_warning=True),
        Design("as shipped, no PITR", pitr=False),
        Design("GSIs projected KEYS_ONLY instead of INCLUDE", projection="keys_only"),
        Design(
            f"lean history item (without {', '.join(rec['lean_dropped'])}: they repeat `event` "
            "and no index projects them)",
            history="history_lean_bytes",
        ),
        Design("Lambda function URLs instead of the HTTP API", function_urls=True),
        Design(
            "lean history + function URLs + LogLevel WARNING + RetentionDays 30",
            history="history_lean_bytes",
            function_urls=True,
            log_warning=True,
            retention_days=30,
        ),
        Design("no GSIs (drops the documented by_product / by_status queries)", gsis=False),
        minimal,
        Design(
            "minimal + LogLevel WARNING + RetentionDays 30 + no PITR",
            history="history_minimal_bytes",
            gsis=False,
            single_put=True,
            function_urls=True,
            log_warning=True,
            retention_days=30,
            pitr=False,
        ),
    ]
    per_event_totals = [total(rows(shipped, [e])) for e in events]
    by_type: dict[str, list[float]] = {}
    for e, t in zip(events, per_event_totals, strict=True):
        by_type.setdefault(e["type"], []).append(t)
    sizes = {
        k: (min(e[k] for e in events), statistics.median(e[k] for e in events), max(e[k] for e in events))
        for k in (
            "dedupe_bytes",
            "history_bytes",
            "history_lean_bytes",
            "history_minimal_bytes",
            "status_bytes",
            "ingest_body_bytes",
        )
    }
    for projection in ("shipped", "all", "keys_only"):
        flat = [b for e in events for b in e["gsi_entry_bytes"][projection]]
        if flat:
            sizes[f"gsi_entry_{projection}_bytes"] = (min(flat), statistics.median(flat), max(flat))
    sizes["fifo_body_bytes"] = (
        min(rec["fifo_body_bytes"]),
        statistics.median(rec["fifo_body_bytes"]),
        max(rec["fifo_body_bytes"]),
    )
    shipped_rows = rows(shipped, events)
    before_rows = rows(before, events)
    return {
        "rows": shipped_rows,
        "total": total(shipped_rows),
        "before_rows": before_rows,
        "before_total": total(before_rows),
        "minimal_total": total(rows(minimal, events)),
        "total_range": (min(per_event_totals), max(per_event_totals)),
        "cheapest_type": min(by_type, key=lambda k: statistics.fmean(by_type[k])),
        "dearest_type": max(by_type, key=lambda k: statistics.fmean(by_type[k])),
        "floor": total(
            [r for r in shipped_rows if r.component.startswith(("API Gateway", "Lambda requests", "SQS"))]
        ),
        "what_ifs": [(d.name, total(rows(d, events))) for d in designs],
        "wru": {
            k: {
                "shipped": _mean(events, k),
                "before": _mean(events, k, before),
                "minimal": _mean(events, k, minimal),
            }
            for k in wru_breakdown(events[0])
        },
        "indexes": indexes,
        "index_check": (rec["index_entries_checked"], len(rec["index_entry_mismatches"])),
        "lean_dropped": rec["lean_dropped"],
        "gsi_entries_per_event": statistics.fmean(len(e["gsi_entry_bytes"]["shipped"]) for e in events),
        "sizes": sizes,
        "events": len(events),
        "assumptions": {
            "scale": scale,
            "memory_mb": facts["memory_mb"],
            "batch": batch,
            "ingress_cpu_ms": ingress_cpu_ms,
            "ingress_ms": ingress_ms,
            "recorder_cpu_ms": rec_cpu_ms,
            "recorder_batch_ms": math.ceil(batch * (rec_cpu_ms * scale + rec_io_ms)),
            "init_ms": init_ms,
            "first_extra_ms": first_extra_ms,
            "access_log_bytes": facts["access_log_bytes"],
            "ingress_log_bytes": ingress_log,
            "ingress_log_bytes_warning": ingress_log_warning,
            "retention_days": facts["retention_days"],
            "status_share": status_share,
            "request_bytes": request_bytes,
        },
    }
