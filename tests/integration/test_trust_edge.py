"""Issue 9 under moto, end to end: a captured signature vouches for one event; hostile text and
depth never poison a later read. Each test fails if its defence is removed."""

from __future__ import annotations

import json
import zlib
from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest

from shared import storage
from shared.ingress import ROUTES
from shared.recorder import CREDENTIAL_TTL_S
from shared.storage import CREDENTIAL_PREFIX, HISTORY_PREFIX
from shared.verify.twilio import compute_twilio_signature
from switchboard.samples import SIGNED_AT, dev_secrets, sample, to_event
from switchboard.signing import SignedRequest, first_twilio_account, sign, vonage_jwt
from tests.integration.conftest import Harness

SECRETS = dev_secrets()
BASE = "https://abc123defg.execute-api.us-east-1.amazonaws.com"


def recorded(harness: Harness) -> list[dict[str, Any]]:
    harness.drain()
    return [json.loads(m["body"]) for m in harness.queue_messages("EventsQueue")]


def forged_logged(caplog: pytest.LogCaptureFixture) -> bool:
    return any("forged webhook dropped" in r.getMessage() for r in caplog.records)


def twilio_form(params: dict[str, str], signed_params: dict[str, str] | None = None) -> SignedRequest:
    """A Verify Push POST whose signature was computed over ``signed_params`` (default: params)."""
    url = BASE + "/twilio/verify-push"
    _, token = first_twilio_account(SECRETS)
    signature = compute_twilio_signature(url, {k: [v] for k, v in (signed_params or params).items()}, token)
    headers = {"content-type": "application/x-www-form-urlencoded", "x-twilio-signature": signature}
    return SignedRequest("POST", url, headers, urlencode(params).encode())


def verify_push_params(**extra: str) -> dict[str, str]:
    sid, _ = first_twilio_account(SECRETS)
    payload = {
        k: v for k, v in sample("verify_push/challenge-approved").payload.items() if isinstance(v, str)
    }
    return {**payload, "account_sid": sid, **extra}


# --- §1 a captured signature vouches for one event ------------------------------------------------


