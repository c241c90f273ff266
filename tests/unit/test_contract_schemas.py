"""The two contracts a consumer codes against, checked against the code that produces them.

shared/queue-message.schema.json describes an events-queue message (the event plus ``current``,
shared/storage.py); shared/status-response.schema.json the status API's answer (shared/history.py):
one subject, or several when products share the id.
Both reuse shared/event.schema.json by ``$ref`` to its ``$id``, resolved through a local registry:
nothing is fetched. ``validator`` is also what the integration tests validate real messages with.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator, ValidationError
from referencing import Registry, Resource

import shared
from shared import storage
from shared.history import MAX_SUBJECT_ID, Lookup, subject_status
from shared.normalise import EVENT_KEYS, OPTIONAL_EVENT_KEYS, SCHEMA_ID, normalise
from shared.storage import current as _current
from switchboard.samples import sample

SCHEMA_DIR = Path(shared.__file__).resolve().parent
EVENT, QUEUE_MESSAGE, STATUS_RESPONSE = "event", "queue-message", "status-response"
CONTRACTS = (QUEUE_MESSAGE, STATUS_RESPONSE)
DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"
ANNOTATIONS = {"$schema", "$id", "title", "description", "$defs"}  # $defs: a home for $ref targets
SUBSCHEMA_MAPS = {"properties", "patternProperties", "dependentSchemas", "$defs"}
SUBSCHEMA_LISTS = {"allOf", "anyOf", "oneOf", "prefixItems"}
SUBSCHEMAS = {"items", "additionalProperties", "not", "if", "then", "else", "contains", "propertyNames"}
RECEIVED_AT = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


# --- the helpers the integration tests share ---------------------------------------------------


def load(name: str) -> dict[str, Any]:
    loaded = json.loads((SCHEMA_DIR / f"{name}.schema.json").read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def registry() -> Registry[Any]:
    """Every schema under its own ``$id``; a ``$ref`` to anything else is an error, never a download."""
    schemas = [load(name) for name in (EVENT, *CONTRACTS)]
    return Registry().with_resources((s["$id"], Resource.from_contents(s)) for s in schemas)


def validator(name: str) -> Draft202012Validator:
    return Draft202012Validator(
        load(name), registry=registry(), format_checker=Draft202012Validator.FORMAT_CHECKER
    )


def violations(name: str, instance: Any) -> list[str]:
    """Every error, with those under a failed ``oneOf``/``anyOf`` branch (each at its own path)."""

    def flat(errors: Iterable[ValidationError]) -> Iterator[ValidationError]:
        for e in errors:
            yield e
            yield from flat(e.context or ())

    return sorted(f"{e.json_path}: {e.message}" for e in flat(validator(name).iter_errors(instance)))


# --- walking a schema --------------------------------------------------------------------------


def subschemas(node: Any) -> Iterator[dict[str, Any]]:
    """``node`` and every schema nested in it (not following ``$ref``)."""
    if not isinstance(node, dict):
        return
    yield node
    for key, value in node.items():
        if key in SUBSCHEMA_MAPS:
            for sub in value.values():
                yield from subschemas(sub)
        elif key in SUBSCHEMA_LISTS:
            for sub in value:
                yield from subschemas(sub)
        elif key in SUBSCHEMAS:
            yield from subschemas(value)


def keywords(schema: dict[str, Any]) -> set[str]:
    return {key for node in subschemas(schema) for key in node}


def refs(schema: dict[str, Any]) -> list[str]:
    return [node["$ref"] for node in subschemas(schema) if "$ref" in node]


def event_ref(pointer: str) -> dict[str, str]:
    return {"$ref": f"{SCHEMA_ID}#{pointer}"}


# --- what the code produces --------------------------------------------------------------------


class AnyAttribute(dict[str, Any]):
    """A DynamoDB item that has every attribute: reading it shows which attributes the code reads."""

    def __init__(self, **keys: dict[str, Any]) -> None:
        super().__init__(v={"N": str(storage.LAYOUT_VERSION)}, **keys)

    def __missing__(self, key: str) -> dict[str, Any]:
        return {"S": "2026-03-01T09:30:00.000Z", "BOOL": True}


class FakeTable:
    """The table as shared.history queries it: a subject key's history items, then its status item."""

    def __init__(self, *subjects: tuple[dict[str, Any] | None, list[dict[str, Any]]]) -> None:
        self.items: dict[str, list[dict[str, Any]]] = {}
        for status, events in subjects:
            pk = storage.event_subject_pk(events[0])
            self.items[pk] = [storage.history_item(e, 0) for e in events]
            if status is not None:
                self.items[pk].append({**status, **storage.status_key(pk)})

    def query(self, **kwargs: Any) -> dict[str, Any]:
        return {"Items": self.items.get(kwargs["ExpressionAttributeValues"][":pk"]["S"], [])}


