"""A subject's timeline as the inspector draws it: its events in receipt order, each marked.

The events are replayed through the recorder's own rule (``shared.status_rank``: ``position`` and
``supersedes``) in the order they were received (``received_at``; then ``occurred_at``, then the
event id, for a stable order), and each gets these marks:

``late``
    received after an event of the same subject that occurred later (strictly later
    ``occurred_at``, received strictly earlier). Events received at the same instant (one Event
    Streams delivery) are not late to each other.
``current`` / ``superseded``
    ``current`` (became current): the rule made it the subject's status when it arrived.
    ``superseded``: a ranked status that did not become current when it arrived, because the status
    the subject already had outranked it (a higher rank, a terminal status, or at equal rank an
    event that occurred later). An event that was current and was later replaced by a higher status
    is the normal progression, not superseded: it keeps ``current`` and the step line shows where
    the status moved on. ``informational`` events (a status the lifecycle ranks ``None``, e.g. a
    voice ``input``) never become current and are neither.
``terminal``
    its status ends the product's lifecycle (``Position.terminal``).
``duplicate``
    the same event id was delivered more than once: ``deliveries`` counts the accepted requests in
    the request log that answered with this event id (the history holds each event once, so only
    the log knows). ``deliveries`` is 0 for an event no logged request carried (redriven from a DLQ,
    or older than the log's memory).

``status_after`` is the subject's status once the event was applied: the step line of the picture.

Receipt order is the order the recorder most likely took the events in, not certainly (a retried
message comes back later; one delivery's events share a receive instant), and the rule depends on
that order in two ties only: between two terminal statuses of equal rank the first recorded stands,
and between two equal non-terminal events (same rank, occurrence and receipt) the last one does.
``winner``, the event id the subject's status item names, settles those ties as the recorder did,
so the last ``status_after`` is the status the recorder stored.

Stored ``occurred_at`` and ``received_at`` are the normaliser's ISO 8601 UTC text with
milliseconds, so string order is time order (as ``shared.storage`` relies on).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from itertools import groupby
from typing import Any

from shared.status_rank import Position, position, supersedes


@dataclass(frozen=True)
class Point:
    event_id: str
    type: str
    status: str
    occurred_at: str
    received_at: str
    rank: int | None  # None: informational (never current), or a type the rank table cannot place
    terminal: bool
    late: bool
    current: bool  # became the subject's status when it arrived
    superseded: bool
    status_after: str | None  # the subject's status once this event was applied
    deliveries: int

    @property
    def informational(self) -> bool:
        return self.rank is None

    @property
    def duplicate(self) -> bool:
        return self.deliveries > 1

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "informational": self.informational, "duplicate": self.duplicate}


@dataclass
class _Current:
    position: Position | None = None
    occurred_at: str | None = None
    received_at: str | None = None
    status: str | None = None
    event_id: str | None = None


def receipt_order(events: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    return sorted(
        events, key=lambda e: (_text(e, "received_at"), _text(e, "occurred_at"), _text(e, "event_id"))
    )


def timeline(
    events: Iterable[Mapping[str, Any]], deliveries: Mapping[str, int], winner: str | None = None
) -> list[Point]:
    """The subject's events, in receipt order, with their marks (module docstring). ``winner``: the
    event id of the subject's stored status, which settles the ties that depend on the order."""
    ordered = receipt_order(events)
    late = _late_ids(ordered)
    current = _Current()
    points = []
    for event in ordered:
        event_id = _text(event, "event_id")
        place = _position(event)
        became = _becomes(event, place, current, winner)
        if became:
            current = _Current(
                place,
                _text(event, "occurred_at"),
                _text(event, "received_at"),
                _text(event, "status"),
                event_id,
            )
        points.append(
            Point(
                event_id=event_id,
                type=_text(event, "type"),
                status=_text(event, "status"),
                occurred_at=_text(event, "occurred_at"),
                received_at=_text(event, "received_at"),
                rank=place.rank if place is not None else None,
                terminal=place is not None and place.terminal,
                late=event_id in late,
                current=became,
                superseded=place is not None and not became,
                status_after=current.status,
                deliveries=deliveries.get(event_id, 0),
            )
        )
    return points


def _becomes(event: Mapping[str, Any], place: Position | None, current: _Current, winner: str | None) -> bool:
    """Whether the event becomes the subject's status (the recorder's rule), a tie that depends on
    the order in which the recorder took the two events being settled by the stored ``winner``."""
    if place is None:
        return False
    occurred, received, event_id = (_text(event, k) for k in ("occurred_at", "received_at", "event_id"))
    held = current.position
    if held is not None and winner in (event_id, current.event_id) and place.rank == held.rank:
        if held.terminal and place.terminal:  # the first recorded stands
            return event_id == winner
        if (occurred, received) == (current.occurred_at, current.received_at):  # the last one wins
            return event_id == winner
    return supersedes(
        place,
        occurred,
        held,
        current.occurred_at,
        new_received_at=received,
        current_received_at=current.received_at,
    )


def _late_ids(ordered: Sequence[Mapping[str, Any]]) -> set[str]:
    """Ids of events that occurred before an event received strictly earlier."""
    late: set[str] = set()
    latest_before = ""  # the latest occurred_at among events received strictly earlier
    for _, group in groupby(ordered, key=lambda e: _text(e, "received_at")):
        same_instant = list(group)
        for event in same_instant:
            if _text(event, "occurred_at") < latest_before:
                late.add(_text(event, "event_id"))
        latest_before = max([latest_before, *(_text(e, "occurred_at") for e in same_instant)])
    return late


def _position(event: Mapping[str, Any]) -> Position | None:
    """The status's place in its lifecycle; None when informational, or when the rank table cannot
    place it (a stored event read back from its attributes only, with no usable type)."""
    try:
        return position(
            _text(event, "product"),
            _text(event, "type"),
            _text(event, "status"),
            _text(event, "provider") or None,
        )
    except ValueError:
        return None


def _text(event: Mapping[str, Any], key: str) -> str:
    value = event.get(key)
    return value if isinstance(value, str) else ""


def delivery_counts(requests: Iterable[Any]) -> dict[str, int]:
    """How many accepted requests answered with each event id (``RequestRecord``s)."""
    counts: dict[str, int] = {}
    for record in requests:
        if record.verdict != "accepted":
            continue
        for event_id in record.event_ids:
            counts[event_id] = counts.get(event_id, 0) + 1
    return counts
