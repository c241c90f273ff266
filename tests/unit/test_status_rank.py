"""shared.status_rank: a subject's current status never goes backwards."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.normalise import KINDS, PRODUCTS, format_timestamp, normalise
from shared.status_rank import UNKNOWN_RANK, is_terminal, rank, supersedes

T0 = "2025-06-12T09:00:00.000Z"
T1 = "2025-06-12T09:00:05.000Z"  # later than T0

# The ranks the brief fixes, written out: (product, status, rank, terminal)
KNOWN = [
    ("verify", "action_pending", 10, False),
    ("verify", "completed", 100, True),
    ("verify", "failed", 100, True),
    ("verify", "expired", 100, True),
    ("verify", "user_rejected", 100, True),
    ("verify", "rejected", 100, True),
    ("verify", "blocked", 100, True),
    ("verify", "cancelled", 100, True),
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


@pytest.mark.parametrize(("product", "status", "expected_rank", "terminal"), KNOWN)
def test_known_status_has_its_rank_and_terminality(
    product: str, status: str, expected_rank: int, terminal: bool
) -> None:
    assert rank(product, status) == expected_rank
    assert is_terminal(product, status) is terminal


@pytest.mark.parametrize(("product", "status"), INFORMATIONAL)
def test_informational_voice_status_has_no_rank_and_is_not_terminal(product: str, status: str) -> None:
    assert rank(product, status) is None
    assert is_terminal(product, status) is False


@pytest.mark.parametrize(
    ("product", "middle"),
    [
        ("verify", 50),
        ("messages", 20),
        ("sms", 25),
        ("voice", 50),
        ("number_insight", 50),
        ("verify_push", 50),
    ],
)
def test_unknown_status_gets_the_products_middle_rank_and_is_never_terminal(
    product: str, middle: int
) -> None:
    assert rank(product, "brand_new_status") == middle
    assert is_terminal(product, "brand_new_status") is False
    assert UNKNOWN_RANK[product] == middle


@pytest.mark.parametrize("status", ["error_", "errors", "pending"])
def test_number_insight_status_that_is_not_success_or_error_n_is_unknown(status: str) -> None:
    assert rank("number_insight", status) == 50
    assert is_terminal("number_insight", status) is False


def test_status_lookup_ignores_case() -> None:
    assert rank("messages", "DELIVERED") == 30
    assert is_terminal("messages", "Read") is True


def test_unknown_product_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        rank("fax", "sent")
    with pytest.raises(ValueError):
        is_terminal("fax", "sent")
    with pytest.raises(ValueError):
        supersedes("fax", "sent", T1, "queued", T0)


def test_every_status_in_the_sample_payloads_is_in_the_table() -> None:
    root = Path(__file__).resolve().parents[2] / "events" / "payloads"
    known = {(p, s) for p, s, _, _ in KNOWN} | set(INFORMATIONAL)
    paths = sorted(root.glob("*/*.json"))
    assert paths
    for path in paths:
        product = path.parent.name
        kind = path.stem.split("-", 1)[0] if product in KINDS else None
        data = json.loads(path.read_text(encoding="utf-8"))
        event = normalise(product, kind, data, account_id=None, received_at=datetime(2026, 3, 1, tzinfo=UTC))
        assert (product, event["status"]) in known, path.name


# (product, new, new_at, current, current_at, expected)
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
    pytest.param("verify", "failed", T1, "completed", T0, False, id="verify-final-after-final"),
    pytest.param("verify", "new_state", T1, "action_pending", T0, True, id="verify-unknown-after-pending"),
    pytest.param("verify", "new_state", T1, "completed", T0, False, id="verify-unknown-after-final"),
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
    assert supersedes(product, new, new_at, current, current_at) is expected


# --- properties ----------------------------------------------------------------------------------

STATUSES = {
    product: [
        *sorted({s for p, s, _, _ in KNOWN if p == product} | {s for p, s in INFORMATIONAL if p == product}),
        "mystery_status",
    ]
    for product in PRODUCTS
}


@st.composite
def histories(draw: st.DrawFn) -> tuple[str, list[tuple[str, str]]]:
    product = draw(st.sampled_from(PRODUCTS))
    statuses = st.sampled_from(STATUSES[product] + (["error_5"] if product == "number_insight" else []))
    times = st.integers(min_value=1_700_000_000_000, max_value=1_700_000_100_000).map(
        lambda ms: format_timestamp(datetime.fromtimestamp(ms / 1000, UTC))
    )
    return product, draw(st.lists(st.tuples(statuses, times), min_size=1, max_size=12))


def apply(product: str, history: list[tuple[str, str]]) -> list[tuple[str, str] | None]:
    """The current (status, occurred_at) after each event of the history, arriving in that order."""
    current: tuple[str, str] | None = None
    trail: list[tuple[str, str] | None] = []
    for status, at in history:
        if supersedes(product, status, at, *(current or (None, None))):
            current = (status, at)
        trail.append(current)
    return trail


@given(histories())
def test_once_a_terminal_status_is_current_it_stays_current(case: tuple[str, list[tuple[str, str]]]) -> None:
    product, history = case
    trail = apply(product, history)
    for index, current in enumerate(trail):
        if current is not None and is_terminal(product, current[0]):
            assert all(later == current for later in trail[index:])


@given(histories(), st.randoms(use_true_random=False))
def test_in_any_arrival_order_the_first_terminal_to_arrive_is_final(
    case: tuple[str, list[tuple[str, str]]], rnd: random.Random
) -> None:
    product, history = case
    shuffled = list(history)
    rnd.shuffle(shuffled)
    final = apply(product, shuffled)[-1]
    terminals = [event for event in shuffled if is_terminal(product, event[0])]
    if terminals:
        assert final == terminals[0]
    else:
        assert final is None or not is_terminal(product, final[0])


@given(histories())
def test_the_current_rank_never_decreases(case: tuple[str, list[tuple[str, str]]]) -> None:
    product, history = case
    ranks = [rank(product, current[0]) for current in apply(product, history) if current is not None]
    ranked = [r for r in ranks if r is not None]
    assert ranked == sorted(ranked)