def event(name: str = "messages/status-delivered", **fields: Any) -> dict[str, Any]:
    s = sample(name)
    e = normalise(s.route.product, s.route.kind, s.payload, account_id="abc123", received_at=RECEIVED_AT)
    return {**e, **fields}


def status_item(e: dict[str, Any], *, terminal: bool = True) -> dict[str, Any]:
    """The status item's attributes, as storage.update_status writes them."""
    attributes = {"status", "occurred_at", "event_id", "type"}
    item: dict[str, Any] = {name: {"S": e[name]} for name in attributes}
    return {
        **item,
        "updated_at": {"S": e["received_at"]},
        "terminal": {"BOOL": terminal},
        "rank": {"N": "5"},
        "v": {"N": str(storage.LAYOUT_VERSION)},
    }


def message() -> dict[str, Any]:
    e = event()
    return {**e, "current": _current(status_item(e))}


def answer() -> dict[str, Any]:
    e = event()
    return subject_status(FakeTable((status_item(e), [e])), "table", Lookup(e["subject_id"]))


def several() -> dict[str, Any]:
    """Two products' subjects with one id: a Messages API message and an SMS API receipt."""
    m = event()
    sms = event("sms/receipt-delivered", subject_id=m["subject_id"])
    return subject_status(FakeTable((status_item(m), [m]), (None, [sms])), "table", Lookup(m["subject_id"]))


# --- the schemas -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", CONTRACTS)
def test_a_contract_schema_is_valid_draft_2020_12_with_its_own_versioned_id(name: str) -> None:
    schema = load(name)
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == DRAFT_2020_12
    assert schema["$id"] == f"https://switchboard.dev/schemas/{name}-1.json"


@pytest.mark.parametrize("name", (EVENT, *CONTRACTS))
def test_a_contract_uses_only_keywords_and_formats_the_validator_enforces(name: str) -> None:
    schema = load(name)
    assert keywords(schema) <= set(Draft202012Validator.VALIDATORS) | {"then", "else"} | ANNOTATIONS
    formats = {node["format"] for node in subschemas(schema) if "format" in node}
    assert formats <= set(Draft202012Validator.FORMAT_CHECKER.checkers)


@pytest.mark.parametrize("name", CONTRACTS)
def test_every_ref_of_a_contract_resolves_in_the_local_registry_to_the_event_schema_or_itself(
    name: str,
) -> None:
    schema = load(name)
    resolver = registry().resolver(base_uri=schema["$id"])
    for ref in refs(schema):
        assert ref.startswith((SCHEMA_ID, "#/$defs/"))
        assert resolver.lookup(ref).contents is not None


