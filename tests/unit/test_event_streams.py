"""Twilio Event Streams (POST /twilio/event-streams): the verifier (``twilio_event_streams``), the
CloudEvent parser (Verify verification events → ``verify`` of Twilio, any other type → ``event_streams``),
the ranks, the answer and the dev signer.

Requests are signed with the vendor's own ``RequestValidator`` (tests/reference_signers.py); expected
values are written out by hand from the sample files."""

from __future__ import annotations

import copy
import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import urlsplit

import pytest
from twilio.request_validator import RequestValidator

from shared import storage
from shared.config import ProviderSecrets, Settings
from shared.errors import (
    InvalidEncoding,
    InvalidField,
    InvalidJson,
    MissingField,
    PayloadHashMismatch,
    SignatureInvalid,
    SignatureMissing,
    SwitchboardError,
    UnknownAccount,
    UnsupportedMediaType,
)
from shared.http import HttpRequest
from shared.ingress import Received, receive_with_credential
from shared.normalise import normalise
from shared.providers.twilio import event_streams
from shared.providers.twilio.verifiers import twilio_event_streams
from shared.secrets import SecretsSource
from shared.status_rank import Position, position, supersedes
from shared.webhook import EVENT_ID_HEADER, WebhookDeps, handle_webhook, sqs_batch_enqueuer, sqs_enqueuer
from switchboard import cli
from switchboard.apigw import http_event
from switchboard.samples import dev_secrets
from switchboard.signing import sign
from tests.reference_signers import twilio_event_streams_request

PAYLOADS = Path(__file__).resolve().parents[2] / "events" / "payloads" / "event_streams"
HOST = "hooks.example.com"
PATH = "/twilio/event-streams"
SINK = f"https://{HOST}{PATH}"
ACCOUNT, TOKEN = "AC" + "a" * 32, "token-one-" + "1" * 22  # the samples' account
OTHER_ACCOUNT, OTHER_TOKEN = "AC" + "2" * 32, "token-two-" + "2" * 22
SECRETS = ProviderSecrets(twilio_auth_tokens={ACCOUNT: (TOKEN,), OTHER_ACCOUNT: (OTHER_TOKEN, "older-2")})
ACCOUNT_OF = {TOKEN: ACCOUNT, OTHER_TOKEN: OTHER_ACCOUNT, "older-2": OTHER_ACCOUNT}
SAMPLE_ACCOUNTS = (b"AC" + b"a" * 32,)  # the documentation's placeholder
NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)
RECEIVED = "2026-11-23T12:00:00.000Z"
VERIFY_PREFIX = "com.twilio.accountsecurity.verify.verification."


def load(name: str) -> list[dict[str, Any]]:
    data = json.loads((PAYLOADS / name).read_text(encoding="utf-8"))
    assert isinstance(data, list)
    return data


def body_of(events: Any) -> bytes:
    return json.dumps(events, separators=(",", ":")).encode("utf-8")


def request(
    body: bytes,
    *,
    sink: str = SINK,
    token: str = TOKEN,
    content_type: str = "application/json",
    signature: str | None = None,
    deliver_to: str | None = None,
) -> HttpRequest:
    """``body`` as Twilio delivers it to ``sink`` (signed with ``token``), arriving at ``deliver_to``.
    The samples' account SIDs become the signing account's: Twilio sends an account its own events
    (and the receiver refuses an event naming another account)."""
    for sample_account in SAMPLE_ACCOUNTS:
        body = body.replace(sample_account, ACCOUNT_OF.get(token, ACCOUNT).encode())
    url, signed = twilio_event_streams_request(sink, body, token)
    parts = urlsplit(deliver_to or url)
    headers = {"content-type": content_type, "x-twilio-signature": signed if signature is None else signature}
    if not headers["x-twilio-signature"]:
        del headers["x-twilio-signature"]
    return HttpRequest("POST", parts.path, parts.query, headers, body, parts.scheme, parts.netloc)


def receive(
    req: HttpRequest, secrets: ProviderSecrets = SECRETS, settings: Settings | None = None
) -> Received:
    return receive_with_credential(req, secrets, settings or Settings(), now=NOW)


def refused(
    req: HttpRequest, error: type[SwitchboardError], secrets: ProviderSecrets = SECRETS
) -> SwitchboardError:
    with pytest.raises(error) as caught:
        receive(req, secrets)
    assert type(caught.value) is error
    return caught.value


