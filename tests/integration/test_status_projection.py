"""The recorder's DynamoDB condition and shared.status_rank.supersedes are one rule, written twice.

Apply random sequences of statuses (any order, repeats, unknown ones) through the real Recorder on
moto and check the stored current status equals the fold of ``supersedes`` over the same sequence.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws

from shared import storage
from shared.normalise import format_timestamp
from shared.recorder import Recorder
from shared.status_rank import position, supersedes
from switchboard.template import provision

STATUSES = {
    "messages": ["submitted", "delivered", "read", "rejected", "undeliverable", "mystery", "enigma"],
    "voice": [
        "started",
        "ringing",
        "answered",
        "machine",
        "disconnected",
        "completed",
        "busy",
        "input",
        "odd",
        "strange",
    ],
    "verify_push": ["created", "verified", "deleted", "approved", "denied", "pending", "paused"],
    "verify": ["action_pending", "completed", "failed", "expired", "user_rejected", "blocked", "mystery"],
}
# The event kinds drawn per product: the rank of a Verify status depends on it (the summary rules).
KINDS = {"verify": ["event", "summary", "silent_auth"]}
T0 = datetime(2026, 1, 1, tzinfo=UTC)


Step = tuple[str, str, int, str, int]  # product, status, minute occurred, kind, second received


@st.composite
def histories(draw: Any) -> list[Step]:
    """One subject id shared by one to three products, their events interleaved."""
    products = draw(st.lists(st.sampled_from(sorted(STATUSES)), min_size=1, max_size=3, unique=True))

    def step(product: str) -> st.SearchStrategy[Step]:
        kinds = st.sampled_from(KINDS.get(product, ["x"]))
        return st.tuples(
            st.just(product), st.sampled_from(STATUSES[product]), st.integers(0, 2), kinds, st.integers(0, 2)
        )

    steps: list[Step] = draw(st.lists(st.sampled_from(products).flatmap(step), min_size=1, max_size=8))
    return steps


def provider_of(product: str) -> str:
    return "twilio" if product == "verify_push" else "vonage"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(histories())
def test_stored_status_equals_the_fold_of_supersedes(monkeypatch_env: None, history: list[Step]) -> None:
    """Per product: another product's events with the same subject id never count."""
    with mock_aws():
        stack = provision(lambda s: boto3.client(s, region_name="us-east-1"), prefix="prop")
        db = boto3.client("dynamodb", region_name="us-east-1")
        published: list[Mapping[str, Any]] = []

        def publish(events: Sequence[Mapping[str, Any]]) -> list[str]:
            published.extend(events)
            return []

        rec = Recorder(db, stack.refs["HistoryTable"], publish, retention_days=7)
        expected: dict[str, tuple[str, str, str] | None] = {product: None for product, *_ in history}
        current: dict[str, tuple[Any, str, str]] = {}
        for i, (product, status, minute, kind, second) in enumerate(history):
            occurred = format_timestamp(T0 + timedelta(minutes=minute))
            event = {
                "event_id": f"evt_{i:032x}",
                "provider": provider_of(product),
                "product": product,
                "type": f"{product}.{kind}",
                "subject_id": "subject-1",
                "status": status,
                "occurred_at": occurred,
                # not in arrival order: a retried older event arrives after a newer one
                "received_at": format_timestamp(T0 + timedelta(seconds=second)),
            }
            rec.record(event)
            new = position(product, event["type"], status)
            held, held_at, held_rx = current.get(product) or (None, None, None)
            received = event["received_at"]
            if supersedes(
                new, occurred, held, held_at, new_received_at=received, current_received_at=held_rx
            ):
                expected[product] = (status, occurred, event["event_id"])
                current[product] = (new, occurred, received)
        for product, want in expected.items():
            item = db.get_item(
                TableName=stack.refs["HistoryTable"],
                Key=storage.status_key(storage.subject_pk(provider_of(product), product, "subject-1")),
            ).get("Item")
            stored = (item["status"]["S"], item["occurred_at"]["S"], item["event_id"]["S"]) if item else None
            assert stored == want, product
            mine = [p["current"] and p["current"]["status"] for p in published if p["product"] == product]
            assert mine[-1] == (want and want[0]), product
