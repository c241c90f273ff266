"""The inspector's JSON API (switchboard/inspector/server.py) in-process, over moto's table and queues."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import pytest

from switchboard.inspector.server import Inspector, Reply
from switchboard.requestlog import RequestLog, RequestRecord
from tests.integration.conftest import Harness, case_for

PORT = 3999
HOST = {"Host": f"127.0.0.1:{PORT}"}
OWN = {**HOST, "X-Switchboard-Inspector": "1", "Origin": f"http://127.0.0.1:{PORT}"}


@pytest.fixture
def inspector(harness: Harness) -> Inspector:
    refs = harness.stack.refs
    return Inspector(
        port=PORT,
        requests=RequestLog(None),
        clients=harness.client,
        table=refs["HistoryTable"],
        queues={
            "events": refs["EventsQueue"],
            "events_dlq": refs["EventsDLQ"],
            "ingest": refs["IngestQueue"],
            "ingest_dlq": refs["IngestDLQ"],
        },
    )


def _get(inspector: Inspector, path: str, headers: dict[str, str] = HOST) -> tuple[Reply, Any]:
    raw_path, _, query = path.partition("?")
    reply = inspector.handle("GET", raw_path, query, headers, b"")
    is_json = reply.headers.get("content-type") == "application/json"
    return reply, json.loads(reply.body) if is_json else None


def _accepted(log: RequestLog, event_id: str, subject_id: str) -> None:
    log.add(
        RequestRecord(
            at="2026-01-01T00:00:00.000Z",
            method="POST",
            path="/vonage/messages/status",
            route="POST /vonage/messages/status",
            function="VonageFunction",
            status=200,
            verdict="accepted",
            event_ids=[event_id],
            subject_id=subject_id,
        )
    )


def _recorded(harness: Harness, file: str) -> dict[str, Any]:
    case = case_for(file)
    answer = harness.send(case)
    assert answer["statusCode"] == 200
    harness.drain()
    return {"subject_id": case["subject_id"], "event_id": answer["headers"]["x-switchboard-event-id"]}


def test_subjects_and_a_timeline_come_from_the_table_with_deliveries_from_the_request_log(
    harness: Harness, inspector: Inspector
):
    sent = _recorded(harness, "http/messages/status-delivered.json")
    _accepted(inspector.requests, sent["event_id"], sent["subject_id"])
    _accepted(inspector.requests, sent["event_id"], sent["subject_id"])
    _, doc = _get(inspector, "/inspector/api/subjects")
    (subject,) = doc["subjects"]
    assert subject["subject_id"] == sent["subject_id"]
    assert (subject["provider"], subject["product"], subject["status"], subject["events"]) == (
        "vonage",
        "messages",
        "delivered",
        1,
    )
    reply, timeline = _get(
        inspector, f"/inspector/api/subjects/vonage/messages/{quote(sent['subject_id'], safe='')}"
    )
    assert reply.status == 200
    (point,) = timeline["points"]
    assert point["event_id"] == sent["event_id"]
    assert subject["last_received_at"] == point["received_at"]  # the subject's newest event
    assert (point["status"], point["current"], point["deliveries"], point["duplicate"]) == (
        "delivered",
        True,
        2,
        True,
    )
    assert _get(inspector, "/inspector/api/subjects/vonage/sms/" + quote(sent["subject_id"]))[0].status == 404


def test_a_subject_id_with_a_slash_travels_url_encoded(harness: Harness, inspector: Inspector):
    subject_id = "team/42?x=<b>"
    event: dict[str, Any] = {
        "schema_version": "1",
        "event_id": "evt_" + "ab" * 16,
        "provider": "vonage",
        "product": "verify",
        "type": "verify.event",
        "subject_id": subject_id,
        "status": "completed",
        "occurred_at": "2026-01-01T00:00:00.000Z",
        "received_at": "2026-01-01T00:00:01.000Z",
        "account_id": "devkey01",
        "channel": "sms",
        "client_ref": None,
        "data": {},
    }
    harness.client("sqs").send_message(QueueUrl=inspector.queues["ingest"], MessageBody=json.dumps(event))
    harness.drain()
    reply, doc = _get(inspector, f"/inspector/api/subjects/vonage/verify/{quote(subject_id, safe='')}")
    assert reply.status == 200 and doc["subject_id"] == subject_id
    assert [(p["status"], p["terminal"], p["deliveries"]) for p in doc["points"]] == [("completed", True, 0)]
    assert _get(inspector, "/inspector/api/subjects/vonage/verify/team/42")[0].status == 404  # a raw "/"


def test_requests_after_a_sequence_number_are_the_newer_ones_with_their_product(inspector: Inspector):
    for n in range(3):
        _accepted(inspector.requests, f"evt_{n}", "s")
    _, doc = _get(inspector, "/inspector/api/requests?after=1")
    assert [r["seq"] for r in doc["requests"]] == [2, 3]
    assert (doc["requests"][0]["provider"], doc["requests"][0]["product"]) == ("vonage", "messages")
    assert _get(inspector, "/inspector/api/requests?after=-1")[0].status == 400


@pytest.mark.parametrize("after", ["²", "9" * 5000, "abc", "1e3", "-1", "+1", " 1"])
def test_an_after_that_is_not_ascii_digits_or_is_absurdly_long_is_a_400_not_a_dropped_connection(
    inspector: Inspector, after: str
):
    # "²".isdigit() is True but int() refuses it; int() also refuses a
    # 5000-digit string (the 4300-digit limit): either raised out of the handler, which dropped the
    # connection and printed a traceback on the stack's terminal
    reply, doc = _get(inspector, f"/inspector/api/requests?after={quote(after)}")
    assert (reply.status, doc["error"]) == (400, "invalid_after")
    assert reply.headers["content-security-policy"].startswith("default-src 'self';")


def test_queue_depths_and_a_redrive_of_the_ingest_dlq(harness: Harness, inspector: Inspector):
    sqs = harness.client("sqs")
    sqs.send_message(QueueUrl=inspector.queues["ingest_dlq"], MessageBody="{}")
    _, doc = _get(inspector, "/inspector/api/queues")
    assert doc["queues"]["ingest_dlq"] == {"visible": 1, "in_flight": 0}
    assert set(doc["queues"]) == {"events", "events_dlq", "ingest", "ingest_dlq"}
    reply = inspector.handle("POST", "/inspector/api/redrive", "", OWN, b'{"queue": "ingest"}')
    assert (reply.status, json.loads(reply.body)) == (200, {"queue": "ingest", "moved": 1})
    _, doc = _get(inspector, "/inspector/api/queues")
    assert doc["queues"]["ingest_dlq"]["visible"] == 0 and doc["queues"]["ingest"]["visible"] == 1


@pytest.mark.parametrize(
    ("headers", "body", "status", "code"),
    [
        ({**HOST, "Origin": f"http://127.0.0.1:{PORT}"}, b'{"queue": "ingest"}', 403, "forbidden"),
        ({**OWN, "Origin": "http://attacker.example"}, b'{"queue": "ingest"}', 403, "forbidden_origin"),
        ({**OWN, "Origin": "null"}, b'{"queue": "ingest"}', 403, "forbidden_origin"),
        ({**OWN, "Host": "attacker.example"}, b'{"queue": "ingest"}', 403, "forbidden_host"),
        (OWN, b'{"queue": "ingest_dlq"}', 400, "invalid_queue"),
        (OWN, b"not json", 400, "invalid_queue"),
        (OWN, b'{"queue": "ingest", "pad": "' + b"x" * 2000 + b'"}', 400, "invalid_queue"),
    ],
)
def test_a_redrive_is_refused_without_the_header_from_another_origin_or_host_or_for_another_queue(
    harness: Harness, inspector: Inspector, headers: dict[str, str], body: bytes, status: int, code: str
):
    harness.client("sqs").send_message(QueueUrl=inspector.queues["ingest_dlq"], MessageBody="{}")
    reply = inspector.handle("POST", "/inspector/api/redrive", "", headers, body)
    assert (reply.status, json.loads(reply.body)["error"]) == (status, code)
    _, doc = _get(inspector, "/inspector/api/queues")
    assert doc["queues"]["ingest_dlq"]["visible"] == 1  # nothing moved


def test_the_page_and_its_assets_are_served_with_the_security_headers(inspector: Inspector):
    for path, kind in [
        ("/inspector/", "text/html"),
        ("/inspector/app.js", "text/javascript"),
        ("/inspector/style.css", "text/css"),
        ("/inspector/favicon.svg", "image/svg+xml"),
        ("/inspector/api/requests", "application/json"),
    ]:
        reply, _ = _get(inspector, path)
        assert reply.status == 200 and reply.headers["content-type"].startswith(kind), path
        assert reply.headers["content-security-policy"].startswith("default-src 'self';")
        assert reply.headers["x-content-type-options"] == "nosniff"
    assert b'<script src="app.js"' in _get(inspector, "/inspector/")[0].body


def test_other_paths_and_methods_and_hosts_are_refused(inspector: Inspector):
    assert _get(inspector, "/inspector")[0].status == 308
    assert _get(inspector, "/inspector/../dev_secrets.json")[0].status == 404
    assert _get(inspector, "/inspector/static/app.js")[0].status == 404
    assert _get(inspector, "/inspector/api/nothing")[0].status == 404
    assert inspector.handle("DELETE", "/inspector/api/requests", "", HOST, b"").status == 405
    assert _get(inspector, "/inspector/", {"Host": f"localhost:{PORT}"})[0].status == 200
    for host in (f"127.0.0.1:{PORT + 1}", "rebound.attacker.example", ""):
        assert _get(inspector, "/inspector/api/requests", {"Host": host})[0].status == 403


def test_an_emulator_that_does_not_answer_is_a_503_not_a_dropped_connection(inspector: Inspector):
    from botocore.exceptions import EndpointConnectionError

    def down(service: str) -> Any:
        raise EndpointConnectionError(endpoint_url="http://127.0.0.1:1")

    inspector.clients = down
    reply, doc = _get(inspector, "/inspector/api/queues")
    assert (reply.status, doc["error"]) == (503, "emulator_unavailable")