def cloudevent_id(product: str, event_id: str) -> str:
    """The event id written out from its definition (shared.payload.event_id_for)."""
    material = "\x1f".join(["twilio", product, "cloudevent", event_id])
    return "evt_" + hashlib.sha256(material.encode()).hexdigest()[:32]


# --- the samples ---------------------------------------------------------------------------------


class Expected(NamedTuple):
    product: str
    type: str
    subject_id: str
    status: str
    occurred_at: str
    channel: str | None


VERIFY = "verify.verification"
EXPECTED: dict[str, list[Expected]] = {
    "verify-approved.json": [
        Expected("verify", VERIFY, "VE" + "a" * 32, "approved", "2022-02-02T09:20:25.336Z", "sms")
    ],
    "verify-pending.json": [
        Expected(
            "verify",
            VERIFY,
            "VE1b6f2c3d4e5f60718293a4b5c6d7e8f9",
            "pending",
            "2026-11-23T11:40:00.412Z",
            "sms",
        )
    ],
    "verify-canceled.json": [
        Expected(
            "verify",
            VERIFY,
            "VE2c7a3d4e5f60718293a4b5c6d7e8f9a0",
            "canceled",
            "2026-11-23T11:42:10.005Z",
            "whatsapp",
        )
    ],
    "verify-expired.json": [
        Expected(
            "verify",
            VERIFY,
            "VE3d8b4e5f60718293a4b5c6d7e8f9a0b1",
            "expired",
            "2026-11-23T11:50:00.231Z",
            "call",
        )
    ],
    "verify-max-attempts-reached.json": [
        Expected(
            "verify",
            VERIFY,
            "VE4e9c5f60718293a4b5c6d7e8f9a0b1c2",
            "max_attempts_reached",
            "2026-11-23T11:44:31.870Z",
            "sms",
        )
    ],
    # The catalogue's shape: no `time` (a timestamp in datacontenttype): dated by data.created_at.
    "verify-pending-catalogue-shape.json": [
        Expected("verify", VERIFY, "VE" + "0" * 32, "pending", "2022-02-02T09:20:25.336Z", "sms")
    ],
    "batch-verify-lifecycle.json": [
        Expected(
            "verify",
            VERIFY,
            "VE5fad6071829304a5b6c7d8e9f0a1b2c3",
            "pending",
            "2026-11-23T11:40:00.412Z",
            "sms",
        ),
        Expected(
            "verify",
            VERIFY,
            "VE5fad6071829304a5b6c7d8e9f0a1b2c3",
            "approved",
            "2026-11-23T11:41:02.118Z",
            "sms",
        ),
    ],
    "test-event.json": [
        Expected(
            "event_streams",
            "event_streams.com.twilio.eventstreams.test_event",
            "Sink",
            "test_event",
            "2026-11-23T11:59:58.000Z",
            None,
        )
    ],
}


def test_every_sample_file_has_an_expected_row() -> None:
    assert {p.name for p in PAYLOADS.glob("*.json")} == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_a_signed_sample_yields_its_events_in_body_order(name: str) -> None:
    events = load(name)
    got = receive(request(body_of(events)))
    assert got.credential is None
    assert [
        Expected(e["product"], e["type"], e["subject_id"], e["status"], e["occurred_at"], e["channel"])
        for e in got.events
    ] == EXPECTED[name]
    for event, cloudevent in zip(got.events, events, strict=True):
        assert event["provider"] == "twilio"
        assert event["account_id"] == ACCOUNT  # the account whose token verified, not data.account_sid
        assert event["received_at"] == RECEIVED
        assert event["data"] == cloudevent  # the CloudEvent kept whole
        assert event["event_id"] == cloudevent_id(event["product"], cloudevent["id"])


# --- identity ------------------------------------------------------------------------------------


def test_a_retried_delivery_gets_the_same_ids_even_restamped() -> None:
    events = load("batch-verify-lifecycle.json")
    first = receive(request(body_of(events))).events
    restamped = [{**e, "time": "2026-11-23T13:00:00.000Z"} for e in events]
    retried = receive_with_credential(
        request(body_of(restamped)), SECRETS, Settings(), now=NOW + timedelta(hours=3)
    )
    assert [e["event_id"] for e in retried.events] == [e["event_id"] for e in first]


def test_a_new_cloudevent_id_is_a_new_event_and_one_id_twice_in_a_body_is_one_event() -> None:
    event = load("verify-approved.json")[0]
    other = {**event, "id": "f" * 64}
    got = receive(request(body_of([event, other, event]))).events
    assert [e["event_id"] for e in got] == [
        cloudevent_id("verify", event["id"]),
        cloudevent_id("verify", "f" * 64),
    ]