def test_the_queue_message_is_the_event_by_ref_plus_current() -> None:
    event_schema, schema = load(EVENT), load(QUEUE_MESSAGE)
    assert list(event_schema["properties"]) == [*EVENT_KEYS, *OPTIONAL_EVENT_KEYS]
    assert list(schema["properties"]) == [*event_schema["properties"], "current"]
    assert schema["required"] == [*event_schema["required"], "current"]
    assert schema["additionalProperties"] is False
    for name in event_schema["properties"]:
        reused = {k: v for k, v in schema["properties"][name].items() if k != "description"}
        assert reused == event_ref(f"/properties/{name}"), f"{name} is copied, not referenced"
    assert schema["allOf"] == [event_ref(f"/allOf/{i}") for i in range(len(event_schema["allOf"]))]


def test_current_has_exactly_the_keys_the_recorder_attaches() -> None:
    current = load(QUEUE_MESSAGE)["properties"]["current"]
    attached = _current(AnyAttribute())
    assert attached is not None and _current(None) is None
    assert list(current["properties"]) == current["required"] == list(attached)
    assert current["additionalProperties"] is False
    assert set(current["type"]) == {"object", "null"}


def test_the_status_answer_has_exactly_the_keys_the_status_api_returns() -> None:
    one = load(STATUS_RESPONSE)["$defs"]["subject"]
    returned = subject_status(FakeTable((AnyAttribute(), [event()])), "table", Lookup(event()["subject_id"]))
    assert list(one["properties"]) == one["required"] == list(returned)
    assert one["additionalProperties"] is False
    assert one["properties"]["subject_id"]["maxLength"] == MAX_SUBJECT_ID
    assert one["properties"]["history"]["items"] == {"$ref": SCHEMA_ID}


def test_the_several_subjects_answer_has_exactly_the_keys_the_status_api_returns() -> None:
    schema = load(STATUS_RESPONSE)
    many = schema["$defs"]["subjects"]
    returned = several()
    assert list(many["properties"]) == many["required"] == list(returned)
    assert many["additionalProperties"] is False
    assert many["properties"]["subjects"]["items"] == {"$ref": "#/$defs/subject"}
    assert schema["oneOf"] == [{"$ref": "#/$defs/subject"}, {"$ref": "#/$defs/subjects"}]
    assert [(s["provider"], s["product"]) for s in returned["subjects"]] == [
        ("vonage", "messages"),
        ("vonage", "sms"),
    ]


# --- what validates and what does not ----------------------------------------------------------


def test_a_message_as_the_recorder_builds_it_is_valid() -> None:
    assert violations(QUEUE_MESSAGE, message()) == []


def test_a_message_for_a_subject_with_no_status_yet_is_valid() -> None:
    assert violations(QUEUE_MESSAGE, {**event(), "current": None}) == []


def test_a_message_with_repaired_fields_is_valid() -> None:
    assert violations(QUEUE_MESSAGE, {**message(), "repaired_fields": ["/data/text"]}) == []


def test_a_status_answer_as_the_status_api_builds_it_is_valid() -> None:
    assert violations(STATUS_RESPONSE, answer()) == []


def test_a_status_answer_for_a_subject_with_only_informational_events_is_valid() -> None:
    e = event()
    got = subject_status(FakeTable((None, [e])), "table", Lookup(e["subject_id"]))
    assert got["status"] is None
    assert violations(STATUS_RESPONSE, got) == []


def test_a_status_answer_for_several_subjects_is_valid() -> None:
    assert violations(STATUS_RESPONSE, several()) == []


def test_a_status_answer_served_from_an_unreadable_stored_event_is_still_valid() -> None:
    e = event()
    table = FakeTable((status_item(e), [e]))
    (history_item, _) = table.items[storage.event_subject_pk(e)]
    history_item["event"] = {"B": b"\x01" + b"\x00" * 8}  # damaged bytes
    got = subject_status(table, "table", Lookup(e["subject_id"]))
    assert "unreadable" in got["history"][0]["data"]
    assert violations(STATUS_RESPONSE, got) == []


def test_a_bare_event_is_not_a_queue_message() -> None:
    assert violations(QUEUE_MESSAGE, event()) == ["$: 'current' is a required property"]


def test_a_queue_message_is_not_a_bare_event() -> None:
    assert any("current" in v for v in violations(EVENT, message()))


