"""shared/event.schema.json describes exactly what shared.normalise emits.

No JSON Schema library is used: a small validator below implements the keywords the schema uses, and
a test fails if the schema starts using a keyword it does not implement.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

import shared
from shared import providers
from shared.normalise import (
    EVENT_KEYS,
    OPTIONAL_EVENT_KEYS,
    PRODUCT_PROVIDER,
    PRODUCTS,
    PROVIDERS,
    SCHEMA_ID,
    SCHEMA_VERSION,
    TYPE_PATTERN,
    normalise,
)

SCHEMA_PATH = Path(shared.__file__).resolve().parent / "event.schema.json"
PAYLOADS = Path(__file__).resolve().parents[2] / "events" / "payloads"
RECEIVED_AT = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)

VALIDATING = {
    "type", "enum", "const", "pattern", "minLength", "required", "properties",
    "additionalProperties", "allOf", "if", "then", "else", "items", "minItems", "uniqueItems",
}  # fmt: skip
ANNOTATIONS = {"$schema", "$id", "title", "description", "format"}
JSON_TYPES: dict[str, type] = {
    "object": dict,
    "array": list,
    "string": str,
    "null": type(None),
    "boolean": bool,
    "integer": int,
}


def schema() -> dict[str, Any]:
    loaded = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def errors(instance: Any, node: dict[str, Any], path: str = "$") -> list[str]:
    """Violations of ``node`` by ``instance`` for the keywords in VALIDATING (draft 2020-12 meaning)."""
    found: list[str] = []
    if "type" in node:
        types = node["type"] if isinstance(node["type"], list) else [node["type"]]
        if not any(isinstance(instance, JSON_TYPES[t]) for t in types):
            found.append(f"{path}: {instance!r} is not of type {types}")
    if "enum" in node and instance not in node["enum"]:
        found.append(f"{path}: {instance!r} not in {node['enum']}")
    if "const" in node and instance != node["const"]:
        found.append(f"{path}: {instance!r} != {node['const']!r}")
    if isinstance(instance, str):
        if "pattern" in node and not re.search(node["pattern"], instance):
            found.append(f"{path}: {instance!r} does not match {node['pattern']}")
        if "minLength" in node and len(instance) < node["minLength"]:
            found.append(f"{path}: {instance!r} is too short")
    if isinstance(instance, list):
        if "minItems" in node and len(instance) < node["minItems"]:
            found.append(f"{path}: fewer than {node['minItems']} items")
        if node.get("uniqueItems") and len({json.dumps(i, sort_keys=True) for i in instance}) < len(instance):
            found.append(f"{path}: items are not unique")
        for index, item in enumerate(instance):
            found += errors(item, node.get("items", {}), f"{path}[{index}]")
    if isinstance(instance, dict):
        found += [f"{path}: missing {key}" for key in node.get("required", []) if key not in instance]
        properties = node.get("properties", {})
        for key, sub in properties.items():
            if key in instance:
                found += errors(instance[key], sub, f"{path}.{key}")
        if node.get("additionalProperties") is False:
            found += [f"{path}: unexpected {key}" for key in instance if key not in properties]
    for sub in node.get("allOf", []):
        found += errors(instance, sub, path)
    if "if" in node:
        branch = node.get("then") if not errors(instance, node["if"], path) else node.get("else")
        if branch is not None:
            found += errors(instance, branch, path)
    return found


def keywords(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield key
            if key == "properties":
                for sub in value.values():
                    yield from keywords(sub)
            elif key in {"allOf"}:
                for sub in value:
                    yield from keywords(sub)
            elif key in {"if", "then", "else", "items"}:
                yield from keywords(value)


def sample_events() -> list[tuple[str, dict[str, Any]]]:
    """Every sample payload normalised; a file holding an array (Event Streams) gives one per item."""
    samples = []
    for path in sorted(PAYLOADS.glob("*/*.json")):
        folder = path.parent.name
        spec = next(p for p in providers.ALL if p.samples == folder)
        kind = path.stem.split("-", 1)[0] if spec.kinds else None
        data = json.loads(path.read_text(encoding="utf-8"))
        items = spec.split(data) if spec.split else [data]
        for index, item in enumerate(items):
            event = normalise(
                spec.name, kind, item, account_id=None, received_at=RECEIVED_AT, provider=spec.provider
            )
            samples.append((f"{folder}/{path.name}" + (f"[{index}]" if spec.split else ""), event))
    return samples


SAMPLES = sample_events()


def test_there_is_a_sample_event_for_every_product() -> None:
    assert {event["product"] for _, event in SAMPLES} == set(PRODUCTS)


def test_schema_is_draft_2020_12_with_the_published_id() -> None:
    loaded = schema()
    assert loaded["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert loaded["$id"] == SCHEMA_ID == "https://switchboard.dev/schemas/event-1.json"


def test_schema_uses_only_keywords_this_test_validates() -> None:
    assert set(keywords(schema())) <= VALIDATING | ANNOTATIONS


def test_schema_required_and_known_properties_are_the_code_event_keys() -> None:
    loaded = schema()
    assert loaded["additionalProperties"] is False
    assert loaded["required"] == list(EVENT_KEYS)
    assert list(loaded["properties"]) == [*EVENT_KEYS, *OPTIONAL_EVENT_KEYS]


def test_schema_enums_match_the_code_constants() -> None:
    properties = schema()["properties"]
    assert properties["provider"]["enum"] == list(PROVIDERS)
    assert properties["product"]["enum"] == list(PRODUCTS)
    assert set(PRODUCT_PROVIDER.values()) == set(PROVIDERS)
    assert properties["type"]["pattern"] == TYPE_PATTERN
    assert properties["schema_version"]["const"] == SCHEMA_VERSION


def test_type_pattern_names_every_product() -> None:
    for product in PRODUCTS:
        assert re.search(TYPE_PATTERN, f"{product}.x")
    assert not re.search(TYPE_PATTERN, "fax.sent")


@pytest.mark.parametrize(("name", "event"), SAMPLES, ids=[name for name, _ in SAMPLES])
def test_every_sample_event_has_exactly_the_schema_properties(name: str, event: dict[str, Any]) -> None:
    loaded = schema()
    assert set(event) - set(OPTIONAL_EVENT_KEYS) == set(loaded["required"])
    assert set(loaded["required"]) == set(loaded["properties"]) - set(OPTIONAL_EVENT_KEYS)


@pytest.mark.parametrize(("name", "event"), SAMPLES, ids=[name for name, _ in SAMPLES])
def test_every_sample_event_validates_against_the_schema(name: str, event: dict[str, Any]) -> None:
    assert errors(event, schema()) == []


def _valid_event() -> dict[str, Any]:
    return dict(next(event for name, event in SAMPLES if name.startswith("messages/")))


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"provider": "plivo"}, "$.provider"),
        ({"product": "fax"}, "$.product"),
        ({"schema_version": "2"}, "$.schema_version"),
        ({"event_id": "evt_XYZ"}, "$.event_id"),
        ({"type": "Messages.Status"}, "$.type"),
        ({"subject_id": ""}, "$.subject_id"),
        ({"occurred_at": "2025-06-12T09:00:00Z"}, "$.occurred_at"),
        ({"received_at": None}, "$.received_at"),
        ({"account_id": 12}, "$.account_id"),
        ({"data": []}, "$.data"),
        ({"extra": 1}, "unexpected extra"),
    ],
)
def test_the_schema_rejects_a_malformed_event(change: dict[str, Any], fragment: str) -> None:
    event = {**_valid_event(), **change}
    assert any(fragment in message for message in errors(event, schema()))


def test_the_schema_rejects_a_missing_key() -> None:
    event = _valid_event()
    del event["client_ref"]
    assert errors(event, schema()) == ["$: missing client_ref"]


def test_the_schema_ties_provider_and_type_to_the_product() -> None:
    event = _valid_event()
    assert event["product"] == "messages"
    assert errors({**event, "type": "sms.inbound"}, schema())
    assert errors({**event, "provider": "twilio"}, schema())
    push = next(e for _, e in SAMPLES if e["product"] == "verify_push")
    assert errors({**push, "provider": "vonage"}, schema())
    assert errors({**push, "type": "verify.event"}, schema())


def test_the_schema_allows_verify_from_either_provider_and_event_streams_only_from_twilio() -> None:
    twilio_verify = next(e for _, e in SAMPLES if (e["provider"], e["product"]) == ("twilio", "verify"))
    vonage_verify = next(e for _, e in SAMPLES if (e["provider"], e["product"]) == ("vonage", "verify"))
    assert errors(twilio_verify, schema()) == errors(vonage_verify, schema()) == []
    assert errors({**twilio_verify, "provider": "plivo"}, schema())
    assert errors({**twilio_verify, "type": "event_streams.verification"}, schema())
    streams = next(e for _, e in SAMPLES if e["product"] == "event_streams")
    assert errors(streams, schema()) == []
    assert errors({**streams, "provider": "vonage"}, schema())
    assert errors({**streams, "type": "verify.verification"}, schema())
    assert errors({**vonage_verify, "product": "event_streams"}, schema())