def test_a_twilio_verification_and_a_vonage_verify_request_of_one_id_are_two_subjects() -> None:
    twilio = receive(request(body_of(load("verify-approved.json")))).event
    vonage = normalise(
        "verify",
        None,
        {"type": "event", "request_id": twilio["subject_id"], "status": "completed"},
        account_id="devkey01",
        received_at=NOW,
    )
    assert (vonage["provider"], vonage["product"]) == ("vonage", "verify")
    assert storage.event_subject_pk(twilio) == f"S#twilio#verify#{twilio['subject_id']}"
    assert storage.event_subject_pk(vonage) != storage.event_subject_pk(twilio)
    assert vonage["event_id"] != twilio["event_id"]


# --- the CloudEvent parser -------------------------------------------------------------------------


def parse_one(cloudevent: dict[str, Any]) -> dict[str, Any]:
    return normalise(
        "event_streams", None, cloudevent, account_id=ACCOUNT, received_at=NOW, provider="twilio"
    )


APPROVED = load("verify-approved.json")[0]


@pytest.mark.parametrize("name", ["id", "type"])
@pytest.mark.parametrize("value", [None, ""])
def test_a_cloudevent_without_id_or_type_is_refused_with_missing_field(name: str, value: Any) -> None:
    for event in ({**APPROVED, name: value}, {k: v for k, v in APPROVED.items() if k != name}):
        with pytest.raises(MissingField) as caught:
            parse_one(event)
        assert caught.value.diagnostic["field"] == name


@pytest.mark.parametrize("name", ["id", "type"])
@pytest.mark.parametrize("value", [5, 5.0, True, ["x"], {"x": 1}])
def test_an_id_or_type_that_is_not_a_string_is_refused_with_invalid_field(name: str, value: Any) -> None:
    with pytest.raises(InvalidField):
        parse_one({**APPROVED, name: value})


def test_the_verification_sid_falls_back_to_the_ve_segment_of_source() -> None:
    data = {k: v for k, v in APPROVED["data"].items() if k != "verification_sid"}
    event = parse_one({**APPROVED, "data": data})
    assert event["subject_id"] == "VE" + "a" * 32
    for source in ("Sink", "/v1/Accounts/AC1/Services/VA1", None, 42):
        with pytest.raises(MissingField):
            parse_one({**APPROVED, "data": data, "source": source})
    with pytest.raises(MissingField):
        parse_one({**APPROVED, "data": "not an object", "source": "/v1/Services/VA1"})


@pytest.mark.parametrize(
    ("changes", "occurred_at"),
    [
        ({}, "2022-02-02T09:20:25.336Z"),  # time
        ({"time": None}, "2022-02-02T09:20:25.336Z"),  # approved: data.verified_at
        ({"time": "not a time"}, "2022-02-02T09:20:25.336Z"),
        (
            {
                "time": None,
                "data": {**APPROVED["data"], "verified_at": None, "created_at": "2022-02-02T09:19:00Z"},
            },
            "2022-02-02T09:19:00.000Z",
        ),
        ({"time": None, "data": None}, RECEIVED),
    ],
)
def test_occurred_at_is_the_cloudevent_time_else_the_verification_times_else_received(
    changes: dict[str, Any], occurred_at: str
) -> None:
    assert parse_one({**APPROVED, **changes})["occurred_at"] == occurred_at


def test_an_expired_verification_without_time_is_dated_by_expired_at() -> None:
    expired = load("verify-expired.json")[0]
    assert parse_one({**expired, "time": None})["occurred_at"] == "2026-11-23T11:50:00.000Z"


@pytest.mark.parametrize(
    "attempts",
    [None, "x", {"attempts": None}, {"attempts": []}, {"attempts": ["x"]}, {"attempts": [{"channel": 5}]}],
)
def test_a_verification_without_a_readable_send_attempt_has_no_channel(attempts: Any) -> None:
    data = {**APPROVED["data"], "send_code_attempts": attempts}
    assert parse_one({**APPROVED, "data": data})["channel"] is None


