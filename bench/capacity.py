"""Capacity: for one product at a steady rate, the first AWS limit each component reaches.

Every ceiling is computed from this run's measured figures (bench/cost.py's model: the ingress's
billed duration, the recorder's per-batch duration from its measured round trips, the write and read
units and SendMessageBatch calls the real recorder issued per webhook) against AWS's documented
default quotas. The quotas are constants with their source and how each can be raised. This machine
has no network: figures marked "stored copy" were read in a stored copy of the AWS page named (its
date unknown); figures marked "not re-verified" are from the brief, performance-notes.md or the
author's knowledge and could not be checked here. Check them before relying on a ceiling.

Little's law: concurrency = arrival rate × time in the system; so a component's ceiling is its
concurrency quota ÷ the time one webhook (or one batch) holds it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

GOAL_PER_S = 10_000  # issue 10: ≥ 10,000 webhooks/s for one product, with only raisable quotas raised

# (value, what, source, raisable?, how)
QUOTA: dict[str, tuple[float, str, str, str, str]] = {
    "apigw_rps": (
        10_000,
        "requests/s per account per Region, all APIs together (token-bucket burst 5,000; 2,500 / 1,250 "
        "in some newer Regions)",
        "API Gateway quotas, docs.aws.amazon.com/apigateway/latest/developerguide/limits.html (stored copy)",
        "yes",
        "Service Quotas (L-8A5B8E43, 'Throttle rate'); the burst is set by AWS from it",
    ),
    "lambda_concurrency": (
        1_000,
        "concurrent executions per account per Region, all functions together",
        "Lambda quotas (performance-notes.md; AWS default, not re-verified; new accounts may start lower)",
        "yes",
        "Service Quotas ('Concurrent executions'), to tens of thousands",
    ),
    "lambda_scaling": (
        1_000,
        "new execution environments per function every 10 s",
        "docs.aws.amazon.com/lambda/latest/dg/scaling-behavior.html (stored copy)",
        "no",
        "fixed; only bounds how fast a step in traffic is absorbed",
    ),
    "esm_batches": (
        1_000,
        "concurrent batches per SQS event source mapping (standard queue; scales up by 300 per minute)",
        "docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html (stored copy); the brief quotes "
        "1,250 (AWS, 2023), not re-verified",
        "via provisioned mode",
        "provisioned mode (min/max event pollers; the page says 3× faster scaling, up to 16× the "
        "processing capacity); MaximumConcurrency (2–1,000) only caps it",
    ),
    "sqs_inflight": (
        120_000,
        "in-flight messages per standard queue (received, not yet deleted)",
        "SQS quotas (author's knowledge, not re-verified)",
        "yes (not re-verified)",
        "AWS Support",
    ),
    "fifo_ht_tps": (
        70_000,
        "API calls/s per API action, high-throughput FIFO (us-east-1, us-west-2, eu-west-1; 19,000 in "
        "us-east-2 and eu-central-1, less elsewhere); a SendMessageBatch of 10 is one call",
        "docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/quotas-messages.html (stored "
        "copy); performance-notes.md",
        "per-Region default",
        "AWS Support (not re-verified); or another Region",
    ),
    "fifo_group": (
        300,
        "messages/s per message group (one subject: group id = subject id)",
        "performance-notes.md (not re-verified; a third-party summary gives 300 calls/s, 3,000 msg/s with "
        "batching)",
        "no",
        "by design: one subject's events stay in order",
    ),
    "ddb_table_wru": (
        40_000,
        "write request units/s per on-demand table (40,000 read units/s too)",
        "docs.aws.amazon.com/amazondynamodb/latest/developerguide/on-demand-capacity-mode-max-throughput.html "
        "and ServiceQuotas.html (stored copies)",
        "yes",
        "Service Quotas ('Table-level write throughput limit'); a new on-demand table also ramps (it "
        "serves up to double its previous peak; warm throughput pre-warms it) — not re-verified",
    ),
    "ddb_partition_wcu": (
        1_000,
        "write units/s per partition (3,000 read units/s), table or index",
        "docs.aws.amazon.com/amazondynamodb/latest/developerguide/warm-throughput-scenarios.html (stored "
        "copy); performance-notes.md",
        "no",
        "hard limit: spread the writes over more partition keys (write sharding)",
    ),
}


@dataclass(frozen=True)
class Limit:
    component: str
    uses: str  # what one webhook uses of it (measured)
    need: str  # what 10,000 webhooks/s need
    quota_key: str
    before: float | None  # ceiling for one product, webhooks/s, v1 (None: not a per-product limit)
    after: float | None
    note: str = ""

    @property
    def quota(self) -> tuple[float, str, str, str, str]:
        return QUOTA[self.quota_key]

    @property
    def hard(self) -> bool:
        return self.quota[3] == "no"


def model(cost: dict[str, Any]) -> dict[str, Any]:
    from bench.cost import V1

    a = cost["assumptions"]
    b = a["batch"]
    rate = GOAL_PER_S
    ingress_s = a["ingress_ms"] / 1000
    batch_s = a["recorder_batch_ms"] / 1000
    v1_ingress_s = V1["ingress_ms"] / 1000
    v1_batch_s = V1["recorder_batch_ms"] / 1000
    wru, rru, index_wru = cost["wru_total"], cost["rru_total"], cost["index_wru"]
    shards = cost["index_shards"]
    fifo_calls = cost["fifo_calls_per_webhook"]
    u = cost["units"]
    subject_wru = u["status"] + u["history"] + u["failed"]  # the subject's partition (pk = subject)

    def q(key: str) -> float:
        return QUOTA[key][0]

    limits = [
        Limit(
            "API Gateway HTTP API",
            "1 request",
            f"{rate:,} requests/s",
            "apigw_rps",
            q("apigw_rps"),
            q("apigw_rps"),
            "account-wide: the status API and every other API in the account and Region share it",
        ),
        Limit(
            "Ingress Lambda (VonageFunction / TwilioFunction) concurrency",
            f"{a['ingress_ms']} ms billed",
            f"{rate * ingress_s:,.0f} concurrent",
            "lambda_concurrency",
            q("lambda_concurrency") / v1_ingress_s,
            q("lambda_concurrency") / ingress_s,
            f"alone; scaling {q('lambda_scaling'):,.0f} environments per 10 s per function reaches "
            f"{rate * ingress_s:,.0f} within 10 s",
        ),
        Limit(
            "Ingest SQS queue (standard)",
            "1 SendMessage; in flight for one batch's duration",
            f"≈ {rate * batch_s:,.0f} messages in flight",
            "sqs_inflight",
            q("sqs_inflight") / v1_batch_s,
            q("sqs_inflight") / batch_s,
            "API calls: nearly unlimited for standard queues (SQS quotas page, stored copy)",
        ),
        Limit(
            f"Event source mapping → RecorderFunction (batches of {b})",
            f"1/{b} of a {a['recorder_batch_ms']} ms batch",
            f"{rate / b:,.0f} batches/s × {batch_s:.3f} s = {rate / b * batch_s:,.0f} concurrent batches",
            "esm_batches",
            q("esm_batches") * b / v1_batch_s,
            q("esm_batches") * b / batch_s,
            f"+300 concurrent batches per minute: ≈ {rate / b * batch_s / 300:.1f} min to ramp from idle",
        ),
        Limit(
            "Lambda concurrency, account (ingress + recorder)",
            f"{ingress_s * 1000:.0f} ms + {batch_s * 1000 / b:.1f} ms",
            f"{rate * (ingress_s + batch_s / b):,.0f} concurrent",
            "lambda_concurrency",
            q("lambda_concurrency") / (v1_ingress_s + v1_batch_s / b),
            q("lambda_concurrency") / (ingress_s + batch_s / b),
            "plus the status API's and anything else in the account",
        ),
        Limit(
            "Events FIFO queue, high-throughput mode: SendMessageBatch",
            f"{fifo_calls:.3f} calls (one per batch with a new event; v1: {V1['fifo_calls_per_webhook']:.2f} "
            "SendMessage)",
            f"{rate * fifo_calls:,.0f} calls/s",
            "fifo_ht_tps",
            q("fifo_ht_tps") / V1["fifo_calls_per_webhook"],
            q("fifo_ht_tps") / fifo_calls,
            "template: DeduplicationScope messageGroup + FifoThroughputLimit perMessageGroupId"
            + ("" if a["fifo_high_throughput"] else " — **not set in template.yaml: 300 calls/s applies**")
            + f"; your consumer's ReceiveMessage / DeleteMessageBatch count against their own {q('fifo_ht_tps'):,.0f}",
        ),
        Limit(
            "Events FIFO queue: one message group",
            "1 message per new event in the subject's group",
            "— (per subject, not per product)",
            "fifo_group",
            None,
            None,
            f"one subject: ≤ {q('fifo_group'):,.0f} events/s; a product's traffic spans its many subjects",
        ),
        Limit(
            "DynamoDB table throughput (on-demand)",
            f"{wru:.2f} WRU + {rru:.2f} RRU (v1: {V1['wru']:.2f} WRU)",
            f"{rate * wru:,.0f} WRU/s, {rate * rru:,.0f} RRU/s",
            "ddb_table_wru",
            q("ddb_table_wru") / V1["wru"],
            q("ddb_table_wru") / wru,
            "counting the index writes against the table's quota too (conservative); reads: "
            f"{q('ddb_table_wru') / max(rru, 1e-9):,.0f}/s",
        ),
        Limit(
            "DynamoDB table partitions (subject, credential keys)",
            f"{subject_wru:.2f} WRU on the subject's key, the binding on its own",
            "spread over the product's subjects",
            "ddb_partition_wcu",
            None,
            None,
            f"per product: no ceiling (one key per subject); one subject: ≤ "
            f"{q('ddb_partition_wcu') / max(subject_wru, 1e-9):,.0f} events/s (its FIFO group's 300/s comes first)",
        ),
        Limit(
            f"DynamoDB index partitions (by_product, {shards} shards per product)",
            f"{index_wru:.2f} index WRU (entries ≤ 1 KB)",
            f"{rate * index_wru:,.0f} WRU/s over {shards} keys = {rate * index_wru / shards:,.0f} per key",
            "ddb_partition_wcu",
            q("ddb_partition_wcu") / 1.0 * V1["index_partition_keys_per_product"],
            q("ddb_partition_wcu") * shards / max(index_wru, 1e-9),
            "v1: one key per product (gsi1pk = PRODUCT#<product>, 1 WRU per entry) and by_status one per "
            "product and status; a throttled index throttles the table's writes. An even spread assumes the "
            "event-id hash (storage.shard); a key whose sort key (occurred_at) only grows cannot be split "
            "for heat (not re-verified)",
        ),
    ]
    per_product = [lim for lim in limits if lim.after is not None]
    first_after = min(per_product, key=lambda lim: lim.after or 0)
    first_before = min(per_product, key=lambda lim: lim.before or 0)
    hard = [lim for lim in per_product if lim.hard]
    hard_after = min(hard, key=lambda lim: lim.after or 0) if hard else None
    hard_before = min(hard, key=lambda lim: lim.before or 0) if hard else None
    return {
        "goal": rate,
        "limits": limits,
        "first_after": first_after,
        "first_before": first_before,
        "hard_after": hard_after,
        "hard_before": hard_before,
        "goal_met": hard_after is not None and (hard_after.after or 0) >= rate,
        "goal_met_before": hard_before is not None and (hard_before.before or 0) >= rate,
    }
