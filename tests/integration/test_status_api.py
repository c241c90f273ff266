"""The status API and ``switchboard history`` on layout v2 (shared/storage.py), in-process under moto.

Most tests write the table's items with storage's own requests (``put_history``,
``update_status``), so they check the read side against the layout itself, item by item; the
end-to-end tests send signed webhooks through the recorder.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import pytest

from shared import history, storage
from shared.normalise import format_timestamp, normalise
from shared.status_rank import position
from switchboard import cli
from switchboard.apigw import http_event
from switchboard.samples import SAMPLE_HOST, SIGNED_AT, dev_secrets, sample, to_event
from switchboard.signing import sign
from tests.integration.conftest import Harness, ask, load_event
from tests.unit.test_contract_schemas import STATUS_RESPONSE, violations

SUBJECT_KEYS = [
    "subject_id",
    "provider",
    "product",
    "status",
    "terminal",
    "updated_at",
    "history",
    "truncated",
]
START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
EXPIRES = SIGNED_AT + 86_400


# --- writing the table as the recorder does --------------------------------------------------------


def an_event(
    name: str, subject_id: str, n: int, *, status: str | None = None, minutes: int = 0
) -> dict[str, Any]:
    """A normalised sample event made the ``n``-th of ``subject_id``: its own id, ``minutes`` after START."""
    s = sample(name)
    at = START + timedelta(minutes=minutes)
    e = normalise(
        s.route.product, s.route.kind, s.payload, account_id="devkey01", received_at=at + timedelta(seconds=5)
    )
    digest = hashlib.sha256(f"{name}/{subject_id}/{n}".encode()).hexdigest()[:32]
    return {
        **e,
        "event_id": f"evt_{digest}",
        "subject_id": subject_id,
        "status": status or e["status"],
        "occurred_at": format_timestamp(at),
    }


def table(harness: Harness) -> str:
    name: str = harness.stack.refs["HistoryTable"]
    return name


def put_history(harness: Harness, event: dict[str, Any]) -> None:
    harness.client("dynamodb").put_item(**storage.put_history(table(harness), event, EXPIRES))


def put_status(harness: Harness, event: dict[str, Any]) -> None:
    place = position(event["product"], event["type"], event["status"])
    assert place is not None
    request = storage.update_status(table(harness), event, place.rank, place.terminal, EXPIRES)
    harness.client("dynamodb").update_item(**request)


def record(harness: Harness, *events: dict[str, Any], current: dict[str, Any] | None = None) -> None:
    for e in events:
        put_history(harness, e)
    if current is not None:
        put_status(harness, current)


def two_products(harness: Harness, subject_id: str = "shared-0001") -> tuple[dict[str, Any], dict[str, Any]]:
    """A Messages API message and an SMS API message that share one id, each with its own status."""
    delivered = an_event("messages/status-delivered", subject_id, 1, minutes=2)
    accepted = an_event("sms/receipt-accepted", subject_id, 2, minutes=1)
    record(harness, delivered, current=delivered)
    record(harness, accepted, current=accepted)
    return delivered, accepted


# --- one subject -----------------------------------------------------------------------------------


def test_one_subject_is_answered_in_the_unchanged_shape_and_validates(harness: Harness) -> None:
    submitted = an_event("messages/status-submitted", "msg-1", 1, minutes=0)
    delivered = an_event("messages/status-delivered", "msg-1", 2, minutes=3)
    record(harness, delivered, submitted, current=delivered)
    code, answer = ask(harness, "msg-1")
    assert code == 200
    assert list(answer) == SUBJECT_KEYS
    place = position("messages", delivered["type"], "delivered")
    assert place is not None
    assert (answer["provider"], answer["product"], answer["status"], answer["terminal"]) == (
        "vonage",
        "messages",
        "delivered",
        place.terminal,
    )
    assert answer["updated_at"] == delivered["received_at"]
    assert answer["history"] == [submitted, delivered]
    assert answer["truncated"] is False
    assert violations(STATUS_RESPONSE, answer) == []


def test_a_subject_with_only_informational_events_has_no_status(harness: Harness) -> None:
    dtmf = an_event("voice/event-input-dtmf", "call-1", 1)
    assert position(dtmf["product"], dtmf["type"], dtmf["status"]) is None  # never a current status
    record(harness, dtmf)
    code, answer = ask(harness, "call-1")
    assert code == 200
    assert (answer["status"], answer["terminal"], answer["updated_at"]) == (None, False, dtmf["received_at"])
    assert violations(STATUS_RESPONSE, answer) == []


def test_an_unknown_subject_is_404_not_found(harness: Harness) -> None:
    response = harness.invoke("StatusFunction", load_event("http/status/get-unknown-subject.json"))
    assert response["statusCode"] == 404
    assert json.loads(response["body"])["error"] == "not_found"


# --- several products, one id ------------------------------------------------------------------------


def test_two_products_sharing_an_id_are_both_answered_each_with_its_own_status(harness: Harness) -> None:
    delivered, accepted = two_products(harness)
    code, answer = ask(harness, "shared-0001")
    assert code == 200
    assert list(answer) == ["subject_id", "subjects"]
    messages, sms = answer["subjects"]
    assert (messages["product"], messages["status"], messages["history"]) == (
        "messages",
        "delivered",
        [delivered],
    )
    assert (sms["product"], sms["status"], sms["history"]) == ("sms", "accepted", [accepted])
    assert all(list(s) == SUBJECT_KEYS for s in answer["subjects"])
    assert violations(STATUS_RESPONSE, answer) == []


@pytest.mark.parametrize(
    ("query", "product"),
    [({"product": "sms"}, "sms"), ({"product": "messages", "provider": "vonage"}, "messages")],
)
def test_the_product_parameter_narrows_to_one_subject(
    harness: Harness, query: dict[str, str], product: str
) -> None:
    two_products(harness)
    code, answer = ask(harness, "shared-0001", **query)
    assert code == 200
    assert list(answer) == SUBJECT_KEYS and answer["product"] == product
    assert {e["product"] for e in answer["history"]} == {product}


def test_the_provider_parameter_narrows_to_that_providers_products(harness: Harness) -> None:
    two_products(harness)
    assert ask(harness, "shared-0001", provider="vonage")[1]["subjects"][1]["product"] == "sms"
    assert ask(harness, "shared-0001", provider="twilio") == (
        404,
        {"error": "not_found", "message": "no events for this subject"},
    )


@pytest.mark.parametrize(
    "query",
    [
        {"product": "fax"},
        {"product": ""},
        {"provider": "plivo"},
        {"product": "verify_push", "provider": "vonage"},
    ],
    ids=["unknown-product", "empty-product", "unknown-provider", "another-providers-product"],
)
def test_an_unknown_product_or_provider_is_400_invalid_field(harness: Harness, query: dict[str, str]) -> None:
    two_products(harness)
    code, answer = ask(harness, "shared-0001", **query)
    assert (code, answer["error"]) == (400, "invalid_field")
    assert "fax" not in answer["message"] and "plivo" not in answer["message"]  # input is not echoed


@pytest.mark.parametrize("subject_id", ["", "x" * 257])
def test_a_subject_id_that_is_empty_or_too_long_is_400_bad_request(harness: Harness, subject_id: str) -> None:
    response = harness.invoke("StatusFunction", {"pathParameters": {"subject_id": subject_id}})
    assert response["statusCode"] == 400
    assert json.loads(response["body"])["error"] == "bad_request"


# --- items that cannot be read back ------------------------------------------------------------------


def _unreadable(event: dict[str, Any], change: str) -> dict[str, Any]:
    item = storage.history_item(event, EXPIRES)
    if change == "damaged-bytes":
        item["event"] = {"B": b"\x01" + b"\xff" * 40}
    elif change == "unknown-encoding":
        item["event"] = {"B": b"\x7f" + storage.encode_event(event)[1:]}
    elif change == "not-an-object":
        item["event"] = {"B": storage.encode_event([event])}  # type: ignore[arg-type]
    elif change == "layout-v1":  # what version 1 wrote: no ``v``, the event as JSON text
        del item["v"]
        item["event"] = {"S": json.dumps(event)}
    elif change == "another-version":
        item["v"] = {"N": "3"}
    return item


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ("damaged-bytes", "error"),
        ("unknown-encoding", "unknown encoding"),
        ("not-an-object", "not an object"),
        ("layout-v1", "layout version 1"),
        ("another-version", "layout version 3"),
    ],
)
def test_a_history_item_that_cannot_be_read_back_is_served_from_its_attributes(
    harness: Harness, change: str, reason: str
) -> None:
    good = an_event("messages/status-submitted", "msg-2", 1, minutes=0)
    bad = an_event("messages/status-delivered", "msg-2", 2, minutes=1)
    record(harness, good, current=bad)
    harness.client("dynamodb").put_item(TableName=table(harness), Item=_unreadable(bad, change))
    code, answer = ask(harness, "msg-2")
    assert code == 200
    first, served = answer["history"]
    assert first == good
    expected = {
        k: bad[k] for k in ("event_id", "provider", "product", "subject_id", "type", "status", "occurred_at")
    }
    assert {k: served[k] for k in expected} == expected
    assert reason in served["data"]["unreadable"]
    assert violations(STATUS_RESPONSE, answer) == []


# --- long histories ----------------------------------------------------------------------------------


def _long_history(harness: Harness, count: int) -> list[dict[str, Any]]:
    events = [an_event("voice/event-ringing", "call-9", n, minutes=n) for n in range(count)]
    record(harness, *events, current=events[-1])
    return events


def test_a_long_history_keeps_the_latest_events_in_time_order(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    events = _long_history(harness, 7)
    assert [e["event_id"] for e in events] != sorted(e["event_id"] for e in events)  # keys are not time
    monkeypatch.setattr(history, "MAX_HISTORY_ITEMS", 3)
    _, answer = ask(harness, "call-9")
    assert answer["history"] == events[-3:]
    assert answer["truncated"] is True
    monkeypatch.setattr(history, "MAX_HISTORY_ITEMS", 7)
    assert ask(harness, "call-9")[1]["truncated"] is False


def test_reading_stops_at_the_cap_and_still_serves_the_current_status(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    events = _long_history(harness, 6)
    monkeypatch.setattr(history, "MAX_READ_ITEMS", 4)  # the status item sorts after all six
    _, answer = ask(harness, "call-9")
    assert len(answer["history"]) == 4 and answer["truncated"] is True
    assert answer["status"] == events[-1]["status"] and answer["updated_at"] == events[-1]["received_at"]


# --- end to end: signed webhooks through the recorder ---------------------------------------------


def _send(harness: Harness, name: str, **fields: str) -> None:
    s = sample(name)
    request = sign(s.route, {**s.payload, **fields}, dev_secrets(), f"https://{SAMPLE_HOST}", now=SIGNED_AT)
    assert harness.invoke(s.function, to_event(request, at=SIGNED_AT))["statusCode"] == 200


def test_recorded_webhooks_are_answered_in_the_unchanged_shape(harness: Harness) -> None:
    for file in ("http/verify/event-completed.json", "http/verify/summary-completed.json"):
        assert harness.send(file)["statusCode"] == 200
    harness.drain()
    response = harness.invoke("StatusFunction", load_event("http/status/get-known-subject.json"))
    assert response["statusCode"] == 200
    answer = json.loads(response["body"])
    assert list(answer) == SUBJECT_KEYS
    assert (answer["product"], answer["status"], answer["terminal"]) == ("verify", "completed", True)
    assert violations(STATUS_RESPONSE, answer) == []


def test_recorded_webhooks_of_two_products_with_one_id_keep_their_own_statuses(harness: Harness) -> None:
    _send(harness, "messages/status-delivered", message_uuid="0B00000127FDBC63")
    _send(harness, "sms/receipt-accepted", messageId="0B00000127FDBC63")
    harness.drain()
    code, answer = ask(harness, "0B00000127FDBC63")
    assert code == 200
    assert [(s["product"], s["status"]) for s in answer["subjects"]] == [
        ("messages", "delivered"),
        ("sms", "accepted"),
    ]
    assert violations(STATUS_RESPONSE, answer) == []


# --- switchboard history: one product over the sharded index --------------------------------------


@pytest.fixture
def day(harness: Harness) -> Iterator[list[dict[str, Any]]]:
    """40 SMS receipts over one day (statuses alternating), plus other products' events."""
    statuses = ["delivered", "failed", "accepted", "delivered"]
    events = [
        an_event("sms/receipt-delivered", f"sms-{n}", n, status=statuses[n % 4], minutes=n * 30)
        for n in range(40)
    ]
    record(harness, *events)
    record(harness, an_event("messages/status-delivered", "sms-1", 99, minutes=10))
    yield events