def test_the_channel_is_the_last_send_attempts_lower_cased() -> None:
    attempts = [{"channel": "SMS"}, {"channel": "WhatsApp"}]
    data = {**APPROVED["data"], "send_code_attempts": {"count": 2, "attempts": attempts}}
    assert parse_one({**APPROVED, "data": data})["channel"] == "whatsapp"


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        ("com.twilio.accountsecurity.verify.verification.pending", "pending"),
        ("com.twilio.accountsecurity.verify.verification.max-attempts-reached", "max_attempts_reached"),
        ("com.twilio.accountsecurity.verify.verification.max_attempts_reached", "max_attempts_reached"),
        ("COM.Twilio.AccountSecurity.Verify.Verification.Approved", "approved"),
        ("com.twilio.accountsecurity.verify.verification.rejected", "rejected"),  # a status to come
    ],
)
def test_every_verification_type_is_filed_under_twilio_verify(raw: str, status: str) -> None:
    event = parse_one({**APPROVED, "type": raw})
    assert (event["provider"], event["product"], event["type"], event["status"]) == (
        "twilio",
        "verify",
        "verify.verification",
        status,
    )


@pytest.mark.parametrize(
    ("raw", "kind", "status"),
    [
        ("com.twilio.eventstreams.test-event", "com.twilio.eventstreams.test_event", "test_event"),
        ("com.twilio.messaging.message.delivered", "com.twilio.messaging.message.delivered", "delivered"),
        # deeper than a verification type: not one
        (
            VERIFY_PREFIX + "approved.extra",
            "com.twilio.accountsecurity.verify.verification.approved.extra",
            "extra",
        ),
        (
            "com.twilio.accountsecurity.verify.verification.",
            "com.twilio.accountsecurity.verify.verification",
            "verification",
        ),
        ("Çà.va", "__.va", "va"),
    ],
)
def test_any_other_type_is_kept_as_event_streams(raw: str, kind: str, status: str) -> None:
    event = parse_one({**APPROVED, "type": raw, "subject": "SM123"})
    assert (event["product"], event["type"], event["subject_id"], event["status"]) == (
        "event_streams",
        f"event_streams.{kind}",
        "SM123",
        status,
    )
    assert event["channel"] is None


def test_an_event_streams_subject_is_the_cloudevents_subject_else_its_source() -> None:
    test_event = load("test-event.json")[0]
    assert parse_one({**test_event, "subject": ""})["subject_id"] == "Sink"
    assert parse_one({**test_event, "subject": 7})["subject_id"] == "Sink"
    assert parse_one({**test_event, "subject": "DG123"})["subject_id"] == "DG123"
    with pytest.raises(MissingField) as caught:
        parse_one({k: v for k, v in test_event.items() if k != "source"})
    assert caught.value.diagnostic["field"] == "source"
    with pytest.raises(InvalidField):
        parse_one({**test_event, "source": ["Sink"]})


def test_a_type_longer_than_256_characters_is_refused() -> None:
    with pytest.raises(InvalidField):
        parse_one({**APPROVED, "type": "a." * 200})


def test_a_lone_surrogate_in_an_id_or_subject_is_refused_and_in_free_text_repaired() -> None:
    with pytest.raises(InvalidEncoding):
        parse_one({**APPROVED, "id": "abc\ud800"})
    with pytest.raises(InvalidEncoding):
        parse_one({**APPROVED, "data": {**APPROVED["data"], "verification_sid": "VE\udfff"}})
    event = parse_one({**APPROVED, "data": {**APPROVED["data"], "friendly_name": "my \ud83d service"}})
    assert event["data"]["data"]["friendly_name"] == "my \ufffd service"
    assert event["repaired_fields"] == ["/data/data/friendly_name"]


# --- the body: an array of objects ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b'{"id":"x","type":"y"}', InvalidJson),
        (b'"x"', InvalidJson),
        (b"null", InvalidJson),
        (b"", InvalidJson),
        (b"[1,2", InvalidJson),
        (b"[" * 65 + b"]" * 65, InvalidJson),
        (b"[NaN]", InvalidJson),
        (b"[1e400]", InvalidJson),
        (b"\xff[]", InvalidEncoding),
        (b"[1]", InvalidField),
        (b'[{"id":"a","type":"t","source":"s"},[]]', InvalidField),
        (b'[{"id":"a","type":"t","source":"s"},null]', InvalidField),
    ],
)
def test_a_signed_body_that_is_not_an_array_of_objects_is_refused_with_a_400(
    body: bytes, error: type[SwitchboardError]
) -> None:
    assert refused(request(body), error).status == 400


def test_an_item_that_is_not_an_object_is_named_by_its_index() -> None:
    err = refused(request(body_of([APPROVED, APPROVED, "x"])), InvalidField)
    assert err.diagnostic["field"] == "[2]"


