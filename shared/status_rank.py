"""The one table that keeps a subject's current status from going backwards.

Every normalised event lands in the history; only an event whose ``position`` ``supersedes`` the
current one replaces it. Each product ranks its known statuses in its provider package
(``shared/providers/<provider>/<product>.py``, ``Lifecycle``); higher means later in the lifecycle.
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
from typing import Final

from shared import providers
from shared.normalise import parse_timestamp
from shared.providers.base import Lifecycle, Position

__all__ = ["TERMINAL_RANK", "UNKNOWN_RANK", "Position", "position", "supersedes"]

TERMINAL_RANK: Final = 100

# Rank of a status the table does not know (for Verify: on a non-summary event), by product name
# (its home provider's table).
UNKNOWN_RANK: Final[Mapping[str, int]] = {
    name: providers.product(name).lifecycle.unknown.rank for name in providers.PRODUCTS
}


def _lifecycle(product: str, event_type: str, provider: str | None) -> Lifecycle:
    spec = providers.product(product, provider)  # ValueError: unknown product
    prefix, dot, kind = event_type.lower().partition(".")
    if prefix != product or not dot:
        raise ValueError(f"event type {event_type!r} is not a {product} event type")
    return spec.kind_lifecycles.get(kind, spec.lifecycle)


def position(product: str, event_type: str, status: str, provider: str | None = None) -> Position | None:
    """The status's place in the product's lifecycle; None for an informational status (never current).

    ``event_type`` is the normalised event's ``type``, e.g. ``"verify.summary"``; status lookup
    ignores case. ``provider`` picks between products of one name (default: the home provider).
    Unknown product, or an event type not of that product -> ValueError.
    """
    return _lifecycle(product, event_type, provider).position(status)


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
