"""The sample catalogue: provider payloads under events/payloads, and the signed API Gateway events
under events/http and events/sqs that `sam local invoke -e`, the tests and `switchboard send` use.

`switchboard events [--out DIR] [--at UNIX]` regenerates the events with fresh signatures. The
committed ones are signed at a fixed time (``manifest.json`` → ``signed_at``) so the tests can pin
their clock to it and stay reproducible.
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from shared import providers
from shared.config import ProviderSecrets, Settings
from shared.http import request_from_apigw
from shared.ingress import Route, receive
from shared.normalise import normalise
from shared.verify.twilio import compute_twilio_signature
from switchboard.apigw import http_event
from switchboard.signing import SignedRequest, first_twilio_account, json_bytes, sign, vonage_jwt

ROOT = Path(__file__).resolve().parent.parent
EVENTS = ROOT / "events"
PAYLOADS = EVENTS / "payloads"
DEV_SECRETS = Path(__file__).resolve().parent / "dev_secrets.json"
SAMPLE_HOST = "abc123defg.execute-api.us-east-1.amazonaws.com"
SIGNED_AT = 1795435200  # 2026-11-23T12:00:00Z: when the committed events were signed
_NS = uuid.UUID("6f1d2c1e-8a0b-4c55-9f7e-5b1f6c1d2e3f")


@dataclass(frozen=True)
class Sample:
    name: str  # "<product>/<file stem>", e.g. "verify/event-completed"
    route: Route
    payload: Any  # a JSON object; a JSON array of them for a product that splits its body (Event Streams)

    @property
    def function(self) -> str:
        return "TwilioFunction" if self.route.provider == "twilio" else "VonageFunction"


def route_for(folder: str, stem: str) -> Route:
    """The route a sample file goes to: its product's route whose ``samples`` prefix the stem starts
    with (the longest such prefix), from the registry."""
    candidates = [
        route
        for spec in providers.ALL
        if spec.samples == folder
        for route in spec.routes
        if stem.startswith(route.samples)
    ]
    if not candidates:
        raise ValueError(f"no route for payload folder {folder!r}")
    return max(candidates, key=lambda r: len(r.samples))


def samples() -> list[Sample]:
    out = []
    for path in sorted(PAYLOADS.glob("*/*.json"), key=lambda p: (p.parent.name, p.stem)):
        product, stem = path.parent.name, path.stem
        out.append(Sample(f"{product}/{stem}", route_for(product, stem), json.loads(path.read_text())))
    return out


def sample(name: str) -> Sample:
    for s in samples():
        if s.name == name or s.name.replace("/", "-") == name:
            return s
    raise KeyError(name)


def dev_secrets() -> ProviderSecrets:
    return ProviderSecrets.from_json(DEV_SECRETS.read_text(), source=str(DEV_SECRETS))


def default_method(s: Sample) -> str:
    # The provider's default for the route (Route.default_method: SMS API and voice answer are GET).
    return s.route.default_method


def to_event(req: SignedRequest, *, at: int, force_base64: bool = False) -> dict[str, Any]:
    return http_event(
        req.method,
        req.path,
        req.query,
        req.headers,
        req.body,
        host=SAMPLE_HOST,
        epoch_ms=at * 1000,
        force_base64=force_base64,
    )


@dataclass
class Case:
    file: str
    function: str
    case: str
    expect_status: int
    expect_code: str | None
    events: int
    event: dict[str, Any]
    subject_id: str | None = None


def _nonce(name: str) -> str:
    return str(uuid.uuid5(_NS, name))


def build_cases(secrets: ProviderSecrets, at: int) -> list[Case]:
    base = f"https://{SAMPLE_HOST}"
    cases: list[Case] = []

    def signed(s: Sample, tag: str = "", **kw: Any) -> SignedRequest:
        return sign(
            s.route, s.payload, secrets, base, now=kw.pop("now", at), nonce=_nonce(s.name + tag), **kw
        )

    def add(
        file: str,
        function: str,
        case: str,
        status: int,
        code: str | None,
        event: dict[str, Any],
        events: int | None = None,
    ) -> None:
        count = (1 if status < 300 else 0) if events is None else events
        cases.append(Case(file, function, case, status, code, count, event))

    all_samples = samples()
    for s in all_samples:
        req = signed(s, method=default_method(s))
        add(
            f"http/{s.name}.json",
            s.function,
            "valid",
            204 if s.route.answer == "empty" else 200,
            None,
            to_event(req, at=at),
            event_count(s),
        )

    by_name = {s.name: s for s in all_samples}
    verify = by_name["verify/event-completed"]
    receipt = by_name["sms/receipt-delivered"]
    push = by_name["verify_push/challenge-approved"]
    ni = by_name["number_insight/result-success"]
    status = by_name["messages/status-delivered"]
    voice_event = by_name["voice/event-completed"]
    V, T = "VonageFunction", "TwilioFunction"

    # Valid variants: other encodings the providers use.
    add(
        "http/variants/sms-receipt-post-form.json",
        V,
        "valid",
        200,
        None,
        to_event(signed(receipt, "f", method="POST", encoding="form"), at=at),
    )
    add(
        "http/variants/sms-receipt-post-json.json",
        V,
        "valid",
        200,
        None,
        to_event(signed(receipt, "j", method="POST", encoding="json"), at=at),
    )
    add(
        "http/variants/twilio-get.json",
        T,
        "valid",
        200,
        None,
        to_event(signed(push, "g", method="GET"), at=at),
    )
    add(
        "http/variants/voice-event-get.json",
        V,
        "valid",
        204,
        None,
        to_event(signed(voice_event, "g", method="GET"), at=at),
    )
    add(
        "http/variants/verify-base64-body.json",
        V,
        "valid",
        200,
        None,
        to_event(signed(verify, "b"), at=at, force_base64=True),
    )

    # Vonage JWT rejections.
    req = signed(verify, "u")
    del req.headers["authorization"]
    add("http/negative/verify-unsigned.json", V, "unsigned", 503, "signature_missing", to_event(req, at=at))
    req = signed(verify, "t")
    req.body = req.body.replace(b"completed", b"failed")
    add(
        "http/negative/verify-tampered-body.json",
        V,
        "tampered",
        401,
        "payload_hash_mismatch",
        to_event(req, at=at),
    )
    req = signed(verify, "w")
    api_key = next(iter(secrets.vonage_signature_secrets))
    req.headers["authorization"] = "Bearer " + vonage_jwt(
        req.body, api_key, "not-the-secret-" + "x" * 32, iat=at, jti=_nonce("w")
    )
    add(
        "http/negative/verify-wrong-secret.json",
        V,
        "tampered",
        401,
        "signature_invalid",
        to_event(req, at=at),
    )
    req = signed(verify, "s", now=at - 25 * 3600)
    add("http/negative/verify-stale.json", V, "replayed", 401, "token_expired", to_event(req, at=at))
    req = signed(verify, "f", now=at + 300)
    add(
        "http/negative/verify-from-future.json", V, "replayed", 401, "token_from_future", to_event(req, at=at)
    )
    req = signed(verify, "n")
    claims = req.headers["authorization"].split(".")[1]
    none_header = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').rstrip(b"=").decode()
    req.headers["authorization"] = f"Bearer {none_header}.{claims}."
    add(
        "http/negative/verify-alg-none.json",
        V,
        "tampered",
        401,
        "algorithm_not_allowed",
        to_event(req, at=at),
    )
    bad = Sample("verify/malformed", verify.route, {})
    req = signed(bad, "m")
    req.body = b'{"request_id": "c11236f4-00bf-4b89-84ba-88b25df97315", "status": '
    req.headers["authorization"] = "Bearer " + vonage_jwt(
        req.body, api_key, _newest(secrets), iat=at, jti=_nonce("m")
    )
    add("http/negative/verify-malformed-json.json", V, "malformed", 400, "invalid_json", to_event(req, at=at))
    req = signed(Sample("verify/missing", verify.route, {"type": "event", "status": "completed"}), "x")
    add(
        "http/negative/verify-missing-request-id.json",
        V,
        "malformed",
        400,
        "missing_field",
        to_event(req, at=at),
    )
    req = signed(verify, "8")
    req.body = b"\xff\xfe{}"
    req.headers["authorization"] = "Bearer " + vonage_jwt(
        req.body, api_key, _newest(secrets), iat=at, jti=_nonce("8")
    )
    add("http/negative/verify-not-utf8.json", V, "malformed", 400, "invalid_encoding", to_event(req, at=at))
    event = to_event(signed(verify, "6"), at=at)
    event["body"], event["isBase64Encoded"] = "!!not base64!!", True
    add("http/negative/verify-bad-base64.json", V, "malformed", 400, "invalid_encoding", event)
    big = Sample(
        "verify/big", verify.route, {**verify.payload, "padding": "x" * (Settings().max_body_bytes + 1)}
    )
    add(
        "http/negative/verify-oversize.json",
        V,
        "malformed",
        413,
        "body_too_large",
        to_event(signed(big, "o"), at=at),
    )
    req = signed(status, "fm")
    req.headers["content-type"] = "application/x-www-form-urlencoded"
    add(
        "http/negative/messages-form-body.json",
        V,
        "malformed",
        415,
        "unsupported_media_type",
        to_event(req, at=at),
    )

    # SMS API signed messages.
    req = signed(receipt, "u", method="GET")
    req.url = req.url.split("&sig=")[0]
    add("http/negative/sms-unsigned.json", V, "unsigned", 401, "signature_missing", to_event(req, at=at))
    req = signed(receipt, "t", method="GET")
    req.url = req.url.replace("status=delivered", "status=failed")
    add("http/negative/sms-tampered.json", V, "tampered", 401, "signature_invalid", to_event(req, at=at))
    req = signed(receipt, "s", method="GET", now=at - 73 * 3600)
    add("http/negative/sms-stale.json", V, "replayed", 401, "token_expired", to_event(req, at=at))
    req = signed(receipt, "k", method="GET")
    req.url = req.url.replace(f"api-key={api_key}", "api-key=someoneelse")
    add("http/negative/sms-unknown-api-key.json", V, "tampered", 401, "unknown_api_key", to_event(req, at=at))

    # Twilio.
    req = signed(push, "u")
    del req.headers["x-twilio-signature"]
    add("http/negative/twilio-unsigned.json", T, "unsigned", 401, "signature_missing", to_event(req, at=at))
    req = signed(push, "t")
    req.body = req.body.replace(b"challenge.approved", b"challenge.denied")
    add("http/negative/twilio-tampered.json", T, "tampered", 401, "signature_invalid", to_event(req, at=at))
    req = signed(push, "h")
    event = to_event(req, at=at)
    event["headers"]["host"] = "attacker.example.com"
    add("http/negative/twilio-other-host.json", T, "tampered", 401, "signature_invalid", event)
    req = signed(push, "a")
    sid = next(iter(secrets.twilio_auth_tokens))
    req.body = req.body.replace(sid.encode(), b"AC" + b"9" * 32)
    add(
        "http/negative/twilio-unknown-account.json",
        T,
        "tampered",
        401,
        "unknown_account",
        to_event(req, at=at),
    )

    cases += event_streams_cases(by_name["event_streams/verify-approved"], secrets, at)

    # Number Insight URL token.
    req = signed(ni, "u")
    req.url = req.url.split("?")[0]
    add(
        "http/negative/number-insight-no-token.json",
        V,
        "unsigned",
        401,
        "signature_missing",
        to_event(req, at=at),
    )
    req = signed(ni, "w")
    req.url = req.url.split("?")[0] + "?token=guessed-token-guessed-token"
    add(
        "http/negative/number-insight-wrong-token.json",
        V,
        "tampered",
        401,
        "signature_invalid",
        to_event(req, at=at),
    )

    _more_vonage_cases(signed, add, by_name, secrets, at)
    for route_sample in _first_sample_per_route(all_samples):
        for file, case, code_status, code, req in scheme_negative_rows(route_sample, signed, at):
            add(file, route_sample.function, case, code_status, code, to_event(req, at=at))

    # Routing.
    add(
        "http/negative/unknown-route.json",
        V,
        "malformed",
        404,
        "route_not_found",
        to_event(SignedRequest("POST", base + "/vonage/nope"), at=at),
    )
    add(
        "http/negative/verify-wrong-method.json",
        V,
        "malformed",
        405,
        "method_not_allowed",
        to_event(SignedRequest("GET", base + "/vonage/verify"), at=at),
    )
    add(
        "http/negative/twilio-function-vonage-path.json",
        T,
        "malformed",
        404,
        "route_not_found",
        to_event(signed(verify, "r"), at=at),
    )
    return cases


# (file, case, HTTP status, error code, request): a generated case for VonageFunction.
Row = tuple[str, str, int, str | None, SignedRequest]


def _more_vonage_cases(
    signed: Callable[..., SignedRequest],
    add: Callable[[str, str, str, int, str | None, dict[str, Any]], None],
    by_name: dict[str, Sample],
    secrets: ProviderSecrets,
    at: int,
) -> None:
    """RTC, Dispatch, the voice fallback and US Short Codes: their other encodings and rejections."""
    for file, case, status, code, req in (
        *_rtc_rows(signed, by_name),
        *_short_code_rows(signed, by_name, secrets),
    ):
        add(file, "VonageFunction", case, status, code, to_event(req, at=at))


def _rtc_rows(signed: Callable[..., SignedRequest], by_name: dict[str, Sample]) -> list[Row]:
    """The fallback by POST; an RTC sequence id without its conversation."""
    fallback, rtc = by_name["voice/fallback-event-input"], by_name["rtc/member-joined"]
    orphan = Sample("rtc/orphan", rtc.route, {k: v for k, v in rtc.payload.items() if k != "conversation_id"})
    return [
        ("http/variants/voice-fallback-post.json", "valid", 200, None, signed(fallback, "p", method="POST")),
        (
            "http/negative/rtc-id-without-conversation.json",
            "malformed",
            400,
            "missing_field",
            signed(orphan, "o"),
        ),
    ]


def _first_sample_per_route(all_samples: list[Sample]) -> list[Sample]:
    first: dict[str, Sample] = {}
    for s in all_samples:
        first.setdefault(s.route.path, s)
    return list(first.values())


def scheme_negative_rows(s: Sample, signed: Callable[..., SignedRequest], at: int) -> list[Row]:
    """Every route's standard rejections, by its scheme, from its first sample: a route added to
    the registry is covered here without a line of its own. Files: http/negative/route-<path>-<case>."""
    slug = "route-" + s.route.path.strip("/").replace("/", "-")
    scheme = s.route.scheme
    method = "POST" if scheme == "vonage_jwt" else s.route.default_method  # a JWT GET has no body to alter
    unsigned = signed(s, "gu", method=s.route.default_method)
    tampered = signed(s, "gt", method=method)
    for header in ("authorization", "x-twilio-signature"):
        unsigned.headers.pop(header, None)
    if scheme in ("vonage_jwt", "twilio_event_streams") or (scheme == "twilio" and tampered.body):
        tampered.body += b" "  # still the same JSON or form; no longer the signed bytes
    else:  # a signed query (SMS API, Twilio GET, URL token): one more parameter
        tampered.url += "&extra=1"
    if scheme == "vonage_sms":
        unsigned.url = unsigned.url.split("&sig=")[0]
    if scheme == "url_token":
        unsigned.url = unsigned.url.split("?")[0]
        tampered.url = tampered.url.split("?")[0] + "?token=guessed-token-guessed-token"
    rows: list[Row] = [
        (
            f"http/negative/{slug}-unsigned.json",
            "unsigned",
            503 if scheme == "vonage_jwt" else 401,
            "signature_missing",
            unsigned,
        ),
        (f"http/negative/{slug}-tampered.json", "tampered", 401, _TAMPERED_CODE[scheme], tampered),
    ]
    if scheme in ("vonage_jwt", "vonage_sms"):
        stale = signed(s, "gs", now=at - 73 * 3600, method=s.route.default_method)
        rows.append((f"http/negative/{slug}-stale.json", "replayed", 401, "token_expired", stale))
    return rows


_TAMPERED_CODE = {
    "vonage_jwt": "payload_hash_mismatch",
    "vonage_sms": "signature_invalid",
    "twilio": "signature_invalid",
    "twilio_event_streams": "payload_hash_mismatch",
    "url_token": "signature_invalid",
}


def _short_code_rows(
    signed: Callable[..., SignedRequest], by_name: dict[str, Sample], secrets: ProviderSecrets
) -> list[Row]:
    """Short-code receipts by POST form and JSON; the URL token missing, wrong, or Number Insight's
    (each product its own), and the short codes' token on the Number Insight route."""
    receipt = by_name["short_codes/receipt-delivered"]
    rows: list[Row] = [
        (
            f"http/variants/short-codes-receipt-post-{enc}.json",
            "valid",
            200,
            None,
            signed(receipt, enc, method="POST", encoding=enc),
        )
        for enc in ("form", "json")
    ]
    for case, code, token in (
        ("no-token", "signature_missing", None),
        ("wrong-token", "signature_invalid", "guessed-token-guessed-token"),
        ("number-insight-token", "signature_invalid", secrets.number_insight_token or ""),
    ):
        req = signed(receipt, case, method="GET")
        base, _, query = req.url.partition("?")
        params = [p for p in query.split("&") if not p.startswith("token=")]
        req.url = "?".join(
            (base, "&".join([*params, *([] if token is None else [urlencode({"token": token})])]))
        )
        rows.append(
            (
                f"http/negative/short-codes-{case}.json",
                "unsigned" if token is None else "tampered",
                401,
                code,
                req,
            )
        )
    ni = signed(by_name["number_insight/result-success"], "sc")
    ni.url = ni.url.split("?")[0] + "?" + urlencode({"token": secrets.short_codes_token or ""})
    rows.append(
        ("http/negative/number-insight-short-codes-token.json", "tampered", 401, "signature_invalid", ni)
    )
    return rows


