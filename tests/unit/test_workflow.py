"""A Messages failover as one timeline (shared/workflow.py): each attempt's status is the fold of its
own events by the status rule, and the workflow's state follows providers-more.md §3.4."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.normalise import normalise
from shared.workflow import state, summarise

T0 = datetime(2026, 11, 23, 12, tzinfo=UTC)
WID = "3TcNjguHxr2vcCZ9Ddsnq6tw8yQUpZ9rMHv9QXSxLan5ibMxqSzLdx9"


def status(
    uuid: str, value: str, item: Any, total: Any, seconds: int, *, received: int | None = None
) -> dict[str, Any]:
    payload = {
        "message_uuid": uuid,
        "status": value,
        "channel": "sms",
        "timestamp": (T0 + timedelta(seconds=seconds)).isoformat(),
        "workflow": {"id": WID, "item_number": item, "items_total": total},
    }
    at = T0 + timedelta(seconds=received if received is not None else seconds + 1)
    return normalise("messages", "status", payload, account_id=None, received_at=at)


def test_a_status_in_a_failover_carries_the_workflow_with_numbers_coerced() -> None:
    event = status("m1", "rejected", "1", "2", 0)
    assert event["workflow"] == {"id": WID, "item_number": 1, "items_total": 2}
    alias = normalise(
        "messages",
        "status",
        {
            "message_uuid": "m1",
            "status": "read",
            "workflow": {"id": WID, "item_number": 2, "total_items": "3"},
        },
        account_id=None,
        received_at=T0,
    )
    assert alias["workflow"] == {"id": WID, "item_number": 2, "items_total": 3}
    plain = normalise(
        "messages", "status", {"message_uuid": "m1", "status": "read"}, account_id=None, received_at=T0
    )
    assert "workflow" not in plain


@pytest.mark.parametrize("bad", [0, -1, "x", True, 10**7, None, 1.5])
def test_a_workflow_number_that_is_not_a_positive_integer_is_null(bad: Any) -> None:
    event = status("m1", "rejected", bad, bad, 0)
    assert event["workflow"]["item_number"] is None and event["workflow"]["items_total"] is None


def test_first_rejected_then_second_delivered_is_succeeded_with_both_attempts() -> None:
    events = [
        status("m1", "submitted", 1, 2, 0),
        status("m1", "rejected", 1, 2, 2),
        status("m2", "submitted", 2, 2, 3),
        status("m2", "delivered", 2, 2, 5),
    ]
    answer = summarise(WID, events)
    assert answer["state"] == "succeeded"
    assert [
        (a["item_number"], a["message_uuid"], a["status"], a["terminal"]) for a in answer["attempts"]
    ] == [
        (1, "m1", "rejected", True),
        (2, "m2", "delivered", False),
    ]
    assert answer["items_total"] == 2 and len(answer["history"]) == 4


def test_the_last_attempt_rejected_fails_the_workflow_and_an_earlier_one_does_not() -> None:
    first = [status("m1", "rejected", 1, 2, 0)]
    assert summarise(WID, first)["state"] == "in_progress"
    both = [*first, status("m2", "undeliverable", 2, 2, 4)]
    assert summarise(WID, both)["state"] == "failed"


def test_unknown_total_never_decides_failure() -> None:
    events = [status("m1", "rejected", 1, None, 0), status("m2", "rejected", 2, None, 4)]
    assert summarise(WID, events)["state"] == "in_progress"


def test_a_late_submitted_never_moves_an_attempt_back() -> None:
    events = sorted(
        [status("m2", "delivered", 2, 2, 5), status("m2", "submitted", 2, 2, 3, received=60)],
        key=lambda e: (e["occurred_at"], e["received_at"]),
    )
    answer = summarise(WID, events)
    assert answer["attempts"][0]["status"] == "delivered" and answer["state"] == "succeeded"


def test_state_rules() -> None:
    def a(item: int, s: str | None) -> dict[str, Any]:
        return {"item_number": item, "status": s}

    assert state([a(1, "read")], None) == "succeeded"
    assert state([a(1, "rejected"), a(2, None)], 2) == "in_progress"
    assert state([a(1, "rejected"), a(2, "rejected")], 2) == "failed"
    assert state([a(1, "rejected"), a(2, "rejected"), a(3, "submitted")], 3) == "in_progress"


STATUSES = ["submitted", "delivered", "read", "rejected", "undeliverable", "something_new"]


@given(
    st.lists(
        st.tuples(st.integers(1, 3), st.sampled_from(STATUSES), st.integers(0, 50), st.integers(0, 50)),
        min_size=1,
        max_size=12,
    )
)
def test_any_arrival_order_gives_the_same_attempts(rows: list[tuple[int, str, int, int]]) -> None:
    """An attempt's status depends on its events, not on the order they were read in (the index
    sorts by occurrence; a late arrival is ordered by receipt)."""
    events = [status(f"m{item}", s, item, 3, occ, received=occ + late) for item, s, occ, late in rows]

    def order(e: dict[str, Any]) -> tuple[str, str]:
        return e["occurred_at"], e["received_at"]

    ordered = sorted(events, key=order)
    forward = summarise(WID, ordered)
    assert forward["state"] in ("succeeded", "failed", "in_progress")
    # Each attempt's status is one of its own events' statuses.
    for attempt in forward["attempts"]:
        own = {e["status"] for e in events if e["subject_id"] == attempt["message_uuid"]}
        assert attempt["status"] in own
    # Succeeded exactly when some attempt's current status is a success; the fold is the same in
    # whatever order events of different attempts interleave.
    assert (forward["state"] == "succeeded") == any(
        a["status"] in ("delivered", "read") for a in forward["attempts"]
    )
    by_attempt = sorted(events, key=lambda e: (e["subject_id"], *order(e)))
    assert summarise(WID, by_attempt)["attempts"] == forward["attempts"]
