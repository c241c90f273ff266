"""Fuzz every route: random and malformed methods, paths, headers, content types, encodings and
bodies never give a 500 or an unhandled exception, and nothing unsigned is ever enqueued. Signed
requests carrying random payloads are accepted or refused with a 4xx — never a 500."""

from __future__ import annotations

import base64
import copy
import json
import re
import string
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode, urlsplit

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from shared.config import ProviderSecrets, Settings
from shared.errors import ERROR_CODES
from shared.ingress import ROUTES
from shared.safejson import MAX_DEPTH
from shared.secrets import SecretsSource
from shared.webhook import WebhookDeps, handle_webhook, sqs_batch_enqueuer, sqs_enqueuer
from switchboard.apigw import http_event
from switchboard.samples import DEV_SECRETS, SAMPLE_HOST, samples, to_event
from switchboard.signing import sign
from tests.hardening.conftest import FUZZ_PROFILE
from tests.reference_signers import twilio_event_streams_request

NOW = 1_795_435_200
SECRETS_TEXT = DEV_SECRETS.read_text()
SECRETS = ProviderSecrets.from_json(SECRETS_TEXT)
METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "get", "P0ST", ""]
PATHS = [
    *ROUTES,
    "/",
    "/vonage",
    "/twilio/verify-push/",
    "/vonage//verify",
    "/%2e%2e/etc",
    "/vonage/verify?x",
]
CONTENT_TYPES = [
    "application/json",
    "application/json; charset=utf-8",
    "application/x-www-form-urlencoded",
    "text/plain",
    "multipart/form-data; boundary=x",
    "",
    "application/json;;;",
    "APPLICATION/JSON",
]
text = st.text(alphabet=st.characters(codec="utf-8"), max_size=80)
junk_auth = st.one_of(
    st.none(),
    text,
    st.builds(lambda t: f"Bearer {t}", text),
    st.builds(
        lambda a, b, c: f"Bearer {a}.{b}.{c}",
        *(st.text(string.ascii_letters + string.digits + "-_=", max_size=40),) * 3,
    ),
)
bodies = st.one_of(
    st.binary(max_size=400),
    text.map(str.encode),
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | text,
        lambda c: st.lists(c, max_size=4) | st.dictionaries(text, c, max_size=4),
        max_leaves=12,
    ).map(lambda v: json.dumps(v).encode()),
    st.dictionaries(
        st.sampled_from(
            ["status", "request_id", "sig", "timestamp", "api-key", "account_sid", "uuid", "type"]
        ),
        text,
        max_size=6,
    ).map(lambda d: urlencode(d).encode()),
)


def _deps(queue: list[Any]) -> WebhookDeps:
    return WebhookDeps(
        settings=Settings(),
        secrets=SecretsSource(lambda force: SECRETS_TEXT, source="fuzz"),
        enqueue=lambda event, credential: queue.append(event),
        voice_answer_ncco="[]",
        clock=lambda: datetime.fromtimestamp(NOW, UTC),
    )


def _assert_clean(response: dict[str, Any]) -> None:
    assert response["statusCode"] != 500, response
    assert response["statusCode"] in (200, 204, 400, 401, 404, 405, 413, 415, 503), response
    if response["statusCode"] >= 400:
        doc = json.loads(response["body"])
        assert doc["error"] in ERROR_CODES, doc
        assert "Traceback" not in response["body"]


