"""Twilio Event Streams under moto, end to end: a delivery's events are queued together (one
SendMessageBatch per 10), a 2xx means every one is durable, a failed entry answers 503 and the retry
records each event once; replays add nothing; Twilio Verify statuses fold into their own subject.

The clients are the harness's (moto); a failure is injected by wrapping the SQS client's
``send_message_batch`` the way a partial SendMessageBatch answer looks."""

from __future__ import annotations

import copy
import json
from typing import Any

from botocore.exceptions import ClientError

from shared.storage import HISTORY_PREFIX
from switchboard.samples import SAMPLE_HOST, SIGNED_AT, dev_secrets, sample, to_event
from switchboard.signing import SignedRequest, sign
from tests.integration.conftest import Harness, ask

SECRETS = dev_secrets()
BASE = f"https://{SAMPLE_HOST}"
STREAMS = sample("event_streams/verify-approved").route
VERIFY = sample("verify/event-completed")
VERIFY_PREFIX = "com.twilio.accountsecurity.verify.verification."


def verification(sid_number: int, status: str, minute: int) -> dict[str, Any]:
    """A Verify verification CloudEvent of verification ``VE…<sid_number>`` with ``status``."""
    event: dict[str, Any] = copy.deepcopy(sample("event_streams/verify-pending").payload[0])
    sid = f"VE{sid_number:032x}"
    event["id"] = f"{sid_number:032x}{status:>32}".replace(" ", "0")
    event["type"] = VERIFY_PREFIX + status.replace("_", "-")
    event["time"] = f"2026-11-23T11:{minute:02d}:00.000Z"
    event["source"] = event["source"].rpartition("/")[0] + "/" + sid
    event["data"]["verification_sid"] = sid
    event["data"]["verification_status"] = status.upper()
    return event


def signed(events: list[dict[str, Any]]) -> SignedRequest:
    return sign(STREAMS, events, SECRETS, BASE, now=SIGNED_AT)


def deliver(harness: Harness, events: list[dict[str, Any]] | SignedRequest) -> dict[str, Any]:
    request = events if isinstance(events, SignedRequest) else signed(events)
    return harness.invoke("TwilioFunction", to_event(request, at=SIGNED_AT))


def published(harness: Harness) -> list[dict[str, Any]]:
    harness.drain()
    return [json.loads(m["body"]) for m in harness.queue_messages("EventsQueue")]


def history_ids(harness: Harness, subject_id: str) -> list[str]:
    return sorted(i["sk"]["S"].removeprefix(HISTORY_PREFIX) for i in harness.history(subject_id))