def test_one_bad_cloudevent_refuses_the_whole_delivery() -> None:
    err = refused(request(body_of([APPROVED, {"type": "t", "source": "s"}])), MissingField)
    assert err.code == "missing_field"


def test_an_empty_array_is_accepted_and_yields_no_event() -> None:
    assert receive(request(b"[]")).events == []


def test_more_than_100_events_are_refused_whole() -> None:
    events = [{**APPROVED, "id": f"{i:064x}"} for i in range(101)]
    err = refused(request(body_of(events)), InvalidField)
    assert err.diagnostic["events"] == 101
    assert len(receive(request(body_of(events[:100]))).events) == 100


def test_json_array_reads_the_body_as_json_object_does() -> None:
    def req(body: bytes) -> HttpRequest:
        return HttpRequest("POST", PATH, body=body)

    assert req(b'[{"a":"\\ud800"}]').json_array() == [{"a": "\ud800"}]  # kept; normalise repairs
    assert req(b"[" * 64 + b"]" * 64).json_array()  # the depth bound counts the array itself
    for bad in (b"[" * 65 + b"]" * 65, b"{}", b'"[]"'):
        with pytest.raises(InvalidJson):
            req(bad).json_array()


# --- verification -----------------------------------------------------------------------------------

BODY = body_of(load("verify-approved.json"))


def test_the_vendors_json_vector_verifies_then_is_refused_for_not_being_an_array() -> None:
    """twilio-python's JSON vector (token 12345): the signature and body hash check out, so the
    refusal is the body's shape, not the signature."""
    body = b'{"property": "value", "boolean": true}'
    url = (
        "https://mycompany.com/myapp.php?foo=1&bar=2"
        "&bodySHA256=0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620"
    )
    signature = "a9nBmqA0ju/hNViExpshrM61xv4="
    assert RequestValidator("12345").validate(url, body.decode(), signature)
    parts = urlsplit(url)
    req = HttpRequest(
        "POST", parts.path, parts.query, {"content-type": "application/json", "x-twilio-signature": signature}, body,
        "https", parts.netloc,
    )  # fmt: skip
    secrets = ProviderSecrets(twilio_auth_tokens={"AC81cffb679132d4154463d551b34dec2b": ("12345",)})
    route = event_streams.EVENT_STREAMS.routes[0]
    with pytest.raises(InvalidJson):
        twilio_event_streams(req, route, secrets, Settings(), NOW.timestamp())
    wrong = ProviderSecrets(twilio_auth_tokens={"AC81cffb679132d4154463d551b34dec2b": ("54321",)})
    with pytest.raises(SignatureInvalid):
        twilio_event_streams(req, route, wrong, Settings(), NOW.timestamp())


def test_the_account_is_the_one_whose_token_verifies_whichever_is_tried_first() -> None:
    assert receive(request(BODY, token=TOKEN)).event["account_id"] == ACCOUNT
    assert receive(request(BODY, token=OTHER_TOKEN)).event["account_id"] == OTHER_ACCOUNT
    assert receive(request(BODY, token="older-2")).event["account_id"] == OTHER_ACCOUNT  # rotation


def test_a_missing_or_blank_signature_is_refused_with_signature_missing() -> None:
    refused(request(BODY, signature=""), SignatureMissing)
    refused(request(BODY, signature="   "), SignatureMissing)


def test_a_token_of_no_configured_account_is_refused_with_signature_invalid() -> None:
    err = refused(request(BODY, token="someone-elses-token"), SignatureInvalid)
    assert err.diagnostic["accounts_tried"] == 2


def test_with_no_twilio_account_configured_nothing_verifies() -> None:
    refused(request(BODY), UnknownAccount, ProviderSecrets())
    refused(request(BODY, signature=""), SignatureMissing, ProviderSecrets())


def test_a_tampered_body_is_refused_with_payload_hash_mismatch_before_any_token_is_tried() -> None:
    req = request(BODY)
    tampered = HttpRequest(
        req.method,
        req.raw_path,
        req.raw_query,
        req.headers,
        BODY.replace(b"APPROVED", b"CANCELED"),
        req.scheme,
        req.host,
    )
    refused(tampered, PayloadHashMismatch)
    reencoded = json.dumps(json.loads(BODY), indent=1).encode()  # the same JSON, other bytes
    refused(
        HttpRequest(req.method, req.raw_path, req.raw_query, req.headers, reencoded, req.scheme, req.host),
        PayloadHashMismatch,
    )