def test_history_fans_out_over_the_shards_and_merges_in_time_order(
    harness: Harness, day: list[dict[str, Any]]
) -> None:
    assert len({storage.shard(e["event_id"]) for e in day}) > 8  # one product, many partitions
    rows = list(
        history.product_events(harness.client("dynamodb"), table(harness), "sms", "2026-11-23", "2026-11-25")
    )
    assert [r["event_id"] for r in rows] == [e["event_id"] for e in day]
    assert rows[0] == {
        "occurred_at": day[0]["occurred_at"],
        "type": day[0]["type"],
        "status": day[0]["status"],
        "provider": "vonage",
        "product": "sms",
        "subject_id": "sms-0",
        "event_id": day[0]["event_id"],
    }


def test_history_filters_on_status_and_bounds_are_inclusive(
    harness: Harness, day: list[dict[str, Any]]
) -> None:
    db, name = harness.client("dynamodb"), table(harness)
    failed = list(history.product_events(db, name, "sms", "2026-11-23", "2026-11-25", status="failed"))
    assert [r["event_id"] for r in failed] == [e["event_id"] for e in day if e["status"] == "failed"]
    since, until = day[3]["occurred_at"], day[6]["occurred_at"]
    bounded = list(history.product_events(db, name, "sms", since, until, provider="vonage"))
    assert [r["event_id"] for r in bounded] == [e["event_id"] for e in day[3:7]]


