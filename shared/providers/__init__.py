"""The registry: every provider, product, route and verification scheme, read from the provider
packages. Nothing else in Switchboard lists them.

A product is named by (provider, name): the same name may belong to two providers (``verify`` is
Vonage Verify v2 and Twilio Verify's Event Streams events). Where a caller names only the product,
its *home* provider is the first that registers it (Vonage for ``verify``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from shared.providers import twilio, vonage
from shared.providers.base import Lifecycle, Position, Product, Route

_PACKAGES: Final = (vonage, twilio)

PROVIDERS: Final[tuple[str, ...]] = tuple(p.NAME for p in _PACKAGES)
ALL: Final[tuple[Product, ...]] = tuple(product for p in _PACKAGES for product in p.PRODUCTS)
# Product names, each once, in registration order.
PRODUCTS: Final[tuple[str, ...]] = tuple(dict.fromkeys(p.name for p in ALL))
PAIRS: Final[tuple[tuple[str, str], ...]] = tuple((p.provider, p.name) for p in ALL)
ROUTES: Final[Mapping[str, Route]] = {r.path: r for p in ALL for r in p.routes}
SCHEMES: Final[Mapping[str, Any]] = {name: fn for p in _PACKAGES for name, fn in p.SCHEMES.items()}

_BY_KEY: Final[Mapping[tuple[str, str], Product]] = {(p.provider, p.name): p for p in ALL}
_HOME: Final[Mapping[str, Product]] = {name: next(p for p in ALL if p.name == name) for name in PRODUCTS}


def product(name: str, provider: str | None = None) -> Product:
    """The product ``name`` of ``provider`` (of its home provider when None); ValueError if none."""
    found = _HOME.get(name) if provider is None else _BY_KEY.get((provider, name))
    if found is None:
        raise ValueError(f"unknown product {name!r}" + (f" of {provider!r}" if provider else ""))
    return found


def providers_of(name: str) -> tuple[str, ...]:
    """Every provider that has a product called ``name`` (empty when none)."""
    return tuple(p.provider for p in ALL if p.name == name)


def type_pattern() -> str:
    """The event ``type`` pattern: ``<product>.<kind>[.<more>]`` for every product name."""
    return r"^(" + "|".join(PRODUCTS) + r")\.[a-z0-9_]+(\.[a-z0-9_]+)*$"


__all__ = [
    "ALL",
    "PAIRS",
    "PRODUCTS",
    "PROVIDERS",
    "ROUTES",
    "SCHEMES",
    "Lifecycle",
    "Position",
    "Product",
    "Route",
    "product",
    "providers_of",
    "type_pattern",
]