def test_a_url_without_body_sha256_is_refused_even_when_signed() -> None:
    signature = RequestValidator(TOKEN).compute_signature(SINK, {})
    refused(request(BODY, signature=signature, deliver_to=SINK), PayloadHashMismatch)


def test_a_body_hash_of_another_body_in_a_correctly_signed_url_is_refused() -> None:
    url, signature = twilio_event_streams_request(SINK, b"[]", TOKEN)
    refused(request(BODY, signature=signature, deliver_to=url), PayloadHashMismatch)


def test_the_hash_recomputed_for_a_new_body_breaks_the_signature() -> None:
    original = request(BODY)
    forged = BODY.replace(b"APPROVED", b"CANCELED")
    url, _ = twilio_event_streams_request(SINK, forged, "not-known")
    refused(
        request(forged, signature=original.headers["x-twilio-signature"], deliver_to=url), SignatureInvalid
    )


@pytest.mark.parametrize(
    "deliver_to",
    [
        "https://attacker.example.com/twilio/event-streams",
        "http://hooks.example.com/twilio/event-streams",
        "https://hooks.example.com/twilio/event-streams/",
        "https://hooks.example.com/twilio/verify-push",
        "https://hooks.example.com/twilio/event-streams?x=1",
    ],
)
def test_a_signature_for_one_url_does_not_verify_at_another(deliver_to: str) -> None:
    url, signature = twilio_event_streams_request(SINK, BODY, TOKEN)
    query = urlsplit(url).query
    target = f"{deliver_to}{'&' if '?' in deliver_to else '?'}{query}"
    req = request(BODY, signature=signature, deliver_to=target)
    with pytest.raises(SwitchboardError) as caught:  # the Verify Push route refuses an array first
        receive(req)
    assert caught.value.code in ("signature_invalid", "invalid_json")


def test_the_default_port_variants_verify_as_twilio_signs_them() -> None:
    url, signature = twilio_event_streams_request(f"https://{HOST}:443{PATH}", BODY, TOKEN)
    assert receive(request(BODY, signature=signature, deliver_to=url.replace(":443", ""))).events


def test_a_sink_url_with_its_own_query_and_a_public_base_url_verify() -> None:
    settings = Settings(public_base_url="https://sb.example.org/prod")
    url, signature = twilio_event_streams_request(f"https://sb.example.org/prod{PATH}?tenant=a", BODY, TOKEN)
    parts = urlsplit(url)
    req = HttpRequest(
        "POST",
        "/prod" + PATH,
        parts.query,
        {"content-type": "application/json", "x-twilio-signature": signature},
        BODY,
        "https",
        "abc.execute-api.us-east-1.amazonaws.com",
    )
    assert receive(req, settings=settings).event["subject_id"] == "VE" + "a" * 32


@pytest.mark.parametrize(
    "content_type", ["application/x-www-form-urlencoded", "text/plain", "", "multipart/form-data"]
)
def test_a_body_that_is_not_json_is_refused_with_415(content_type: str) -> None:
    refused(request(BODY, content_type=content_type), UnsupportedMediaType)


@pytest.mark.parametrize("content_type", ["application/json; charset=utf-8", "APPLICATION/JSON", "text/json"])
def test_json_content_types_are_accepted(content_type: str) -> None:
    assert receive(request(BODY, content_type=content_type)).events


# --- the answer and the queue ------------------------------------------------------------------------