def event_count(s: Sample) -> int:
    """How many events a valid delivery of the sample yields (an Event Streams array: one per
    CloudEvent id)."""
    spec = providers.product(s.route.product, s.route.provider)
    items = spec.split(s.payload) if spec.split else [s.payload]
    at = datetime.fromtimestamp(SIGNED_AT, UTC)
    ids = {
        normalise(
            s.route.product, s.route.kind, item, account_id=None, received_at=at, provider=s.route.provider
        )["event_id"]
        for item in items
    }
    return len(ids)


def event_streams_cases(approved: Sample, secrets: ProviderSecrets, at: int) -> list[Case]:
    """Twilio Event Streams: a valid empty array and the ways a sink delivery is refused."""
    route, base = approved.route, f"https://{SAMPLE_HOST}"
    _, token = first_twilio_account(secrets)
    T = "TwilioFunction"

    def signed(payload: Any) -> SignedRequest:
        return sign(route, payload, secrets, base, now=at)

    def resigned(req: SignedRequest, url: str, *, token: str = token) -> SignedRequest:
        req.url = url
        req.headers["x-twilio-signature"] = compute_twilio_signature(url, None, token)
        return req

    def case(name: str, kind: str, status: int, code: str | None, req: SignedRequest) -> Case:
        return Case(f"http/{name}.json", T, kind, status, code, 0, to_event(req, at=at))

    plain_url = base + route.path
    unsigned = signed(approved.payload)
    del unsigned.headers["x-twilio-signature"]
    tampered = signed(approved.payload)
    tampered.body = tampered.body.replace(b".approved", b".canceled")
    rehashed = signed(approved.payload)
    rehashed.body = rehashed.body.replace(b".approved", b".canceled")
    rehashed.url = plain_url + "?bodySHA256=" + hashlib.sha256(rehashed.body).hexdigest()
    other_host = to_event(signed(approved.payload), at=at)
    other_host["headers"]["host"] = "attacker.example.com"
    other_path = signed(approved.payload)
    other_path = resigned(other_path, other_path.url.replace(route.path, "/twilio/verify-push"))
    other_path.url = plain_url + "?" + other_path.query
    no_hash = resigned(signed(approved.payload), plain_url)
    wrong_hash = resigned(signed(approved.payload), plain_url + "?bodySHA256=" + "0" * 64)
    stranger = resigned(
        signed(approved.payload), signed(approved.payload).url, token="not-the-token-" + "x" * 18
    )
    form = signed(approved.payload)
    form.headers["content-type"] = "application/x-www-form-urlencoded"
    test_event = approved.payload[0] | {
        "type": "com.twilio.eventstreams.test-event",
        "data": {"test_id": "t"},
    }
    too_many = [test_event | {"id": f"{i:064x}"} for i in range(101)]
    return [
        case("variants/event-streams-empty-array", "valid", 200, None, signed([])),
        case("negative/event-streams-unsigned", "unsigned", 401, "signature_missing", unsigned),
        case("negative/event-streams-tampered-body", "tampered", 401, "payload_hash_mismatch", tampered),
        case("negative/event-streams-rehashed-body", "tampered", 401, "signature_invalid", rehashed),
        Case(
            "http/negative/event-streams-other-host.json",
            T,
            "tampered",
            401,
            "signature_invalid",
            0,
            other_host,
        ),
        case(
            "negative/event-streams-signed-for-other-path", "tampered", 401, "signature_invalid", other_path
        ),
        case("negative/event-streams-no-body-hash", "tampered", 401, "payload_hash_mismatch", no_hash),
        case("negative/event-streams-wrong-body-hash", "tampered", 401, "payload_hash_mismatch", wrong_hash),
        case("negative/event-streams-unknown-token", "tampered", 401, "signature_invalid", stranger),
        case(
            "negative/event-streams-not-an-array",
            "malformed",
            400,
            "invalid_json",
            signed(approved.payload[0]),
        ),
        case(
            "negative/event-streams-item-not-object",
            "malformed",
            400,
            "invalid_field",
            signed([*approved.payload, "x"]),
        ),
        case(
            "negative/event-streams-missing-id",
            "malformed",
            400,
            "missing_field",
            signed([{k: v for k, v in approved.payload[0].items() if k != "id"}]),
        ),
        case("negative/event-streams-too-many-events", "malformed", 400, "invalid_field", signed(too_many)),
        case("negative/event-streams-form-body", "malformed", 415, "unsupported_media_type", form),
        case(
            "negative/event-streams-get",
            "malformed",
            405,
            "method_not_allowed",
            SignedRequest("GET", signed(approved.payload).url, {}),
        ),
    ]