@settings(settings.get_profile(FUZZ_PROFILE))
@given(
    method=st.sampled_from(METHODS),
    path=st.sampled_from(PATHS),
    query=st.one_of(
        st.just(""),
        text.map(lambda t: t.replace("#", "")),
        st.dictionaries(text, text, max_size=3).map(urlencode),
    ),
    content_type=st.sampled_from(CONTENT_TYPES),
    authorization=junk_auth,
    twilio_sig=st.one_of(st.none(), text),
    body=bodies,
    force_base64=st.booleans(),
    provider=st.sampled_from(["vonage", "twilio"]),
    extra_headers=st.dictionaries(
        st.sampled_from(["host", "x-forwarded-proto", "content-length", "x-twilio-signature"]),
        text,
        max_size=2,
    ),
)
def test_unsigned_or_garbage_requests_never_500_and_never_enqueue(
    method: str,
    path: str,
    query: str,
    content_type: str,
    authorization: str | None,
    twilio_sig: str | None,
    body: bytes,
    force_base64: bool,
    provider: str,
    extra_headers: dict[str, str],
) -> None:
    headers = {"content-type": content_type, **extra_headers}
    if authorization is not None:
        headers["authorization"] = authorization
    if twilio_sig is not None:
        headers["x-twilio-signature"] = twilio_sig
    event = http_event(
        method, path, query, headers, body, host=SAMPLE_HOST, epoch_ms=NOW * 1000, force_base64=force_base64
    )
    queue: list[dict[str, Any]] = []
    response = handle_webhook(event, provider, lambda: _deps(queue))
    _assert_clean(response)
    assert queue == [], "an unsigned request produced an event"


def test_raw_event_shapes_api_gateway_never_sends_are_still_answered_cleanly() -> None:
    odd: list[dict[str, Any]] = [
        {},
        {"body": 42},
        {"headers": None, "requestContext": None},
        {
            "rawPath": "/vonage/verify",
            "requestContext": {"http": {"method": "POST"}},
            "body": "eyJ9",
            "isBase64Encoded": True,
        },
        {"rawPath": "/vonage/verify", "requestContext": {"http": {"method": "POST"}}, "body": "\udc80"},
    ]
    for event in odd:
        queue: list[dict[str, Any]] = []
        deps = _deps(queue)
        _assert_clean(handle_webhook(event, "vonage", lambda: deps))  # noqa: B023 - called at once
        assert queue == []


# --- signed requests with random payloads -------------------------------------------------------

FIELD_NAMES = sorted(
    {k for s in samples() if isinstance(s.payload, dict) for k in s.payload}
    | {"action", "workflow", "error", "dtmf", "speech", "channel_used"}
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | text,
    lambda c: st.lists(c, max_size=3) | st.dictionaries(text, c, max_size=3),
    max_leaves=8,
)
JSON_ROUTES = [r for r in ROUTES.values() if r.scheme in ("vonage_jwt", "url_token")]
PARAM_ROUTES = [r for r in ROUTES.values() if r.scheme in ("vonage_sms", "twilio")]


def _send_signed(route: Any, payload: dict[str, Any], method: str) -> list[Any]:
    """Sign ``payload`` as the provider would, send it, check the answer; returns what was queued."""
    request = sign(route, payload, SECRETS, f"https://{SAMPLE_HOST}", now=NOW, method=method, nonce="n")
    event = to_event(request, at=NOW)
    queue: list[Any] = []
    response = handle_webhook(event, route.provider, lambda: _deps(queue))
    _assert_clean(response)
    assert response["statusCode"] in (200, 204, 400), response
    assert len(queue) == (1 if response["statusCode"] < 300 else 0)
    return queue


@settings(settings.get_profile(FUZZ_PROFILE))
@given(
    route=st.sampled_from(JSON_ROUTES),
    payload=st.dictionaries(st.one_of(st.sampled_from(FIELD_NAMES), text), json_values, max_size=10),
)
def test_signed_json_with_random_fields_is_accepted_or_refused_with_a_4xx(
    route: Any, payload: dict[str, Any]
) -> None:
    queue = _send_signed(route, payload, "POST")
    if queue:
        json.dumps(queue[0], allow_nan=False)  # what goes on the queue is strict JSON


@settings(settings.get_profile(FUZZ_PROFILE))
@given(
    route=st.sampled_from(PARAM_ROUTES),
    payload=st.dictionaries(st.one_of(st.sampled_from(FIELD_NAMES), text.filter(bool)), text, max_size=10),
    method=st.sampled_from(["GET", "POST"]),
)
def test_signed_params_with_random_values_are_accepted_or_refused_with_a_4xx(
    route: Any, payload: dict[str, str], method: str
) -> None:
    _send_signed(route, payload, method)