class RecordingSqs:
    """Records every SQS call the real enqueuers make."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    def send_message(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(("send_message", kwargs))
        return {"MessageId": "1"}

    def send_message_batch(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(("send_message_batch", kwargs))
        return {"Successful": [{"Id": e["Id"]} for e in kwargs["Entries"]], "Failed": []}


def deps(sqs: RecordingSqs) -> WebhookDeps:
    text = json.dumps({"twilio": {"auth_tokens": {ACCOUNT: [TOKEN]}}})
    return WebhookDeps(
        settings=Settings(),
        secrets=SecretsSource(lambda force: text, source="test"),
        enqueue=sqs_enqueuer(sqs, "ingest"),
        enqueue_many=sqs_batch_enqueuer(sqs, "ingest"),
        clock=lambda: NOW,
    )


def send(body: bytes, **kw: Any) -> tuple[dict[str, Any], RecordingSqs]:
    req = request(body, **kw)
    event = http_event(req.method, req.raw_path, req.raw_query, dict(req.headers), req.body, host=req.host)
    sqs = RecordingSqs()
    d = deps(sqs)
    return handle_webhook(event, "twilio", lambda: d), sqs


def test_a_delivery_is_answered_with_every_event_id_and_queued_in_one_batch_without_credential() -> None:
    response, sqs = send(body_of(load("batch-verify-lifecycle.json")))
    assert response["statusCode"] == 200
    ids = json.loads(response["body"])["event_ids"]
    assert len(ids) == 2 and response["headers"][EVENT_ID_HEADER] == ids[0]
    assert [name for name, _ in sqs.calls] == ["send_message_batch"]
    entries = sqs.calls[0][1]["Entries"]
    assert [json.loads(e["MessageBody"])["event_id"] for e in entries] == ids
    assert all(e["MessageAttributes"] == {} for e in entries)  # no credential to bind


def test_an_empty_array_is_answered_200_with_no_ids_and_queues_nothing() -> None:
    response, sqs = send(b"[]")
    assert (response["statusCode"], json.loads(response["body"])) == (200, {"event_ids": []})
    assert EVENT_ID_HEADER not in response["headers"]
    assert sqs.calls == []


def test_get_is_refused_405() -> None:
    event = http_event("GET", PATH, "", {}, b"", host=HOST)
    sqs = RecordingSqs()
    response = handle_webhook(event, "twilio", lambda: deps(sqs))
    assert (response["statusCode"], json.loads(response["body"])["error"]) == (405, "method_not_allowed")


# --- ranks -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("pending", Position(10, False)),
        ("approved", Position(100, True)),
        ("canceled", Position(100, True)),
        ("expired", Position(100, True)),
        ("max_attempts_reached", Position(100, True)),
        ("rejected", Position(50, False)),
    ],
)
def test_twilio_verify_ranks(status: str, expected: Position) -> None:
    assert position("verify", "verify.verification", status, "twilio") == expected


def test_twilio_verify_ranks_leave_vonage_verify_alone() -> None:
    assert position("verify", "verify.event", "completed") == Position(70, True)
    assert position("verify", "verify.event", "expired") == Position(60, False)


@pytest.mark.parametrize("status", ["test_event", "delivered", "approved", "failed"])
def test_an_event_streams_status_is_never_terminal_and_the_latest_wins(status: str) -> None:
    here = position("event_streams", "event_streams.com.twilio.x", status, "twilio")
    assert here == Position(50, False)
    assert supersedes(here, "2026-11-23T12:00:01.000Z", here, "2026-11-23T12:00:00.000Z")
    assert not supersedes(here, "2026-11-23T11:59:59.000Z", here, "2026-11-23T12:00:00.000Z")


def test_a_pending_arriving_after_approved_never_becomes_current() -> None:
    pending, approved = (position("verify", VERIFY, s, "twilio") for s in ("pending", "approved"))
    assert supersedes(approved, "2026-11-23T11:41:02.118Z", pending, "2026-11-23T11:40:00.412Z")
    assert not supersedes(pending, "2026-11-23T11:40:00.412Z", approved, "2026-11-23T11:41:02.118Z")


# --- the dev signer and `send --status` ------------------------------------------------------------


def test_the_dev_signer_signs_as_the_vendor_validates() -> None:
    route = event_streams.EVENT_STREAMS.routes[0]
    events = load("batch-verify-lifecycle.json")
    secrets = ProviderSecrets(twilio_auth_tokens={ACCOUNT: (TOKEN,)})
    signed = sign(route, events, secrets, f"https://{HOST}", now=0)
    assert (signed.method, signed.path, signed.headers["content-type"]) == ("POST", PATH, "application/json")
    assert signed.query == "bodySHA256=" + hashlib.sha256(signed.body).hexdigest()
    assert json.loads(signed.body) == events
    assert RequestValidator(TOKEN).validate(
        signed.url, signed.body.decode(), signed.headers["x-twilio-signature"]
    )
    assert (signed.url, signed.headers["x-twilio-signature"]) == twilio_event_streams_request(
        SINK, signed.body, TOKEN
    )


def test_with_status_makes_a_new_verification_event_and_the_same_status_twice_the_same_one() -> None:
    original = load("verify-approved.json")
    canceled = event_streams.with_status(copy.deepcopy(original), "canceled")
    again = event_streams.with_status(copy.deepcopy(original), "canceled")
    assert canceled == again
    assert canceled[0]["type"] == VERIFY_PREFIX + "canceled"
    assert canceled[0]["data"]["verification_status"] == "CANCELED"
    assert canceled[0]["id"] == hashlib.sha256(f"{original[0]['id']}/canceled".encode()).hexdigest()
    event = parse_one(canceled[0])
    assert (event["status"], event["subject_id"]) == ("canceled", "VE" + "a" * 32)
    assert event["event_id"] != parse_one(original[0])["event_id"]
    maxed = event_streams.with_status(copy.deepcopy(original), "max_attempts_reached")[0]
    assert maxed["type"] == VERIFY_PREFIX + "max-attempts-reached"
    assert maxed["data"]["verification_status"] == "MAX_ATTEMPTS_REACHED"
    assert parse_one(maxed)["status"] == "max_attempts_reached"


@pytest.mark.parametrize(
    ("sample", "status"), [("test-event.json", "canceled"), ("verify-approved.json", "no way")]
)
def test_with_status_refuses_what_it_cannot_change(sample: str, status: str) -> None:
    with pytest.raises(ValueError):
        event_streams.with_status(load(sample), status)


def test_switchboard_send_with_status_delivers_a_signed_canceled_verification(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`switchboard send event_streams/verify-approved --status canceled,canceled`: the same new event
    twice (a retry), signed so that the route's verifier takes it."""
    sent: list[tuple[str, str, bytes, dict[str, str]]] = []

    def fake_http(method: str, url: str, body: bytes = b"", headers: dict[str, str] | None = None) -> Any:
        sent.append((method, url, body, dict(headers or {})))
        return 200, {}, b"{}"

    monkeypatch.setattr(cli, "_http", fake_http)
    argv = [
        "send",
        "event_streams/verify-approved",
        "--status",
        "canceled,canceled",
        "--url",
        f"https://{HOST}",
    ]
    assert cli.main(argv) == 0
    dev = dev_secrets()
    got = []
    for method, url, body, headers in sent:
        parts = urlsplit(url)
        req = HttpRequest(method, parts.path, parts.query, headers, body, parts.scheme, parts.netloc)
        got.append(receive(req, dev).event)
    assert [(e["product"], e["status"], e["subject_id"]) for e in got] == [
        ("verify", "canceled", "VE" + "a" * 32)
    ] * 2
    assert got[0]["event_id"] == got[1]["event_id"] != cloudevent_id("verify", APPROVED["id"])


