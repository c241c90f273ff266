"""Issue 9 §1–§3, generated: each hostile class a provider-signed request can carry, not one example.

1. depth: a value nested 1…20,000 deep (arrays, objects, both) in any field of a signed JSON body;
2. lone surrogates: in key fields, free text, nested values and object keys;
3. huge numbers: 20…400-digit integers, 1e400-style floats and NaN/Infinity, in bodies and JWT times;
4. re-splits: a Twilio or SMS request re-split so that its signature still verifies;
5. identity: two different deliveries that used to share an event id.

Every request is signed as its provider signs it and sent through ``handle_webhook``; what it queues
crosses the real SQS encoder, then the real Recorder and the status API under moto (the history
table from template.yaml). tests/unit/test_trust_edge.py and tests/integration/test_trust_edge.py pin
one example of each; these generate the class around it.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import math
import re
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode

import boto3
import pytest
from hypothesis import assume, event, given, settings
from hypothesis import strategies as st
from moto import mock_aws

from shared import safejson
from shared.config import Settings
from shared.ingress import ROUTES, Route
from shared.recorder import CREDENTIAL_ATTRIBUTE, Outcome, Recorder, fifo_publisher
from shared.safejson import MAX_DEPTH
from shared.status_api import handle_status
from shared.verify.request import param_text as _param_text
from shared.verify.twilio import compute_twilio_signature
from shared.verify.vonage_sms import compute_sms_signature
from shared.webhook import EVENT_ID_HEADER, handle_webhook, sqs_enqueuer
from switchboard.samples import SAMPLE_HOST, Sample, sample, samples, to_event
from switchboard.signing import (
    SignedRequest,
    first_twilio_account,
    first_vonage_account,
    json_bytes,
    sign,
    vonage_jwt,
)
from switchboard.template import provision
from tests.hardening.conftest import FUZZ_PROFILE
from tests.hardening.test_fuzz import FIELD_NAMES, NOW, SECRETS, SQS_BODY, _assert_clean, _deps
from tests.integration.conftest import REGION, fake_aws_env
from tests.reference_signers import hs256_jwt_from_json, sms_sig, twilio_signature, vonage_claims

PROFILE = settings.get_profile(FUZZ_PROFILE)
BASE = f"https://{SAMPLE_HOST}"
SETTINGS = Settings()
API_KEY, VONAGE_SECRET = first_vonage_account(SECRETS)
ACCOUNT_SID, AUTH_TOKEN = first_twilio_account(SECRETS)
SMS_METHOD = SECRETS.sms_method(API_KEY)
SAMPLES = samples()
# A JSON body is signed four ways: a Vonage JWT, the Number Insight URL token, the SMS API's `sig`
# over its parameters, and Twilio's bodySHA256 in the signed URL.
SCHEMES = ["vonage_jwt", "url_token", "vonage_sms", "twilio"]
BY_SCHEME = {scheme: [s for s in SAMPLES if s.route.scheme == scheme] for scheme in SCHEMES}
FORM = "application/x-www-form-urlencoded"
# The parameters a scheme's signature is made of: the signer sets them, a generated value never does.
SIGNING_FIELDS = {
    "vonage_sms": frozenset({"sig", "api-key", "api_key", "timestamp", "nonce"}),
    "twilio": frozenset({"account_sid", "AccountSid"}),
}
SUBJECT_FIELDS = {
    "verify": ("request_id",),
    "messages": ("message_uuid",),
    "sms": ("messageId", "message-id"),
    "voice": ("uuid", "call_uuid", "conversation_uuid"),
    "number_insight": ("request_id",),
    "rtc": ("conversation_id", "cid", "from"),
    "dispatch": ("message_uuid", "dispatch_uuid"),
    "short_codes": ("messageId", "message-id"),
    "verify_push": ("uuid", "challenge_sid", "factor_sid"),
}
# Names a generated extra field never takes: every field normalise reads.
KNOWN_FIELDS = (
    frozenset(FIELD_NAMES)
    | {n for names in SUBJECT_FIELDS.values() for n in names}
    | {
        "client_ref",
        "client-ref",
        "channel_used",
        "err-code",
        "workflow",
        "AccountSid",
        "api_key",
        "status",
        "type",
    }
)
# Twilio sends these as JSON text and normalise decodes them: a surrogate inside lands at a pointer
# into the decoded object, which this test does not model.
TWILIO_JSON_TEXT = re.compile(r"challenge_details|challenge_hidden_details|.*_metadata")
SENTINEL = "__hostile_literal__"
LONE_PAIR = re.compile("[\ud800-\udbff][\udc00-\udfff]")
SURROGATE = re.compile("[\ud800-\udfff]")
PARAM_NAME = re.compile(r"[A-Za-z0-9_-]+")

Path = tuple[str | int, ...]


def share(runs: int, *, cap: int | None = None) -> settings:
    """The profile's examples shared by ``runs`` parametrized runs, so that each class is generated
    in every variant (hypothesis favours the first choices of a strategy) at the profile's cost;
    ``cap`` bounds a run whose examples are slow."""
    examples = max(10, PROFILE.max_examples // runs)
    return settings(PROFILE, max_examples=min(examples, cap or examples))


# --- signing and delivering ------------------------------------------------------------------------


def json_text(payload: Mapping[str, Any], literal: str | None, *, ascii_only: bool = False) -> str:
    """``payload`` as compact JSON with the ``SENTINEL`` string replaced by ``literal``: JSON that no
    encoder writes (``1e400``, ``NaN``, 20,000 brackets)."""
    text = json.dumps(payload, separators=(",", ":"), ensure_ascii=ascii_only)
    return text if literal is None else text.replace(json.dumps(SENTINEL), literal, 1)


def _sms_text(value: Any, literal: str | None) -> str:
    """A POST-JSON value as the SMS verifier signs it. A literal json cannot read is refused before
    any signature is looked at, so what it is signed as does not matter."""
    if value == SENTINEL and literal is not None:
        try:
            return _param_text(json.loads(literal))
        except (ValueError, RecursionError):
            return literal
    return _param_text(value)


def sign_json(
    route: Route,
    payload: Mapping[str, Any],
    *,
    literal: str | None = None,
    ascii_only: bool = False,
    nonce: str = "n",
    iat: int = NOW,
) -> SignedRequest:
    """A JSON POST signed as the route's provider signs it (``switchboard.signing.sign`` does not
    write JSON that json.dumps cannot, nor Twilio and SMS JSON bodies)."""
    url, headers = BASE + route.path, {"content-type": "application/json"}
    if route.scheme == "vonage_sms":
        params = {k: v for k, v in payload.items() if k != "sig"}
        params |= {"api-key": API_KEY, "timestamp": str(NOW), "nonce": nonce}
        signed = {k: _sms_text(v, literal) for k, v in params.items()}
        payload = params | {"sig": compute_sms_signature(signed, VONAGE_SECRET, SMS_METHOD)}
    elif route.scheme == "twilio":
        payload = {**payload, "account_sid": ACCOUNT_SID}
    body = json_text(payload, literal, ascii_only=ascii_only).encode("utf-8")
    if route.scheme == "vonage_jwt":
        headers["authorization"] = "Bearer " + vonage_jwt(body, API_KEY, VONAGE_SECRET, iat=iat, jti=nonce)
    elif route.scheme == "url_token":
        url += "?" + urlencode({"token": SECRETS.url_token(route.product)})
    elif route.scheme == "twilio":  # a JSON body is signed through bodySHA256 in the signed URL
        url += "?" + urlencode({"bodySHA256": hashlib.sha256(body).hexdigest()})
        headers["x-twilio-signature"] = compute_twilio_signature(url, None, AUTH_TOKEN)
    return SignedRequest("POST", url, headers, body)


class FakeSqs:
    """Keeps what the real encoders send; a body that SQS could not carry (not UTF-8, or a character
    outside SQS's set, e.g. U+FFFF) fails here."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    def send_message(self, **kwargs: Any) -> dict[str, str]:
        kwargs["MessageBody"].encode("utf-8")
        assert SQS_BODY.fullmatch(kwargs["MessageBody"]), "a character SQS refuses in the body"
        self.sent.append(kwargs)
        return {"MessageId": str(len(self.sent))}

    def send_message_batch(self, QueueUrl: str, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        for entry in Entries:
            self.send_message(QueueUrl=QueueUrl, **{k: v for k, v in entry.items() if k != "Id"})
        return {"Successful": [{"Id": e["Id"]} for e in Entries], "Failed": []}


@dataclasses.dataclass
class Delivery:
    response: dict[str, Any]
    queued: list[tuple[dict[str, Any], str | None]]  # (event as the ingest queue carries it, credential)

    @property
    def status(self) -> int:
        return int(self.response["statusCode"])

    @property
    def error(self) -> str | None:
        return str(json.loads(self.response["body"])["error"]) if self.status >= 400 else None

    @property
    def event_id(self) -> str:
        return str(self.response["headers"][EVENT_ID_HEADER])


def deliver(request: SignedRequest) -> Delivery:
    """Send a request through ``handle_webhook`` and the real ingest encoder: never a 500, an error
    code from the catalogue, one queued message when accepted and none otherwise."""
    sqs = FakeSqs()
    deps = dataclasses.replace(_deps([]), enqueue=sqs_enqueuer(sqs, "ingest"))
    response = handle_webhook(to_event(request, at=NOW), ROUTES[request.path].provider, lambda: deps)
    _assert_clean(response)
    assert len(sqs.sent) == (1 if response["statusCode"] < 300 else 0), response
    queued = []
    for message in sqs.sent:
        credential = message["MessageAttributes"].get(CREDENTIAL_ATTRIBUTE, {}).get("StringValue")
        queued.append((json.loads(message["MessageBody"]), credential))
    return Delivery(response, queued)


# --- the recorder and the status API under moto -----------------------------------------------------


@dataclasses.dataclass
class Store:
    """The template's history table under moto, with the real Recorder and status API over it."""

    db: Any
    table: str
    retention_days: int
    dirty: bool = True

    def clear(self) -> None:
        """Each example starts from an empty table (a few calls: moto costs ~5 ms a call)."""
        if not self.dirty:
            return
        keys = [{"DeleteRequest": {"Key": item}} for item in self._keys()]
        for start in range(0, len(keys), 25):
            self.db.batch_write_item(RequestItems={self.table: keys[start : start + 25]})
        self.dirty = False

    def _keys(self) -> Iterator[dict[str, Any]]:
        kwargs: dict[str, Any] = {"TableName": self.table, "ProjectionExpression": "pk, sk"}
        while True:
            page = self.db.scan(**kwargs)
            yield from page["Items"]
            if "LastEvaluatedKey" not in page:
                return
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def record(self, queued: tuple[dict[str, Any], str | None]) -> Outcome:
        self.dirty = True
        publish = fifo_publisher(FakeSqs(), "events.fifo")
        clock = datetime.fromtimestamp(NOW, UTC)
        recorder = Recorder(
            self.db, self.table, publish, retention_days=self.retention_days, clock=lambda: clock
        )
        return recorder.record(*queued)

    def history(self, subject_id: str) -> list[dict[str, Any]]:
        """The status API's answer for a subject: always a 200, whatever was stored."""
        answer = handle_status({"pathParameters": {"subject_id": subject_id}}, self.db, self.table)
        assert answer["statusCode"] == 200, answer
        history: list[dict[str, Any]] = json.loads(answer["body"])["history"]
        return history

    def record_and_read_back(self, got: Delivery) -> None:
        """What was queued is a new event, and the status API serves it back exactly as queued."""
        for queued in got.queued:
            assert self.record(queued).result == "new"
            assert queued[0] in self.history(queued[0]["subject_id"])


@pytest.fixture(scope="module")
def store() -> Iterator[Store]:
    with pytest.MonkeyPatch.context() as mp:
        fake_aws_env(mp)
        with mock_aws():
            stack = provision(lambda s: boto3.client(s, region_name=REGION), prefix="hostile")
            db = boto3.client("dynamodb", region_name=REGION)
            yield Store(db, stack.refs["HistoryTable"], int(stack.parameters["RetentionDays"]))


# --- payload paths ---------------------------------------------------------------------------------


def walk(value: Any, path: Path = ()) -> Iterator[tuple[Path, Any]]:
    yield path, value
    if isinstance(value, dict):
        for key, child in value.items():
            yield from walk(child, (*path, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from walk(child, (*path, index))


def get(value: Any, path: Path) -> Any:
    for step in path:
        value = value[step]
    return value


def put(payload: dict[str, Any], path: Path, value: Any) -> dict[str, Any]:
    out = copy.deepcopy(payload)
    get(out, path[:-1])[path[-1]] = value
    return out


def pointer(path: Path) -> str:
    return "".join("/" + str(step).replace("~", "~0").replace("/", "~1") for step in path)


def reserved(s: Sample, parent: Path) -> frozenset[str]:
    return SIGNING_FIELDS.get(s.route.scheme, frozenset()) if not parent else frozenset()


new_names = st.one_of(
    st.from_regex(r"[A-Za-z0-9_-]{1,12}", fullmatch=True), st.text(min_size=1, max_size=12)
).filter(lambda name: name not in KNOWN_FIELDS)


@st.composite
def locations(draw: st.DrawFn, s: Sample) -> Path:
    """Where a generated value goes: any field of any object in the payload (the subject id field
    often), or a new one."""
    parent = draw(st.sampled_from([p for p, v in walk(s.payload) if isinstance(v, dict)]))
    names = sorted(set(get(s.payload, parent)) - reserved(s, parent))
    subject = [] if parent else list(SUBJECT_FIELDS[s.route.product])
    choices = [st.sampled_from(subject)] if subject else []
    choices += [st.sampled_from(names)] if names else []
    key = draw(st.one_of(*choices, new_names))
    return (*parent, key)


def deliver_in_a_field(
    data: st.DataObject, scheme: str, literal: str
) -> tuple[Path, SignedRequest, Delivery]:
    """A sample signed with ``scheme`` carrying the JSON ``literal`` in a generated field, delivered."""
    s = data.draw(st.sampled_from(BY_SCHEME[scheme]), label="sample")
    path = data.draw(locations(s), label="field")
    request = sign_json(s.route, put(s.payload, path, SENTINEL), literal=literal)
    return path, request, deliver(request)


# --- 1. depth ------------------------------------------------------------------------------------------


@st.composite
def nested_values(draw: st.DrawFn) -> tuple[int, str]:
    """JSON text of a scalar inside ``depth`` arrays, objects or a generated mix of both."""
    depth = draw(
        st.one_of(
            st.integers(1, MAX_DEPTH + 1), st.integers(MAX_DEPTH - 3, 3 * MAX_DEPTH), st.integers(1, 20_000)
        )
    )
    shape = draw(st.sampled_from(["arrays", "objects", "mixed"]))
    cycle = {"arrays": [True], "objects": [False]}.get(shape) or draw(
        st.lists(st.booleans(), min_size=2, max_size=8)
    )
    key = json.dumps(draw(st.text(max_size=3)))
    leaf = json.dumps(draw(st.none() | st.booleans() | st.integers() | st.text(max_size=5)))
    arrays = [cycle[i % len(cycle)] for i in range(depth)]
    opened = "".join("[" if is_array else "{" + key + ":" for is_array in arrays)
    return depth, opened + leaf + "".join("]" if is_array else "}" for is_array in reversed(arrays))


@pytest.mark.parametrize("scheme", SCHEMES)
@share(3)
@given(data=st.data())
def test_a_value_nested_at_any_depth_is_accepted_up_to_64_levels_and_invalid_json_past_them(
    store: Store, scheme: str, data: st.DataObject
) -> None:
    depth, text = data.draw(nested_values(), label="depth, JSON")
    store.clear()
    path, request, got = deliver_in_a_field(data, scheme, text)
    body_depth = len(path) + depth  # the value's containers, inside the objects that hold it
    event(f"depth {'<=' if body_depth <= MAX_DEPTH else '>'} {MAX_DEPTH}: {got.status}")
    if len(request.body) > SETTINGS.max_body_bytes:  # 20,000 objects do not fit in 64 KiB
        assert (got.status, got.error) == (413, "body_too_large")
    elif body_depth > MAX_DEPTH:
        assert (got.status, got.error) == (400, "invalid_json")
    store.record_and_read_back(got)


# --- 2. lone surrogates ----------------------------------------------------------------------------


@st.composite
def with_lone_surrogates(draw: st.DrawFn, text: str) -> str:
    chars = list(text)
    for _ in range(draw(st.integers(1, 3))):
        chars.insert(draw(st.integers(0, len(chars))), chr(draw(st.integers(0xD800, 0xDFFF))))
    out = "".join(chars)
    while LONE_PAIR.search(out):  # a high one right before a low one is a pair (valid text): no pairs
        out = LONE_PAIR.sub(lambda m: m.group(0)[0] * 2, out)
    return out


def _required(data: Mapping[str, Any], *names: str) -> str | None:
    """The pointer of the value ``normalise._required`` reads: the first one set."""
    for name in names:
        value = data.get(name)
        if isinstance(value, list):
            return pointer((name, 0)) if value else None
        if value is not None and value != "":
            return pointer((name,))
    return None


def _optional(data: Mapping[str, Any], *names: str) -> str | None:
    """The pointer of the value ``normalise._optional`` reads: the first non-empty string or number."""
    for name in names:
        value = data.get(name)
        path: Path = (name, 0) if isinstance(value, list) and value else (name,)
        value = value[0] if isinstance(value, list) and value else value
        if (isinstance(value, str) and value) or (
            isinstance(value, int | float) and not isinstance(value, bool)
        ):
            return pointer(path)
    return None


def key_pointers(s: Sample, data: Mapping[str, Any]) -> set[str]:
    """The payload strings an event's keys are made of (shared/normalise.py): subject, status,
    channel, client_ref and the other parts of the natural key. ``type`` is not one: it is reduced
    to ``[a-z0-9_.]`` before it is used, so a surrogate there becomes ``_``."""
    product, kind = s.route.product, s.route.kind
    found = [_optional(data, "client_ref", "client-ref")]
    if product == "verify":
        found += [_required(data, "request_id"), "/status", _optional(data, "channel", "channel_used")]
    elif product == "messages":
        found += [_required(data, "message_uuid"), _optional(data, "channel")]
        found += ["/status", "/workflow/id"] if kind == "status" else []
    elif product in ("sms", "short_codes"):
        found += [_required(data, "messageId", "message-id")]
        found += ["/status", _optional(data, "err-code")] if kind == "receipt" else []
    elif product == "voice":
        found += [_required(data, "uuid", "call_uuid", "conversation_uuid")]
        # A fallback has the status its original would have: an answer's is "answered".
        found += ["/status"] if kind == "event" or (kind == "fallback" and not _answer_fallback(data)) else []
    elif product == "number_insight":
        found += [_required(data, "request_id")]
    elif product == "rtc":
        found += _rtc_pointers(data)
    elif product == "dispatch":
        found += _dispatch_pointers(data)
    else:
        cleaned = re.sub(r"[^a-z0-9_.]", "_", str(data.get("type", "")).strip().lower())
        family = next((part for part in cleaned.split(".") if part), "")
        subject = {"challenge": "/challenge_sid", "factor": "/factor_sid"}.get(family)
        found += ["/uuid", subject or _optional(data, "challenge_sid") or "/factor_sid"]
    return {p for p in found if p}


def _child(data: Mapping[str, Any], *path: str) -> Any:
    for name in path:
        data = data.get(name) if isinstance(data, Mapping) else None  # type: ignore[assignment]
    return data


def _text_at(data: Mapping[str, Any], *path: str) -> str | None:
    """The pointer of a non-empty string at ``path``, or None."""
    value = _child(data, *path)
    return pointer(path) if isinstance(value, str) and value else None


def _answer_fallback(data: Mapping[str, Any]) -> bool:
    """Whether a voice fallback repeats an answer (shared/providers/vonage/voice.py reads
    ``original_request.type``, then ``original_request[type]``, then ``original_request.type`` as a
    flat name)."""
    for found in (_child(data, "original_request", "type"), data.get("original_request[type]")):
        if found is not None:
            return isinstance(found, str) and found.strip().lower() == "answer"
    found = data.get("original_request.type")
    return isinstance(found, str) and found.strip().lower() == "answer"


def _rtc_pointers(data: Mapping[str, Any]) -> list[str | None]:
    """RTC: the conversation (or, with no ``id``, the knocker in ``from``), the leg's status and the
    channel; ``type`` becomes ``[a-z0-9_.]`` first, so it is not one."""
    leg = re.sub(r"[^a-z0-9_.]", "_", str(data.get("type", "")).replace(":", ".").strip().lower()) == (
        "leg.status.update"
    )
    subject = _text_at(data, "conversation_id") or _text_at(data, "cid")
    if subject is None and data.get("id") in (None, ""):
        subject = _text_at(data, "from")
    status = _child(data, "body", "status")
    found = [subject, "/body/status" if leg and isinstance(status, str) and status.strip() else None]
    leg_type = _text_at(data, "body", "type") if leg else None
    return [*found, leg_type or _text_at(data, "body", "channel", "type")]


def _dispatch_pointers(data: Mapping[str, Any]) -> list[str | None]:
    """Dispatch: the workflow (or the message) and status; a message status's uuid, error code and
    channel (``to.type``, else ``from.type``)."""
    if "dispatch_uuid" in data and "template" in data:
        return [_required(data, "dispatch_uuid"), "/status"]
    message = _required(data, "message_uuid")
    subject = _text_at(data, "_links", "workflow", "dispatch_uuid") or message
    code = "/error/code" if isinstance(_child(data, "error", "code"), str) else None
    channel = _text_at(data, "to", "type") or _text_at(data, "from", "type")
    return [subject, message, "/status", code, channel]


@dataclasses.dataclass
class SurrogateCase:
    sample: Sample
    payload: dict[str, Any]
    changed: dict[Path, str]  # where a surrogate went in -> the string as it was before
    in_names: bool  # a surrogate in an object key

    def expected_refusal(self) -> tuple[int, str] | None:
        if self.sample.route.scheme == "vonage_sms" and not all(map(PARAM_NAME.fullmatch, self.payload)):
            return (400, "invalid_field")  # the SMS API's names are checked first: [A-Za-z0-9_-] only
        if self.in_names:
            return (400, "invalid_encoding")
        if self.sample.route.product == "number_insight" and ("status",) in self.changed:
            return (400, "invalid_field")  # a status that is no integer
        if {pointer(p) for p in self.changed} & key_pointers(self.sample, self.payload):
            return (400, "invalid_encoding")
        return None


extra_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=4), c, max_size=3),
    max_leaves=6,
)


AIMS = ["key field", "free text", "anywhere", "object key"]


@st.composite
def surrogate_cases(draw: st.DrawFn, scheme: str, aim: str) -> SurrogateCase:
    """Lone surrogates in a generated place: a key field, free text (top-level, nested, in generated
    extra fields), any string, or an object key; the oracle is ``expected_refusal``."""
    s = draw(st.sampled_from(BY_SCHEME[scheme]))
    flat = s.route.scheme in SIGNING_FIELDS  # SMS and Twilio: parameters are flat strings
    extras = draw(st.dictionaries(new_names, st.text(max_size=8) if flat else extra_values, max_size=2))
    payload = {**extras, **copy.deepcopy(s.payload)}
    keys = key_pointers(s, payload)
    strings = [
        path
        for path, value in walk(payload)
        if isinstance(value, str)
        and path[0] not in reserved(s, ())
        and not (s.route.provider == "twilio" and TWILIO_JSON_TEXT.fullmatch(str(path[0])))
    ]
    if aim == "key field":
        strings = [p for p in strings if pointer(p) in keys]
    elif aim == "free text":
        strings = [p for p in strings if pointer(p) not in keys]
    elif aim == "object key":
        strings = []
    targets = draw(st.lists(st.sampled_from(strings), min_size=1, max_size=3, unique=True)) if strings else []
    changed = {}
    for path in targets:
        changed[path] = get(payload, path)
        payload = put(payload, path, draw(with_lone_surrogates(get(payload, path))))
    in_names = aim == "object key" or not targets
    if in_names:
        objects = [p for p, v in walk(payload) if isinstance(v, dict) and not (flat and p)]
        name = draw(with_lone_surrogates(draw(st.text(max_size=6))))
        payload = put(payload, (*draw(st.sampled_from(objects)), name), draw(st.text(max_size=6)))
    return SurrogateCase(s, payload, changed, in_names)


@pytest.mark.parametrize("aim", AIMS)
@pytest.mark.parametrize("scheme", SCHEMES)
@share(len(SCHEMES) * len(AIMS))
@given(data=st.data())
def test_a_lone_surrogate_is_refused_in_a_key_or_a_name_and_repaired_in_free_text(
    store: Store, scheme: str, aim: str, data: st.DataObject
) -> None:
    case = data.draw(surrogate_cases(scheme, aim), label="case")
    store.clear()
    got = deliver(sign_json(case.sample.route, case.payload, ascii_only=True))  # travels as "\udXXX"
    refusal = case.expected_refusal()
    event(f"{case.sample.route.product}: {refusal or 'repaired'}")
    if refusal is not None:
        assert (got.status, got.error) == refusal
        return
    assert got.status in (200, 204), got.response
    (queued,) = got.queued
    assert sorted(queued[0].get("repaired_fields", [])) == sorted("/data" + pointer(p) for p in case.changed)
    for path in case.changed:
        assert get(queued[0]["data"], path) == SURROGATE.sub("\ufffd", get(case.payload, path))
    store.record_and_read_back(got)


# --- 3. huge numbers -----------------------------------------------------------------------------

huge_integers = st.builds(
    "{}{}".format,
    st.sampled_from(["", "-"]),
    st.integers(20, 400).flatmap(lambda digits: st.integers(10 ** (digits - 1), 10**digits - 1)),
)
overflowing_floats = st.builds(
    "{}{}{}{}{}{}".format,
    st.sampled_from(["", "-"]),
    st.integers(1, 9),
    st.just("") | st.integers(0, 10**9).map(".{}".format),
    st.sampled_from(["e", "E"]),
    st.sampled_from(["", "+"]),
    st.integers(309, 99_999),
)  # 1e400 and the like: past the largest float
not_numbers = st.sampled_from(["NaN", "Infinity", "-Infinity"])


@pytest.mark.parametrize("scheme", SCHEMES)
@share(3)
@given(data=st.data())
def test_huge_numbers_in_any_field_are_kept_exactly_or_refused_and_never_a_500(
    store: Store, scheme: str, data: st.DataObject
) -> None:
    number = data.draw(st.one_of(huge_integers, overflowing_floats, not_numbers), label="number")
    store.clear()
    _, _, got = deliver_in_a_field(data, scheme, number)
    json_number = _as_int(number) is not None  # JSON has no NaN/Infinity, and no float holds 1e400
    event(f"{'integer' if json_number else 'not a JSON number'}: {got.status}")
    if not json_number:
        assert (got.status, got.error) == (400, "invalid_json")
    for queued, _ in got.queued:
        json.dumps(queued, allow_nan=False)
    store.record_and_read_back(got)


digit_strings = st.integers(17, 12_000).map(lambda n: json.dumps("9" * n))  # past int()'s 4,300 digits
noncharacter_text = st.lists(
    st.sampled_from(["a", "\ufffe", "\uffff", "\ufffd", "\U0001f600"]), min_size=1
).map(lambda parts: json.dumps("".join(parts), ensure_ascii=False))


@pytest.mark.parametrize("scheme", SCHEMES)
@share(3)
@given(data=st.data())
def test_digit_strings_of_any_length_in_any_field_are_never_a_500(
    store: Store, scheme: str, data: st.DataObject
) -> None:
    """Integers sent as text (item numbers, Number Insight's status, RTC ids) are read only up to
    18 digits: a longer one is kept as text or refused with a 4xx, never handed to int()."""
    literal = data.draw(digit_strings, label="digits")
    store.clear()
    _, _, got = deliver_in_a_field(data, scheme, literal)
    event(f"{got.status} {got.error}")
    assert got.status < 500
    store.record_and_read_back(got)


# Every field a parser reads as an integer that may arrive as digits (providers-more §3, §1.4; NI).
INTEGER_FIELDS = [
    ("messages/status-rejected-failover-first", ("workflow", "item_number")),
    ("messages/status-rejected-failover-first", ("workflow", "items_total")),
    ("number_insight/result-success", ("status",)),
    ("rtc/member-joined", ("id",)),
]


@pytest.mark.parametrize(("name", "path"), INTEGER_FIELDS)
@pytest.mark.parametrize("digits", [19, 4_301, 12_000])
def test_an_integer_field_sent_as_a_long_digit_string_is_a_4xx_or_kept_never_a_500(
    name: str, path: Path, digits: int
) -> None:
    s = sample(name)
    got = deliver(sign_json(s.route, put(s.payload, path, SENTINEL), literal=json.dumps("7" * digits)))
    assert got.status < 500


@pytest.mark.parametrize("scheme", SCHEMES)
@share(3)
@given(data=st.data())
def test_noncharacters_in_any_field_reach_the_queue_as_sqs_accepts_them(
    store: Store, scheme: str, data: st.DataObject
) -> None:
    """U+FFFE and U+FFFF are valid text a user can type, and SQS refuses them raw: the ingest body
    carries them escaped (FakeSqs checks SQS's character set) and the event reads back unchanged."""
    literal = data.draw(noncharacter_text, label="text")
    store.clear()
    _, _, got = deliver_in_a_field(data, scheme, literal)
    assert got.status < 500
    for queued, _ in got.queued:
        assert SQS_BODY.fullmatch(safejson.dumps_for_sqs(queued))
    store.record_and_read_back(got)


def _as_int(literal: str) -> int | None:
    return int(literal) if re.fullmatch(r"-?[0-9]+", literal) else None


def _seconds(literal: str) -> float | None:
    """A time claim as a verifier reads it, or None when no finite float holds it."""
    try:
        value = float(json.loads(literal))
    except OverflowError:  # an integer past float range
        return None
    return value if math.isfinite(value) else None


def expected_time_verdict(claim: str, literal: str) -> tuple[int, str] | None:
    """Vonage JWT rule 5 (shared/verify/vonage_jwt.py): a value no float holds is not a time
    (claim_missing); a finite one is judged against the clock like any other."""
    seconds = _seconds(literal)
    if seconds is None:
        return (401, "claim_missing")
    skew, max_age = SETTINGS.clock_skew_s, SETTINGS.vonage_jwt_max_age_s
    if claim in ("iat", "nbf") and seconds > NOW + skew:
        return (401, "token_from_future")
    if (claim == "iat" and NOW - seconds > max_age) or (claim == "exp" and seconds <= NOW):
        return (401, "token_expired")
    return None


@settings(PROFILE)
@given(
    s=st.sampled_from(BY_SCHEME["vonage_jwt"]),
    claim=st.sampled_from(["iat", "exp", "nbf"]),
    number=st.one_of(huge_integers, overflowing_floats, not_numbers),
)
def test_a_jwt_time_claim_no_float_can_hold_is_a_401_with_a_stable_code_never_a_500(
    s: Sample, claim: str, number: str
) -> None:
    body = json_bytes(s.payload)
    claims = vonage_claims(body, API_KEY, NOW, jti="hostile-time")
    claims[claim] = SENTINEL
    token = hs256_jwt_from_json('{"alg":"HS256","typ":"JWT"}', json_text(claims, number), VONAGE_SECRET)
    authorization = f"Bearer {token}"
    headers = {"content-type": "application/json", "authorization": authorization}
    got = deliver(SignedRequest("POST", BASE + s.route.path, headers, body))
    expected = expected_time_verdict(claim, number)
    event(f"{claim}: {expected}")
    if expected is None:
        assert got.status in (200, 204), got.response
    else:
        assert (got.status, got.error) == expected


# --- 4. re-split signed parameters ---------------------------------------------------------------

Pairs = list[tuple[str, str]]
TWILIO_ROUTE = ROUTES["/twilio/verify-push"]
TWILIO_SAMPLES = [s for s in SAMPLES if s.route == TWILIO_ROUTE]
SMS_SAMPLES = [s for s in SAMPLES if s.route.scheme == "vonage_sms"]
TWILIO_RESPLITS = ["shorten_name", "lengthen_name", "fold_value_into_next_name", "absorb_next", "split_value"]
positions = st.integers(0, 10**6)


def twilio_resplit(pairs: Pairs, op: str, i: int, a: int, b: int) -> Pairs:
    """One re-split of Twilio's ``name1value1name2value2…`` (names sorted): the concatenation stays
    the same; kept only when the names stay distinct and sorted, as Twilio signs them."""
    i %= len(pairs)
    (name, value), new = pairs[i], list(pairs)
    after = pairs[i + 1] if i + 1 < len(pairs) else None
    if op == "shorten_name" and len(name) > 1:  # "uuid" + X → "u" + ("uid" + X)
        k = 1 + a % (len(name) - 1)
        new[i] = (name[:k], name[k:] + value)
    elif op == "lengthen_name" and value:
        k = 1 + a % len(value)
        new[i] = (name + value[:k], value[k:])
    elif op == "fold_value_into_next_name" and after and value:  # cut a value, its tail joins the next name
        j = a % len(value)
        new[i : i + 2] = [(name, value[:j]), (value[j:] + after[0], after[1])]
    elif op == "absorb_next" and after:  # an optional parameter absorbed into the previous value
        new[i : i + 2] = [(name, value + after[0] + after[1])]
    elif op == "split_value" and value:
        j = a % len(value)
        k = j + 1 + b % (len(value) - j)
        new[i : i + 1] = [(name, value[:j]), (value[j:k], value[k:])]
    names = [n for n, _ in new]
    return new if all(names) and names == sorted(set(names)) else pairs


def sms_resplit(pairs: Pairs, i: int, run: int) -> Pairs:
    """``&n1=v1&n2=v2`` read as one parameter named ``n1=v1&n2`` with the value ``v2`` (the SMS
    API signs ``&`` and ``=`` in values as ``_``, but not in names); kept when names stay sorted."""
    i %= len(pairs)
    j = min(len(pairs) - 1, i + 1 + run % 3)
    if j == i:
        return pairs
    merged = "&".join(f"{n}={v.replace('&', '_').replace('=', '_')}" for n, v in pairs[i:j])
    new = [*pairs[:i], (f"{merged}&{pairs[j][0]}", pairs[j][1]), *pairs[j + 1 :]]
    names = [n for n, _ in new]
    return new if names == sorted(set(names)) else pairs


def as_form(url: str, pairs: Pairs, signature: str) -> SignedRequest:
    headers = {"content-type": FORM, "x-twilio-signature": signature}
    return SignedRequest("POST", url, headers, urlencode(pairs).encode())


def sms_request(route: Route, pairs: Pairs, encoding: str) -> SignedRequest:
    url = BASE + route.path
    if encoding == "query":
        return SignedRequest("GET", f"{url}?{urlencode(pairs)}")
    if encoding == "json":
        return SignedRequest("POST", url, {"content-type": "application/json"}, json_bytes(dict(pairs)))
    return SignedRequest("POST", url, {"content-type": FORM}, urlencode(pairs).encode())


@dataclasses.dataclass
class ResplitCase:
    original: SignedRequest
    resplits: list[SignedRequest]
    replays: list[SignedRequest]
    second: SignedRequest  # another real delivery, freshly signed
    order: list[int]  # after the original: the others, interleaved
    # the captured request on another route of the same scheme (the signature does not cover it)
    crossed: list[SignedRequest] = dataclasses.field(default_factory=list)


@st.composite
def twilio_cases(draw: st.DrawFn) -> ResplitCase:
    s, method = draw(st.sampled_from(TWILIO_SAMPLES)), draw(st.sampled_from(["GET", "POST"]))
    original = sign(TWILIO_ROUTE, s.payload, SECRETS, BASE, now=NOW, method=method)
    signature = original.headers["x-twilio-signature"]
    params = dict(parse_qsl(original.query if method == "GET" else original.body.decode()))
    if method == "GET":  # the signed string is the URL: cut it, the tail travels as a form body
        assert twilio_signature(original.url, None, AUTH_TOKEN) == signature
        start = original.url.index("?") + 2  # a non-empty query stays in the URL
        cut = start + draw(positions) % (len(original.url) - start)
        url, tail = original.url[:cut], original.url[cut:]
        split = 1 + draw(positions) % len(tail)
        first: Pairs = [(tail[:split], tail[split:])]
    else:
        url, first = original.url, sorted(params.items())
        assert twilio_signature(url, {k: [v] for k, v in first}, AUTH_TOKEN) == signature
    resplits = []
    for _ in range(draw(st.integers(1, 3))):
        pairs = first
        for op in draw(
            st.lists(st.tuples(st.sampled_from(TWILIO_RESPLITS), positions, positions, positions), max_size=4)
        ):
            pairs = twilio_resplit(pairs, *op)
        assume(pairs != sorted(params.items()) or method == "GET")
        assert twilio_signature(url, {n: [v] for n, v in pairs}, AUTH_TOKEN) == signature
        resplits.append(as_form(url, pairs, signature))
    fresh = {**s.payload, "uuid": str(draw(st.uuids()))}
    second = sign(TWILIO_ROUTE, fresh, SECRETS, BASE, now=NOW, method=method)
    replays = [original] * draw(st.integers(0, 2))
    order = draw(st.permutations(range(len(resplits) + len(replays) + 1)))
    return ResplitCase(original, resplits, replays, second, order)


@st.composite
def sms_cases(draw: st.DrawFn) -> ResplitCase:
    s = draw(st.sampled_from(SMS_SAMPLES))
    encoding = draw(st.sampled_from(["query", "form", "json"]))
    method = "GET" if encoding == "query" else "POST"
    original = sign(s.route, s.payload, SECRETS, BASE, now=NOW, method=method, encoding=encoding, nonce="n-1")
    params = (
        json.loads(original.body)
        if encoding == "json"
        else dict(parse_qsl(original.query if method == "GET" else original.body.decode()))
    )
    sig = params.pop("sig")
    assert sms_sig(params, VONAGE_SECRET, SMS_METHOD).lower() == sig.lower()
    resplits = []
    for _ in range(draw(st.integers(1, 3))):
        pairs = sorted(params.items())
        for i, run in draw(st.lists(st.tuples(positions, positions), min_size=1, max_size=3)):
            pairs = sms_resplit(pairs, i, run)
        assume(pairs != sorted(params.items()))
        assert sms_sig(dict(pairs), VONAGE_SECRET, SMS_METHOD).lower() == sig.lower()
        resplits.append(sms_request(s.route, [*pairs, ("sig", sig)], encoding))
    # A replay: the same parameters, in the same or another encoding the SMS API uses, the sig spelt
    # any way the verifier accepts (any case, surrounding whitespace).
    encodings = st.sampled_from(["query", "form", "json"])
    replays = [
        sms_request(s.route, [*params.items(), ("sig", draw(respelled(sig)))], draw(encodings))
        for _ in range(draw(st.integers(0, 2)))
    ]
    other = ROUTES["/vonage/sms/inbound" if s.route.path.endswith("receipt") else "/vonage/sms/receipt"]
    crossed = [
        sms_request(other, [*params.items(), ("sig", draw(respelled(sig)))], draw(encodings))
        for _ in range(draw(st.integers(0, 2)))
    ]
    fresh = {**s.payload, "messageId": draw(st.uuids()).hex[:16].upper()}
    second = sign(s.route, fresh, SECRETS, BASE, now=NOW, method=method, encoding=encoding, nonce="n-2")
    order = draw(st.permutations(range(len(resplits) + len(replays) + len(crossed) + 1)))
    return ResplitCase(original, resplits, replays, second, order, crossed)


def respelled(sig: str) -> st.SearchStrategy[str]:
    """The same sig as the verifier reads it (stripped, case-folded), spelt another way."""
    pad = st.sampled_from(["", " ", "  ", "\t"])
    cases = st.lists(st.booleans(), min_size=len(sig), max_size=len(sig))
    return st.tuples(pad, cases, pad).map(
        lambda p: (
            p[0] + "".join(c.upper() if up else c.lower() for c, up in zip(sig, p[1], strict=True)) + p[2]
        )
    )


# An example records about five events through moto (~0.2 s): a sixth of the profile, at most 500.
@pytest.mark.parametrize("cases", [twilio_cases, sms_cases], ids=["twilio", "sms"])
@share(6, cap=500)
@given(data=st.data())
def test_a_re_split_signed_request_never_records_a_second_event(
    store: Store, cases: Any, data: st.DataObject
) -> None:
    case: ResplitCase = data.draw(cases(), label="case")
    store.clear()
    original = deliver(case.original)
    assert original.status == 200, original.response
    (queued,) = original.queued
    assert store.record(queued).result == "new"
    others = [("re-split", r) for r in case.resplits] + [("replay", r) for r in case.replays]
    others += [("other route", r) for r in case.crossed]
    others.append(("second delivery", case.second))
    for kind, request in (others[i] for i in case.order):
        got = deliver(request)
        event(f"{kind}: {got.error or got.status}")
        if kind in ("re-split", "other route") and got.status >= 400:
            continue  # refused at the door (another route may lack its required fields)
        assert got.status == 200, (kind, got.response)
        result = store.record(got.queued[0]).result
        event(f"{kind}: recorder {result}")
        # A re-split that keeps `uuid` but moves the subject reuses a signature bound to another
        # subject: rejected_credential_reused.
        refused = {"duplicate", "rejected_credential_reused"}
        expected = {
            "re-split": refused,
            "replay": {"duplicate"},
            "other route": {"rejected_credential_reused"},
        }
        assert result in expected.get(kind, {"new"}), (kind, result, got.queued[0][0])
    history = store.history(queued[0]["subject_id"])
    assert [e for e in history if e["event_id"] == queued[0]["event_id"]] == [queued[0]]


@pytest.mark.parametrize("forged_first", [True, False], ids=["forgery-first", "delivery-first"])
def test_a_re_split_keeping_the_delivery_id_is_told_apart_whichever_arrives_first(
    store: Store, forged_first: bool
) -> None:
    """First use wins (README, "What remains"): a re-split that keeps `uuid` has the delivery's event
    id under another subject. Whichever is recorded second is refused as `rejected_credential_reused`
    (its signature is bound to the other subject; logged as a forgery), never as an ordinary
    duplicate and never recorded."""
    store.clear()
    original = sign(TWILIO_ROUTE, sample("verify_push/challenge-approved").payload, SECRETS, BASE, now=NOW)
    params = dict(parse_qsl(original.body.decode()))
    # challenge_sid "YC41fba094ce8fd16e0328034e6e5281bc" + entity_identity "ff48…" is also
    # challenge_sid "YC41fba094ce8fd16e0328034" + a name "e6e5281bcentity_identity" (sorted alike).
    forged = {k: v for k, v in params.items() if k != "entity_identity"}
    forged["challenge_sid"] = params["challenge_sid"].removesuffix("e6e5281bc")
    forged["e6e5281bcentity_identity"] = params["entity_identity"]
    signature = original.headers["x-twilio-signature"]
    assert twilio_signature(original.url, {k: [v] for k, v in forged.items()}, AUTH_TOKEN) == signature
    requests = [as_form(original.url, sorted(forged.items()), signature), original]
    recorded = []
    for request in requests if forged_first else requests[::-1]:
        got = deliver(request)
        assert got.status == 200  # both verify, both carry uuid: one event id
        recorded.append((got.queued[0][0]["subject_id"], store.record(got.queued[0]).result))
    first, second = (forged, params) if forged_first else (params, forged)
    assert recorded == [
        (first["challenge_sid"], "new"),
        (second["challenge_sid"], "rejected_credential_reused"),
    ]


# --- 4b. a captured JWT on another route ------------------------------------------------------------

# Every JWT route a JSON body reaches: the token signs the body, never the route.
JWT_ROUTES = sorted(r.path for r in ROUTES.values() if r.scheme == "vonage_jwt" and "POST" in r.methods)


@st.composite
def bodies_every_jwt_route_reads(draw: st.DrawFn) -> dict[str, Any]:
    """One body with the fields of every JWT product (Verify, Messages, Voice and its fallback, RTC,
    Dispatch), so that a replay on any of their routes verifies and normalises."""
    return {
        "type": draw(st.sampled_from(["member:joined", "leg:status:update", "event", "summary"])),
        "request_id": draw(uuids),
        "message_uuid": draw(uuids),
        "uuid": draw(uuids),
        "conversation_id": draw(uuids.map("CON-{}".format)),
        "id": draw(st.integers(1, 10**6)),
        "status": draw(st.sampled_from(["completed", "delivered", "answered", "ringing"])),
        "timestamp": draw(timestamps),
        "body": {"status": "answered", "type": "phone"},
        "_links": {"workflow": {"dispatch_uuid": draw(uuids)}},
    }


@pytest.mark.parametrize("first", JWT_ROUTES)
@share(len(JWT_ROUTES))
@given(data=st.data())
def test_a_jwt_captured_on_one_route_replayed_on_the_others_never_records_a_second_event(
    store: Store, first: str, data: st.DataObject
) -> None:
    """RTC, Dispatch, the voice fallback, Voice, Messages and Verify share one credential: whichever
    route sees a captured token first records the one event (first use wins: README, "What
    remains"); on every other route it verifies, normalises to another event id, and the recorder
    refuses it as a reused credential."""
    payload = data.draw(bodies_every_jwt_route_reads(), label="body")
    others = data.draw(st.permutations([r for r in JWT_ROUTES if r != first]), label="order")
    routes = [first, *others[: data.draw(st.integers(1, len(others)))]]
    captured = sign_json(ROUTES[routes[0]], payload, nonce="captured")
    store.clear()
    results = []
    for path in routes:
        got = deliver(SignedRequest("POST", BASE + path, dict(captured.headers), captured.body))
        assert got.status in (200, 204), (path, got.response)
        results.append(store.record(got.queued[0]).result)
        event(f"{path}: {results[-1]}")
    assert results == ["new"] + ["rejected_credential_reused"] * (len(routes) - 1)


# --- 5. different deliveries, different event ids ----------------------------------------------------

timestamps = st.datetimes(datetime(2020, 1, 1), datetime(2030, 1, 1)).map(
    lambda t: t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"
)
uuids = st.uuids().map(str)


def assert_distinct_and_stable(route: Route, a: dict[str, Any], b: dict[str, Any], age: int) -> None:
    """a and b are two deliveries: two event ids; a retried with a new JWT has a's id again."""
    first, second = deliver(sign_json(route, a, nonce="a")), deliver(sign_json(route, b, nonce="b"))
    retry = deliver(sign_json(route, a, nonce="a-retry", iat=NOW - age))  # new jti, new iat
    assert first.event_id != second.event_id
    assert retry.event_id == first.event_id


CHANNELS = ["sms", "mms", "rcs", "whatsapp", "viber_service", "messenger"]


@st.composite
def failover_attempts(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any]]:
    """Two statuses of one failover (providers-more.md §3): one message_uuid, status and timestamp,
    and another channel, another workflow item (an integer or a string), or both."""
    base = {
        **sample("messages/status-delivered").payload,
        "message_uuid": draw(uuids),
        "status": draw(st.sampled_from(["submitted", "delivered", "read", "rejected", "undeliverable"])),
        "timestamp": draw(timestamps),
    }
    differs = draw(st.sampled_from(["channel", "item", "both"]))
    channels = draw(st.lists(st.sampled_from(CHANNELS), min_size=2, max_size=2, unique=True))
    items = draw(st.lists(st.integers(1, 5), min_size=2, max_size=2, unique=True))
    channels = channels if differs != "item" else channels[:1] * 2
    items = items if differs != "channel" else items[:1] * 2
    workflow = {"id": draw(uuids), "items_total": 5} if differs != "channel" or draw(st.booleans()) else None
    attempts = []
    for channel, item in zip(channels, items, strict=True):
        attempt = {**base, "channel": channel}
        if workflow is not None:
            attempt["workflow"] = {**workflow, "item_number": draw(st.sampled_from([item, str(item)]))}
        attempts.append(attempt)
    return attempts[0], attempts[1]