# The URL-token routes that take parameters as well as JSON (US Short Codes): GET query, POST form.
TOKEN_PARAM_ROUTES = [r for r in ROUTES.values() if r.scheme == "url_token" and "GET" in r.methods]


@settings(settings.get_profile(FUZZ_PROFILE))
@given(
    route=st.sampled_from(TOKEN_PARAM_ROUTES),
    payload=st.dictionaries(st.one_of(st.sampled_from(FIELD_NAMES), text.filter(bool)), text, max_size=10),
    encoding=st.sampled_from(["query", "form"]),
)
def test_url_token_params_with_random_names_and_values_are_accepted_or_refused_with_a_4xx(
    route: Any, payload: dict[str, str], encoding: str
) -> None:
    method = "GET" if encoding == "query" else "POST"
    request = sign(
        route, payload, SECRETS, f"https://{SAMPLE_HOST}", now=NOW, method=method, encoding=encoding
    )
    queue: list[Any] = []
    response = handle_webhook(to_event(request, at=NOW), route.provider, lambda: _deps(queue))
    _assert_clean(response)
    assert response["statusCode"] in (200, 400), response
    assert len(queue) == (1 if response["statusCode"] == 200 else 0)
    for event in queue:
        assert "token" not in event["data"]  # the secret is never stored


def test_base64_bodies_are_decoded_before_the_signature_check() -> None:
    route = ROUTES["/vonage/messages/status"]
    s = next(x for x in samples() if x.name == "messages/status-delivered")
    request = sign(route, s.payload, SECRETS, f"https://{SAMPLE_HOST}", now=NOW, nonce="b64")
    event = to_event(request, at=NOW, force_base64=True)
    assert event["isBase64Encoded"] and event["body"] == base64.b64encode(request.body).decode()
    queue: list[dict[str, Any]] = []
    assert handle_webhook(event, "vonage", lambda: _deps(queue))["statusCode"] == 200
    assert len(queue) == 1


# --- Twilio Event Streams: signed JSON arrays (scheme twilio_event_streams) -------------------------

STREAM_ROUTES = [r for r in ROUTES.values() if r.scheme == "twilio_event_streams"]
STREAM_SAMPLES = [s for s in samples() if s.route.scheme == "twilio_event_streams"]
STREAM_ITEMS = [item for s in STREAM_SAMPLES for item in s.payload]
# The samples are the documentation's account's events: the stream fuzz signs as that account
# (an account's token never vouches for an event naming another: see shared/providers/twilio).
STREAM_ACCOUNT, STREAM_TOKEN = "AC" + "a" * 32, "stream-fuzz-token-" + "s" * 14
STREAM_SECRETS_TEXT = json.dumps(
    {
        **json.loads(SECRETS_TEXT),
        "twilio": {"auth_tokens": {STREAM_ACCOUNT: [STREAM_TOKEN], **SECRETS.twilio_auth_tokens}},
    }
)
# What a correctly signed delivery may be refused with (README: the Event Streams route).
STREAM_BODY_CODES = {"invalid_json", "invalid_field", "missing_field", "invalid_encoding", "body_too_large"}
CLOUDEVENT_KEYS = [
    "specversion",
    "type",
    "source",
    "id",
    "subject",
    "time",
    "dataschema",
    "datacontenttype",
    "data",
]
STREAM_TYPES = [
    *(
        f"com.twilio.accountsecurity.verify.verification.{s}"
        for s in ("pending", "approved", "max-attempts-reached")
    ),
    "com.twilio.eventstreams.test-event",
]
SENTINEL = "__stream_hostile__"


# The characters SQS accepts in a message body (SendMessage: InvalidMessageContents otherwise).
SQS_BODY = re.compile("[\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]*")


