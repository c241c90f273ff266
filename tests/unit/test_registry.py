"""The provider registry (shared/providers) is the one list of products and routes: template.yaml,
the schema, the rank table and the samples must agree with it, so that a product added to a provider
package and nowhere else fails here rather than in production."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from shared import providers
from shared.normalise import normalise
from shared.providers.base import Product
from shared.status_rank import position
from switchboard import template as tpl
from switchboard.samples import PAYLOADS, samples

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "shared" / "event.schema.json").read_text())
FUNCTION_OF = {"vonage": "VonageFunction", "twilio": "TwilioFunction"}


def _template_webhook_routes() -> set[tuple[str, str, str]]:
    template = tpl.load_template()
    return {
        (r.method, r.path, r.function)
        for r in tpl.http_routes(template)
        if r.function in FUNCTION_OF.values()
    }


def test_template_routes_are_exactly_the_registrys() -> None:
    registered = {
        (method, route.path, FUNCTION_OF[route.provider])
        for route in providers.ROUTES.values()
        for method in route.methods
    }
    assert _template_webhook_routes() == registered


def test_every_route_path_is_unique_and_names_a_registered_scheme_and_kind() -> None:
    paths = [r.path for p in providers.ALL for r in p.routes]
    assert len(paths) == len(set(paths))
    for spec in providers.ALL:
        for route in spec.routes:
            assert route.scheme in providers.SCHEMES, route
            assert (route.provider, route.product) == (spec.provider, spec.name), route
            assert route.default_method in route.methods, route
            assert route.answer in ("event_id", "event_ids", "answer_ncco", "fallback_ncco", "empty")
            if spec.kinds:
                assert route.kind in spec.kinds, route
            else:
                assert route.kind is None, route


@pytest.mark.parametrize("spec", providers.ALL, ids=lambda p: f"{p.provider}.{p.name}")
def test_every_product_has_a_schema_entry(spec: Product) -> None:
    props = SCHEMA["properties"]
    assert spec.provider in props["provider"]["enum"]
    assert spec.name in props["product"]["enum"]
    assert re.search(props["type"]["pattern"], f"{spec.name}.x")
    # The schema's rule for the product names its type prefix and exactly its providers.
    (rule,) = [
        r for r in SCHEMA["allOf"][0]["allOf"] if r["if"]["properties"]["product"]["const"] == spec.name
    ]
    then = rule["then"]["properties"]
    allowed = then["provider"].get("enum") or [then["provider"]["const"]]
    assert set(allowed) == set(providers.providers_of(spec.name))
    assert then["type"]["pattern"] == f"^{spec.name}\\."


@pytest.mark.parametrize("spec", providers.ALL, ids=lambda p: f"{p.provider}.{p.name}")
def test_every_product_has_samples_that_normalise_to_it(spec: Product) -> None:
    """Each product is reached by at least one sample (its own folder, or a route of its provider
    that files payloads under it), and every sample goes to a registered route."""
    produced: set[tuple[str, str]] = set()
    for s in samples():
        owner = providers.product(s.route.product, s.route.provider)
        items = owner.split(s.payload) if owner.split else [s.payload]
        for item in items:
            event = normalise(
                s.route.product,
                s.route.kind,
                item,
                account_id=None,
                received_at=tpl_now(),
                provider=s.route.provider,
            )
            produced.add((event["provider"], event["product"]))
    assert (spec.provider, spec.name) in produced
    if spec.samples is not None:
        assert list((PAYLOADS / spec.samples).glob("*.json")), spec.samples
        assert spec.routes, "a product with its own samples has its own routes"


@pytest.mark.parametrize("spec", providers.ALL, ids=lambda p: f"{p.provider}.{p.name}")
def test_every_product_has_ranks_with_terminal_above_non_terminal(spec: Product) -> None:
    lifecycles = [spec.lifecycle, *spec.kind_lifecycles.values()]
    for lifecycle in lifecycles:
        known = [p for p in lifecycle.statuses.values() if p is not None]
        terminal = [p.rank for p in known if p.terminal] + [
            p.rank for p in lifecycle.prefixes.values() if p.terminal
        ]
        steps = [p.rank for p in known if not p.terminal] + [lifecycle.unknown.rank]
        if terminal and not lifecycle.unknown.terminal:
            assert min(terminal) > max(steps), spec.name
    # The rank table answers for every status the samples carry.
    assert position(spec.name, f"{spec.name}.x", "anything-new", spec.provider) is not None


def test_every_sample_folder_belongs_to_a_product() -> None:
    folders = {p.name for p in PAYLOADS.iterdir() if p.is_dir()}
    assert folders == {p.samples for p in providers.ALL if p.samples is not None}


def test_a_product_name_resolves_to_its_home_provider_and_both_are_listed() -> None:
    for name in providers.PRODUCTS:
        owners = providers.providers_of(name)
        assert owners and providers.product(name).provider == owners[0]
        for owner in owners:
            assert providers.product(name, owner).provider == owner
    with pytest.raises(ValueError):
        providers.product("fax")


def tpl_now() -> datetime:
    return datetime(2026, 11, 23, 12, tzinfo=UTC)
