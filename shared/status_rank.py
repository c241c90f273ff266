"""The one table that keeps a subject's current status from going backwards.

Every normalised event lands in the history; only an event whose status ``supersedes`` the current one
replaces it. Each product ranks its known statuses; higher means later in the lifecycle. Terminal
statuses end the lifecycle. ``None`` marks an informational status (a voice ``input`` or ``record``
event) that never replaces a current status.

A status the table does not know (a value the provider adds later) gets the product's middle rank and
is never terminal: it beats the early states but never a confirmed late state nor a terminal one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from shared.normalise import parse_timestamp

TERMINAL_RANK: Final = 100

_RANKS: Final[Mapping[str, Mapping[str, int | None]]] = {
    "verify": {
        "action_pending": 10,
        "completed": 100,
        "failed": 100,
        "expired": 100,
        "user_rejected": 100,
        "rejected": 100,
        "blocked": 100,
        "cancelled": 100,
    },
    "messages": {
        "received": 10,
        "submitted": 10,
        "delivered": 30,  # not terminal: `read` follows on OTT channels and RCS
        "read": 40,
        "rejected": 40,
        "undeliverable": 40,
    },
    "sms": {
        "received": 10,
        "accepted": 10,
        "buffered": 20,
        "unknown": 25,
        "delivered": 40,
        "expired": 40,
        "failed": 40,
        "rejected": 40,
    },
    "voice": {
        "started": 10,
        "ringing": 20,
        "answered": 30,
        "human": 35,
        "machine": 35,
        "disconnected": 80,
        "busy": 100,
        "cancelled": 100,
        "unanswered": 100,
        "rejected": 100,
        "failed": 100,
        "timeout": 100,
        "completed": 100,
        # not call states: events about the call, never its current status
        "input": None,
        "recorded": None,
        "transcribed": None,
        "transfer": None,
        "event": None,
        "success": None,  # payment event
        "failure": None,  # payment event
    },
    "number_insight": {
        "success": 100,
    },
    "verify_push": {
        "created": 10,
        "verified": 20,
        "deleted": 100,
        "approved": 100,
        "denied": 100,
        "expired": 100,
    },
}

_TERMINAL: Final[Mapping[str, frozenset[str]]] = {
    "verify": frozenset(
        {"completed", "failed", "expired", "user_rejected", "rejected", "blocked", "cancelled"}
    ),
    "messages": frozenset({"read", "rejected", "undeliverable"}),
    "sms": frozenset({"delivered", "expired", "failed", "rejected"}),
    "voice": frozenset({"busy", "cancelled", "unanswered", "rejected", "failed", "timeout", "completed"}),
    "number_insight": frozenset({"success"}),
    "verify_push": frozenset({"deleted", "approved", "denied", "expired"}),
}

# Rank of a status the table does not know. Messages: below `delivered` (a confirmed delivery is not
# undone by a status we cannot interpret) but above `submitted`. SMS: level with the provider's own
# `unknown`. Elsewhere: between the last non-terminal state and the terminal ones.
UNKNOWN_RANK: Final[Mapping[str, int]] = {
    "verify": 50,
    "messages": 20,
    "sms": 25,
    "voice": 50,
    "number_insight": 50,
    "verify_push": 50,
}

_NI_ERROR_PREFIX: Final = "error_"


def _table(product: str) -> Mapping[str, int | None]:
    try:
        return _RANKS[product]
    except KeyError:
        raise ValueError(f"unknown product {product!r}") from None


def _is_ni_error(product: str, status: str) -> bool:
    return (
        product == "number_insight"
        and status.startswith(_NI_ERROR_PREFIX)
        and len(status) > len(_NI_ERROR_PREFIX)
    )


def rank(product: str, status: str) -> int | None:
    """The status's rank for ``product``; None for an informational status."""
    table = _table(product)
    key = status.lower()
    if key in table:
        return table[key]
    if _is_ni_error(product, key):
        return TERMINAL_RANK
    return UNKNOWN_RANK[product]


def is_terminal(product: str, status: str) -> bool:
    """True when the status ends the subject's lifecycle for ``product``."""
    _table(product)
    key = status.lower()
    return key in _TERMINAL[product] or _is_ni_error(product, key)


def _not_earlier(new_occurred_at: str, current_occurred_at: str | None) -> bool:
    if current_occurred_at is None:
        return True
    new, current = parse_timestamp(new_occurred_at), parse_timestamp(current_occurred_at)
    if new is None or current is None:
        return new_occurred_at >= current_occurred_at
    return new >= current


def supersedes(
    product: str,
    new_status: str,
    new_occurred_at: str,
    current_status: str | None,
    current_occurred_at: str | None,
) -> bool:
    """Whether an event with ``new_status`` becomes the subject's current status.

    Informational new status: no, ever (it joins the history only). No current status: yes. Terminal current: only a terminal status of
    strictly higher rank. Otherwise the higher rank wins; at equal rank the event that did not occur
    earlier wins. A current status that is informational (the subject's first event was one) gives way
    to any ranked status.
    """
    new_rank = rank(product, new_status)
    if new_rank is None:
        return False
    if current_status is None:
        return True
    current_rank = rank(product, current_status)
    if current_rank is None:
        return True
    if is_terminal(product, current_status):
        return is_terminal(product, new_status) and new_rank > current_rank
    if new_rank != current_rank:
        return new_rank > current_rank
    return _not_earlier(new_occurred_at, current_occurred_at)
