"""Issue 9 at the ingress, pure: signature-boundary re-splits, hostile JSON, and event identity.

Each test fails if its defence is removed; the generated classes live in tests/hardening.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlencode

import pytest

from shared import webhook
from shared.config import Settings
from shared.errors import InvalidEncoding, InvalidField, InvalidJson, MissingField, SwitchboardError
from shared.http import HttpRequest
from shared.ingress import receive
from shared.normalise import event_id_for, normalise
from shared.secrets import SecretsSource
from shared.verify.twilio import compute_twilio_signature
from shared.verify.vonage_sms import compute_sms_signature
from shared.webhook import WebhookDeps, handle_webhook
from switchboard.apigw import http_event
from switchboard.samples import DEV_SECRETS, SIGNED_AT, dev_secrets, sample
from tests.reference_signers import sms_sig

SECRETS = dev_secrets()
NOW = datetime.fromtimestamp(SIGNED_AT, UTC)
HOST = "hooks.example.com"
API_KEY, SMS_SECRET = next((k, v[0]) for k, v in SECRETS.vonage_signature_secrets.items())
ACCOUNT_SID, AUTH_TOKEN = next((k, v[0]) for k, v in SECRETS.twilio_auth_tokens.items())


def rejected(request: HttpRequest) -> SwitchboardError:
    with pytest.raises(SwitchboardError) as caught:
        receive(request, SECRETS, Settings(), now=NOW)
    return caught.value


# --- §1 parameter names --------------------------------------------------------------------------


def sms_receipt() -> dict[str, str]:
    params = {k: str(v) for k, v in sample("sms/receipt-delivered").payload.items()}
    params.update({"api-key": API_KEY, "timestamp": str(SIGNED_AT), "nonce": "n-1"})
    params["sig"] = compute_sms_signature(params, SMS_SECRET, SECRETS.sms_method(API_KEY))
    return params


def test_an_sms_request_whose_two_parameters_travel_as_one_name_is_refused_though_its_sig_verifies() -> None:
    real = sms_receipt()
    # "&api-key=K&err-code=0" is also "&" + "api-key=K&err-code" + "=" + "0": one name, same sig.
    forged_name = f"api-key={real['api-key']}&err-code"
    forged = {k: v for k, v in real.items() if k not in ("api-key", "err-code")}
    forged[forged_name] = real["err-code"]
    assert sms_sig(forged, SMS_SECRET, SECRETS.sms_method(API_KEY)).lower() == real["sig"].lower()
    query = "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in forged.items())
    err = rejected(HttpRequest("GET", "/vonage/sms/receipt", query, host=HOST))
    assert (type(err), err.code, err.status) == (InvalidField, "invalid_field", 400)


@pytest.mark.parametrize("name", ["a.b", "a b", "a[0]", "ä", "a=b", "a&b", "", "a\x00", "uuid;"])
def test_a_twilio_parameter_name_outside_the_safe_set_is_refused_even_when_signed(name: str) -> None:
    params = {
        "uuid": "u-1",
        "type": "factor.created",
        "factor_sid": "YF1",
        "account_sid": ACCOUNT_SID,
        name: "x",
    }
    url = f"https://{HOST}/twilio/verify-push"
    signature = compute_twilio_signature(url, {k: [v] for k, v in params.items()}, AUTH_TOKEN)
    headers = {"content-type": "application/x-www-form-urlencoded", "x-twilio-signature": signature}
    err = rejected(
        HttpRequest("POST", "/twilio/verify-push", "", headers, urlencode(params).encode(), host=HOST)
    )
    assert (type(err), err.code, err.status) == (InvalidField, "invalid_field", 400)


def test_a_twilio_request_re_split_to_drop_its_uuid_is_refused_though_its_signature_verifies() -> None:
    real = {"account_sid": ACCOUNT_SID, "factor_sid": "YF1", "type": "factor.created", "uuid": "X-1"}
    forged = {k: v for k, v in real.items() if k != "uuid"} | {"u": "uidX-1"}  # "uuid"+"X-1" == "u"+"uidX-1"
    url = f"https://{HOST}/twilio/verify-push"

    def sign(params: dict[str, str]) -> str:
        return compute_twilio_signature(url, {k: [v] for k, v in params.items()}, AUTH_TOKEN)

    assert sign(forged) == sign(real)
    headers = {"content-type": "application/x-www-form-urlencoded", "x-twilio-signature": sign(real)}
    err = rejected(
        HttpRequest("POST", "/twilio/verify-push", "", headers, urlencode(forged).encode(), host=HOST)
    )
    assert (type(err), err.code, err.diagnostic) == (MissingField, "missing_field", {"field": "uuid"})


# --- §2 hostile JSON -------------------------------------------------------------------------------


def number_insight(body: bytes) -> HttpRequest:
    token = quote(str(SECRETS.number_insight_token))
    headers = {"content-type": "application/json"}
    return HttpRequest("POST", "/vonage/number-insight", f"token={token}", headers, body, host=HOST)


@pytest.mark.parametrize("depth", [65, 1000, 9990, 20000])
def test_json_deeper_than_64_is_invalid_json(depth: int) -> None:
    body = b'{"status":0,"request_id":"r1","x":' + b"[" * depth + b"]" * depth + b"}"
    err = rejected(number_insight(body))
    assert (type(err), err.code, err.status) == (InvalidJson, "invalid_json", 400)


def test_json_nested_63_deep_inside_the_body_is_accepted() -> None:
    body = b'{"status":0,"request_id":"r1","x":' + b"[" * 63 + b"]" * 63 + b"}"
    assert receive(number_insight(body), SECRETS, Settings(), now=NOW)["subject_id"] == "r1"


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e400", "-1e999"])
def test_numbers_json_cannot_carry_are_invalid_json(number: str) -> None:
    err = rejected(number_insight(f'{{"status":0,"request_id":"r1","x":{number}}}'.encode()))
    assert (err.code, err.status) == ("invalid_json", 400)


def test_a_400_digit_integer_in_free_data_is_kept_exactly() -> None:
    big = "9" * 400
    event = receive(
        number_insight(f'{{"status":0,"request_id":"r1","x":{big}}}'.encode()), SECRETS, Settings(), now=NOW
    )
    assert event["data"]["x"] == int(big)
    json.dumps(event, allow_nan=False)


@pytest.mark.parametrize("field", ["request_id", "status_message"])
@pytest.mark.parametrize("surrogate", ["\\ud800", "\\udfff", "\\ud83d"])
def test_a_lone_surrogate_is_refused_in_a_key_field_and_repaired_in_free_text(
    field: str, surrogate: str
) -> None:
    doc = {"status": 0, "request_id": "r1", "status_message": "ok"}
    body = json.dumps(doc).replace(f'"{doc[field]}"', f'"x{surrogate}"').encode()
    if field == "request_id":
        err = rejected(number_insight(body))
        assert (type(err), err.code, err.status) == (InvalidEncoding, "invalid_encoding", 400)
        return
    event = receive(number_insight(body), SECRETS, Settings(), now=NOW)
    assert event["data"]["status_message"] == "x\ufffd"
    assert event["repaired_fields"] == ["/data/status_message"]
    json.dumps(event, ensure_ascii=False).encode("utf-8")


def test_a_lone_surrogate_in_a_field_name_is_refused() -> None:
    err = rejected(number_insight(b'{"status":0,"request_id":"r1","k\\udc00":"v"}'))
    assert (err.code, err.status) == ("invalid_encoding", 400)


def test_a_valid_surrogate_pair_is_text_not_a_repair() -> None:
    event = receive(
        number_insight(b'{"status":0,"request_id":"r1","t":"\\ud83d\\ude00"}'), SECRETS, Settings(), now=NOW
    )
    assert event["data"]["t"] == "\U0001f600"
    assert "repaired_fields" not in event


# --- §3 two different deliveries never share an event id ---------------------------------------------


def messages_status(**changes: Any) -> dict[str, Any]:
    return normalise(
        "messages",
        "status",
        {**sample("messages/status-submitted").payload, **changes},
        account_id=None,
        received_at=NOW,
    )


def test_failover_attempts_with_the_same_uuid_status_and_timestamp_are_different_events() -> None:
    workflow = {"id": "wf-1", "items_total": 2}
    rcs = messages_status(channel="rcs", workflow={**workflow, "item_number": 1})
    sms = messages_status(channel="sms", workflow={**workflow, "item_number": 2})
    same_channel_next_item = messages_status(channel="rcs", workflow={**workflow, "item_number": 2})
    assert len({rcs["event_id"], sms["event_id"], same_channel_next_item["event_id"]}) == 3


def test_a_failover_item_number_as_a_string_or_an_integer_is_the_same_delivery() -> None:
    as_int = messages_status(channel="sms", workflow={"id": "wf-1", "item_number": 2, "items_total": 2})
    as_text = messages_status(channel="sms", workflow={"id": "wf-1", "item_number": "2", "total_items": "2"})
    assert as_int["event_id"] == as_text["event_id"]


def voice_input(digits: str) -> dict[str, Any]:
    payload = {**sample("voice/event-input-dtmf").payload, "dtmf": {"digits": digits, "timed_out": False}}
    return normalise("voice", "event", payload, account_id=None, received_at=NOW)


def test_two_dtmf_inputs_of_one_call_in_the_same_second_are_two_events() -> None:
    assert voice_input("1")["event_id"] != voice_input("2")["event_id"]


def test_the_same_voice_event_retried_later_is_the_same_event() -> None:
    later = normalise(
        "voice",
        "event",
        sample("voice/event-input-dtmf").payload,
        account_id=None,
        received_at=datetime.now(UTC),
    )
    assert (
        later["event_id"]
        == voice_input(sample("voice/event-input-dtmf").payload["dtmf"]["digits"])["event_id"]
    )


def test_every_event_id_starts_from_the_product() -> None:
    request_id = sample("number_insight/result-success").payload["request_id"]
    event = normalise(
        "number_insight", None, {"status": 0, "request_id": request_id}, account_id=None, received_at=NOW
    )
    assert event["event_id"] == event_id_for("vonage", ("number_insight", request_id, "result"))
    assert event["event_id"] != event_id_for("vonage", (request_id, "result"))


def test_an_undocumented_verify_push_field_is_accepted_and_logged_once_per_process(
    caplog: pytest.LogCaptureFixture,
) -> None:
    params = {**{k: str(v) for k, v in sample("verify_push/challenge-approved").payload.items()}}
    params |= {"account_sid": ACCOUNT_SID, "zz_added_by_twilio": "1"}
    url = f"https://{HOST}/twilio/verify-push"
    signature = compute_twilio_signature(url, {k: [v] for k, v in params.items()}, AUTH_TOKEN)
    headers = {"content-type": "application/x-www-form-urlencoded", "x-twilio-signature": signature}
    event = http_event("POST", "/twilio/verify-push", "", headers, urlencode(params).encode(), host=HOST)
    queued: list[Any] = []
    deps = WebhookDeps(
        settings=Settings(),
        secrets=SecretsSource(lambda force: DEV_SECRETS.read_text(), source="test"),
        enqueue=lambda e, credential: queued.append(e),
        clock=lambda: NOW,
    )
    webhook._UNDOCUMENTED_SEEN.clear()
    for _ in range(3):
        assert handle_webhook(event, "twilio", lambda: deps)["statusCode"] == 200
    logged = [r for r in caplog.records if r.getMessage() == "undocumented fields kept in data"]
    assert [getattr(r, "fields", None) for r in logged] == [["zz_added_by_twilio"]]
    assert len({e["event_id"] for e in queued}) == 1 and queued[0]["data"]["zz_added_by_twilio"] == "1"


@pytest.mark.parametrize(("strings", "bounded"), [(3, False), (32, False), (33, True)])
def test_repaired_fields_are_listed_one_by_one_up_to_a_bound_then_as_the_whole_payload(
    strings: int, bounded: bool
) -> None:
    # Each pointer repeats its parents' keys: unbounded, a 10 KB body made a 700 KB event.
    payload = {**sample("number_insight/result-success").payload}
    payload["notes"] = {f"k{i:03d}": "broken \ud83d here" for i in range(strings)}
    event = normalise("number_insight", None, payload, account_id=None, received_at=NOW)
    expected = ["/data"] if bounded else [f"/data/notes/k{i:03d}" for i in range(strings)]
    assert event["repaired_fields"] == expected
    assert event["data"]["notes"]["k000"] == "broken \ufffd here"
