"""shared.history and the CLI's status/history commands without a table: which keys a lookup
reads, how the HTTP side maps errors, how the CLI reads its flags and prints answers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from shared import storage
from shared.history import Lookup, subject_keys
from shared.providers import PAIRS
from shared.status_api import handle_status
from switchboard import cli

EVENTS = Path(__file__).resolve().parents[2] / "events"


def api_event(subject_id: str = "c11236f4", **query: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS / "http/status/get-known-subject.json").read_text())
    event["rawPath"] = event["requestContext"]["http"]["path"] = f"/status/{subject_id}"
    event["pathParameters"] = {"subject_id": subject_id}
    if query:
        event["queryStringParameters"] = query
    return event


class CountingTable:
    """A table with nothing in it that counts the Queries it answers."""

    def __init__(self) -> None:
        self.keys: list[str] = []

    def query(self, **kwargs: Any) -> dict[str, Any]:
        self.keys.append(kwargs["ExpressionAttributeValues"][":pk"]["S"])
        return {"Items": []}


class FailingTable:
    def query(self, **_: Any) -> dict[str, Any]:
        raise ClientError(
            {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "x"}}, "Query"
        )


class UntouchedTable:
    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"the table was called ({name}) for a request refused before reading it")


# --- which keys a lookup reads ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lookup", "expected"),
    [
        (Lookup("x"), storage.subject_pks("x")),
        (Lookup("x", product="sms"), ["S#vonage#sms#x"]),
        (
            Lookup("x", provider="twilio"),
            ["S#twilio#verify_push#x", "S#twilio#event_streams#x", "S#twilio#verify#x"],
        ),
        (Lookup("x", product="verify_push", provider="twilio"), ["S#twilio#verify_push#x"]),
        (Lookup("x", product="verify"), ["S#vonage#verify#x", "S#twilio#verify#x"]),
        (Lookup("x", product="verify", provider="twilio"), ["S#twilio#verify#x"]),
    ],
    ids=[
        "every-product",
        "one-product",
        "one-provider",
        "product-and-its-provider",
        "a-product-of-two-providers",
        "twilio-verify",
    ],
)
def test_a_lookup_reads_the_keys_its_filters_allow(lookup: Lookup, expected: list[str]) -> None:
    assert subject_keys(lookup) == expected


def test_without_a_product_every_products_key_is_queried_once_and_with_one_only_its_own() -> None:
    table = CountingTable()
    assert handle_status(api_event("x"), table, "t")["statusCode"] == 404
    assert sorted(table.keys) == sorted(storage.subject_pks("x"))
    assert len(table.keys) == len(set(table.keys)) == len(PAIRS)
    table.keys.clear()
    assert handle_status(api_event("x", product="voice"), table, "t")["statusCode"] == 404
    assert table.keys == ["S#vonage#voice#x"]


# --- the HTTP side: one error map ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("event", "status", "code"),
    [
        ({"pathParameters": {"subject_id": ""}}, 400, "bad_request"),  # the build's smoke probe
        (api_event("x" * 257), 400, "bad_request"),
        (api_event("x", product="fax"), 400, "invalid_field"),
        (api_event("x", provider="twilio", product="sms"), 400, "invalid_field"),
        ({**api_event(), "rawPath": "/elsewhere"}, 404, "route_not_found"),
    ],
    ids=["empty-id", "long-id", "unknown-product", "another-providers-product", "unknown-route"],
)
def test_a_refused_request_never_reaches_the_table(event: dict[str, Any], status: int, code: str) -> None:
    response = handle_status(event, UntouchedTable(), "t")
    assert response["statusCode"] == status
    assert json.loads(response["body"])["error"] == code
    assert response["headers"]["content-type"] == "application/json"


def test_a_failing_table_is_503_storage_unavailable_with_retry_after() -> None:
    response = handle_status(api_event("x"), FailingTable(), "t")
    assert response["statusCode"] == 503
    assert json.loads(response["body"]) == {
        "error": "storage_unavailable",
        "message": "temporarily unable to store the event; retry",
    }
    assert response["headers"]["retry-after"] == "5"


# --- the CLI -------------------------------------------------------------------------------------------


def _target(answer: tuple[int, dict[str, Any]], asked: list[tuple[str, str]]) -> cli.Target:
    def status(subject: str, query: str = "") -> tuple[int, bytes]:
        asked.append((subject, query))
        return answer[0], json.dumps(answer[1]).encode()

    return cli.Target("fake", "", lambda s: None, {}, str, status, table="t")


def _subject(product: str, status: str) -> dict[str, Any]:
    event = {"occurred_at": "2026-11-23T09:00:00.000Z", "type": f"{product}.status", "status": status}
    return {
        "subject_id": "id-1",
        "provider": "vonage",
        "product": product,
        "status": status,
        "terminal": False,
        "updated_at": "2026-11-23T09:00:01.000Z",
        "history": [{**event, "event_id": "evt_" + "a" * 32, "received_at": "2026-11-23T09:00:01.000Z"}],
        "truncated": False,
    }


def test_the_status_command_prints_one_block_per_subject(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    asked: list[tuple[str, str]] = []
    body = {
        "subject_id": "id-1",
        "subjects": [_subject("messages", "delivered"), _subject("sms", "accepted")],
    }
    monkeypatch.setattr(cli, "target_from", lambda args: _target((200, body), asked))
    assert cli.main(["status", "id-1"]) == cli.EXIT_OK
    out, err = capsys.readouterr()
    headers = [line for line in out.splitlines() if line.startswith("id-1")]
    assert [h.split()[1] for h in headers] == ["vonage/messages", "vonage/sms"]
    assert "2 subjects share this id" in err
    assert asked == [("id-1", "")]


def test_the_status_command_passes_product_and_provider_and_prints_the_api_json(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    asked: list[tuple[str, str]] = []
    monkeypatch.setattr(cli, "target_from", lambda args: _target((200, _subject("sms", "accepted")), asked))
    assert cli.main(["status", "id-1", "--product", "sms", "--provider", "vonage", "--json"]) == cli.EXIT_OK
    assert json.loads(capsys.readouterr().out) == _subject("sms", "accepted")
    assert asked == [("id-1", "product=sms&provider=vonage")]


@pytest.mark.parametrize(
    ("value", "end", "expected"),
    [
        ("2026-11-23", False, "2026-11-23T00:00:00.000Z"),
        ("2026-11-23", True, "2026-11-23T23:59:59.999Z"),
        ("2026-11-23T09:30:00Z", True, "2026-11-23T09:30:00.000Z"),
        ("2026-11-23T10:30:00+01:00", False, "2026-11-23T09:30:00.000Z"),
        ("2026-11-23T09:30", False, "2026-11-23T09:30:00.000Z"),
    ],
)
def test_history_times_are_read_as_the_index_writes_occurred_at(value: str, end: bool, expected: str) -> None:
    assert cli._time_bound(value, end=end) == expected


@pytest.mark.parametrize(
    "argv",
    [
        ["--product", "fax", "--since", "2026-11-23"],
        ["--product", "sms", "--provider", "twilio", "--since", "2026-11-23"],
        ["--product", "sms", "--since", "yesterday"],
        ["--product", "sms", "--since", "2026-11-24", "--until", "2026-11-23"],
        ["--product", "sms", "--since", "2026-11-23", "--limit", "0"],
    ],
    ids=["unknown-product", "another-providers-product", "bad-date", "since-after-until", "limit-zero"],
)
def test_the_history_command_refuses_bad_arguments_before_reaching_a_target(
    monkeypatch: pytest.MonkeyPatch, argv: list[str]
) -> None:
    def no_target(args: Any) -> cli.Target:
        raise AssertionError("a target was reached")

    monkeypatch.setattr(cli, "target_from", no_target)
    assert cli.main(["history", *argv]) == cli.EXIT_USAGE
