"""shared.status_rank: a subject's current status never goes backwards; a Verify summary is final."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.normalise import KINDS, PRODUCTS, format_timestamp, normalise
from shared.status_rank import TERMINAL_RANK, UNKNOWN_RANK, Position, position, supersedes

T0 = "2025-06-12T09:00:00.000Z"
T1 = "2025-06-12T09:00:05.000Z"  # later than T0
T2 = "2025-06-12T09:00:09.000Z"  # later than T1

SUMMARY = "verify.summary"
FINAL_REPORT = "dispatch.final_report"
# Event types whose every status, known or not, is final (rank TERMINAL_RANK, terminal).
AUTHORITATIVE = (SUMMARY, FINAL_REPORT)
VERIFY_EVENT_TYPES = ["verify.event", "verify.silent_auth", "verify.callback_vonage_adds_later"]
# Event types as normalise writes them (`<product>.<kind>`); outside Verify they do not change ranks.
EVENT_TYPES = {
    "verify": [SUMMARY, *VERIFY_EVENT_TYPES],
    "messages": ["messages.inbound", "messages.status"],
    "sms": ["sms.inbound", "sms.receipt"],
    "voice": ["voice.answer", "voice.fallback", "voice.event"],
    "number_insight": ["number_insight.result"],
    "rtc": ["rtc.member.joined", "rtc.leg.status.update"],
    "dispatch": [FINAL_REPORT, "dispatch.message_status"],
    "short_codes": ["short_codes.inbound", "short_codes.receipt"],
    "verify_push": ["verify_push.factor.created", "verify_push.challenge.approved"],
    # Twilio Event Streams types without a product of their own (Twilio Verify's ranks: test_event_streams.py)
    "event_streams": ["event_streams.com.twilio.eventstreams.test_event", "event_streams.com.twilio.x.y"],
}
DEFAULT_TYPE = {product: types[-1] for product, types in EVENT_TYPES.items()}  # verify: not summary

# The ranks the brief fixes, written out: (product, status, rank, terminal). Verify rows are for its
# non-summary events; a summary ranks every status TERMINAL_RANK, terminal.
KNOWN = [
    ("verify", "action_pending", 10, False),
    ("verify", "failed", 60, False),
    ("verify", "expired", 60, False),
    ("verify", "user_rejected", 60, False),
    ("verify", "rejected", 60, False),
    ("verify", "blocked", 60, False),
    ("verify", "cancelled", 60, False),
    ("verify", "unused", 60, False),
    ("verify", "completed", 70, True),
    ("messages", "received", 10, False),
    ("messages", "submitted", 10, False),
    ("messages", "delivered", 30, False),
    ("messages", "read", 40, True),
    ("messages", "rejected", 40, True),
    ("messages", "undeliverable", 40, True),
    ("sms", "received", 10, False),
    ("sms", "accepted", 10, False),
    ("sms", "buffered", 20, False),
    ("sms", "unknown", 25, False),
    ("sms", "delivered", 40, True),
    ("sms", "expired", 40, True),
    ("sms", "failed", 40, True),
    ("sms", "rejected", 40, True),
    ("voice", "started", 10, False),
    ("voice", "ringing", 20, False),
    ("voice", "answered", 30, False),
    ("voice", "human", 35, False),
    ("voice", "machine", 35, False),
    ("voice", "disconnected", 80, False),
    ("voice", "busy", 100, True),
    ("voice", "cancelled", 100, True),
    ("voice", "unanswered", 100, True),
    ("voice", "rejected", 100, True),
    ("voice", "failed", 100, True),
    ("voice", "timeout", 100, True),
    ("voice", "completed", 100, True),
    ("number_insight", "success", 100, True),
    ("number_insight", "error_3", 100, True),
    ("number_insight", "error_43", 100, True),
    ("rtc", "conversation_created", 10, False),
    ("rtc", "member_joined", 50, False),
    ("rtc", "member_left", 50, False),
    ("rtc", "leg_ringing", 50, False),
    ("rtc", "leg_answered", 50, False),
    ("rtc", "leg_completed", 50, False),  # a leg ends, the conversation goes on
    ("rtc", "app_knocking", 50, False),
    ("rtc", "conversation_deleted", 100, True),
    # Dispatch message statuses all rank alike (the latest by time); a final report ranks every
    # status TERMINAL_RANK, terminal (AUTHORITATIVE).
    ("dispatch", "submitted", 50, False),
    ("dispatch", "delivered", 50, False),
    ("dispatch", "read", 50, False),
    ("dispatch", "rejected", 50, False),
    ("dispatch", "undeliverable", 50, False),
    ("dispatch", "completed", 50, False),
    ("dispatch", "error", 50, False),
    ("short_codes", "received", 10, False),
    ("short_codes", "accepted", 10, False),
    ("short_codes", "buffered", 20, False),
    ("short_codes", "unknown", 25, False),
    ("short_codes", "delivered", 40, True),
    ("short_codes", "expired", 40, True),
    ("short_codes", "failed", 40, True),
    ("short_codes", "rejected", 40, True),
    ("verify_push", "created", 10, False),
    ("verify_push", "verified", 20, False),
    ("verify_push", "deleted", 100, True),
    ("verify_push", "approved", 100, True),
    ("verify_push", "denied", 100, True),
    ("verify_push", "expired", 100, True),
]
INFORMATIONAL = [
    ("voice", "input"),
    ("voice", "recorded"),
    ("voice", "transfer"),
    ("voice", "event"),
    ("voice", "transcribed"),
]
VERIFY_STATUSES = sorted(status for product, status, _, _ in KNOWN if product == "verify")


def pos(product: str, status: str, event_type: str | None = None) -> Position | None:
    return position(product, event_type or DEFAULT_TYPE[product], status)


@pytest.mark.parametrize(("product", "status", "expected_rank", "terminal"), KNOWN)
def test_known_status_has_its_rank_and_terminality(
    product: str, status: str, expected_rank: int, terminal: bool
) -> None:
    for event_type in EVENT_TYPES[product]:
        if event_type not in AUTHORITATIVE:
            assert position(product, event_type, status) == Position(expected_rank, terminal), event_type


@pytest.mark.parametrize("status", [*VERIFY_STATUSES, "brand_new_status", "Completed"])
def test_a_verify_summary_ranks_any_status_terminal_above_every_event(status: str) -> None:
    assert position("verify", SUMMARY, status) == Position(TERMINAL_RANK, True)
    for event_type in VERIFY_EVENT_TYPES:
        for event_status in [*VERIFY_STATUSES, "brand_new_status"]:
            event = position("verify", event_type, event_status)
            assert event is not None
            assert event.rank < TERMINAL_RANK


@pytest.mark.parametrize(("product", "status"), INFORMATIONAL)
def test_informational_voice_status_has_no_position(product: str, status: str) -> None:
    for event_type in EVENT_TYPES[product]:
        assert position(product, event_type, status) is None


@pytest.mark.parametrize(
    ("product", "middle"),
    [
        ("verify", 50),
        ("messages", 20),
        ("sms", 25),
        ("voice", 50),
        ("number_insight", 50),
        ("rtc", 50),
        ("dispatch", 50),
        ("short_codes", 25),
        ("verify_push", 50),
        ("event_streams", 50),
    ],
)
def test_unknown_status_gets_the_products_middle_rank_and_is_never_terminal(
    product: str, middle: int
) -> None:
    for event_type in EVENT_TYPES[product]:
        if event_type not in AUTHORITATIVE:
            assert position(product, event_type, "brand_new_status") == Position(middle, False)
    assert UNKNOWN_RANK[product] == middle


@pytest.mark.parametrize("status", ["error_", "errors", "pending"])
def test_number_insight_status_that_is_not_success_or_error_n_is_unknown(status: str) -> None:
    assert pos("number_insight", status) == Position(50, False)


def test_status_and_event_type_lookup_ignore_case() -> None:
    assert pos("messages", "DELIVERED") == Position(30, False)
    assert pos("messages", "Read") == Position(40, True)
    assert position("verify", "verify.event", "Completed") == Position(70, True)
    assert position("verify", "Verify.Summary", "failed") == Position(TERMINAL_RANK, True)


def test_unknown_product_or_foreign_event_type_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        position("fax", "fax.sent", "sent")
    with pytest.raises(ValueError):
        position("verify", "summary", "completed")  # the bare kind, not the event's type
    with pytest.raises(ValueError):
        position("verify", "verify_push.challenge.approved", "approved")


def test_every_status_in_the_sample_payloads_is_in_the_table() -> None:
    root = Path(__file__).resolve().parents[2] / "events" / "payloads"
    known = {(p, s) for p, s, _, _ in KNOWN} | set(INFORMATIONAL)
    # Event Streams files hold arrays filed under two products: tests/unit/test_event_streams.py.
    paths = sorted(p for p in root.glob("*/*.json") if p.parent.name != "event_streams")
    assert paths
    for path in paths:
        product = path.parent.name
        kind = path.stem.split("-", 1)[0] if product in KINDS else None
        data = json.loads(path.read_text(encoding="utf-8"))
        event = normalise(product, kind, data, account_id=None, received_at=datetime(2026, 3, 1, tzinfo=UTC))
        assert (product, event["status"]) in known, path.name
        # Twilio Verify Push and RTC types are the provider's own, open-ended.
        assert event["type"] in EVENT_TYPES[product] or product in ("verify_push", "rtc"), path.name
        position(product, event["type"], event["status"])  # the event's own type is accepted


# Event Streams types without a product of their own have no known status, so no terminal one.
@pytest.mark.parametrize("product", [p for p in PRODUCTS if any(t for q, _, _, t in KNOWN if q == p)])
def test_every_terminal_rank_is_above_every_non_terminal_rank(product: str) -> None:
    statuses = [s for p, s, _, _ in KNOWN if p == product] + ["brand_new_status", "error_5"]
    for event_types in [EVENT_TYPES[product], *([t] for t in EVENT_TYPES[product])]:
        positions = [position(product, t, s) for t in event_types for s in statuses]
        ranked = [p for p in positions if p is not None]
        terminal = [p.rank for p in ranked if p.terminal]
        # Every product ends; a kind may not (a Dispatch message status: the final report ends it).
        assert terminal or len(event_types) == 1, event_types
        assert max((p.rank for p in ranked if not p.terminal), default=-1) < min(terminal, default=999)


# (product, new, new_at, current, current_at, expected); each status on the product's DEFAULT_TYPE
SUPERSEDES = [
    pytest.param("messages", "submitted", T0, None, None, True, id="first-status-always-becomes-current"),
    pytest.param(
        "voice", "input", T0, None, None, False, id="informational-never-becomes-current-even-first"
    ),
    pytest.param(
        "messages", "submitted", T1, "delivered", T0, False, id="late-submitted-never-replaces-delivered"
    ),
    pytest.param("messages", "read", T1, "delivered", T0, True, id="read-after-delivered"),
    pytest.param("messages", "read", T0, "delivered", T1, True, id="read-wins-even-if-dated-earlier"),
    pytest.param("messages", "delivered", T1, "read", T0, False, id="delivered-after-read-terminal"),
    pytest.param("messages", "rejected", T1, "read", T0, False, id="terminal-after-equal-terminal"),
    pytest.param("messages", "undeliverable", T1, "delivered", T0, True, id="undeliverable-after-delivered"),
    pytest.param("messages", "clicked", T1, "submitted", T0, True, id="unknown-after-submitted"),
    pytest.param("messages", "clicked", T1, "delivered", T0, False, id="unknown-never-replaces-delivered"),
    pytest.param("messages", "clicked", T1, "read", T0, False, id="unknown-never-replaces-terminal"),
    pytest.param("messages", "delivered", T1, "clicked", T0, True, id="delivered-after-unknown"),
    pytest.param("messages", "submitted", T1, "received", T0, True, id="equal-rank-later-wins"),
    pytest.param("messages", "submitted", T0, "received", T1, False, id="equal-rank-earlier-loses"),
    pytest.param("messages", "submitted", T0, "submitted", T0, True, id="equal-rank-same-time-is-idempotent"),
    pytest.param("messages", "submitted", T0, "submitted", None, True, id="equal-rank-current-without-time"),
    pytest.param(
        "sms",
        "accepted",
        "2025-06-12T09:00:00.500Z",
        "accepted",
        "2025-06-12T09:00:00Z",
        True,
        id="equal-rank-compares-times-not-strings",
    ),
    pytest.param(
        "sms", "accepted", "not a time", "accepted", "nor this", True, id="unparsable-times-as-strings"
    ),
    pytest.param("sms", "delivered", T1, "delivered", T0, False, id="terminal-retry-does-not-replace-itself"),
    pytest.param("sms", "delivered", T1, "buffered", T0, True, id="sms-delivered-after-buffered"),
    pytest.param("sms", "buffered", T1, "unknown", T0, False, id="sms-buffered-after-unknown"),
    pytest.param("sms", "mystery", T1, "accepted", T0, True, id="sms-unknown-after-accepted"),
    pytest.param("sms", "failed", T1, "delivered", T0, False, id="sms-failed-after-delivered"),
    pytest.param("voice", "ringing", T1, "answered", T0, False, id="voice-ringing-after-answered"),
    pytest.param("voice", "machine", T1, "answered", T0, True, id="voice-amd-after-answered"),
    pytest.param("voice", "human", T1, "machine", T0, True, id="voice-equal-rank-later"),
    pytest.param("voice", "completed", T1, "disconnected", T0, True, id="voice-completed-after-disconnected"),
    pytest.param(
        "voice", "disconnected", T1, "completed", T0, False, id="voice-disconnected-after-completed"
    ),
    pytest.param("voice", "answered", T1, "completed", T0, False, id="voice-answered-after-completed"),
    pytest.param("voice", "input", T1, "answered", T0, False, id="voice-informational-never-replaces"),
    pytest.param("voice", "recorded", T1, "started", T0, False, id="voice-recorded-never-replaces"),
    pytest.param("voice", "started", T1, "input", T0, True, id="ranked-status-replaces-informational"),
    pytest.param("voice", "event", T1, "input", T0, False, id="informational-never-replaces-informational"),
    pytest.param("voice", "ai_hangup", T1, "answered", T0, True, id="voice-unknown-after-answered"),
    pytest.param("voice", "ai_hangup", T1, "disconnected", T0, False, id="voice-unknown-before-disconnected"),
    pytest.param("verify", "completed", T1, "action_pending", T0, True, id="verify-completed-after-pending"),
    pytest.param("verify", "action_pending", T1, "expired", T0, False, id="verify-pending-after-expired"),
    pytest.param("verify", "failed", T1, "completed", T0, False, id="verify-failure-after-completed"),
    pytest.param("verify", "new_state", T1, "action_pending", T0, True, id="verify-unknown-after-pending"),
    pytest.param("verify", "new_state", T1, "completed", T0, False, id="verify-unknown-after-completed"),
    pytest.param("verify", "new_state", T1, "expired", T0, False, id="verify-unknown-after-failure"),
    pytest.param("number_insight", "error_3", T1, "success", T0, False, id="ni-result-is-final"),
    pytest.param("verify_push", "verified", T1, "created", T0, True, id="push-verified-after-created"),
    pytest.param("verify_push", "created", T1, "verified", T0, False, id="push-created-after-verified"),
    pytest.param("verify_push", "deleted", T1, "verified", T0, True, id="push-deleted-after-verified"),
    pytest.param("verify_push", "verified", T1, "deleted", T0, False, id="push-verified-after-deleted"),
    pytest.param("verify_push", "denied", T1, "approved", T0, False, id="push-denied-after-approved"),
]


@pytest.mark.parametrize(("product", "new", "new_at", "current", "current_at", "expected"), SUPERSEDES)
def test_a_new_status_replaces_the_current_one_only_when_the_rules_allow(
    product: str, new: str, new_at: str, current: str | None, current_at: str | None, expected: bool
) -> None:
    current_position = None if current is None else pos(product, current)
    assert supersedes(pos(product, new), new_at, current_position, current_at) is expected


# --- Verify: the summary is authoritative; before it a later channel's result wins ----------------

# An event as it reaches the recorder: (type, status, occurred_at)
Event = tuple[str, str, str]


def fold(product: str, events: list[Event]) -> list[Event | None]:
    """The current event after each one of ``events``, arriving in that order."""
    current: Event | None = None
    trail: list[Event | None] = []
    for event in events:
        event_type, status, at = event
        if current is None:
            replaces = supersedes(position(product, event_type, status), at, None, None)
        else:
            current_position = position(product, current[0], current[1])
            replaces = supersedes(position(product, event_type, status), at, current_position, current[2])
        if replaces:
            current = event
        trail.append(current)
    return trail


def test_verify_a_later_channels_completed_then_the_summary_become_current() -> None:
    sms_expired = ("verify.event", "expired", T0)
    whatsapp_completed = ("verify.event", "completed", T1)
    summary = (SUMMARY, "completed", T2)
    assert fold("verify", [sms_expired, whatsapp_completed, summary]) == [
        sms_expired,
        whatsapp_completed,
        summary,
    ]


def test_verify_a_summary_failed_replaces_an_event_completed() -> None:
    completed, summary = ("verify.event", "completed", T0), (SUMMARY, "failed", T1)
    assert fold("verify", [completed, summary])[-1] == summary


@pytest.mark.parametrize("late", [*VERIFY_STATUSES, "brand_new_status"])
@pytest.mark.parametrize("event_type", VERIFY_EVENT_TYPES)
def test_verify_an_event_arriving_after_the_summary_never_replaces_it(event_type: str, late: str) -> None:
    summary = (SUMMARY, "expired", T0)
    assert fold("verify", [summary, (event_type, late, T1)])[-1] == summary


def test_verify_a_second_summary_never_replaces_the_first() -> None:
    first = (SUMMARY, "completed", T0)
    assert fold("verify", [first, (SUMMARY, "failed", T1)])[-1] == first


def test_verify_a_later_channels_failure_replaces_an_earlier_ones() -> None:
    sms_expired, voice_failed = ("verify.event", "expired", T0), ("verify.event", "failed", T1)
    assert fold("verify", [sms_expired, voice_failed])[-1] == voice_failed


def test_verify_an_earlier_failure_arriving_late_does_not_replace_a_later_one() -> None:
    voice_failed, sms_expired = ("verify.event", "failed", T1), ("verify.event", "expired", T0)
    assert fold("verify", [voice_failed, sms_expired])[-1] == voice_failed


def test_verify_silent_auth_pending_then_its_result() -> None:
    pending = ("verify.silent_auth", "action_pending", T0)
    completed = ("verify.silent_auth", "completed", T1)
    assert fold("verify", [pending, completed]) == [pending, completed]
    assert fold("verify", [completed, pending]) == [completed, completed]


# --- properties ----------------------------------------------------------------------------------

STATUSES = {
    product: [
        *sorted({s for p, s, _, _ in KNOWN if p == product} | {s for p, s in INFORMATIONAL if p == product}),
        "mystery_status",
    ]
    for product in PRODUCTS
}
TIMES = st.integers(min_value=1_700_000_000_000, max_value=1_700_000_100_000).map(
    lambda ms: format_timestamp(datetime.fromtimestamp(ms / 1000, UTC))
)


def events_of(product: str) -> st.SearchStrategy[Event]:
    statuses = STATUSES[product] + (["error_5"] if product == "number_insight" else [])
    return st.tuples(st.sampled_from(EVENT_TYPES[product]), st.sampled_from(statuses), TIMES)


@st.composite
def histories(draw: st.DrawFn) -> tuple[str, list[Event]]:
    product = draw(st.sampled_from(PRODUCTS))
    return product, draw(st.lists(events_of(product), min_size=1, max_size=12))


def place(product: str, event: Event | None) -> Position | None:
    return None if event is None else position(product, event[0], event[1])


@given(histories())
def test_a_terminal_current_is_replaced_only_by_a_higher_ranked_terminal(
    case: tuple[str, list[Event]],
) -> None:
    product, history = case
    trail = fold(product, history)
    for before, after in pairwise(trail):
        was, now = place(product, before), place(product, after)
        if was is not None and was.terminal and after != before:
            assert now is not None and now.terminal and now.rank > was.rank


def highest_terminal_rank(product: str) -> int:
    statuses = STATUSES[product] + ["error_5"]
    places = [position(product, t, s) for t in EVENT_TYPES[product] for s in statuses]
    return max((p.rank for p in places if p is not None and p.terminal), default=-1)  # -1: none


@pytest.mark.parametrize("product", [p for p in PRODUCTS if p != "verify"])
def test_outside_verify_every_terminal_status_has_the_highest_terminal_rank(product: str) -> None:
    for event_type in EVENT_TYPES[product]:
        for status in STATUSES[product] + ["error_5"]:
            found = position(product, event_type, status)
            if found is not None and found.terminal:
                assert found.rank == highest_terminal_rank(product)


@given(histories())
def test_once_the_highest_ranked_terminal_is_current_it_stays_current(
    case: tuple[str, list[Event]],
) -> None:
    """Outside Verify: every terminal status (they share one rank). Verify: the summary."""
    product, history = case
    trail = fold(product, history)
    top = Position(highest_terminal_rank(product), True)
    for index, current in enumerate(trail):
        if current is not None and place(product, current) == top:
            assert all(later == current for later in trail[index:])


@given(histories(), st.randoms(use_true_random=False))
def test_in_any_arrival_order_the_first_to_arrive_of_the_highest_terminal_rank_is_final(
    case: tuple[str, list[Event]], rnd: random.Random
) -> None:
    product, history = case
    shuffled = list(history)
    rnd.shuffle(shuffled)
    final = fold(product, shuffled)[-1]
    terminals = [(p.rank, e) for e in shuffled if (p := place(product, e)) is not None and p.terminal]
    if terminals:
        top = max(rank for rank, _ in terminals)
        assert final == next(event for rank, event in terminals if rank == top)
    else:
        final_place = place(product, final)
        assert final_place is None or not final_place.terminal


@given(
    st.lists(events_of("verify").filter(lambda e: e[0] != SUMMARY), max_size=10),
    st.sampled_from([*STATUSES["verify"], "brand_new_status"]),
    TIMES,
    st.lists(events_of("verify"), max_size=10),
)
def test_verify_in_any_order_the_first_summary_to_arrive_is_final(
    before: list[Event], summary_status: str, summary_at: str, after: list[Event]
) -> None:
    """Any sequence holding a summary is: events that are not summaries, the first summary, the rest."""
    first_summary = (SUMMARY, summary_status, summary_at)
    assert fold("verify", [*before, first_summary, *after])[-1] == first_summary


@given(histories())
def test_the_current_rank_never_decreases(case: tuple[str, list[Event]]) -> None:
    product, history = case
    places = [place(product, current) for current in fold(product, history)]
    ranks = [p.rank for p in places if p is not None]
    assert ranks == sorted(ranks)


POSITIONS = st.none() | st.builds(Position, st.integers(0, 110), st.booleans())


# few distinct instants: ties of occurred_at and of received_at are the cases that matter here
TIES = st.sampled_from(["2026-01-01T00:00:00.000Z", "2026-01-01T00:00:00.001Z", "2026-01-01T00:00:01.000Z"])


@given(POSITIONS, TIES, TIES, POSITIONS, TIES, TIES)
def test_supersedes_is_the_recorders_dynamodb_condition(
    new: Position | None, new_at: str, new_rx: str, current: Position | None, current_at: str, current_rx: str
) -> None:
    """shared.storage.status_condition: attribute_not_exists(pk) OR (rank < :rank AND (terminal =
    false OR the new one is terminal)) OR (rank = :rank AND terminal = false AND (occurred_at <
    :occurred_at OR (occurred_at = :occurred_at AND updated_at <= :received_at))), strings compared
    as strings (every stored time comes from format_timestamp). A new None is never written."""
    if new is None:
        expected = False
    elif current is None:
        expected = True
    else:
        not_earlier = current_at < new_at or (current_at == new_at and current_rx <= new_rx)
        expected = (current.rank < new.rank and (not current.terminal or new.terminal)) or (
            current.rank == new.rank and not current.terminal and not_earlier
        )
    got = supersedes(new, new_at, current, current_at, new_received_at=new_rx, current_received_at=current_rx)
    assert got is expected
