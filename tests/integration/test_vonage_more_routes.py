"""RTC, Dispatch, the voice fallback and US Short Codes end to end under moto: requests signed with
the independent reference signer (tests/reference_signers.py), through VonageFunction, the ingest
queue, the recorder and the history table."""

from __future__ import annotations

import copy
import json
from typing import Any
from urllib.parse import urlencode

import pytest

from shared.storage import STATUS_SK, subject_pk
from switchboard.samples import SAMPLE_HOST, SIGNED_AT, dev_secrets, sample, to_event
from switchboard.signing import SignedRequest
from tests.integration.conftest import Harness
from tests.reference_signers import vonage_claims, vonage_jwt_token

SECRETS = dev_secrets()
API_KEY, (SECRET, *_) = next(iter(SECRETS.vonage_signature_secrets.items()))
BASE = f"https://{SAMPLE_HOST}"


def jwt_request(
    method: str, path: str, payload: dict[str, Any], jti: str, iat: int = SIGNED_AT
) -> SignedRequest:
    """Signed as Vonage signs: a GET carries its data in the query and the JWT hashes the empty body."""
    if method == "GET":
        query = urlencode({k: v if isinstance(v, str) else json.dumps(v) for k, v in payload.items()})
        url, body, headers = f"{BASE}{path}?{query}", b"", {}
    else:
        url, body, headers = BASE + path, json.dumps(payload).encode(), {"content-type": "application/json"}
    token = vonage_jwt_token(vonage_claims(body, API_KEY, iat, jti=jti), SECRET)
    return SignedRequest(method, url, {**headers, "authorization": f"Bearer {token}"}, body)


def deliver(harness: Harness, request: SignedRequest) -> dict[str, Any]:
    return harness.invoke("VonageFunction", to_event(request, at=SIGNED_AT))


def stored(harness: Harness, product: str, subject: str) -> tuple[str | None, list[dict[str, Any]]]:
    """A subject's current status and its events (oldest first), for one product."""
    items = [i for i in harness.items(subject) if i["pk"]["S"] == subject_pk("vonage", product, subject)]
    status = next((i["status"]["S"] for i in items if i["sk"]["S"] == STATUS_SK), None)
    events = [e for e in harness.events(subject) if e["product"] == product]
    return status, events


def payload(name: str, **changes: Any) -> dict[str, Any]:
    return {**copy.deepcopy(sample(name).payload), **changes}


def test_a_conversation_reads_created_joined_then_deleted_and_a_late_leg_update_joins_the_history_only(
    harness: Harness,
) -> None:
    names = ["conversation-created", "member-joined", "leg-status-update-ringing", "conversation-deleted"]
    for n, name in enumerate(names):
        assert (
            deliver(harness, jwt_request("POST", "/vonage/rtc/event", payload(f"rtc/{name}"), f"c{n}"))[
                "statusCode"
            ]
            == 200
        )
    late = payload(
        "rtc/leg-status-update-completed", timestamp="2020-11-02T09:00:00.000Z"
    )  # after the deletion
    assert deliver(harness, jwt_request("POST", "/vonage/rtc/event", late, "late"))["statusCode"] == 200
    # Vonage retries member:joined with a new token and a new timestamp: the same event (its id).
    retry = payload("rtc/member-joined", timestamp="2020-11-02T08:35:00.000Z")
    assert deliver(harness, jwt_request("POST", "/vonage/rtc/event", retry, "retry"))["statusCode"] == 200
    harness.drain()
    status, events = stored(harness, "rtc", "CON-2b49b74a-9520-4503-aed6-0b3167915c83")
    assert status == "conversation_deleted"
    assert sorted(e["status"] for e in events) == sorted(
        ["conversation_created", "member_joined", "leg_ringing", "conversation_deleted", "leg_completed"]
    )


def test_a_workflows_message_statuses_then_its_final_report_and_a_late_status_never_moves_it(
    harness: Harness,
) -> None:
    workflow = "d15a7c40-2b1e-4f3a-9c8d-7e6f5a4b3c2d"
    order = [
        "message-status-submitted",
        "message-status-rejected",
        "final-report-completed",
        "message-status-delivered",
    ]
    for n, name in enumerate(order):
        assert (
            deliver(
                harness, jwt_request("POST", "/vonage/dispatch/status", payload(f"dispatch/{name}"), f"d{n}")
            )["statusCode"]
            == 200
        )
    harness.drain()
    status, events = stored(harness, "dispatch", workflow)
    assert status == "completed"
    assert [e["type"] for e in events].count("dispatch.message_status") == 3


def test_rtc_and_dispatch_events_naming_a_call_id_never_touch_the_calls_status(harness: Harness) -> None:
    call = "63f61863-4a51-4f6b-86e1-46edebcf9356"
    assert harness.send("http/voice/event-answered.json")["statusCode"] == 204
    rtc = payload("rtc/conversation-deleted", conversation_id=call)
    report = payload("dispatch/final-report-error", dispatch_uuid=call)
    assert deliver(harness, jwt_request("POST", "/vonage/rtc/event", rtc, "x1"))["statusCode"] == 200
    assert deliver(harness, jwt_request("POST", "/vonage/dispatch/status", report, "x2"))["statusCode"] == 200
    harness.drain()
    assert stored(harness, "voice", call)[0] == "answered"
    assert stored(harness, "rtc", call)[0] == "conversation_deleted"
    assert stored(harness, "dispatch", call)[0] == "error"


ANSWER = {
    "to": "447700900000",
    "from": "447700900001",
    "uuid": "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0",
    "conversation_uuid": "CON-x",
}
FALLBACK = {
    **ANSWER,
    "reason": "Connection closed.",
    "original_request[url]": BASE + "/vonage/voice/answer",
    "original_request[type]": "answer",
}


@pytest.mark.parametrize("fallback_first", [False, True], ids=["answer-first", "fallback-first"])
def test_a_fallback_of_a_recorded_answer_is_that_one_event_and_the_first_copy_is_kept(
    harness: Harness, fallback_first: bool
) -> None:
    requests = [
        jwt_request("GET", "/vonage/voice/answer", ANSWER, "answer"),
        jwt_request("GET", "/vonage/voice/fallback", FALLBACK, "fallback"),
    ]
    answers = [deliver(harness, r) for r in (requests[::-1] if fallback_first else requests)]
    assert [a["statusCode"] for a in answers] == [200, 200]
    assert all(json.loads(a["body"]) for a in answers)  # each answered with an NCCO
    assert answers[0]["headers"]["x-switchboard-event-id"] == answers[1]["headers"]["x-switchboard-event-id"]
    harness.drain()
    _, events = stored(harness, "voice", ANSWER["uuid"])
    assert [e["type"] for e in events] == ["voice.fallback" if fallback_first else "voice.answer"]
    assert len(harness.queue_messages("EventsQueue")) == 1


def test_a_short_code_receipt_with_its_token_is_recorded_and_with_number_insights_is_not(
    harness: Harness,
) -> None:
    data = payload("short_codes/receipt-delivered")
    for token, expected in ((SECRETS.number_insight_token, 401), (SECRETS.short_codes_token, 200)):
        url = f"{BASE}/vonage/short-codes/receipt?{urlencode({**data, 'token': token})}"
        assert deliver(harness, SignedRequest("GET", url))["statusCode"] == expected
    harness.drain()
    status, events = stored(harness, "short_codes", data["messageId"])
    assert status == "delivered" and len(events) == 1
    assert "token" not in events[0]["data"]