class BatchSpy:
    """Wraps the SQS client's send_message_batch: counts the calls and, when told, reports the last
    entry of the first call as Failed without sending it (what SQS answers for a partial failure)."""

    def __init__(self, harness: Harness, *, fail_first: bool = False) -> None:
        self.sqs = harness.client("sqs")
        self.original = self.sqs.send_message_batch
        self.fail_first = fail_first
        self.calls: list[int] = []

    def __enter__(self) -> BatchSpy:
        self.sqs.send_message_batch = self
        return self

    def __exit__(self, *exc: object) -> None:
        self.sqs.send_message_batch = self.original

    def __call__(self, *, QueueUrl: str, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        self.calls.append(len(Entries))
        if self.fail_first and len(self.calls) == 1:
            sent = self.original(QueueUrl=QueueUrl, Entries=Entries[:-1])
            failed = {"Id": Entries[-1]["Id"], "SenderFault": False, "Code": "InternalError", "Message": "x"}
            return {"Successful": sent.get("Successful", []), "Failed": [failed]}
        answer: dict[str, Any] = self.original(QueueUrl=QueueUrl, Entries=Entries)
        return answer


def warm_up(harness: Harness) -> None:
    """Builds the function's clients (so that the spy wraps the client the function uses)."""
    assert deliver(harness, [])["statusCode"] == 200


# --- one request, many events ----------------------------------------------------------------------


def test_a_delivery_of_25_events_is_queued_in_three_batches_and_every_one_recorded(harness: Harness) -> None:
    events = [verification(n, "pending", 40) for n in range(1, 26)]
    warm_up(harness)
    with BatchSpy(harness) as spy:
        response = deliver(harness, events)
    assert response["statusCode"] == 200
    ids = json.loads(response["body"])["event_ids"]
    assert len(set(ids)) == 25
    assert spy.calls == [10, 10, 5]
    out = published(harness)
    assert sorted(e["event_id"] for e in out) == sorted(ids)
    assert {(e["provider"], e["product"], e["status"]) for e in out} == {("twilio", "verify", "pending")}
    assert {e["subject_id"] for e in out} == {f"VE{n:032x}" for n in range(1, 26)}


def test_a_failed_batch_entry_answers_503_and_the_retried_delivery_records_each_event_once(
    harness: Harness,
) -> None:
    events = [verification(n, "pending", 40) for n in range(1, 13)]  # 12: two batches
    warm_up(harness)
    with BatchSpy(harness, fail_first=True) as spy:
        failed = deliver(harness, events)
    assert failed["statusCode"] == 503
    assert json.loads(failed["body"])["error"] == "storage_unavailable"
    assert spy.calls == [10]  # the second chunk is never sent once one entry failed
    retried = deliver(harness, events)  # Twilio retries the whole request
    assert retried["statusCode"] == 200
    out = published(harness)
    assert sorted(e["event_id"] for e in out) == sorted(json.loads(retried["body"])["event_ids"])
    for n in range(1, 13):  # the 9 that went through first are not recorded twice
        assert len(harness.history(f"VE{n:032x}")) == 1


def test_a_batch_call_that_fails_whole_answers_503_and_nothing_is_lost_on_retry(harness: Harness) -> None:
    events = [verification(1, "pending", 40), verification(1, "approved", 41)]
    warm_up(harness)
    sqs = harness.client("sqs")
    original = sqs.send_message_batch

    def refuse(**_: Any) -> Any:
        raise ClientError(
            {"Error": {"Code": "ServiceUnavailable", "Message": "injected"}}, "SendMessageBatch"
        )

    sqs.send_message_batch = refuse
    try:
        assert deliver(harness, events)["statusCode"] == 503
    finally:
        sqs.send_message_batch = original
    assert published(harness) == []
    assert deliver(harness, events)["statusCode"] == 200
    assert [e["status"] for e in published(harness)] == ["pending", "approved"]


def test_the_same_cloudevent_in_two_deliveries_is_one_event(harness: Harness) -> None:
    pending, approved = verification(7, "pending", 40), verification(7, "approved", 41)
    assert deliver(harness, [pending])["statusCode"] == 200
    both = deliver(harness, [pending, approved])
    assert both["statusCode"] == 200
    out = published(harness)
    assert [e["status"] for e in out] == ["pending", "approved"]
    assert history_ids(harness, f"VE{7:032x}") == sorted(json.loads(both["body"])["event_ids"])


# --- replays --------------------------------------------------------------------------------------


def test_a_captured_delivery_replayed_adds_nothing_and_replayed_elsewhere_is_refused(
    harness: Harness,
) -> None:
    request = signed(sample("event_streams/batch-verify-lifecycle").payload)
    assert deliver(harness, request)["statusCode"] == 200
    first = published(harness)
    assert len(first) == 2
    assert deliver(harness, request)["statusCode"] == 200  # a replay: the same ids
    elsewhere = to_event(request, at=SIGNED_AT)
    elsewhere["headers"]["host"] = "attacker.example.com"
    assert harness.invoke("TwilioFunction", elsewhere)["statusCode"] == 401
    reencoded = copy.deepcopy(request)
    reencoded.body = json.dumps(json.loads(request.body), indent=2).encode()
    assert deliver(harness, reencoded)["statusCode"] == 401
    assert published(harness) == []
    assert len(harness.history(first[0]["subject_id"])) == 2


# --- the Verify lifecycle ------------------------------------------------------------------------------


def test_a_late_pending_never_moves_an_approved_verification_back(harness: Harness) -> None:
    assert deliver(harness, [verification(9, "approved", 41)])["statusCode"] == 200
    assert deliver(harness, [verification(9, "pending", 40)])["statusCode"] == 200
    out = published(harness)
    assert [(e["status"], e["current"]["status"]) for e in out] == [
        ("approved", "approved"),
        ("pending", "approved"),
    ]
    code, answer = ask(harness, f"VE{9:032x}")
    assert code == 200
    assert (answer["provider"], answer["product"], answer["status"], answer["terminal"]) == (
        "twilio",
        "verify",
        "approved",
        True,
    )
    assert [e["status"] for e in answer["history"]] == ["pending", "approved"]


def test_a_twilio_verification_never_touches_a_vonage_verify_request_of_the_same_id(harness: Harness) -> None:
    sid = f"VE{11:032x}"
    vonage = sign(VERIFY.route, {**VERIFY.payload, "request_id": sid}, SECRETS, BASE, now=SIGNED_AT)
    assert harness.invoke("VonageFunction", to_event(vonage, at=SIGNED_AT))["statusCode"] == 200
    assert deliver(harness, [verification(11, "canceled", 42)])["statusCode"] == 200
    published(harness)
    code, answer = ask(harness, sid)
    assert code == 200
    assert [(s["provider"], s["product"], s["status"]) for s in answer["subjects"]] == [
        ("twilio", "verify", "canceled"),
        ("vonage", "verify", "completed"),
    ]
    assert ask(harness, sid, product="verify", provider="twilio")[1]["status"] == "canceled"
    assert ask(harness, sid, product="verify", provider="vonage")[1]["status"] == "completed"


def test_the_sinks_test_event_is_recorded_as_an_event_streams_event(harness: Harness) -> None:
    assert deliver(harness, sample("event_streams/test-event").payload)["statusCode"] == 200
    (event,) = published(harness)
    assert (event["provider"], event["product"], event["type"], event["subject_id"]) == (
        "twilio",
        "event_streams",
        "event_streams.com.twilio.eventstreams.test_event",
        "Sink",
    )
    assert event["current"]["terminal"] is False
