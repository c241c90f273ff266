"""Fuzz every route: random and malformed methods, paths, headers, content types, encodings and
bodies never give a 500 or an unhandled exception, and nothing unsigned is ever enqueued. Signed
requests carrying random payloads are accepted or refused with a 4xx — never a 500."""

from __future__ import annotations

import base64
import json
import string
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from hypothesis import given, settings
from hypothesis import strategies as st

from shared.config import ProviderSecrets, Settings
from shared.errors import ERROR_CODES
from shared.ingress import ROUTES
from shared.secrets import SecretsSource
from shared.webhook import WebhookDeps, handle_webhook
from switchboard.apigw import http_event
from switchboard.samples import DEV_SECRETS, SAMPLE_HOST, samples, to_event
from switchboard.signing import sign
from tests.hardening.conftest import FUZZ_PROFILE

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
    {k for s in samples() for k in s.payload}
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
