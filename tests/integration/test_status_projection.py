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


@st.composite
def histories(draw: Any) -> tuple[str, list[tuple[str, int]]]:
    product = draw(st.sampled_from(sorted(STATUSES)))
    kinds = st.sampled_from(KINDS.get(product, ["x"]))
    steps = draw(
        st.lists(
            st.tuples(st.sampled_from(STATUSES[product]), st.integers(0, 2), kinds, st.integers(0, 2)),
            min_size=1,
            max_size=8,
        )
    )
    return product, steps


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(histories())
def test_stored_status_equals_the_fold_of_supersedes(monkeypatch_env: None, history: Any) -> None:
    product, steps = history
    with mock_aws():
        stack = provision(lambda s: boto3.client(s, region_name="us-east-1"), prefix="prop")
        db = boto3.client("dynamodb", region_name="us-east-1")
        published: list[Mapping[str, Any]] = []

        def publish(events: Sequence[Mapping[str, Any]]) -> list[str]:
            published.extend(events)
            return []

        rec = Recorder(db, stack.refs["HistoryTable"], publish, retention_days=7)
        provider = "twilio" if product == "verify_push" else "vonage"
        expected: tuple[str, str, str] | None = None
        current: tuple[Any, str, str] | None = None
        for i, (status, minute, kind, second) in enumerate(steps):
            occurred = format_timestamp(T0 + timedelta(minutes=minute))
            event = {
                "event_id": f"evt_{i:032x}",
                "provider": provider,
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
            held, held_at, held_rx = current or (None, None, None)
            received = event["received_at"]
            if supersedes(
                new, occurred, held, held_at, new_received_at=received, current_received_at=held_rx
            ):
                expected, current = (status, occurred, event["event_id"]), (new, occurred, received)
        item = db.get_item(
            TableName=stack.refs["HistoryTable"],
            Key=storage.status_key(storage.subject_pk(provider, product, "subject-1")),
        ).get("Item")
        stored = (item["status"]["S"], item["occurred_at"]["S"], item["event_id"]["S"]) if item else None
        assert stored == expected
        assert [p["current"] and p["current"]["status"] for p in published][-1] == (expected and expected[0])
