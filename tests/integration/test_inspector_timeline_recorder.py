"""The inspector's timeline against the real recorder: whatever order events reach the Recorder (on
moto), the timeline drawn from the stored history ends at the status the recorder stored."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import boto3
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from moto import mock_aws

from shared import history, storage
from shared.normalise import format_timestamp
from shared.recorder import Recorder
from switchboard.inspector.reads import subject_timeline
from switchboard.template import provision
from tests.integration.test_status_projection import KINDS, STATUSES, T0, provider_of

Step = tuple[str, str, int, str, int]  # product, status, minute occurred, kind, second received
SUBJECTS = itertools.count()


@st.composite
def deliveries(draw: Any) -> tuple[str, list[Step]]:
    """One product's events, each with a receipt second (ties: one delivery, or one instant), in
    the order the recorder takes them (not their receipt order: a retried message comes back later)."""
    product = draw(st.sampled_from(sorted(STATUSES)))
    step = st.tuples(
        st.just(product),
        st.sampled_from(STATUSES[product]),
        st.integers(0, 2),
        st.sampled_from(KINDS.get(product, ["x"])),
        st.integers(0, 3),
    )
    return product, draw(st.lists(step, min_size=1, max_size=7))


@pytest.fixture(scope="module")
def table(monkeypatch_env: None) -> Iterator[tuple[Any, str]]:
    """One moto table for every example (each example has its own subject id): provisioning one
    per example would take a second each."""
    with mock_aws():
        stack = provision(lambda s: boto3.client(s, region_name="us-east-1"), prefix="tl")
        yield boto3.client("dynamodb", region_name="us-east-1"), stack.refs["HistoryTable"]


def _run(table: tuple[Any, str], product: str, steps: list[Step]) -> tuple[str | None, list[dict[str, Any]]]:
    """(the status the recorder stored, the timeline's points) once the recorder took the steps in order."""
    db, name = table
    subject_id = f"subject-{next(SUBJECTS)}"
    rec = Recorder(db, name, lambda events: [], retention_days=7)
    for i, (_, status, minute, kind, second) in enumerate(steps):
        rec.record(
            {
                "event_id": f"evt_{(i * 7919) % 1000:032x}",  # id order is not processing order
                "provider": provider_of(product),
                "product": product,
                "type": f"{product}.{kind}",
                "subject_id": subject_id,
                "status": status,
                "occurred_at": format_timestamp(T0 + timedelta(minutes=minute)),
                "received_at": format_timestamp(T0 + timedelta(seconds=second)),
            }
        )
    doc = subject_timeline(db, name, provider_of(product), product, subject_id, {})
    assert doc is not None
    stored = history.read_subject(db, name, storage.subject_pk(provider_of(product), product, subject_id))
    assert stored is not None
    return stored["status"], doc["points"]


# 40 in make test (≈ 15 s for both), 500 under make fuzz (SWITCHBOARD_FUZZ=1).
EXAMPLES = 500 if os.environ.get("SWITCHBOARD_FUZZ") == "1" else 40


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@example(
    (
        "messages",
        [
            ("messages", "submitted", 0, "x", 0),
            ("messages", "read", 0, "x", 0),
            ("messages", "rejected", 0, "x", 0),
        ],
    )
)
@example(("verify", [("verify", "failed", 1, "summary", 0), ("verify", "completed", 0, "summary", 0)]))
@given(deliveries())
def test_the_timeline_ends_at_the_status_the_recorder_stored_in_receipt_order(
    table: tuple[Any, str], drawn: tuple[str, list[Step]]
) -> None:
    product, steps = drawn
    steps = sorted(steps, key=lambda s: s[4])  # the recorder takes them as they were received
    stored, points = _run(table, product, steps)
    assert points[-1]["status_after"] == stored


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@example(("messages", [("messages", "rejected", 0, "x", 2), ("messages", "read", 0, "x", 1)]))
@example(
    (
        "voice",
        [("voice", "started", 0, "x", 0), ("voice", "human", 0, "x", 1), ("voice", "machine", 0, "x", 1)],
    )
)
@given(deliveries())
def test_the_timeline_ends_at_the_status_the_recorder_stored_in_any_order(
    table: tuple[Any, str], drawn: tuple[str, list[Step]]
) -> None:
    product, steps = drawn
    stored, points = _run(table, product, steps)
    assert points[-1]["status_after"] == stored
