"""The inspector's timeline marks: late, current/superseded, terminal, duplicate (switchboard/inspector/timeline.py)."""

from __future__ import annotations

from typing import Any

from switchboard.inspector.timeline import Point, delivery_counts, timeline
from switchboard.requestlog import RequestRecord


def _event(event_id: str, status: str, occurred: str, received: str, **kw: Any) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "provider": kw.get("provider", "vonage"),
        "product": kw.get("product", "messages"),
        "type": kw.get("type", "messages.status"),
        "subject_id": "s1",
        "status": status,
        "occurred_at": f"2026-01-01T00:00:{occurred}.000Z",
        "received_at": f"2026-01-01T00:01:{received}.000Z",
    }


def _by_id(points: list[Point]) -> dict[str, Point]:
    return {p.event_id: p for p in points}


def test_an_in_order_lifecycle_has_no_marks_but_current_and_ends_terminal():
    points = timeline(
        [
            _event("e3", "read", "03", "03"),
            _event("e1", "submitted", "01", "01"),
            _event("e2", "delivered", "02", "02"),
        ],
        {},
    )
    assert [p.event_id for p in points] == ["e1", "e2", "e3"]  # receipt order, whatever the input order
    assert [p.status_after for p in points] == ["submitted", "delivered", "read"]
    assert all(p.current and not p.late and not p.superseded and not p.duplicate for p in points)
    assert [p.terminal for p in points] == [False, False, True]
    assert [p.rank for p in points] == [10, 30, 40]


def test_an_earlier_status_received_after_a_later_one_is_late_and_superseded():
    points = _by_id(
        timeline([_event("d", "delivered", "05", "01"), _event("s", "submitted", "02", "02")], {})
    )
    assert points["s"].late and points["s"].superseded and not points["s"].current
    assert points["s"].status_after == "delivered"  # the status never went backwards
    assert not points["d"].late and points["d"].current


def test_a_late_event_that_outranks_the_current_status_still_becomes_current():
    points = _by_id(timeline([_event("d", "delivered", "05", "01"), _event("r", "read", "02", "02")], {}))
    assert points["r"].late and points["r"].current and not points["r"].superseded
    assert points["r"].status_after == "read"


def test_a_status_outranked_on_arrival_is_superseded_without_being_late():
    points = _by_id(timeline([_event("r", "read", "01", "01"), _event("d", "delivered", "02", "02")], {}))
    assert points["d"].superseded and not points["d"].late
    assert points["d"].status_after == "read"


def test_at_equal_rank_the_later_occurrence_wins_and_an_earlier_one_is_superseded():
    # messages: received and submitted share rank 10
    points = _by_id(
        timeline(
            [
                _event("sub", "submitted", "02", "01"),
                _event("rec-early", "received", "01", "02"),
                _event("rec-late", "received", "03", "03"),
            ],
            {},
        )
    )
    assert points["rec-early"].late and points["rec-early"].superseded
    assert points["rec-late"].current and not points["rec-late"].late
    assert points["rec-late"].status_after == "received"


def test_a_terminal_status_is_not_replaced_by_another_terminal_status_of_equal_rank():
    points = _by_id(timeline([_event("read", "read", "01", "01"), _event("rej", "rejected", "02", "02")], {}))
    assert points["rej"].terminal and points["rej"].superseded
    assert points["rej"].status_after == "read"


def test_informational_events_are_neither_current_nor_superseded():
    voice = {"product": "voice", "type": "voice.event"}
    points = _by_id(
        timeline(
            [_event("a", "answered", "01", "01", **voice), _event("i", "input", "02", "02", **voice)], {}
        )
    )
    assert points["i"].informational and points["i"].rank is None
    assert not points["i"].current and not points["i"].superseded
    assert points["i"].status_after == "answered"


def test_an_event_the_rank_table_cannot_place_is_shown_unranked():
    points = timeline([_event("x", "mystery", "01", "01", type="")], {})
    assert points[0].rank is None and not points[0].superseded and points[0].status_after is None


def test_events_received_at_the_same_instant_are_not_late_to_each_other():
    points = timeline([_event("a", "submitted", "05", "01"), _event("b", "delivered", "02", "01")], {})
    assert not any(p.late for p in points)
    later = timeline(
        [
            _event("a", "submitted", "05", "01"),
            _event("b", "delivered", "02", "01"),
            _event("c", "delivered", "04", "02"),
        ],
        {},
    )
    assert _by_id(later)["c"].late  # received after "a", which occurred at 05


def test_a_summary_outranks_a_completed_verify_event_received_earlier():
    verify = {"product": "verify", "type": "verify.event"}
    points = _by_id(
        timeline(
            [
                _event("c", "completed", "03", "01", **verify),
                _event("s", "failed", "02", "02", product="verify", type="verify.summary"),
            ],
            {},
        )
    )
    assert points["c"].terminal and points["s"].terminal
    assert points["s"].current and points["s"].late and points["s"].status_after == "failed"


def _record(verdict: str, *ids: str) -> RequestRecord:
    return RequestRecord(
        at="2026-01-01T00:00:00.000Z",
        method="POST",
        path="/x",
        route="POST /x",
        function="F",
        status=200 if verdict == "accepted" else 401,
        verdict=verdict,
        event_ids=list(ids),
    )


def test_deliveries_count_accepted_requests_per_event_id_and_two_make_a_duplicate():
    counts = delivery_counts(
        [
            _record("accepted", "e1"),
            _record("accepted", "e1"),
            _record("accepted", "e2", "e3"),  # an Event Streams delivery: one each
            _record("rejected", "e2"),
        ]
    )
    assert counts == {"e1": 2, "e2": 1, "e3": 1}
    points = _by_id(
        timeline([_event("e1", "submitted", "01", "01"), _event("e2", "delivered", "02", "02")], counts)
    )
    assert points["e1"].duplicate and points["e1"].deliveries == 2
    assert not points["e2"].duplicate
    assert points["e1"].as_json()["duplicate"] is True


def test_an_event_no_logged_request_carried_has_zero_deliveries():
    (point,) = timeline([_event("redriven", "submitted", "01", "01")], {"other": 3})
    assert point.deliveries == 0 and not point.duplicate


def test_an_event_that_occurred_at_the_same_instant_as_an_earlier_one_is_not_late():
    points = _by_id(
        timeline([_event("d", "delivered", "05", "01"), _event("s", "submitted", "05", "02")], {})
    )
    assert not points["s"].late and points["s"].superseded  # outranked, but not out of order
