"""The pipeline end to end in-process: every file in events/ through the real handlers under moto."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from shared.storage import HISTORY_PREFIX, TTL_ATTRIBUTE
from switchboard.template import resources
from tests.integration.conftest import MANIFEST, Harness, case_for, cases, load_event


def _published(h: Harness) -> list[dict[str, Any]]:
    return [json.loads(m["body"]) for m in h.queue_messages("EventsQueue")]


def _failing_once(original: Any, error_code: str = "InternalError") -> Any:
    calls = {"n": 0}

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            raise ClientError({"Error": {"Code": error_code, "Message": "injected"}}, "Injected")
        return original(*args, **kwargs)

    return wrapper


def _answered_ids(response: dict[str, Any]) -> list[str]:
    """The event ids a 2xx names: every one of an Event Streams delivery (``event_ids``, possibly
    none), else the one in the event-id header."""
    body = json.loads(response["body"]) if response["body"] else None
    if isinstance(body, dict) and "event_ids" in body:
        return list(body["event_ids"])
    return [response["headers"]["x-switchboard-event-id"]]


@pytest.mark.parametrize("case", cases("valid"))
def test_a_valid_webhook_is_acknowledged_recorded_once_and_published_once(
    harness: Harness, case: dict[str, Any]
):
    response = harness.send(case)
    assert response["statusCode"] == case["expect_status"], response["body"]
    event_ids = _answered_ids(response)
    assert len(event_ids) == len(set(event_ids)) == case["events"]
    harness.drain()
    published = _published(harness)
    assert sorted(p["event_id"] for p in published) == sorted(event_ids)
    if not event_ids:  # a signed empty Event Streams array
        assert harness.all_items() == []
        return
    history = harness.history(case["subject_id"])
    assert sorted(h["sk"]["S"].removeprefix(HISTORY_PREFIX) for h in history) == sorted(event_ids)
    assert sorted(e["event_id"] for e in harness.events(case["subject_id"])) == sorted(event_ids)
    assert {p["subject_id"] for p in published} == {case["subject_id"]}


@pytest.mark.parametrize("case", cases("valid"))
def test_the_same_delivery_twice_is_still_one_event(harness: Harness, case: dict[str, Any]):
    first, second = harness.send(case), harness.send(case)
    assert first["statusCode"] == second["statusCode"] == case["expect_status"]
    harness.drain()
    if case["events"] == 0:
        assert harness.all_items() == [] and _published(harness) == []
        return
    assert len(harness.history(case["subject_id"])) == case["events"]
    assert len(_published(harness)) == case["events"]


@pytest.mark.parametrize("case", cases("unsigned", "tampered", "replayed", "malformed"))
def test_a_rejected_webhook_gets_its_code_and_stores_nothing(harness: Harness, case: dict[str, Any]):
    response = harness.send(case)
    assert response["statusCode"] == case["expect_status"]
    assert json.loads(response["body"])["error"] == case["expect_code"]
    assert "Traceback" not in response["body"]
    harness.drain()
    assert harness.all_items() == []
    assert _published(harness) == []


def test_every_event_file_is_in_the_manifest_and_used_by_these_tests():
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "events"
    on_disk = {str(p.relative_to(root)) for p in root.glob("http/**/*.json")} | {
        str(p.relative_to(root)) for p in root.glob("sqs/*.json")
    }
    assert on_disk == {c["file"] for c in MANIFEST["cases"]}


def test_a_failed_queue_write_answers_503_and_the_retry_records_exactly_one_event(harness: Harness):
    file = "http/messages/status-delivered.json"
    harness.send(file)  # builds the clients; this first delivery is accepted
    harness.drain()
    assert len(_published(harness)) == 1
    sqs = harness.client("sqs")
    original = sqs.send_message
    sqs.send_message = _failing_once(original)
    try:
        case = case_for("http/messages/status-submitted.json")
        failed = harness.send(case)
        assert failed["statusCode"] == 503
        assert json.loads(failed["body"])["error"] == "storage_unavailable"
        assert failed["headers"].get("retry-after")
        retried = harness.send(case)
        assert retried["statusCode"] == 200
    finally:
        sqs.send_message = original
    harness.drain()
    assert len(harness.history(case["subject_id"])) == 2  # delivered + the late submitted
    assert len(_published(harness)) == 1


def test_a_dynamodb_failure_while_recording_is_retried_and_recorded_once(harness: Harness):
    case = case_for("http/verify/event-completed.json")
    harness.send(case)
    dynamodb = harness.client("dynamodb")
    original = dynamodb.update_item
    dynamodb.update_item = _failing_once(original, "ProvisionedThroughputExceededException")
    try:
        polls = harness.drain()
    finally:
        dynamodb.update_item = original
    assert polls[0].failed == 1  # the first attempt failed at the status update …
    assert sum(p.received for p in polls) == 2  # … and the retry recorded it
    assert len(harness.history(case["subject_id"])) == 1
    published = _published(harness)
    assert len(published) == 1
    assert published[0]["current"]["status"] == "completed"


def test_a_late_status_joins_the_history_but_never_moves_the_status_backwards(harness: Harness):
    for file in ("http/messages/status-delivered.json", "http/messages/status-submitted.json"):
        assert harness.send(file)["statusCode"] == 200
    harness.drain()
    subject = case_for("http/messages/status-delivered.json")["subject_id"]
    status = harness.status_item(subject)
    assert status is not None and status["status"]["S"] == "delivered"
    assert sorted(h["status"]["S"] for h in harness.history(subject)) == ["delivered", "submitted"]
    published = {p["status"]: p["current"]["status"] for p in _published(harness)}
    assert published == {"delivered": "delivered", "submitted": "delivered"}


def test_the_status_api_returns_the_history_in_order_and_404_for_an_unknown_subject(harness: Harness):
    for file in ("http/verify/event-completed.json", "http/verify/summary-completed.json"):
        harness.send(file)
    harness.drain()
    known = harness.invoke("StatusFunction", load_event("http/status/get-known-subject.json"))
    assert known["statusCode"] == 200
    body = json.loads(known["body"])
    assert body["status"] == "completed" and body["product"] == "verify" and body["provider"] == "vonage"
    keys = [(e["occurred_at"], e["received_at"]) for e in body["history"]]
    assert keys == sorted(keys) and len(keys) >= 1
    unknown = harness.invoke("StatusFunction", load_event("http/status/get-unknown-subject.json"))
    assert unknown["statusCode"] == 404
    assert json.loads(unknown["body"])["error"] == "not_found"


@pytest.mark.parametrize("case", cases("sqs"))
def test_recorder_sample_batches_report_only_their_bad_records(harness: Harness, case: dict[str, Any]):
    result = harness.invoke("RecorderFunction", load_event(case["file"]))
    assert len(result["batchItemFailures"]) == case["expect_failures"]
    assert len(harness.queue_messages("IngestDLQ")) == case["expect_dead_lettered"]


def test_a_duplicate_inside_one_batch_is_published_once(harness: Harness):
    harness.invoke("RecorderFunction", load_event("sqs/duplicate-in-batch.json"))
    assert len(_published(harness)) == 1


def test_a_poison_message_reaches_the_ingest_dlq_on_its_first_receive_logged_once(
    harness: Harness, caplog: pytest.LogCaptureFixture
):
    sqs = harness.client("sqs")
    sqs.send_message(QueueUrl=harness.stack.refs["IngestQueue"], MessageBody="not json at all")
    sqs.send_message(QueueUrl=harness.stack.refs["IngestQueue"], MessageBody='{"event_id": "evt_1"}')
    harness.drain(max_polls=1)  # one receive: no retry is needed to dead-letter it
    dlq = harness.queue_messages("IngestDLQ")
    assert sorted(m["body"] for m in dlq) == ["not json at all", '{"event_id": "evt_1"}']
    assert harness.all_items() == []
    lines = [r for r in caplog.records if r.getMessage().startswith("poison message")]
    assert len(lines) == 2 and not any(r.exc_info for r in lines)  # one line each, no traceback
    missing = next(getattr(r, "missing", None) for r in lines if getattr(r, "missing", None)) or []
    assert "subject_id" in missing and "event_id" not in missing


def test_ttl_attribute_of_the_table_is_the_one_the_items_carry(harness: Harness):
    table = resources(harness.template, "AWS::DynamoDB::Table")["HistoryTable"]["Properties"]
    assert table["TimeToLiveSpecification"]["AttributeName"] == TTL_ATTRIBUTE
    harness.send("http/verify/event-completed.json")
    harness.drain()
    items = harness.all_items()
    # the JWT bound to this event, the history item (its own dedupe record), the status projection
    assert sorted(i["sk"]["S"].split("#")[0] for i in items) == ["C", "E", "STATUS"]
    assert all(TTL_ATTRIBUTE in item for item in items)
    ttl = harness.client("dynamodb").describe_time_to_live(TableName=harness.stack.refs["HistoryTable"])
    assert ttl["TimeToLiveDescription"]["AttributeName"] == TTL_ATTRIBUTE


def test_a_rejection_is_logged_with_its_code_and_counted_as_a_metric(
    harness: Harness, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
):
    harness.send("http/negative/verify-tampered-body.json")
    metrics = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert [m.get("WebhookRejected") for m in metrics] == [[1.0]]
    rejected = [r for r in caplog.records if r.getMessage() == "webhook rejected"]
    assert [getattr(r, "code", None) for r in rejected] == ["payload_hash_mismatch"]
    assert "devkey01" in str(getattr(rejected[0], "diagnostic", ""))  # which key was tried …
    assert "FAKE" not in caplog.text  # … never the secret


def test_logs_mask_the_senders_phone_number(harness: Harness, caplog: pytest.LogCaptureFixture):
    event = load_event("http/messages/inbound-sms.json")
    sender = json.loads(event["body"])["from"]
    assert harness.invoke("VonageFunction", event)["statusCode"] == 200
    accepted = [r for r in caplog.records if r.getMessage() == "webhook accepted"]
    assert [getattr(r, "from", None) for r in accepted] == ["*" * (len(sender) - 3) + sender[-3:]]
    assert sender not in caplog.text


def test_a_captured_vonage_jwt_cannot_vouch_for_another_event(
    harness: Harness, caplog: pytest.LogCaptureFixture
):
    # A real GET answer webhook: its JWT signs an empty body, so the query string is not signed.
    answer = load_event("http/voice/answer.json")
    assert harness.invoke("VonageFunction", answer)["statusCode"] == 200
    harness.drain()
    # Someone who saw that request replays its token with a query of their own on the event route.
    forged = json.loads(json.dumps(answer))
    forged["rawPath"] = forged["requestContext"]["http"]["path"] = "/vonage/voice/event"
    forged["rawQueryString"] = "uuid=victim-call&status=completed&timestamp=2026-01-01T00:00:00Z"
    harness.invoke("VonageFunction", forged)  # the ingress cannot tell; the recorder can
    harness.drain()
    assert harness.items("victim-call") == []
    assert [json.loads(m["body"])["subject_id"] for m in harness.queue_messages("EventsQueue")] == [
        json.loads(json.dumps(answer["queryStringParameters"]))["uuid"]
    ]
    assert any("forged webhook dropped" in r.getMessage() for r in caplog.records)


def test_the_same_signed_request_delivered_twice_is_one_event_not_a_forgery(harness: Harness):
    event = load_event("http/voice/answer.json")
    harness.invoke("VonageFunction", event)
    harness.invoke("VonageFunction", event)
    harness.drain()
    assert len(harness.queue_messages("EventsQueue")) == 1


def test_a_get_with_a_body_on_a_jwt_route_is_refused(harness: Harness):
    event = load_event("http/voice/answer.json")
    event["body"] = "{}"
    response = harness.invoke("VonageFunction", event)
    assert response["statusCode"] in (400, 401)
    harness.drain()
    assert harness.all_items() == []