def _without(d: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in d.items() if k != key}


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (lambda m: {**m, "extra": 1}, "$"),
        (lambda m: {**m, "current": {**m["current"], "rank": 3}}, "$.current"),
        (lambda m: {**m, "current": _without(m["current"], "terminal")}, "$.current"),
        (lambda m: {**m, "current": {**m["current"], "terminal": "true"}}, "$.current.terminal"),
        (lambda m: {**m, "current": {**m["current"], "updated_at": "2026-02-30T09:30:00.000Z"}}, "$.current"),
        (lambda m: {**m, "current": {**m["current"], "event_id": "evt_1"}}, "$.current.event_id"),
        (lambda m: {**m, "current": "delivered"}, "$.current"),
        (lambda m: {**m, "event_id": "evt_XYZ"}, "$.event_id"),
        (lambda m: {**m, "received_at": "2026-03-01T25:30:00.000Z"}, "$.received_at"),
        (lambda m: {**m, "provider": "twilio"}, "$.provider"),
        (lambda m: {**m, "repaired_fields": ["/status"]}, "$.repaired_fields"),
        (lambda m: _without(m, "data"), "$"),
    ],
    ids=[
        "extra-key",
        "extra-key-in-current",
        "current-without-terminal",
        "terminal-not-boolean",
        "updated_at-not-a-date",
        "current-event_id-malformed",
        "current-not-an-object",
        "event_id-malformed",
        "received_at-not-a-time",
        "provider-not-the-products",
        "repaired-key-field",
        "event-key-missing",
    ],
)
def test_a_malformed_queue_message_fails_validation(change: Any, where: str) -> None:
    found = violations(QUEUE_MESSAGE, change(message()))
    assert any(v.startswith(where) for v in found), found


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (lambda a: {**a, "current": None}, "$"),
        (lambda a: _without(a, "truncated"), "$"),
        (lambda a: {**a, "subject_id": "x" * (MAX_SUBJECT_ID + 1)}, "$.subject_id"),
        (lambda a: {**a, "status": ""}, "$.status"),
        (lambda a: {**a, "updated_at": "yesterday"}, "$.updated_at"),
        (lambda a: {**a, "provider": "twilio"}, "$.provider"),
        (lambda a: {**a, "history": [{**a["history"][0], "current": None}]}, "$.history[0]"),
        (lambda a: {**a, "history": {}}, "$.history"),
    ],
    ids=[
        "extra-key",
        "key-missing",
        "subject_id-too-long",
        "status-empty",
        "updated_at-not-a-time",
        "provider-not-the-products",
        "history-event-with-current",
        "history-not-a-list",
    ],
)
def test_a_malformed_status_answer_fails_validation(change: Any, where: str) -> None:
    found = violations(STATUS_RESPONSE, change(answer()))
    assert any(v.startswith(where) for v in found), found


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (lambda a: {**a, "subjects": a["subjects"][:1]}, "$.subjects"),
        (
            lambda a: {**a, "subjects": [a["subjects"][0], _without(a["subjects"][1], "status")]},
            "$.subjects[1]",
        ),
        (
            lambda a: {**a, "subjects": [a["subjects"][0], {**a["subjects"][1], "provider": "twilio"}]},
            "$.subjects[1]",
        ),
        (lambda a: {**a, "status": "delivered"}, "$"),
        (lambda a: {**a["subjects"][0], "subjects": a["subjects"]}, "$"),
        (lambda a: _without(a, "subject_id"), "$"),
    ],
    ids=[
        "one-subject-as-several",
        "a-subject-without-status",
        "a-subject-provider-not-the-products",
        "extra-key",
        "one-and-several-at-once",
        "subject_id-missing",
    ],
)
def test_a_malformed_several_subjects_answer_fails_validation(change: Any, where: str) -> None:
    found = violations(STATUS_RESPONSE, change(several()))
    assert found and any(v.startswith(where) for v in found), found