def _newest(secrets: ProviderSecrets) -> str:
    return next(iter(secrets.vonage_signature_secrets.values()))[0]


def normalised(case: Case, secrets: ProviderSecrets, at: int) -> dict[str, Any]:
    """What the ingress function would enqueue for a valid case (used for the SQS samples)."""
    request = request_from_apigw(case.event, max_body_bytes=Settings().max_body_bytes)
    return receive(request, secrets, Settings(), now=datetime.fromtimestamp(at, UTC))


def sqs_event(bodies: list[str], *, at: int, queue: str = "switchboard-IngestQueue") -> dict[str, Any]:
    records = []
    for i, body in enumerate(bodies):
        records.append(
            {
                "messageId": str(uuid.uuid5(_NS, f"{queue}{i}{body}")),
                "receiptHandle": f"handle-{i}",
                "body": body,
                "attributes": {
                    "ApproximateReceiveCount": "1",
                    "SentTimestamp": str(at * 1000),
                    "SenderId": "AROAEXAMPLE",
                    "ApproximateFirstReceiveTimestamp": str(at * 1000),
                },
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": f"arn:aws:sqs:us-east-1:123456789012:{queue}",
                "awsRegion": "us-east-1",
            }
        )
    return {"Records": records}


def generate(
    out: Path,
    *,
    at: int = SIGNED_AT,
    secrets: ProviderSecrets | None = None,
    outputs: dict[str, str] | None = None,
) -> list[dict[str, Any]]:
    """Write every sample event under ``out`` and return the manifest (also written)."""
    secrets = secrets or dev_secrets()
    cases = build_cases(secrets, at)
    manifest: list[dict[str, Any]] = []
    by_file = {c.file: c for c in cases}
    for c in cases:
        if c.events:
            c.subject_id = normalised(c, secrets, at)["subject_id"]
        _write(out / c.file, c.event)
        manifest.append(
            {
                "file": c.file,
                "function": c.function,
                "case": c.case,
                "expect_status": c.expect_status,
                "expect_code": c.expect_code,
                "events": c.events,
                "subject_id": c.subject_id,
            }
        )

    def ev(name: str) -> dict[str, Any]:
        return normalised(by_file[f"http/{name}.json"], secrets, at)

    as_text: Callable[[dict[str, Any]], str] = lambda e: json.dumps(e, separators=(",", ":"))  # noqa: E731
    sqs_cases = {
        "sqs/batch-message-lifecycle.json": (
            [
                as_text(ev("messages/status-submitted")),
                as_text(ev("messages/status-delivered")),
                as_text(ev("messages/status-read-whatsapp")),
            ],
            0,
        ),
        "sqs/late-submitted-after-delivered.json": (
            [as_text(ev("messages/status-delivered")), as_text(ev("messages/status-submitted"))],
            0,
        ),
        "sqs/duplicate-in-batch.json": ([as_text(ev("verify/event-completed"))] * 2, 0),
        # A poison message goes to the ingest DLQ at once (recorder_batch): no failure to retry.
        "sqs/poison-and-valid.json": (["this is not json", as_text(ev("verify/summary-completed"))], 0),
    }
    for file, (bodies, failures) in sqs_cases.items():
        _write(out / file, sqs_event(bodies, at=at))
        manifest.append(
            {
                "file": file,
                "function": "RecorderFunction",
                "case": "sqs",
                "expect_failures": failures,
                "expect_dead_lettered": sum(not b.startswith("{") for b in bodies),
            }
        )
    known = by_file["http/verify/event-completed.json"].subject_id or ""
    for file, subject, status_code in (
        ("http/status/get-known-subject.json", known, 200),
        ("http/status/get-unknown-subject.json", "00000000-0000-4000-8000-000000000000", 404),
    ):
        event = http_event(
            "GET",
            f"/status/{subject}",
            "",
            {},
            b"",
            host=SAMPLE_HOST,
            epoch_ms=at * 1000,
            route_key="GET /status/{subject_id}",
            path_parameters={"subject_id": subject},
        )
        _write(out / file, event)
        manifest.append(
            {
                "file": file,
                "function": "StatusFunction",
                "case": "status",
                "expect_status": status_code,
                "subject_id": subject,
            }
        )
    _write(out / "manifest.json", {"signed_at": at, "host": SAMPLE_HOST, "cases": manifest})
    _write(out / "env.json", env_json(outputs))
    return manifest