def test_a_twilio_request_re_split_into_a_new_uuid_verifies_but_is_dropped_by_the_recorder(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    # Twilio signs url + "uuid" + X + "version" + "2": the same string as "uuid" + (X + "version2").
    real = verify_push_params(version="2")
    forged = {k: v for k, v in real.items() if k != "version"}
    forged["uuid"] = real["uuid"] + "version2"
    request = twilio_form(forged, signed_params=real)
    assert request.headers["x-twilio-signature"] == twilio_form(real).headers["x-twilio-signature"]
    assert harness.invoke("TwilioFunction", to_event(twilio_form(real), at=SIGNED_AT))["statusCode"] == 200
    assert harness.invoke("TwilioFunction", to_event(request, at=SIGNED_AT))["statusCode"] == 200
    events = recorded(harness)
    assert [e["data"]["uuid"] for e in events] == [real["uuid"]]
    assert forged_logged(caplog)


def factor_re_split() -> tuple[dict[str, str], dict[str, str]]:
    """A factor event and its re-split that keeps `uuid` (so the event id) but moves the subject:
    "factor_sid" + "YF…" + "factor_type" + "push" == "factor_sid" + "YF…factor_typepush"."""
    sid, _ = first_twilio_account(SECRETS)
    real = {k: v for k, v in sample("verify_push/factor-created").payload.items() if isinstance(v, str)}
    real = {**real, "account_sid": sid, "factor_type": "push"}
    forged = {k: v for k, v in real.items() if k != "factor_type"}
    forged["factor_sid"] = real["factor_sid"] + "factor_typepush"
    return real, forged


@pytest.mark.parametrize("forged_first", [False, True], ids=["delivery-first", "forgery-first"])
def test_a_re_split_keeping_the_delivery_id_under_another_subject_is_logged_and_one_event_stands(
    harness: Harness, caplog: pytest.LogCaptureFixture, forged_first: bool
) -> None:
    real, forged = factor_re_split()
    requests = [twilio_form(real), twilio_form(forged, signed_params=real)]
    assert requests[0].headers["x-twilio-signature"] == requests[1].headers["x-twilio-signature"]
    for request in reversed(requests) if forged_first else requests:
        assert harness.invoke("TwilioFunction", to_event(request, at=SIGNED_AT))["statusCode"] == 200
    subjects = [e["subject_id"] for e in recorded(harness)]
    # First use wins (README, "What remains"): whichever came first stands; the other reuses a
    # signature bound to another subject and is dropped as a forgery.
    assert subjects == [(forged if forged_first else real)["factor_sid"]]
    assert forged_logged(caplog)


def test_the_same_twilio_delivery_twice_is_one_event_and_not_a_forgery(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    event = to_event(twilio_form(verify_push_params()), at=SIGNED_AT)
    for _ in range(2):
        assert harness.invoke("TwilioFunction", event)["statusCode"] == 200
    assert len(recorded(harness)) == 1
    assert not forged_logged(caplog)


def test_a_captured_sms_receipt_replayed_on_the_inbound_route_is_dropped_by_the_recorder(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    # The SMS `sig` covers the parameters, not the route: a receipt's sig also verifies as an inbound
    # message (a new event id: another kind). The recorder's binding refuses the second use.
    payload = sample("sms/receipt-delivered").payload
    receipt = sign(ROUTES["/vonage/sms/receipt"], payload, SECRETS, BASE, now=SIGNED_AT, method="GET")
    replayed = SignedRequest("GET", receipt.url.replace("/sms/receipt", "/sms/inbound"))
    assert harness.invoke("VonageFunction", to_event(receipt, at=SIGNED_AT))["statusCode"] == 200
    assert harness.invoke("VonageFunction", to_event(replayed, at=SIGNED_AT))["statusCode"] == 200
    assert [e["type"] for e in recorded(harness)] == ["sms.receipt"]
    assert forged_logged(caplog)


@pytest.mark.parametrize("respell", [str.upper, lambda sig: sig + "%20", lambda sig: "+" + sig + "+"])
def test_a_captured_sms_sig_respelled_is_still_the_same_credential(
    harness: Harness, caplog: pytest.LogCaptureFixture, respell: Any
) -> None:
    # The verifier compares the sig stripped and case-folded: the binding must use that same form,
    # or "sig " would verify as a credential never seen before.
    payload = sample("sms/receipt-delivered").payload
    receipt = sign(ROUTES["/vonage/sms/receipt"], payload, SECRETS, BASE, now=SIGNED_AT, method="GET")
    query = dict(parse_qsl(receipt.url.partition("?")[2]))
    url = receipt.url.replace("/sms/receipt", "/sms/inbound").replace(
        "sig=" + query["sig"], "sig=" + respell(query["sig"])
    )
    assert harness.invoke("VonageFunction", to_event(receipt, at=SIGNED_AT))["statusCode"] == 200
    replayed = harness.invoke("VonageFunction", to_event(SignedRequest("GET", url), at=SIGNED_AT))
    assert replayed["statusCode"] == 200  # it verifies: the ingress cannot tell
    assert [e["type"] for e in recorded(harness)] == ["sms.receipt"]
    assert forged_logged(caplog)


@pytest.mark.parametrize(
    ("route", "file", "kind", "ttl"),
    [
        ("/twilio/verify-push", "verify_push/challenge-approved", "twilio", "retention"),
        ("/vonage/sms/receipt", "sms/receipt-delivered", "vonage-sms", "window"),
        ("/vonage/messages/status", "messages/status-delivered", "vonage-jwt", "window"),
    ],
)
def test_each_signature_binding_outlives_its_replay_window(
    harness: Harness, route: str, file: str, kind: str, ttl: str
) -> None:
    request = sign(ROUTES[route], sample(file).payload, SECRETS, BASE, now=SIGNED_AT)
    function = "TwilioFunction" if route.startswith("/twilio") else "VonageFunction"
    assert harness.invoke(function, to_event(request, at=SIGNED_AT))["statusCode"] in (200, 204)
    harness.drain()
    bindings = [i for i in harness.all_items() if i["pk"]["S"].startswith(CREDENTIAL_PREFIX)]
    assert [b["pk"]["S"].removeprefix(CREDENTIAL_PREFIX).partition(":")[0] for b in bindings] == [kind]
    history = next(i for i in harness.all_items() if i["sk"]["S"].startswith(HISTORY_PREFIX))
    lifetime = int(bindings[0]["expires_at"]["N"]) - int(history["expires_at"]["N"])
    retention_s = int(harness.template["Parameters"]["RetentionDays"]["Default"]) * 86400
    if ttl == "retention":  # Twilio signs no time: the binding lives as long as the history
        assert lifetime >= 0
    else:  # the 72 h replay window is capped in the template; the binding lives 4 days
        assert lifetime == CREDENTIAL_TTL_S - retention_s


# --- §2 hostile input never poisons a later read --------------------------------------------------


def signed_json(route: str, body: bytes) -> SignedRequest:
    api_key, secret = next(iter(SECRETS.vonage_signature_secrets.items()))
    token = vonage_jwt(body, api_key, secret[0], iat=SIGNED_AT, application_id=None)
    headers = {"content-type": "application/json", "authorization": f"Bearer {token}"}
    return SignedRequest("POST", BASE + route, headers, body)


def test_free_text_with_a_lone_surrogate_is_stored_repaired_and_every_read_works(harness: Harness) -> None:
    payload = dict(sample("messages/inbound-sms").payload, text="split emoji \ud83d")
    body = json.dumps(payload, ensure_ascii=True).encode()  # the escape travels as "\ud83d"
    assert b"\\ud83d" in body
    response = harness.invoke(
        "VonageFunction", to_event(signed_json("/vonage/messages/inbound", body), at=SIGNED_AT)
    )
    assert response["statusCode"] == 200
    (event,) = recorded(harness)
    assert event["data"]["text"] == "split emoji \ufffd"
    assert event["repaired_fields"] == ["/data/text"]
    answer = harness.invoke("StatusFunction", {"pathParameters": {"subject_id": payload["message_uuid"]}})
    assert answer["statusCode"] == 200
    assert json.loads(answer["body"])["history"][0]["repaired_fields"] == ["/data/text"]


def test_a_lone_surrogate_in_a_subject_id_is_refused_and_nothing_is_stored(harness: Harness) -> None:
    payload = dict(sample("messages/status-delivered").payload, message_uuid="id-\udfff")
    body = json.dumps(payload, ensure_ascii=True).encode()
    response = harness.invoke(
        "VonageFunction", to_event(signed_json("/vonage/messages/status", body), at=SIGNED_AT)
    )
    assert (response["statusCode"], json.loads(response["body"])["error"]) == (400, "invalid_encoding")
    assert recorded(harness) == []


def test_json_nested_past_the_limit_is_refused_before_it_can_be_stored(harness: Harness) -> None:
    payload = dict(sample("messages/inbound-sms").payload)
    body = json.dumps(payload)[:-1].encode() + b',"deep":' + b"[" * 9990 + b"]" * 9990 + b"}"
    response = harness.invoke(
        "VonageFunction", to_event(signed_json("/vonage/messages/inbound", body), at=SIGNED_AT)
    )
    assert (response["statusCode"], json.loads(response["body"])["error"]) == (400, "invalid_json")
    assert recorded(harness) == []


def test_the_status_api_serves_an_item_stored_before_the_limits_instead_of_answering_500(
    harness: Harness,
) -> None:
    # What an earlier version stored from a 9,990-deep signed body: every read used to be a 500.
    deep = '{"data":' + "[" * 9990 + "]" * 9990 + "}"
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15, 9, zlib.Z_DEFAULT_STRATEGY, storage._DICTIONARY)
    item = {
        "pk": {"S": storage.subject_pk("vonage", "messages", "poisoned")},
        "sk": {"S": HISTORY_PREFIX + "evt_" + "1" * 32},
        "v": {"N": str(storage.LAYOUT_VERSION)},
        "type": {"S": "messages.inbound"},
        "status": {"S": "received"},
        "event": {"B": b"\x01" + deflate.compress(deep.encode()) + deflate.flush()},
    }
    harness.client("dynamodb").put_item(TableName=harness.stack.refs["HistoryTable"], Item=item)
    answer = harness.invoke("StatusFunction", {"pathParameters": {"subject_id": "poisoned"}})
    assert answer["statusCode"] == 200
    (event,) = json.loads(answer["body"])["history"]
    assert (event["event_id"], event["status"], event["subject_id"]) == (
        "evt_" + "1" * 32,
        "received",
        "poisoned",
    )
    assert "unreadable" in event["data"]
