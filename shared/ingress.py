"""The request path: route → verify → decode → normalise. Pure: no AWS, no environment.

``receive`` takes a request, the secrets and the settings, and returns one normalised event or
raises a typed error. Signatures are checked before a body is decoded wherever the scheme allows it
(Vonage JWT, Twilio JSON); the form-based schemes sign the decoded parameters, so those are parsed
first, with strict UTF-8.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from shared import providers
from shared.config import ProviderSecrets, Settings
from shared.errors import InvalidField, MethodNotAllowed, RouteNotFound
from shared.http import HttpRequest
from shared.normalise import normalise
from shared.providers.base import Route

__all__ = [
    "ROUTES",
    "Received",
    "Route",
    "match_route",
    "receive",
    "receive_with_credential",
]

# Every webhook route, from the provider packages (shared/providers).
ROUTES = providers.ROUTES
# Events one request may carry (an Event Streams batch); past it the request is refused whole (400), so that nothing is half taken.
MAX_EVENTS_PER_REQUEST = 100


def match_route(method: str, path: str) -> Route:
    route = ROUTES.get(path.rstrip("/") or "/")
    if route is None:
        raise RouteNotFound(path=path[:200])
    if method not in route.methods:
        raise MethodNotAllowed(method=method[:10], allowed=list(route.methods))
    return route


@dataclass(frozen=True)
class Received:
    # Normally one; a route whose product splits its body (Twilio Event Streams) gives one per item,
    # in body order, each id once.
    events: list[dict[str, Any]]
    # The signed credential that vouched for the events: a Vonage JWT, a Twilio signature or an SMS
    # ``sig``, hashed with its account. The recorder binds each credential to one event id, so a
    # captured credential cannot vouch for a second event: a JWT reused on another route or with a
    # GET query it does not sign, a Twilio or SMS request re-split into different parameters.
    credential: str | None = None

    @property
    def event(self) -> dict[str, Any]:
        return self.events[0]


def receive(
    request: HttpRequest,
    secrets: ProviderSecrets,
    settings: Settings,
    *,
    now: datetime | None = None,
    route: Route | None = None,
) -> dict[str, Any]:
    """Verify the request and return its (first) normalised event. Raises a SwitchboardError otherwise."""
    return receive_with_credential(request, secrets, settings, now=now, route=route).event


def receive_with_credential(
    request: HttpRequest,
    secrets: ProviderSecrets,
    settings: Settings,
    *,
    now: datetime | None = None,
    route: Route | None = None,
) -> Received:
    now = now or datetime.now(UTC)
    route = route or match_route(request.method, request.route_path(settings.public_base_url))
    verify = providers.SCHEMES[route.scheme]
    account_id, data, credential = verify(request, route, secrets, settings, now.timestamp())
    spec = providers.product(route.product, route.provider)
    items = spec.split(data) if spec.split else [data]
    if len(items) > MAX_EVENTS_PER_REQUEST:
        raise InvalidField(
            f"a request may carry at most {MAX_EVENTS_PER_REQUEST} events", field="body", events=len(items)
        )
    events: dict[str, dict[str, Any]] = {}
    for item in items:
        event = normalise(
            route.product, route.kind, item, account_id=account_id, received_at=now, provider=route.provider
        )
        events.setdefault(event["event_id"], event)  # one CloudEvent twice in a body: one event
    return Received(list(events.values()), credential)
