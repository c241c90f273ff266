"""RTC events, Dispatch callbacks, the voice fallback and US Short Codes (providers-more.md §1, §2,
§5, §6): subjects, statuses, ranks and identities, the per-product URL token, and the fallback NCCO.
Expected values are written out from the reference, never computed by the code under test."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import pytest

from shared import providers
from shared.config import ProviderSecrets, Settings
from shared.errors import (
    BadRequest,
    ConfigError,
    InvalidField,
    MissingField,
    NotConfigured,
    SignatureInvalid,
    SignatureMissing,
    SwitchboardError,
    UnsupportedMediaType,
)
from shared.http import HttpRequest
from shared.ingress import ROUTES, receive
from shared.normalise import normalise
from shared.providers.base import Position
from shared.secrets import SecretsSource
from shared.status_rank import position, supersedes
from shared.storage import subject_pk
from shared.webhook import WebhookDeps, handle_webhook
from switchboard.samples import SAMPLE_HOST, dev_secrets, sample, to_event
from switchboard.signing import sign

AT = datetime(2026, 11, 23, 12, tzinfo=UTC)
LATER = AT + timedelta(hours=2)
SECRETS = dev_secrets()
CON = "CON-2b49b74a-9520-4503-aed6-0b3167915c83"
WORKFLOW = "d15a7c40-2b1e-4f3a-9c8d-7e6f5a4b3c2d"


def event(product: str, kind: str | None, data: dict[str, Any], at: datetime = AT) -> dict[str, Any]:
    return normalise(product, kind, data, account_id=None, received_at=at)


def payload(name: str, **changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(sample(name).payload)
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def rejected(call: Any, error: type[SwitchboardError]) -> SwitchboardError:
    with pytest.raises(error) as caught:
        call()
    return caught.value


# --- RTC ----------------------------------------------------------------------------------------


def test_rtc_types_read_colons_as_dots_and_statuses_as_underscores() -> None:
    joined = event("rtc", None, payload("rtc/member-joined"))
    assert (joined["type"], joined["status"], joined["subject_id"]) == (
        "rtc.member.joined",
        "member_joined",
        CON,
    )
    custom = event("rtc", None, payload("rtc/member-joined", type="custom:My-Event"))
    assert (custom["type"], custom["status"]) == ("rtc.custom.my_event", "custom_my_event")


@pytest.mark.parametrize("leg", ["ringing", "ANSWERED", "completed", "busy"])
def test_a_leg_status_update_has_the_legs_status_and_its_type_as_channel(leg: str) -> None:
    data = payload("rtc/leg-status-update-ringing")
    data["body"]["status"] = leg
    got = event("rtc", None, data)
    assert (got["type"], got["status"], got["channel"]) == (
        "rtc.leg.status.update",
        f"leg_{leg.lower()}",
        "phone",
    )


def test_a_leg_status_update_without_a_status_is_kept_under_its_types_name() -> None:
    data = payload("rtc/leg-status-update-ringing")
    del data["body"]["status"]
    assert event("rtc", None, data)["status"] == "leg_status_update"


def test_rtc_channel_is_the_members_channel_type_or_none() -> None:
    assert event("rtc", None, payload("rtc/member-joined"))["channel"] == "phone"
    assert event("rtc", None, payload("rtc/conversation-created"))["channel"] is None


def test_the_sequence_id_is_the_identity_so_a_re_stamped_retry_is_the_same_event() -> None:
    first = event("rtc", None, payload("rtc/member-joined"))
    retry = event("rtc", None, payload("rtc/member-joined", timestamp="2020-11-02T08:40:00.000Z"), LATER)
    as_text = event("rtc", None, payload("rtc/member-joined", id="2"))
    assert retry["event_id"] == first["event_id"] == as_text["event_id"]
    assert retry["occurred_at"] != first["occurred_at"]


def test_two_events_of_one_conversation_are_told_apart_by_their_sequence_id() -> None:
    ids = {event("rtc", None, payload("rtc/member-joined", id=n))["event_id"] for n in (2, 3, 30)}
    assert len(ids) == 3
    other = event("rtc", None, payload("rtc/member-joined", conversation_id="CON-other"))
    assert other["event_id"] not in ids


def test_cid_is_the_conversation_when_conversation_id_is_absent() -> None:
    got = event("rtc", None, payload("rtc/member-left-cid-only"))
    assert got["subject_id"] == "CON-7c1d9e2a-4b3f-4e6d-8a0b-9f8e7d6c5b4a"
    both = payload("rtc/member-left-cid-only", conversation_id=CON)
    assert event("rtc", None, both)["subject_id"] == CON  # conversation_id first


def test_a_knocking_event_belongs_to_the_knocker_and_its_payload_is_its_identity() -> None:
    data = payload("rtc/app-knocking-no-conversation")
    got = event("rtc", None, data)
    assert (got["subject_id"], got["status"], got["type"]) == (
        data["from"],
        "app_knocking",
        "rtc.app.knocking",
    )
    assert event("rtc", None, copy.deepcopy(data), LATER)["event_id"] == got["event_id"]
    cancel = event("rtc", None, {**data, "type": "app:knocking:cancel"})
    assert cancel["event_id"] != got["event_id"] and cancel["status"] == "app_knocking_cancel"
    # A retry Vonage re-stamps is the same event; another knocker's knock is another.
    assert (
        event("rtc", None, {**data, "timestamp": "2030-01-01T00:00:00.000Z"})["event_id"] == got["event_id"]
    )
    assert event("rtc", None, {**data, "from": "knocker:another"})["event_id"] != got["event_id"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"conversation_id": None}, "conversation_id"),  # an id means nothing without its conversation
        ({"conversation_id": None, "id": None, "from": None}, "conversation_id"),
        ({"type": None}, "type"),
        ({"type": ":::"}, "type"),
    ],
)
def test_an_rtc_event_without_its_subject_or_type_is_a_missing_field(
    changes: dict[str, Any], field: str
) -> None:
    err = rejected(lambda: event("rtc", None, payload("rtc/member-joined", **changes)), MissingField)
    assert err.diagnostic["field"] == field


@pytest.mark.parametrize("bad_id", [-1, 2.0, True, "abc", "1" * 19, 10**18, "9" * 400, {"n": 1}, [2]])
def test_an_id_that_is_no_sequence_number_is_an_invalid_field(bad_id: Any) -> None:
    err = rejected(lambda: event("rtc", None, payload("rtc/member-joined", id=bad_id)), InvalidField)
    assert err.diagnostic["field"] == "id"


def test_a_conversation_id_that_is_no_string_is_an_invalid_field() -> None:
    rejected(lambda: event("rtc", None, payload("rtc/member-joined", conversation_id=42)), InvalidField)


@pytest.mark.parametrize("kind", ["message", "message:delivered", "text", "image:seen"])
def test_messaging_events_are_still_accepted_after_the_30_april_2026_end(kind: str) -> None:
    assert event("rtc", None, payload("rtc/member-joined", type=kind))["product"] == "rtc"


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("conversation_created", Position(10, False)),
        ("member_joined", Position(50, False)),
        ("leg_completed", Position(50, False)),  # a leg ends, the conversation goes on
        ("app_knocking", Position(50, False)),
        ("conversation_deleted", Position(100, True)),
    ],
)
def test_rtc_ranks(status: str, expected: Position) -> None:
    assert position("rtc", "rtc.member.joined", status, "vonage") == expected


def test_in_a_conversation_the_latest_event_is_current_until_it_is_deleted() -> None:
    created, joined, deleted = (
        position("rtc", "rtc.x", s) for s in ("conversation_created", "member_joined", "conversation_deleted")
    )
    assert supersedes(joined, "2020-01-01T00:00:02.000Z", created, "2020-01-01T00:00:01.000Z")
    assert not supersedes(created, "2020-01-01T00:00:03.000Z", joined, "2020-01-01T00:00:02.000Z")
    assert supersedes(deleted, "2020-01-01T00:00:04.000Z", joined, "2020-01-01T00:00:05.000Z")
    assert not supersedes(joined, "2020-01-01T00:00:09.000Z", deleted, "2020-01-01T00:00:04.000Z")


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        ("leg_answered", "leg.status.update"),
        ("member_left", "member.left"),
        ("conversation_deleted", "conversation.deleted"),
    ],
)
def test_send_status_makes_an_rtc_event_with_that_status_and_its_own_id(status: str, kind: str) -> None:
    hook = providers.product("rtc").with_status
    assert hook is not None
    original = event("rtc", None, payload("rtc/member-joined"))
    changed = event("rtc", None, hook(payload("rtc/member-joined"), status))
    again = event("rtc", None, hook(payload("rtc/member-joined"), status))
    assert (changed["type"], changed["status"]) == (f"rtc.{kind}", status)
    assert changed["event_id"] == again["event_id"] != original["event_id"]


# --- Dispatch -------------------------------------------------------------------------------------


def test_a_message_status_belongs_to_its_workflow_with_its_channel() -> None:
    got = event("dispatch", None, payload("dispatch/message-status-delivered"))
    assert (got["type"], got["subject_id"], got["status"], got["channel"]) == (
        "dispatch.message_status",
        WORKFLOW,
        "delivered",
        "whatsapp",
    )


def test_a_message_status_without_a_workflow_link_belongs_to_its_message() -> None:
    got = event("dispatch", None, payload("dispatch/message-status-delivered", _links=None))
    assert got["subject_id"] == "0d4c2bd9-b3d2-4f5c-8a7e-6e1f2a3b4c5d"
    data = payload("dispatch/message-status-delivered", to="447700900000", _links={"workflow": "x"})
    assert event("dispatch", None, data)["channel"] == "whatsapp"  # from.type when to is no object


def test_a_message_status_retried_and_re_stamped_is_the_same_event_and_a_new_status_is_not() -> None:
    first = event("dispatch", None, payload("dispatch/message-status-delivered"))
    retry = event(
        "dispatch",
        None,
        payload("dispatch/message-status-delivered", timestamp="2020-01-01T15:00:00Z"),
        LATER,
    )
    upper = event("dispatch", None, payload("dispatch/message-status-delivered", status="DELIVERED"))
    read = event("dispatch", None, payload("dispatch/message-status-delivered", status="read"))
    assert first["event_id"] == retry["event_id"] == upper["event_id"] != read["event_id"]


def test_the_error_code_tells_two_rejections_apart_as_integer_or_string() -> None:
    rejected_1300 = event("dispatch", None, payload("dispatch/message-status-rejected"))
    as_text = payload("dispatch/message-status-rejected")
    as_text["error"]["code"] = "1300"
    other = payload("dispatch/message-status-rejected")
    other["error"]["code"] = 1020
    assert event("dispatch", None, as_text)["event_id"] == rejected_1300["event_id"]
    assert event("dispatch", None, other)["event_id"] != rejected_1300["event_id"]


def test_a_final_report_is_one_event_per_workflow_and_terminal_whatever_its_status() -> None:
    report = event("dispatch", None, payload("dispatch/final-report-completed"))
    assert (report["type"], report["subject_id"], report["status"]) == (
        "dispatch.final_report",
        WORKFLOW,
        "completed",
    )
    retry = event(
        "dispatch", None, payload("dispatch/final-report-completed", timestamp="2020-01-02T00:00:00Z")
    )
    assert retry["event_id"] == report["event_id"]
    for status in ("completed", "error", "brand_new"):
        assert position("dispatch", "dispatch.final_report", status) == Position(100, True)
    for status in ("submitted", "delivered", "read", "rejected", "brand_new"):
        assert position("dispatch", "dispatch.message_status", status) == Position(50, False)


def test_a_message_status_never_shares_an_id_with_a_final_report() -> None:
    forged_like = payload("dispatch/message-status-delivered", message_uuid=WORKFLOW, status="final_report")
    report = event("dispatch", None, payload("dispatch/final-report-completed"))
    assert event("dispatch", None, forged_like)["event_id"] != report["event_id"]


def test_a_late_message_status_never_replaces_the_final_report() -> None:
    final, late = (
        position("dispatch", "dispatch.final_report", "error"),
        position("dispatch", "dispatch.message_status", "delivered"),
    )
    assert not supersedes(late, "2030-01-01T00:00:00.000Z", final, "2020-01-01T00:00:00.000Z")
    assert supersedes(final, "2020-01-01T00:00:00.000Z", late, "2030-01-01T00:00:00.000Z")


def test_a_dispatch_body_with_neither_a_message_nor_a_workflow_report_is_a_missing_field() -> None:
    data = payload("dispatch/final-report-completed", template=None)  # no template: not a final report
    assert rejected(lambda: event("dispatch", None, data), MissingField).diagnostic["field"] == "message_uuid"


# --- one product never changes another's subject --------------------------------------------------


@pytest.mark.parametrize(
    ("product", "data"),
    [
        ("rtc", payload("rtc/conversation-deleted", conversation_id="63f61863-4a51-4f6b-86e1-46edebcf9356")),
        (
            "dispatch",
            payload("dispatch/final-report-error", dispatch_uuid="e7b0a3c2-5d1f-4b8e-9c6a-2f3e4d5c6b7a"),
        ),
    ],
)
def test_an_rtc_or_dispatch_event_naming_a_call_or_message_id_is_its_own_subject(
    product: str, data: dict[str, Any]
) -> None:
    got = event(product, None, data)
    assert got["product"] == product
    assert subject_pk("vonage", product, got["subject_id"]) not in {
        subject_pk("vonage", other, got["subject_id"]) for other in ("voice", "messages", "sms", "verify")
    }


# --- voice fallback -------------------------------------------------------------------------------

ANSWER = {"to": "447700900000", "from": "447700900001", "uuid": "call-1", "conversation_uuid": "CON-1"}
INPUT = {**ANSWER, "dtmf": {"digits": "7", "timed_out": False}, "timestamp": "2025-06-12T13:05:30.511Z"}
REASON = {"reason": "Connection closed."}


def as_get(data: dict[str, Any]) -> dict[str, Any]:
    """What the JWT verifier hands on for a GET: every value a string (objects as JSON text)."""
    return {k: v if isinstance(v, str) else json.dumps(v, separators=(",", ":")) for k, v in data.items()}


@pytest.mark.parametrize("encode", [dict, as_get], ids=["post", "get"])
def test_a_fallback_of_an_answer_is_the_answer_event(encode: Any) -> None:
    answer = event("voice", "answer", encode(ANSWER))
    fallback = event(
        "voice", "fallback", encode({**ANSWER, **REASON, "original_request": {"url": "u", "type": "answer"}})
    )
    assert fallback["event_id"] == answer["event_id"]
    assert (fallback["type"], fallback["status"]) == ("voice.fallback", "answered")


@pytest.mark.parametrize(
    "original",
    [
        {"original_request": {"url": "https://h/vonage/voice/event", "type": "event"}},
        {"original_request": json.dumps({"url": "https://h/vonage/voice/event", "type": "EVENT"})},
        {"original_request[url]": "https://h/vonage/voice/event", "original_request[type]": "event"},
        {"original_request.url": "https://h/vonage/voice/event", "original_request.type": "event"},
    ],
    ids=["object", "json-text", "brackets", "dots"],
)
def test_a_fallback_of_an_event_is_that_event_however_original_request_is_spelt(
    original: dict[str, Any],
) -> None:
    for encode in (dict, as_get):
        recorded = event("voice", "event", encode(INPUT))
        fallback = event("voice", "fallback", encode({**INPUT, **REASON, **original}))
        assert (fallback["event_id"], fallback["status"]) == (recorded["event_id"], "input")


def test_a_retried_fallback_with_another_reason_is_the_same_event() -> None:
    original = {"original_request": {"url": "u", "type": "event"}}
    first = event("voice", "fallback", {**INPUT, **REASON, **original})
    retry = event("voice", "fallback", {**INPUT, "reason": "Read timed out.", **original}, LATER)
    assert retry["event_id"] == first["event_id"]


def test_a_fallback_whose_original_type_is_unknown_is_an_event_of_its_own() -> None:
    data = {**INPUT, **REASON, "original_request": {"url": "u", "type": "transfer"}}
    got = event("voice", "fallback", data)
    assert got["event_id"] not in {
        event("voice", "event", INPUT)["event_id"],
        event("voice", "answer", ANSWER)["event_id"],
    }
    assert event("voice", "fallback", {**data, "reason": "other"})["event_id"] == got["event_id"]
    assert got["status"] == "input"
    no_original = event("voice", "fallback", {**INPUT, **REASON})
    assert no_original["event_id"] == got["event_id"]  # no original_request: unknown too


def _deps(fallback_ncco: str | None) -> WebhookDeps:
    return WebhookDeps(
        settings=Settings(),
        secrets=SecretsSource(
            lambda force: json.dumps(
                {
                    "vonage": {
                        "signature_secrets": {"devkey01": list(SECRETS.vonage_signature_secrets["devkey01"])}
                    }
                }
            ),
            source="t",
        ),
        enqueue=lambda e, c: None,
        voice_answer_ncco='[{"action":"talk","text":"answer"}]',
        voice_fallback_ncco=fallback_ncco,
        clock=lambda: AT,
    )


@pytest.mark.parametrize(
    ("configured", "expected"),
    [('[{"action":"talk","text":"sorry"}]', "sorry"), (None, "answer")],
    ids=["fallback-ncco", "unset-answer-ncco"],
)
def test_the_fallback_route_answers_the_fallback_ncco_else_the_answer_ncco(
    configured: str | None, expected: str
) -> None:
    s = sample("voice/fallback-event-input")
    request = sign(s.route, s.payload, SECRETS, f"https://{SAMPLE_HOST}", now=int(AT.timestamp()))
    response = handle_webhook(to_event(request, at=int(AT.timestamp())), "vonage", lambda: _deps(configured))
    assert response["statusCode"] == 200
    assert json.loads(response["body"])[0]["text"] == expected


# --- US Short Codes: SMS fields, their own product and URL token ---------------------------------

SC_TOKEN = str(SECRETS.short_codes_token)
NI_TOKEN = str(SECRETS.number_insight_token)
RECEIPT = "/vonage/short-codes/receipt"


def short_code(method: str, query: dict[str, str], body: bytes = b"", content_type: str = "") -> HttpRequest:
    headers = {"content-type": content_type} if content_type else {}
    return HttpRequest(method, RECEIPT, urlencode(query), headers, body, host=SAMPLE_HOST)


def test_a_short_code_receipt_reads_like_an_sms_receipt_under_its_own_product() -> None:
    data = payload("short_codes/receipt-delivered")
    mine, sms = event("short_codes", "receipt", data), event("sms", "receipt", data)
    assert (mine["type"], mine["channel"], mine["status"]) == ("short_codes.receipt", "sms", "delivered")
    assert mine["subject_id"] == sms["subject_id"] and mine["event_id"] != sms["event_id"]
    assert position("short_codes", "short_codes.receipt", "delivered") == Position(40, True)
    assert position("short_codes", "short_codes.receipt", "buffered") == Position(20, False)


def test_short_code_receipts_differ_by_status_and_error_and_repeat_as_one() -> None:
    delivered = event("short_codes", "receipt", payload("short_codes/receipt-delivered"))
    again = event(
        "short_codes", "receipt", payload("short_codes/receipt-delivered", scts="2001011259"), LATER
    )
    failed = event("short_codes", "receipt", payload("short_codes/receipt-delivered", status="failed"))
    err = event("short_codes", "receipt", payload("short_codes/receipt-delivered", **{"err-code": "5"}))
    assert again["event_id"] == delivered["event_id"]
    assert len({delivered["event_id"], failed["event_id"], err["event_id"]}) == 3


@pytest.mark.parametrize("encoding", ["query", "form", "json"])
def test_the_token_is_checked_and_never_kept_in_any_encoding(encoding: str) -> None:
    data = {**payload("short_codes/receipt-delivered"), "sig": "abc", "timestamp": "1", "nonce": "n"}
    if encoding == "query":
        request = short_code("GET", {**data, "token": SC_TOKEN})
    elif encoding == "form":
        body = urlencode({**data, "token": "in-the-body-too"}).encode()
        request = short_code("POST", {"token": SC_TOKEN}, body, "application/x-www-form-urlencoded")
    else:
        request = short_code(
            "POST", {"token": SC_TOKEN}, json.dumps({**data, "token": "x"}).encode(), "application/json"
        )
    got = receive(request, SECRETS, Settings(), now=AT)
    assert "token" not in got["data"]
    assert got["data"]["sig"] == "abc"  # kept, not verified (Vonage documents no short-code sig)
    assert (got["product"], got["subject_id"], got["account_id"]) == ("short_codes", "0A0000001234ABCD", None)


@pytest.mark.parametrize(
    ("query", "error"),
    [
        ({}, SignatureMissing),
        ({"token": ""}, SignatureMissing),
        ({"token": NI_TOKEN}, SignatureInvalid),
        ({"token": SC_TOKEN[:-1]}, SignatureInvalid),
    ],
    ids=["absent", "empty", "number-insight-token", "prefix"],
)
def test_a_short_code_route_refuses_any_other_token(
    query: dict[str, str], error: type[SwitchboardError]
) -> None:
    request = short_code("GET", {**payload("short_codes/receipt-delivered"), **query})
    rejected(lambda: receive(request, SECRETS, Settings(), now=AT), error)


def test_the_number_insight_route_refuses_the_short_code_token() -> None:
    body = json.dumps(payload("number_insight/result-success")).encode()
    request = HttpRequest(
        "POST", "/vonage/number-insight", f"token={SC_TOKEN}", {"content-type": "application/json"}, body
    )
    rejected(lambda: receive(request, SECRETS, Settings(), now=AT), SignatureInvalid)
    ok = HttpRequest(
        "POST", "/vonage/number-insight", f"token={NI_TOKEN}", {"content-type": "application/json"}, body
    )
    assert receive(ok, SECRETS, Settings(), now=AT)["product"] == "number_insight"


def test_an_unset_short_code_token_is_not_configured_and_names_its_key() -> None:
    only_ni = ProviderSecrets(number_insight_token=NI_TOKEN)
    request = short_code("GET", {**payload("short_codes/receipt-delivered"), "token": NI_TOKEN})
    err = rejected(lambda: receive(request, only_ni, Settings(), now=AT), NotConfigured)
    assert "short_codes_token" in err.diagnostic["rule"] and err.status == 503


@pytest.mark.parametrize(
    ("request_", "error"),
    [
        (short_code("GET", {"token": SC_TOKEN, "messageId": "m"}, b"{}"), BadRequest),
        (short_code("POST", {"token": SC_TOKEN}, b"<xml/>", "text/xml"), UnsupportedMediaType),
        (
            short_code("GET", {"token": SC_TOKEN, "messageId": "m", "status": "delivered", "a=b&c": "1"}),
            InvalidField,
        ),
    ],
    ids=["get-with-body", "xml", "re-split-name"],
)
def test_short_code_requests_in_no_shape_vonage_sends_are_4xx(
    request_: HttpRequest, error: type[SwitchboardError]
) -> None:
    err = rejected(lambda: receive(request_, SECRETS, Settings(), now=AT), error)
    assert 400 <= err.status < 500


@pytest.mark.parametrize(
    ("doc", "key"),
    [
        ({"short_codes_token": "fifteen-chars-x"}, "short_codes_token"),
        ({"short_codes_token": 1234567890123456789}, "short_codes_token"),
        ({"number_insight_token": "x" * 20, "short_codes_token": "x" * 20}, "short_codes_token"),
    ],
    ids=["short", "number", "same-as-number-insight"],
)
def test_a_bad_short_codes_token_fails_at_load_naming_its_key_and_never_its_value(
    doc: dict[str, Any], key: str
) -> None:
    err = rejected(lambda: ProviderSecrets.from_mapping(doc), ConfigError)
    assert err.diagnostic["key"] == key and "x" * 20 not in str(err)


def test_the_secrets_repr_says_whether_the_short_codes_token_is_set_never_what_it_is() -> None:
    assert "short_codes_token=set" in repr(SECRETS) and SC_TOKEN not in repr(SECRETS)
    assert SECRETS.url_token("short_codes") == SC_TOKEN and SECRETS.url_token("voice") is None


def test_every_new_route_is_registered_with_its_scheme_and_default_method() -> None:
    assert {
        p: (r.scheme, r.default_method, r.answer) for p, r in ROUTES.items() if p in NEW_ROUTES
    } == NEW_ROUTES


NEW_ROUTES = {
    "/vonage/rtc/event": ("vonage_jwt", "POST", "event_id"),
    "/vonage/dispatch/status": ("vonage_jwt", "POST", "event_id"),
    "/vonage/voice/fallback": ("vonage_jwt", "GET", "fallback_ncco"),
    "/vonage/short-codes/receipt": ("url_token", "GET", "event_id"),
    "/vonage/short-codes/inbound": ("url_token", "GET", "event_id"),
}


def test_an_event_posted_as_json_and_its_fallback_by_get_as_text_are_one_event() -> None:
    """Vonage's defaults: the event URL POSTs JSON, the fallback (like the answer URL) GETs text.
    The identity reads every value as its text, so the two are one event (review finding)."""
    from shared.normalise import normalise as norm

    at = datetime(2026, 11, 23, 12, tzinfo=UTC)
    posted = {
        "uuid": "aaaaaaaa-bbbb-4ccc-8ddd-0123456789ab",
        "conversation_uuid": "CON-aaaaaaaa-bbbb-4ccc-8ddd-0123456789ab",
        "dtmf": {"digits": "7", "timed_out": False},
        "size": 2048,
        "timestamp": "2026-11-23T12:00:00.000Z",
    }
    as_get = {
        **{k: str(v) for k, v in posted.items() if k not in ("dtmf", "size")},
        "dtmf": '{"timed_out": false, "digits": "7"}',
        "size": "2048",
        "reason": "Connection closed.",
        "original_request[url]": "https://example.com/vonage/voice/event",
        "original_request[type]": "event",
    }
    event = norm("voice", "event", posted, account_id=None, received_at=at)
    fallback = norm("voice", "fallback", as_get, account_id=None, received_at=at)
    assert fallback["event_id"] == event["event_id"]
    other_digit = {**as_get, "dtmf": '{"digits": "8", "timed_out": false}'}
    assert (
        norm("voice", "fallback", other_digit, account_id=None, received_at=at)["event_id"]
        != event["event_id"]
    )