def _named(account: str | None, *, source_account: str | None = None) -> bytes:
    event = copy.deepcopy(APPROVED)
    if account is None:
        del event["data"]["account_sid"]
    else:
        event["data"]["account_sid"] = account
    if source_account == "":  # a source that names no account
        event["source"] = event["source"].replace("/Accounts/AC" + "a" * 32, "")
    else:
        event["source"] = event["source"].replace(
            "AC" + "a" * 32, source_account or account or "AC" + "a" * 32
        )
    return body_of([event])


@pytest.mark.parametrize(
    ("named", "source"),
    [
        (ACCOUNT, ACCOUNT),  # another configured account (the signer is OTHER_ACCOUNT)
        ("AC" + "9" * 32, "AC" + "9" * 32),  # an account with no token here
        (OTHER_ACCOUNT, ACCOUNT),  # data says the signer, source another
        (None, ""),  # a verification that names no account at all
    ],
)
def test_one_accounts_token_never_vouches_for_another_accounts_verification(
    named: str | None, source: str
) -> None:
    """Subjects are keyed by the verification SID, not the account: with two accounts configured,
    account B's token must not move account A's verification."""
    body = _named(named, source_account=source)
    req = request(body, token=OTHER_TOKEN)
    # request() maps the samples' placeholder account to the signer's: undo it for this body.
    url, signed = twilio_event_streams_request(SINK, body, OTHER_TOKEN)
    parts = urlsplit(url)
    req = HttpRequest(
        "POST", parts.path, parts.query, {"content-type": "application/json", "x-twilio-signature": signed},
        body, parts.scheme, parts.netloc,
    )  # fmt: skip
    error = refused(req, SignatureInvalid)
    assert error.diagnostic.get("item") == 0


def test_an_accounts_own_verification_and_an_event_naming_no_account_are_taken() -> None:
    own = receive(request(_named(OTHER_ACCOUNT), token=OTHER_TOKEN))
    assert own.event["account_id"] == OTHER_ACCOUNT and own.event["product"] == "verify"
    test_event = load("test-event.json")
    assert receive(request(body_of(test_event), token=OTHER_TOKEN)).event["product"] == "event_streams"