def _no_api(subject: str, query: str = "") -> tuple[int, bytes]:
    raise AssertionError("`switchboard history` reads the table, never the status API")


def _cli_target(harness: Harness) -> cli.Target:
    return cli.Target(
        name="moto",
        base_url="",
        clients=harness.client,
        queues={},
        secrets_text=str,
        status=_no_api,
        table=table(harness),
    )


def test_the_history_command_prints_the_merged_rows_and_says_when_there_are_more(
    harness: Harness,
    day: list[dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(cli, "target_from", lambda args: _cli_target(harness))
    argv = ["history", "--product", "sms", "--since", "2026-11-23", "--until", "2026-11-23", "--limit", "5"]
    assert cli.main(argv) == cli.EXIT_OK
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert lines[0].split() == ["OCCURRED", "AT", "TYPE", "STATUS", "SUBJECT", "EVENT", "ID"]
    assert [line.split()[-1] for line in lines[1:]] == [e["event_id"] for e in day[:5]]
    assert "more" in err
    assert cli.main([*argv[:-1], "100", "--status", "delivered", "--json"]) == cli.EXIT_OK
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    # --until 2026-11-23 is the whole day: the 30 events from 09:00 to 23:30
    assert [r["event_id"] for r in rows] == [e["event_id"] for e in day[:30] if e["status"] == "delivered"]


# --- review findings (issue 10): ids API Gateway may pass decoded, answers bounded in bytes ---------


@pytest.mark.parametrize("subject_id", ["a#b", 'quote"d', "back\\slash", "tick`"])
def test_an_id_with_a_character_the_route_pattern_lacks_is_found_even_when_the_path_comes_decoded(
    harness: Harness, subject_id: str
) -> None:
    event = an_event("messages/status-delivered", subject_id, 1)
    record(harness, event, current=event)
    request = http_event(
        "GET",
        "/status/" + quote(subject_id, safe=""),
        "",
        {},
        b"",
        host=SAMPLE_HOST,
        route_key="GET /status/{subject_id}",
        path_parameters={"subject_id": subject_id},
        epoch_ms=SIGNED_AT * 1000,
    )
    request["rawPath"] = "/status/" + subject_id  # as API Gateway has been reported to pass it
    response = harness.invoke("StatusFunction", request)
    assert response["statusCode"] == 200, response["body"]
    assert json.loads(response["body"])["subject_id"] == subject_id


def test_an_answer_keeps_the_newest_events_that_fit_in_the_byte_budget(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    events = [an_event("messages/status-delivered", "big-1", n, minutes=n) for n in range(12)]
    for e in events:
        e["data"] = {**e["data"], "padding": "x" * 2000}
    record(harness, *events, current=events[-1])
    monkeypatch.setattr(history, "MAX_RESPONSE_BYTES", 5 * 2300)
    status, body = ask(harness, "big-1")
    assert status == 200 and body["truncated"] is True
    kept = [e["event_id"] for e in body["history"]]
    assert 0 < len(kept) < 12 and kept == [e["event_id"] for e in events[-len(kept) :]]
    assert len(json.dumps(body["history"])) <= 5 * 2300