def env_json(outputs: dict[str, str] | None = None) -> dict[str, Any]:
    """`sam local invoke --env-vars env.json`: the fake dev secrets inline (the functions' signatures
    match the sample events), and the queues and table of a deployed stack (``outputs``, from
    `switchboard events --stack NAME`; placeholders otherwise). SAM only overrides variables the
    template declares, which these all are."""
    outputs = outputs or {}
    inline = json.dumps(json.loads(DEV_SECRETS.read_text()), separators=(",", ":"))

    def out(key: str) -> str:
        return outputs.get(key) or f"<{key} output of your deployed stack>"

    table = {"SWITCHBOARD_TABLE_NAME": out("TableName")}
    ingress = {
        **table,
        "SWITCHBOARD_SECRETS_JSON": inline,
        "SWITCHBOARD_INGEST_QUEUE_URL": out("IngestQueueUrl"),
    }
    return {
        "VonageFunction": ingress,
        "TwilioFunction": ingress,
        "RecorderFunction": {
            **table,
            "SWITCHBOARD_EVENTS_QUEUE_URL": out("EventsQueueUrl"),
            "SWITCHBOARD_INGEST_DLQ_URL": out("IngestDLQUrl"),
        },
        "StatusFunction": table,
    }


def _write(path: Path, doc: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


__all__ = ["SIGNED_AT", "Sample", "build_cases", "generate", "json_bytes", "sample", "samples"]
