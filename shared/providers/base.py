"""The registry's vocabulary: what a provider package declares for each product.

A product is one webhook API of one provider: its routes (path, methods, verification scheme), its
parser (payload → ``Parts``: subject, status, natural key), its lifecycle (status ranks and terminal
states), where its sample payloads live, and the fields its documentation lists. The ingress, the
normaliser, the rank table, the samples, the dev signer, the CLI and ``connect`` read these records;
nothing else lists products or routes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from shared.payload import Parts


@dataclass(frozen=True)
class Position:
    """A status's place in its product's lifecycle."""

    rank: int
    terminal: bool


def step(rank: int) -> Position:
    return Position(rank, terminal=False)


def end(rank: int) -> Position:
    return Position(rank, terminal=True)


@dataclass(frozen=True)
class Lifecycle:
    """Known statuses (lower-case; ``None`` = informational, never current), statuses known by a
    prefix (Number Insight ``error_<n>``), and the position of any other status."""

    unknown: Position
    statuses: Mapping[str, Position | None] = field(default_factory=dict)
    prefixes: Mapping[str, Position] = field(default_factory=dict)

    def position(self, status: str) -> Position | None:
        key = status.lower()
        if key in self.statuses:
            return self.statuses[key]
        for prefix, pos in self.prefixes.items():
            if key.startswith(prefix) and len(key) > len(prefix):
                return pos
        return self.unknown


@dataclass(frozen=True)
class Route:
    """One webhook URL. ``kind`` is the product's kind when the route chooses it (else the body
    does); ``answer`` is what a 2xx carries: ``event_id`` (200 JSON), ``answer_ncco`` or
    ``fallback_ncco`` (200, the configured NCCO), ``empty`` (204). ``default_method`` is how the
    provider calls it unless configured otherwise; ``samples`` is the stem prefix of its sample files
    in the product's folder ("" = all of them)."""

    path: str
    methods: tuple[str, ...]
    provider: str
    scheme: str
    product: str
    kind: str | None = None
    answer: str = "event_id"
    default_method: str = "POST"
    samples: str = ""


Parser = Callable[[str | None, Mapping[str, Any]], Parts]


@dataclass(frozen=True)
class Product:
    provider: str
    name: str
    parse: Parser
    lifecycle: Lifecycle
    routes: tuple[Route, ...] = ()
    # Kinds a route may choose; () = the body names the kind (the parser reads it).
    kinds: tuple[str, ...] = ()
    # Lifecycles of their own for some kinds (Verify's summary is authoritative).
    kind_lifecycles: Mapping[str, Lifecycle] = field(default_factory=dict)
    # Folder under events/payloads (None: reached only through another product's route, whose
    # samples cover it, e.g. Twilio Verify events arrive on the Event Streams route).
    samples: str | None = None
    # Payload fields holding the account when the scheme names none (SMS api-key, Twilio AccountSid).
    account_fields: tuple[str, ...] = ()
    # Fields the provider documents; others are kept and logged once (None: not tracked).
    documented_fields: frozenset[str] | None = None
    # Decode a verified payload before it is kept (Twilio's JSON-in-a-string fields).
    decode: Callable[[Mapping[str, Any]], dict[str, Any]] | None = None
    # A body that carries several payloads (Event Streams: a JSON array of CloudEvents) → the list.
    split: Callable[[Any], list[Mapping[str, Any]]] | None = None
    # One line for the README / `switchboard samples`: what identifies one delivery.
    natural_key: str = ""
    # `switchboard send --status S`: the payload with status S (None: set its `status` field). A
    # dev tool's hook, never called on the request path.
    with_status: Callable[[dict[str, Any], str], dict[str, Any]] | None = None
