"""The one table that keeps a subject's current status from going backwards.

Every normalised event lands in the history; only an event whose ``position`` ``supersedes`` the
current one replaces it. Each product ranks its known statuses; higher means later in the lifecycle.
Terminal statuses end the lifecycle: a terminal status is replaced only by a terminal one of strictly
higher rank, because every terminal rank of a product is above every non-terminal rank of it (the
tables keep this invariant, and the tests check it). ``None`` marks an informational status (a voice
``input`` or ``record`` event) that never becomes current.

A status the table does not know (a value the provider adds later) gets the product's middle rank and
is never terminal: it beats the early states but never a confirmed late state nor a terminal one.

Verify ranks by event kind as well as status (providers.md §1.5-1.6, providers-more.md §4):

* The summary (``verify.summary``) is authoritative: whatever its status, known or not, it ranks
  ``TERMINAL_RANK`` and is terminal, so it replaces any non-summary event and nothing replaces it.
  Vonage sends one summary per request; should two arrive with different statuses, the first recorded
  stands (equal terminal ranks never replace each other).
* Before the summary, ``completed`` (the event callback's "final result of the request") is terminal
  at a rank only a summary beats. A channel's failure is not terminal: a multi-channel workflow goes
  on, so a later channel's ``completed`` replaces it, and so does a later channel's failure (equal
  rank, by occurrence time); a failure that occurred earlier but arrives late does not.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

from shared.normalise import parse_timestamp


@dataclass(frozen=True)
class Position:
    """A status's place in its product's lifecycle."""

    rank: int
    terminal: bool


@dataclass(frozen=True)
class _Lifecycle:
    """Known statuses (lower-case) and the position of any other status."""

    unknown: Position
    statuses: Mapping[str, Position | None] = field(default_factory=dict)


def _step(rank: int) -> Position:
    return Position(rank, terminal=False)


def _end(rank: int) -> Position:
    return Position(rank, terminal=True)


TERMINAL_RANK: Final = 100

_VERIFY_CHANNEL_FAILURE: Final = _step(60)  # not terminal: the workflow may try its next channel

_LIFECYCLES: Final[Mapping[str, _Lifecycle]] = {
    # Verify events other than the summary (`verify.event`, `verify.silent_auth`, kinds to come).
    "verify": _Lifecycle(
        unknown=_step(50),
        statuses={
            "action_pending": _step(10),
            "failed": _VERIFY_CHANNEL_FAILURE,
            "expired": _VERIFY_CHANNEL_FAILURE,
            "user_rejected": _VERIFY_CHANNEL_FAILURE,
            "rejected": _VERIFY_CHANNEL_FAILURE,
            "blocked": _VERIFY_CHANNEL_FAILURE,
            "cancelled": _VERIFY_CHANNEL_FAILURE,
            "unused": _VERIFY_CHANNEL_FAILURE,
            "completed": _end(70),  # only a summary outranks it
        },
    ),
    # Unknown: below `delivered` (a confirmed delivery is not undone by a status we cannot
    # interpret) but above `submitted`.
    "messages": _Lifecycle(
        unknown=_step(20),
        statuses={
            "received": _step(10),
            "submitted": _step(10),
            "delivered": _step(30),  # not terminal: `read` follows on OTT channels and RCS
            "read": _end(40),
            "rejected": _end(40),
            "undeliverable": _end(40),
        },
    ),
    # Unknown: level with the provider's own `unknown`.
    "sms": _Lifecycle(
        unknown=_step(25),
        statuses={
            "received": _step(10),
            "accepted": _step(10),
            "buffered": _step(20),
            "unknown": _step(25),
            "delivered": _end(40),
            "expired": _end(40),
            "failed": _end(40),
            "rejected": _end(40),
        },
    ),
    "voice": _Lifecycle(
        unknown=_step(50),
        statuses={
            "started": _step(10),
            "ringing": _step(20),
            "answered": _step(30),
            "human": _step(35),
            "machine": _step(35),
            "disconnected": _step(80),
            "busy": _end(100),
            "cancelled": _end(100),
            "unanswered": _end(100),
            "rejected": _end(100),
            "failed": _end(100),
            "timeout": _end(100),
            "completed": _end(100),
            # not call states: events about the call, never its current status
            "input": None,
            "recorded": None,
            "transcribed": None,
            "transfer": None,
            "event": None,
            "success": None,  # payment event
            "failure": None,  # payment event
        },
    ),
    # `error_<n>` is terminal too (see `_is_ni_error`).
    "number_insight": _Lifecycle(unknown=_step(50), statuses={"success": _end(100)}),
    "verify_push": _Lifecycle(
        unknown=_step(50),
        statuses={
            "created": _step(10),
            "verified": _step(20),
            "deleted": _end(100),
            "approved": _end(100),
            "denied": _end(100),
            "expired": _end(100),
        },
    ),
}

# Event kinds with a lifecycle of their own, by (product, kind).
_KIND_LIFECYCLES: Final[Mapping[tuple[str, str], _Lifecycle]] = {
    # The summary is authoritative: any status it carries is the request's final one.
    ("verify", "summary"): _Lifecycle(unknown=_end(TERMINAL_RANK)),
}

# Rank of a status the table does not know (for Verify: on a non-summary event).
UNKNOWN_RANK: Final[Mapping[str, int]] = {
    product: lifecycle.unknown.rank for product, lifecycle in _LIFECYCLES.items()
}

_NI_ERROR_PREFIX: Final = "error_"


def _lifecycle(product: str, event_type: str) -> _Lifecycle:
    try:
        lifecycle = _LIFECYCLES[product]
    except KeyError:
        raise ValueError(f"unknown product {product!r}") from None
    prefix, dot, kind = event_type.lower().partition(".")
    if prefix != product or not dot:
        raise ValueError(f"event type {event_type!r} is not a {product} event type")
    return _KIND_LIFECYCLES.get((product, kind), lifecycle)


def _is_ni_error(product: str, status: str) -> bool:
    return (
        product == "number_insight"
        and status.startswith(_NI_ERROR_PREFIX)
        and len(status) > len(_NI_ERROR_PREFIX)
    )


def position(product: str, event_type: str, status: str) -> Position | None:
    """The status's place in the product's lifecycle; None for an informational status (never current).

    ``event_type`` is the normalised event's ``type``, e.g. ``"verify.summary"``; status lookup
    ignores case. Unknown product, or an event type not of that product -> ValueError.
    """
    lifecycle = _lifecycle(product, event_type)
    key = status.lower()
    if key in lifecycle.statuses:
        return lifecycle.statuses[key]
    if _is_ni_error(product, key):
        return _end(TERMINAL_RANK)
    return lifecycle.unknown


def _not_earlier(
    new_at: str, current_at: str | None, new_received: str | None, current_received: str | None
) -> bool:
    """The new event did not occur earlier; at the same instant, it was not received earlier (a
    retried older event does not win a tie back)."""
    if current_at is None:
        return True
    new, current = parse_timestamp(new_at), parse_timestamp(current_at)
    if new is not None and current is not None:
        later, same = new > current, new == current
    else:
        later, same = new_at > current_at, new_at == current_at
    if not same:
        return later
    return new_received is None or current_received is None or new_received >= current_received


def supersedes(
    new: Position | None,
    new_occurred_at: str,
    current: Position | None,
    current_occurred_at: str | None,
    *,
    new_received_at: str | None = None,
    current_received_at: str | None = None,
) -> bool:
    """Whether an event at ``new`` becomes the subject's current status, replacing ``current``.

    Informational new (None): never. No current (None): always. A higher rank wins unless the current
    is terminal and the new is not; at equal rank a non-terminal current gives way to an event that did
    not occur earlier (occurred at the same instant: that was not received earlier, when both receive
    times are given). This is the recorder's DynamoDB condition, ``shared.storage.status_condition``.
    """
    if new is None:
        return False
    if current is None:
        return True
    if new.rank > current.rank:
        return not current.terminal or new.terminal
    if new.rank == current.rank and not current.terminal:
        return _not_earlier(new_occurred_at, current_occurred_at, new_received_at, current_received_at)
    return False