class StreamSqs:
    """The client the real ingest encoders write to; a body SQS could not carry as UTF-8 fails here."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []

    def send_message(self, **kwargs: Any) -> dict[str, Any]:
        assert SQS_BODY.fullmatch(kwargs["MessageBody"]), "a character SQS refuses in the body"
        self.bodies.append(json.loads(kwargs["MessageBody"].encode("utf-8")))
        return {"MessageId": str(len(self.bodies))}

    def send_message_batch(self, QueueUrl: str, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        for entry in Entries:
            self.send_message(QueueUrl=QueueUrl, MessageBody=entry["MessageBody"])
        return {"Successful": [{"Id": e["Id"]} for e in Entries], "Failed": []}


def deliver_stream(
    body: bytes,
    *,
    sink: str | None = None,
    url: str | None = None,
    signature: str | None = None,
    host: str = SAMPLE_HOST,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """``body`` POSTed as Twilio signs a sink delivery (the vendor's validator, tests/reference_signers)
    to ``sink``, or with a given ``url``/``signature`` (a replay); returns the answer and what the real
    ingest encoders queued."""
    signed_url, signed = twilio_event_streams_request(
        sink or f"https://{SAMPLE_HOST}/twilio/event-streams", body, STREAM_TOKEN
    )
    parts = urlsplit(url or signed_url)
    headers = {"content-type": "application/json", "x-twilio-signature": signature or signed}
    event = http_event("POST", parts.path, parts.query, headers, body, host=host, epoch_ms=NOW * 1000)
    sqs = StreamSqs()
    deps = WebhookDeps(
        settings=Settings(),
        secrets=SecretsSource(lambda force: STREAM_SECRETS_TEXT, source="fuzz"),
        enqueue=sqs_enqueuer(sqs, "ingest"),
        enqueue_many=sqs_batch_enqueuer(sqs, "ingest"),
        clock=lambda: datetime.fromtimestamp(NOW, UTC),
    )
    response = handle_webhook(event, "twilio", lambda: deps)
    _assert_clean(response)
    if response["statusCode"] < 300:
        assert sorted(json.loads(response["body"])["event_ids"]) == sorted(e["event_id"] for e in sqs.bodies)
        for queued in sqs.bodies:
            json.dumps(queued, allow_nan=False)  # strict JSON on the queue
    else:
        assert sqs.bodies == []
    return response, sqs.bodies


def error_of(response: dict[str, Any]) -> str | None:
    return str(json.loads(response["body"])["error"]) if response["statusCode"] >= 400 else None


cloudevents = st.fixed_dictionaries(
    {},
    optional={
        "specversion": st.just("1.0") | text,
        "type": st.sampled_from(STREAM_TYPES) | text | json_values,
        "source": st.sampled_from(["Sink", "/v1/Accounts/AC1/Services/VA1/Verifications/VE1"])
        | text
        | json_values,
        "id": text | st.uuids().map(str) | json_values,
        "subject": text | json_values,
        "time": st.sampled_from(["2026-11-23T11:40:00.412Z", "yesterday", ""]) | json_values,
        "datacontenttype": st.just("application/json") | text,
        "data": st.dictionaries(
            st.sampled_from(["verification_sid", "send_code_attempts", "created_at"]) | text,
            json_values,
            max_size=4,
        )
        | json_values,
    },
)
# A sample's CloudEvent under a fresh id (or one of two, so that duplicates occur).
good_items = st.builds(
    lambda item, event_id: item | {"id": event_id},
    st.sampled_from(STREAM_ITEMS),
    st.uuids().map(str) | st.sampled_from(["dup-1", "dup-2"]),
)
stream_items = st.one_of(
    good_items,
    cloudevents.map(lambda e: e | {"id": "x", "type": "t", "source": "s"}),
    cloudevents,
    json_values,
)


@settings(settings.get_profile(FUZZ_PROFILE))
@given(body=st.one_of(st.lists(good_items, max_size=25), st.lists(stream_items, max_size=12), json_values))
def test_a_signed_random_array_is_accepted_or_refused_with_a_documented_4xx(body: Any) -> None:
    """Events come only from a correctly signed array of objects, one per distinct CloudEvent id
    (and product)."""
    response, queued = deliver_stream(json.dumps(body).encode())
    if response["statusCode"] >= 400:
        codes = STREAM_BODY_CODES | ({"signature_invalid"} if names_another_account(body) else set())
        assert error_of(response) in codes, response
        return
    assert isinstance(body, list) and all(isinstance(item, dict) for item in body)
    # Every CloudEvent id is queued, once per product (a Verify type and another under one id —
    # which Twilio never sends — are two payloads of two products).
    assert {e["data"]["id"] for e in queued} == {item["id"] for item in body}
    assert len(queued) == len({(e["product"], e["data"]["id"]) for e in queued})
    assert all(
        (e["provider"], e["product"]) in (("twilio", "verify"), ("twilio", "event_streams")) for e in queued
    )


def names_another_account(body: Any) -> bool:
    """Whether some CloudEvent of ``body`` names an account other than the signer's, or is a Verify
    verification that names none (refused ``signature_invalid``)."""
    text = json.dumps(body)
    others = set(re.findall(r"AC[0-9A-Za-z]+", text)) - {STREAM_ACCOUNT}
    unnamed = isinstance(body, list) and any(
        isinstance(i, dict)
        and str(i.get("type", "")).startswith("com.twilio.accountsecurity.verify.verification.")
        and STREAM_ACCOUNT not in json.dumps(i)
        for i in body
    )
    return bool(others) or unnamed


@st.composite
def hostile_streams(draw: st.DrawFn) -> tuple[str, str, str | None]:
    """(body text, class, expected error or None): a sample's CloudEvents with one hostile value:
    nesting 1…20,000 deep, a lone surrogate in a key field / free text / an object key, a number no
    float or int can hold. The array and the CloudEvent are two levels, its ``data`` a third."""
    events = copy.deepcopy(draw(st.sampled_from(STREAM_SAMPLES)).payload)
    target = draw(st.integers(0, len(events) - 1))
    event = events[target]
    kind = draw(st.sampled_from(["depth", "surrogate", "number", "noncharacter", "digits"]))
    literal: str | None = None
    expected: str | None = None
    if kind == "depth":
        n = draw(st.integers(1, 70) | st.sampled_from([61, 62, 63, 100, 1000, 20_000]))
        brackets = draw(st.sampled_from(["array", "object"]))
        literal = "[" * n + "]" * n if brackets == "array" else '{"a":' * n + "1" + "}" * n
        event["data"]["hostile"] = SENTINEL
        expected = None if 3 + n <= MAX_DEPTH else "invalid_json"
    elif kind == "surrogate":
        where = draw(st.sampled_from(["id", "key_field", "free_text", "object_key"]))
        lone = draw(st.sampled_from(["\ud800", "\udbff", "\udc00", "\udfff"]))
        if where == "id":
            event["id"] += lone
        elif where == "key_field":
            if event["type"].startswith("com.twilio.accountsecurity.verify.verification."):
                event["data"]["verification_sid"] += lone
            else:
                event["subject"] = "DG" + lone
        elif where == "free_text":
            event["data"]["note"] = f"split emoji {lone} here"
        else:
            event["data"][f"k{lone}"] = "v"
        expected = None if where == "free_text" else "invalid_encoding"
    elif kind == "noncharacter":  # valid text SQS refuses raw: the ingest body must escape it
        event["data"]["note"] = draw(st.sampled_from(["\ufffe", "\uffff", "a\uffffb", "\ufffd\ufffe"]))
    elif kind == "digits":  # a number sent as text, past int()'s 4,300 digits
        event["data"]["hostile"] = "7" * draw(st.integers(19, 6000))
    else:
        digits = draw(st.integers(20, 400))
        literal = draw(
            st.sampled_from(
                ["9" * digits, "-" + "1" * digits, "1e400", "-1e400", "NaN", "Infinity", "1" * 5000]
            )
        )
        event["data"]["hostile"] = SENTINEL
        expected = None if literal.lstrip("-").isdigit() and len(literal) < 4300 else "invalid_json"
    text = json.dumps(events, ensure_ascii=True)
    if literal is not None:
        text = text.replace(json.dumps(SENTINEL), literal, 1)
    return text, kind, expected


@settings(settings.get_profile(FUZZ_PROFILE))
@given(case=hostile_streams())
def test_each_hostile_class_in_a_signed_array_gets_its_own_answer_never_a_500(
    case: tuple[str, str, str | None],
) -> None:
    text, kind, expected = case
    if len(text) > Settings().max_body_bytes:  # 20,000 objects deep: refused before it is read
        expected = "body_too_large"
    response, queued = deliver_stream(text.encode("ascii"))
    assert error_of(response) == expected, (kind, response["body"])
    if expected is None:
        assert queued and len(queued) == len({e["event_id"] for e in queued})
        if kind == "number":  # the exact integer survives the queue
            sent = [i["data"]["hostile"] for i in json.loads(text) if "hostile" in i["data"]]
            kept = [e["data"]["data"]["hostile"] for e in queued if "hostile" in e["data"]["data"]]
            assert kept == sent and all(isinstance(v, int) for v in kept)


REPLAYS = [
    "host",
    "path",
    "query_extra",
    "query_drop",
    "hash_upper",
    "reencoded",
    "subset",
    "reordered",
    "port",
]


@settings(settings.get_profile(FUZZ_PROFILE))
@given(s=st.sampled_from(STREAM_SAMPLES), how=st.sampled_from(REPLAYS), data=st.data())
def test_a_captured_delivery_replayed_anywhere_else_never_verifies_nor_yields_a_new_id(
    s: Any, how: str, data: st.DataObject
) -> None:
    body = json.dumps(s.payload, separators=(",", ":")).encode()
    original, queued = deliver_stream(body)
    assert original["statusCode"] == 200
    ids = {e["event_id"] for e in queued}
    url, signature = twilio_event_streams_request(
        f"https://{SAMPLE_HOST}/twilio/event-streams", body, STREAM_TOKEN
    )
    host, replay_body, replay_url = SAMPLE_HOST, body, url
    if how == "host":
        host = data.draw(st.sampled_from(["attacker.example.com", SAMPLE_HOST.upper(), f"x.{SAMPLE_HOST}"]))
    elif how == "path":
        path = data.draw(
            st.sampled_from([p for p in ROUTES if ROUTES[p].provider == "twilio" and p != s.route.path])
        )
        replay_url = url.replace(s.route.path, path)
    elif how == "query_extra":
        replay_url = url + "&" + data.draw(st.sampled_from(["x=1", "bodySHA256=" + "0" * 64, "a"]))
    elif how == "query_drop":
        replay_url = url.partition("?")[0]
    elif how == "hash_upper":
        replay_url = (
            url.partition("?")[0] + "?" + url.partition("?")[2].upper().replace("BODYSHA256", "bodySHA256")
        )
    elif how == "reencoded":
        replay_body = json.dumps(
            s.payload, indent=data.draw(st.sampled_from([None, 1, 2])), ensure_ascii=data.draw(st.booleans())
        ).encode()
        assume(replay_body != body)
    elif how == "subset":
        items = data.draw(st.lists(st.sampled_from(s.payload), min_size=0, max_size=3))
        replay_body = json.dumps(items, separators=(",", ":")).encode()
        assume(replay_body != body)
    elif how == "reordered":
        replay_body = json.dumps(
            [dict(reversed(list(e.items()))) for e in s.payload], separators=(",", ":")
        ).encode()
    else:  # the same URL with the default port: as Twilio may sign it, the same delivery
        replay_url = url.replace(SAMPLE_HOST, f"{SAMPLE_HOST}:443")
    response, again = deliver_stream(replay_body, url=replay_url, signature=signature, host=host)
    if how == "port":
        assert response["statusCode"] == 200 and {e["event_id"] for e in again} == ids
    else:
        assert response["statusCode"] >= 400 and again == [], (how, response["body"])
        if ROUTES.get(urlsplit(replay_url).path) is s.route:
            assert response["statusCode"] == 401, (how, response["body"])