@settings(PROFILE)
@given(attempts=failover_attempts(), age=st.integers(0, SETTINGS.vonage_jwt_max_age_s))
def test_failover_statuses_of_one_message_are_different_events_and_a_retry_is_the_same(
    attempts: tuple[dict[str, Any], dict[str, Any]], age: int
) -> None:
    assert_distinct_and_stable(ROUTES["/vonage/messages/status"], *attempts, age)


def voice_events(common: Mapping[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    """Voice event webhooks that carry no id of their own (providers.md §5.2)."""
    digits = st.text("0123456789*#", max_size=6)
    one_of_each = st.one_of(
        st.fixed_dictionaries(
            {"dtmf": st.fixed_dictionaries({"digits": digits, "timed_out": st.booleans()})}
        ),
        st.fixed_dictionaries(
            {
                "speech": st.fixed_dictionaries(
                    {
                        "results": st.lists(
                            st.fixed_dictionaries(
                                {"text": st.text(max_size=12), "confidence": st.floats(0, 1).map(str)}
                            ),
                            max_size=2,
                        ),
                        "timeout_reason": st.sampled_from(
                            ["end_on_silence_timeout", "max_duration", "start_timeout"]
                        ),
                    }
                )
            }
        ),
        st.fixed_dictionaries(
            {
                "recording_url": uuids.map("https://api.nexmo.com/v1/files/{}".format),
                "recording_uuid": uuids,
                "size": st.integers(0, 10**7),
                "start_time": timestamps,
                "end_time": timestamps,
            }
        ),
        st.fixed_dictionaries(
            {
                "conversation_uuid_from": st.just(common["conversation_uuid"]),
                "conversation_uuid_to": uuids.map("CON-{}".format),
            }
        ),
        st.fixed_dictionaries({"status": st.sampled_from(["success", "failure"])}),  # payment
    )
    return one_of_each.map(lambda specific: {**common, **specific})


@settings(PROFILE)
@given(
    events=st.fixed_dictionaries(
        {
            "uuid": uuids,
            "conversation_uuid": uuids.map("CON-{}".format),
            "timestamp": timestamps,
            "to": st.just("447700900000"),
            "from": st.just("447700900001"),
        }
    ).flatmap(lambda c: st.tuples(voice_events(c), voice_events(c))),
    age=st.integers(0, SETTINGS.vonage_jwt_max_age_s),
)
def test_voice_events_without_an_id_are_told_apart_by_their_payload_and_a_retry_is_the_same(
    events: tuple[dict[str, Any], dict[str, Any]], age: int
) -> None:
    assume(events[0] != events[1])
    assert_distinct_and_stable(ROUTES["/vonage/voice/event"], *events, age)
