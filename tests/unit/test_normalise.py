"""shared.normalise: every raw provider payload in events/payloads becomes the one event shape.

The expected values below are written out by hand from the payload files (and providers.md), never
computed by the code under test. Adding a payload file without a row here fails
``test_every_payload_file_has_an_expected_row``.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from shared.errors import InvalidField, MissingField
from shared.normalise import (
    EVENT_KEYS,
    event_id_for,
    format_timestamp,
    normalise,
    parse_timestamp,
    undocumented_fields,
)

PAYLOADS = Path(__file__).resolve().parents[2] / "events" / "payloads"
RECEIVED_AT = datetime(2026, 3, 1, 9, 30, 0, 123456, tzinfo=UTC)
RECEIVED = "2026-03-01T09:30:00.123Z"
LATER = RECEIVED_AT + timedelta(hours=3)

CALL = "63f61863-4a51-4f6b-86e1-46edebcf9356"
CON = "CON-2a8b6b1e-5f3c-4d7e-9a0b-1c2d3e4f5a6b"
RTC_CON = "CON-2b49b74a-9520-4503-aed6-0b3167915c83"
WORKFLOW = "d15a7c40-2b1e-4f3a-9c8d-7e6f5a4b3c2d"
FALLBACK_CALL = "7a3e0b2c-4d5f-4a6b-8c9d-0e1f2a3b4c5d"


class Expected(NamedTuple):
    kind: str | None
    type: str
    subject_id: str
    status: str
    occurred_at: str
    channel: str | None


EXPECTED: dict[str, Expected] = {
    # --- Vonage Verify v2 ------------------------------------------------------------------------
    "verify/event-blocked.json": Expected(
        None,
        "verify.event",
        "6cd37f68-b29a-4690-9d17-684dbe34f8c4",
        "blocked",
        "2025-11-03T11:00:12.903Z",
        "sms",
    ),
    "verify/event-cancelled.json": Expected(
        None,
        "verify.event",
        "e63e88a3-b5fd-4ac0-9581-90e304dd6be3",
        "cancelled",
        "2025-11-03T11:31:58.444Z",
        "email",
    ),
    "verify/event-completed-channel-used-alias.json": Expected(
        None,
        "verify.event",
        "5f6d4713-434e-4194-9386-88f20b5d61af",
        "completed",
        "2025-11-03T09:14:07.250Z",
        "email",
    ),
    "verify/event-completed.json": Expected(
        None,
        "verify.event",
        "c11236f4-00bf-4b89-84ba-88b25df97315",
        "completed",
        "2020-01-01T14:00:00.032Z",
        "voice",
    ),
    "verify/event-expired.json": Expected(
        None,
        "verify.event",
        "f19e5b2e-e788-4f1d-a5f4-6825be1c7f61",
        "expired",
        "2025-11-03T09:20:01.004Z",
        "sms",
    ),
    "verify/event-failed.json": Expected(
        None,
        "verify.event",
        "a669a6f0-52b1-4d13-8420-b2b9fe0fcb7c",
        "failed",
        "2025-11-03T09:12:44.518Z",
        "sms",
    ),
    "verify/event-rejected-whatsapp-interactive.json": Expected(
        None,
        "verify.event",
        "bfb6a0c3-ef83-4a66-bdf3-433762efeeb9",
        "rejected",
        "2025-11-03T10:15:49.120Z",
        "whatsapp_interactive",
    ),
    "verify/event-silent-auth-action-pending-list.json": Expected(
        None,
        "verify.silent_auth",
        "05c84e8a-a60d-4ad8-afe9-038746ff015d",
        "action_pending",
        "2025-11-03T12:05:10.337Z",
        "silent_auth",
    ),
    "verify/event-silent-auth-action-pending.json": Expected(
        None,
        "verify.silent_auth",
        "c15236f4-00bf-4b89-84ba-88b25df97315",
        "action_pending",
        "2023-03-22T11:48:59.717Z",
        "silent_auth",
    ),
    "verify/event-user-rejected.json": Expected(
        None,
        "verify.event",
        "c0b641a9-596c-49d7-ac67-ba0c47f06542",
        "user_rejected",
        "2025-11-03T10:02:33.761Z",
        "voice",
    ),
    "verify/summary-blocked.json": Expected(
        None,
        "verify.summary",
        "00c203b3-5468-4982-ae14-c998b76b83b3",
        "blocked",
        "2025-11-03T13:20:00.211Z",
        None,
    ),
    "verify/summary-cancelled.json": Expected(
        None,
        "verify.summary",
        "e63e88a3-b5fd-4ac0-9581-90e304dd6be3",
        "cancelled",
        "2025-11-03T11:31:58.392Z",
        None,
    ),
    "verify/summary-completed.json": Expected(
        None,
        "verify.summary",
        "718a150c-913d-4a1c-9bdb-ff361dd71492",
        "completed",
        "2025-11-03T12:36:41.502Z",
        None,
    ),
    "verify/summary-expired.json": Expected(
        None,
        "verify.summary",
        "379a1b3b-bcea-43c4-af9e-8dfd4d64f78e",
        "expired",
        "2025-11-03T13:02:01.401Z",
        None,
    ),
    # the Java SDK sample has no finalized_at: occurred_at falls back to received_at
    "verify/summary-failed.json": Expected(
        None, "verify.summary", "c11236f4-00bf-4b89-84ba-88b25df97325", "failed", RECEIVED, None
    ),
    "verify/summary-user-rejected.json": Expected(
        None,
        "verify.summary",
        "6e35ea0d-f9e9-4d0f-9d10-6a01cf6562d9",
        "user_rejected",
        "2025-11-03T13:11:27.815Z",
        None,
    ),
    # --- Vonage Messages -------------------------------------------------------------------------
    "messages/inbound-mms-image.json": Expected(
        "inbound",
        "messages.inbound",
        "4e5f6a7b-8c9d-4e0f-a1b2-c3d4e5f6a7b8",
        "received",
        "2025-06-12T08:20:47.000Z",
        "mms",
    ),
    "messages/inbound-sms.json": Expected(
        "inbound",
        "messages.inbound",
        "9b1c2f64-3e0a-4c1e-9a57-1d2e3f4a5b6c",
        "received",
        "2025-06-12T08:15:22.431Z",
        "sms",
    ),
    "messages/inbound-whatsapp-text.json": Expected(
        "inbound",
        "messages.inbound",
        "2d6f1c7e-8a4b-4c3d-9e2f-5a6b7c8d9e0f",
        "received",
        "2025-06-12T08:17:03.000Z",
        "whatsapp",
    ),
    "messages/status-delivered.json": Expected(
        "status",
        "messages.status",
        "e7b0a3c2-5d1f-4b8e-9c6a-2f3e4d5c6b7a",
        "delivered",
        "2025-06-12T09:00:04.870Z",
        "sms",
    ),
    "messages/status-read-whatsapp.json": Expected(
        "status",
        "messages.status",
        "aaaaaaaa-bbbb-4ccc-8ddd-0123456789ab",
        "read",
        "2025-02-03T12:14:25.000Z",
        "whatsapp",
    ),
    "messages/status-rejected.json": Expected(
        "status",
        "messages.status",
        "b3c4d5e6-f7a8-4b9c-8d0e-1f2a3b4c5d6e",
        "rejected",
        "2025-06-12T09:05:30.000Z",
        "sms",
    ),
    "messages/status-submitted.json": Expected(
        "status",
        "messages.status",
        "e7b0a3c2-5d1f-4b8e-9c6a-2f3e4d5c6b7a",
        "submitted",
        "2025-06-12T09:00:01.112Z",
        "sms",
    ),
    "messages/status-undeliverable.json": Expected(
        "status",
        "messages.status",
        "c5d6e7f8-a9b0-4c1d-8e2f-3a4b5c6d7e8f",
        "undeliverable",
        "2025-06-12T09:07:12.250Z",
        "whatsapp",
    ),
    "messages/status-rejected-failover-first.json": Expected(
        "status",
        "messages.status",
        "aaaaaaaa-bbbb-4ccc-8ddd-0123456789ab",
        "rejected",
        "2025-05-07T12:00:00.000Z",
        "rcs",
    ),
    "messages/status-delivered-failover-second.json": Expected(
        "status",
        "messages.status",
        "bbbbbbbb-cccc-4ddd-8eee-0123456789ab",
        "delivered",
        "2025-05-07T12:00:04.000Z",
        "sms",
    ),
    # --- Vonage SMS API --------------------------------------------------------------------------
    "sms/inbound-concat-part.json": Expected(
        "inbound", "sms.inbound", "0A0000000123ABCD1", "received", "2025-06-12T10:02:11.000Z", "sms"
    ),
    "sms/inbound-plain.json": Expected(
        "inbound", "sms.inbound", "16000002632BEC99", "received", "2019-01-23T10:51:39.000Z", "sms"
    ),
    "sms/inbound-unicode.json": Expected(
        "inbound", "sms.inbound", "0A0000000123ABCE9", "received", "2025-06-12T10:04:56.000Z", "sms"
    ),
    "sms/receipt-accepted.json": Expected(
        "receipt", "sms.receipt", "0B000001A2C3D4E5", "accepted", "2025-06-12T11:00:02.000Z", "sms"
    ),
    # no message-timestamp: scts 2506121207 (YYMMDDHHMM)
    "sms/receipt-buffered-scts-only.json": Expected(
        "receipt", "sms.receipt", "0B000001A2C3D4E6", "buffered", "2025-06-12T12:07:00.000Z", "sms"
    ),
    "sms/receipt-delivered.json": Expected(
        "receipt", "sms.receipt", "0B00000127FDBC63", "delivered", "2018-10-25T12:10:29.000Z", "sms"
    ),
    "sms/receipt-expired.json": Expected(
        "receipt", "sms.receipt", "0B000001A2C3D4E8", "expired", "2025-06-15T11:00:05.000Z", "sms"
    ),
    "sms/receipt-failed.json": Expected(
        "receipt", "sms.receipt", "0B000001A2C3D4E9", "failed", "2025-06-12T11:20:41.000Z", "sms"
    ),
    "sms/receipt-rejected.json": Expected(
        "receipt", "sms.receipt", "0B000001A2C3D4EA", "rejected", "2025-06-12T11:25:13.000Z", "sms"
    ),
    # neither message-timestamp nor scts: the signed unix timestamp 1749730000
    "sms/receipt-unknown-signed-unix-only.json": Expected(
        "receipt", "sms.receipt", "0B000001A2C3D4E7", "unknown", "2025-06-12T12:06:40.000Z", "sms"
    ),
    # --- Vonage Voice ----------------------------------------------------------------------------
    "voice/answer.json": Expected("answer", "voice.answer", CALL, "answered", RECEIVED, "voice"),
    "voice/event-answered.json": Expected(
        "event", "voice.event", CALL, "answered", "2025-06-12T13:00:06.903Z", "voice"
    ),
    "voice/event-busy.json": Expected(
        "event",
        "voice.event",
        "8a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
        "busy",
        "2025-06-12T14:10:02.000Z",
        "voice",
    ),
    "voice/event-completed.json": Expected(
        "event", "voice.event", CALL, "completed", "2025-06-12T13:01:12.500Z", "voice"
    ),
    "voice/event-failed-cannot-route.json": Expected(
        "event",
        "voice.event",
        "ac3d4e5f-6a7b-4c8d-8e9f-0a1b2c3d4e5f",
        "failed",
        "2025-06-12T14:15:00.071Z",
        "voice",
    ),
    "voice/event-input-dtmf.json": Expected(
        "event", "voice.event", CALL, "input", "2025-06-12T13:00:30.511Z", "voice"
    ),
    "voice/event-machine-amd.json": Expected(
        "event", "voice.event", CALL, "machine", "2025-06-12T13:00:08.002Z", "voice"
    ),
    # record events carry no leg uuid: the conversation is the subject
    "voice/event-record.json": Expected(
        "event", "voice.event", CON, "recorded", "2025-06-12T13:01:10.034Z", "voice"
    ),
    "voice/event-ringing.json": Expected(
        "event", "voice.event", CALL, "ringing", "2025-06-12T13:00:01.480Z", "voice"
    ),
    "voice/event-started.json": Expected(
        "event", "voice.event", CALL, "started", "2025-06-12T13:00:00.120Z", "voice"
    ),
    "voice/event-unanswered-timeout.json": Expected(
        "event",
        "voice.event",
        "9b2c3d4e-5f6a-4b7c-9d8e-0f1a2b3c4d5e",
        "unanswered",
        "2025-06-12T14:12:45.318Z",
        "voice",
    ),
    # --- Vonage Number Insight -------------------------------------------------------------------
    "number_insight/result-error.json": Expected(
        None, "number_insight.result", "3d4c5b6a-7f8e-4d9c-8b0a-1f2e3d4c5b6a", "error_3", RECEIVED, None
    ),
    "number_insight/result-success.json": Expected(
        None, "number_insight.result", "75fa272e-4743-43f1-995e-a684901222d6", "success", RECEIVED, None
    ),
    # --- Twilio Verify Push ----------------------------------------------------------------------
    "verify_push/challenge-approved-v1-capture.json": Expected(
        None,
        "verify_push.challenge.approved",
        "YC032bccc3ae605cafd16ad8b12529a7d7",
        "approved",
        RECEIVED,
        None,
    ),
    "verify_push/challenge-approved-without-hidden-details-nor-metadata.json": Expected(
        None,
        "verify_push.challenge.approved",
        "YCeade2b6227ef3b150e134c0c3c517ae7",
        "approved",
        RECEIVED,
        None,
    ),
    "verify_push/challenge-approved.json": Expected(
        None,
        "verify_push.challenge.approved",
        "YC41fba094ce8fd16e0328034e6e5281bc",
        "approved",
        RECEIVED,
        None,
    ),
    "verify_push/challenge-denied.json": Expected(
        None, "verify_push.challenge.denied", "YC3eaa1dcad8505cf45711a79e82edb6fc", "denied", RECEIVED, None
    ),
    "verify_push/factor-created.json": Expected(
        None, "verify_push.factor.created", "YF9e8eba7b3c4c8708986dceebb7a56239", "created", RECEIVED, None
    ),
    "verify_push/factor-deleted.json": Expected(
        None, "verify_push.factor.deleted", "YF781a0f2fda7fe3a65dc23b185eabfc84", "deleted", RECEIVED, None
    ),
    "verify_push/factor-verified-with-metadata.json": Expected(
        None, "verify_push.factor.verified", "YF9e8eba7b3c4c8708986dceebb7a56239", "verified", RECEIVED, None
    ),
    "verify_push/factor-verified-without-metadata.json": Expected(
        None, "verify_push.factor.verified", "YF781a0f2fda7fe3a65dc23b185eabfc84", "verified", RECEIVED, None
    ),
    # --- Vonage Conversation API RTC events (subject: the conversation, or the knocker) ----------
    "rtc/app-knocking-no-conversation.json": Expected(
        None,
        "rtc.app.knocking",
        "knocker:568e4e01-5b7b-4a3e-8c7a-0f3c1b2a9d10",
        "app_knocking",
        "2020-11-02T08:56:08.390Z",
        "phone",
    ),
    "rtc/conversation-created.json": Expected(
        None, "rtc.conversation.created", RTC_CON, "conversation_created", "2020-11-02T08:33:49.120Z", None
    ),
    "rtc/conversation-deleted.json": Expected(
        None, "rtc.conversation.deleted", RTC_CON, "conversation_deleted", "2020-11-02T08:34:41.505Z", None
    ),
    "rtc/leg-status-update-answered.json": Expected(
        None, "rtc.leg.status.update", RTC_CON, "leg_answered", "2020-11-02T08:33:55.110Z", "phone"
    ),
    "rtc/leg-status-update-completed.json": Expected(
        None, "rtc.leg.status.update", RTC_CON, "leg_completed", "2020-11-02T08:34:40.010Z", "phone"
    ),
    "rtc/leg-status-update-ringing.json": Expected(
        None, "rtc.leg.status.update", RTC_CON, "leg_ringing", "2020-11-02T08:33:50.680Z", "phone"
    ),
    "rtc/member-joined.json": Expected(
        None, "rtc.member.joined", RTC_CON, "member_joined", "2020-11-02T08:33:49.565Z", "phone"
    ),
    "rtc/member-left-cid-only.json": Expected(
        None,
        "rtc.member.left",
        "CON-7c1d9e2a-4b3f-4e6d-8a0b-9f8e7d6c5b4a",
        "member_left",
        "2020-11-02T09:10:02.004Z",
        "app",
    ),
    # --- Vonage Dispatch API (subject: the workflow) ---------------------------------------------
    "dispatch/final-report-completed.json": Expected(
        None, "dispatch.final_report", WORKFLOW, "completed", "2020-01-01T14:00:05.000Z", None
    ),
    "dispatch/final-report-error.json": Expected(
        None,
        "dispatch.final_report",
        "bbbbbbbb-cccc-4ddd-8eee-0123456789ab",
        "error",
        "2020-01-01T15:10:00.000Z",
        None,
    ),
    "dispatch/message-status-delivered.json": Expected(
        None, "dispatch.message_status", WORKFLOW, "delivered", "2020-01-01T14:00:03.000Z", "whatsapp"
    ),
    "dispatch/message-status-rejected.json": Expected(
        None, "dispatch.message_status", WORKFLOW, "rejected", "2020-01-01T14:00:01.000Z", "viber_service_msg"
    ),
    "dispatch/message-status-submitted.json": Expected(
        None, "dispatch.message_status", WORKFLOW, "submitted", "2020-01-01T14:00:00.000Z", "whatsapp"
    ),
    # --- Vonage US Short Codes (the SMS API's fields) --------------------------------------------
    "short_codes/inbound-stop.json": Expected(
        "inbound", "short_codes.inbound", "0B00000056789ABC", "received", "2020-01-03T09:30:00.000Z", "sms"
    ),
    "short_codes/receipt-accepted.json": Expected(
        "receipt", "short_codes.receipt", "0A0000001234ABCE", "accepted", "2020-01-01T12:01:00.000Z", "sms"
    ),
    "short_codes/receipt-delivered.json": Expected(
        "receipt", "short_codes.receipt", "0A0000001234ABCD", "delivered", "2020-01-01T12:00:00.000Z", "sms"
    ),
    "short_codes/receipt-expired.json": Expected(
        "receipt", "short_codes.receipt", "0A0000001234ABCF", "expired", "2020-01-02T12:00:00.000Z", "sms"
    ),
    # --- Vonage Voice fallback (the original request's status) ----------------------------------
    "voice/fallback-answer.json": Expected(
        "fallback", "voice.fallback", FALLBACK_CALL, "answered", RECEIVED, "voice"
    ),
    "voice/fallback-event-input.json": Expected(
        "fallback", "voice.fallback", FALLBACK_CALL, "input", "2025-06-12T13:05:30.511Z", "voice"
    ),
}

# One payload object per file; Event Streams files hold arrays of CloudEvents: tests/unit/test_event_streams.py.
PAYLOAD_FILES = sorted(
    path.relative_to(PAYLOADS).as_posix()
    for path in PAYLOADS.glob("*/*.json")
    if path.parent.name != "event_streams"
)


def load(relpath: str) -> dict[str, Any]:
    data = json.loads((PAYLOADS / relpath).read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def event_for(
    relpath: str, *, received_at: datetime = RECEIVED_AT, account_id: str | None = None
) -> dict[str, Any]:
    product = relpath.split("/", 1)[0]
    return normalise(
        product, EXPECTED[relpath].kind, load(relpath), account_id=account_id, received_at=received_at
    )


def with_(relpath: str, **changes: Any) -> dict[str, Any]:
    data = load(relpath)
    data.update(changes)
    return data


# --- every payload file --------------------------------------------------------------------------


def test_every_payload_file_has_an_expected_row() -> None:
    assert len(PAYLOAD_FILES) >= 50
    assert set(PAYLOAD_FILES) == set(EXPECTED)


@pytest.mark.parametrize("relpath", PAYLOAD_FILES)
def test_payload_normalises_to_its_expected_type_subject_status_time_and_channel(relpath: str) -> None:
    assert relpath in EXPECTED, f"add an expected row for {relpath}"
    expected = EXPECTED[relpath]
    event = event_for(relpath)
    assert tuple(k for k in event if k != "workflow") == EVENT_KEYS  # workflow: failover statuses only
    assert (
        event["type"],
        event["subject_id"],
        event["status"],
        event["occurred_at"],
        event["channel"],
    ) == (expected.type, expected.subject_id, expected.status, expected.occurred_at, expected.channel)
    assert event["schema_version"] == "1"
    assert event["product"] == relpath.split("/", 1)[0]
    assert event["provider"] == ("twilio" if relpath.startswith("verify_push/") else "vonage")
    assert event["received_at"] == RECEIVED
    assert re.fullmatch(r"evt_[0-9a-f]{32}", event["event_id"])


@pytest.mark.parametrize("relpath", PAYLOAD_FILES)
def test_event_survives_a_json_round_trip(relpath: str) -> None:
    event = event_for(relpath)
    assert json.loads(json.dumps(event)) == event


@pytest.mark.parametrize("relpath", [p for p in PAYLOAD_FILES if not p.startswith("verify_push/")])
def test_vonage_payload_is_kept_unchanged_under_data_and_not_mutated(relpath: str) -> None:
    payload = load(relpath)
    event = normalise(
        relpath.split("/", 1)[0], EXPECTED[relpath].kind, payload, account_id=None, received_at=RECEIVED_AT
    )
    assert event["data"] == load(relpath)
    assert payload == load(relpath)


# --- event identity ------------------------------------------------------------------------------


@pytest.mark.parametrize("relpath", PAYLOAD_FILES)
def test_the_same_delivery_retried_later_gets_the_same_event_id(relpath: str) -> None:
    first = event_for(relpath)
    retry = event_for(relpath, received_at=LATER)
    assert retry["received_at"] != first["received_at"]
    assert retry["event_id"] == first["event_id"]


@pytest.mark.parametrize("relpath", PAYLOAD_FILES)
def test_reordering_the_payload_keys_keeps_the_event_id(relpath: str) -> None:
    payload = load(relpath)
    reordered = dict(reversed(list(payload.items())))
    assert list(reordered) != list(payload)
    product, kind = relpath.split("/", 1)[0], EXPECTED[relpath].kind
    a = normalise(product, kind, payload, account_id=None, received_at=RECEIVED_AT)
    b = normalise(product, kind, reordered, account_id=None, received_at=RECEIVED_AT)
    assert a["event_id"] == b["event_id"]


def test_every_payload_file_has_a_distinct_event_id() -> None:
    ids = [event_for(relpath)["event_id"] for relpath in PAYLOAD_FILES]
    assert len(set(ids)) == len(ids)


def test_a_new_status_of_the_same_message_gets_a_new_event_id() -> None:
    submitted = event_for("messages/status-submitted.json")
    delivered = event_for("messages/status-delivered.json")
    assert submitted["subject_id"] == delivered["subject_id"]
    assert submitted["event_id"] != delivered["event_id"]


def test_a_verify_event_and_the_summary_of_the_same_request_get_different_ids() -> None:
    event = event_for("verify/event-cancelled.json")
    summary = event_for("verify/summary-cancelled.json")
    assert event["subject_id"] == summary["subject_id"]
    assert event["status"] == summary["status"]
    assert event["event_id"] != summary["event_id"]


def test_the_same_verify_status_on_another_channel_is_a_new_event() -> None:
    sms = normalise(
        "verify", None, load("verify/event-failed.json"), account_id=None, received_at=RECEIVED_AT
    )
    voice = normalise(
        "verify",
        None,
        with_("verify/event-failed.json", channel="voice"),
        account_id=None,
        received_at=RECEIVED_AT,
    )
    assert sms["event_id"] != voice["event_id"]


def test_a_verify_status_retried_with_a_new_triggered_at_keeps_its_id() -> None:
    first = event_for("verify/event-failed.json")
    retried = normalise(
        "verify",
        None,
        with_("verify/event-failed.json", triggered_at="2025-11-03T09:13:44.518Z"),
        account_id=None,
        received_at=LATER,
    )
    assert retried["occurred_at"] != first["occurred_at"]
    assert retried["event_id"] == first["event_id"]


def test_an_sms_receipt_with_another_error_code_is_a_new_event() -> None:
    failed = event_for("sms/receipt-failed.json")
    other = normalise(
        "sms",
        "receipt",
        with_("sms/receipt-failed.json", **{"err-code": "12"}),
        account_id=None,
        received_at=RECEIVED_AT,
    )
    assert failed["event_id"] != other["event_id"]


def test_a_voice_event_with_another_timestamp_is_a_new_event() -> None:
    started = event_for("voice/event-started.json")
    again = normalise(
        "voice",
        "event",
        with_("voice/event-started.json", timestamp="2025-06-12T13:05:00.000Z"),
        account_id=None,
        received_at=RECEIVED_AT,
    )
    assert started["event_id"] != again["event_id"]


def test_twilio_delivery_uuid_alone_identifies_the_event() -> None:
    approved = event_for("verify_push/challenge-approved.json")
    same_delivery = normalise(
        "verify_push",
        None,
        with_("verify_push/challenge-approved.json", factor_friendly_name="Renamed"),
        account_id=None,
        received_at=LATER,
    )
    assert same_delivery["event_id"] == approved["event_id"]
    assert approved["event_id"] == event_id_for(
        "twilio", ("verify_push", "uuid", "7f3c8d5e-6a1b-4c2d-9e4f-9a0b1c2d3e4f")
    )


def test_undocumented_verify_push_fields_are_kept_but_never_change_identity_or_subject() -> None:
    approved = event_for("verify_push/challenge-approved.json")
    extended = normalise(
        "verify_push",
        None,
        with_("verify_push/challenge-approved.json", challenge_sidx="YCforged", zz_new_field="1"),
        account_id=None,
        received_at=LATER,
    )
    assert (extended["event_id"], extended["subject_id"]) == (approved["event_id"], approved["subject_id"])
    assert extended["data"]["zz_new_field"] == "1"
    assert undocumented_fields("verify_push", extended["data"]) == ["challenge_sidx", "zz_new_field"]
    assert undocumented_fields("verify_push", approved["data"]) == []


def test_a_verify_push_event_without_its_delivery_uuid_is_refused() -> None:
    payload = load("verify_push/challenge-approved-v1-capture.json")
    del payload["uuid"]
    with pytest.raises(MissingField) as caught:
        normalise("verify_push", None, payload, account_id=None, received_at=RECEIVED_AT)
    assert (caught.value.code, caught.value.status, caught.value.diagnostic) == (
        "missing_field",
        400,
        {"field": "uuid"},
    )


def test_event_id_is_sha256_of_provider_and_key_parts_joined_by_unit_separator() -> None:
    digest = hashlib.sha256(b"vonage\x1fmsg-1\x1fstatus\x1fdelivered").hexdigest()
    assert event_id_for("vonage", ["msg-1", "status", "delivered"]) == "evt_" + digest[:32]


def test_event_id_depends_on_the_provider() -> None:
    assert event_id_for("vonage", ("x", "inbound")) != event_id_for("twilio", ("x", "inbound"))


@pytest.mark.parametrize(
    ("left", "right"),
    [
        (("a\x1fb",), ("a", "b")),
        (("ab", ""), ("a", "b")),
        (("a", "b"), ("b", "a")),
        ((), ("",)),
    ],
)
def test_different_natural_keys_never_share_an_event_id(
    left: tuple[str, ...], right: tuple[str, ...]
) -> None:
    assert event_id_for("vonage", left) != event_id_for("vonage", right)


def test_event_id_rejects_an_unknown_provider_and_a_bare_string_key() -> None:
    with pytest.raises(ValueError, match="provider"):
        event_id_for("plivo", ("x",))
    with pytest.raises(TypeError):
        event_id_for("vonage", "abc")


# --- Twilio decoding -----------------------------------------------------------------------------


def test_twilio_json_string_details_and_metadata_are_decoded_into_objects() -> None:
    data = event_for("verify_push/challenge-approved.json")["data"]
    assert data["challenge_details"]["message"] == "Hi! Mr. John Doe, would you like to sign up?"
    assert data["challenge_details"]["fields"] == [{"label": "Action", "value": "Sign up in portal"}]
    assert data["challenge_hidden_details"] == {"ip": "127.0.0.1"}
    assert data["challenge_metadata"] == {"os": "Android"}
    assert data["factor_metadata"] == {"os": "Android"}
    assert data["factor_friendly_name"] == "John's Phone"


def test_twilio_payload_without_optional_json_fields_is_kept_as_sent() -> None:
    relpath = "verify_push/challenge-approved-without-hidden-details-nor-metadata.json"
    data = event_for(relpath)["data"]
    assert "challenge_hidden_details" not in data
    assert "challenge_metadata" not in data
    assert data["challenge_details"]["fields"][0]["value"] == "Sign up in portal"
    assert {k: v for k, v in data.items() if k != "challenge_details"} == {
        k: v for k, v in load(relpath).items() if k != "challenge_details"
    }


@pytest.mark.parametrize("raw", ["{not json", "42", '"a string"', "[1, 2]", ""])
def test_twilio_metadata_that_is_not_a_json_object_is_kept_as_the_string(raw: str) -> None:
    payload = with_(
        "verify_push/factor-verified-without-metadata.json", factor_metadata=raw, device_metadata=raw
    )
    data = normalise("verify_push", None, payload, account_id=None, received_at=RECEIVED_AT)["data"]
    assert data["factor_metadata"] == raw
    assert data["device_metadata"] == raw


def test_any_twilio_key_ending_in_metadata_is_decoded_and_the_input_is_not_mutated() -> None:
    payload = with_("verify_push/factor-created.json", entity_metadata='{"tier": "gold"}', other='{"x": "1"}')
    data = normalise("verify_push", None, payload, account_id=None, received_at=RECEIVED_AT)["data"]
    assert data["entity_metadata"] == {"tier": "gold"}
    assert data["other"] == '{"x": "1"}'
    assert payload["entity_metadata"] == '{"tier": "gold"}'


# --- lenient by design ---------------------------------------------------------------------------


def test_unknown_message_status_and_unknown_field_are_kept() -> None:
    payload = with_("messages/status-delivered.json", status="Clicked", brand_new_field={"nested": [1, 2]})
    event = normalise("messages", "status", payload, account_id=None, received_at=RECEIVED_AT)
    assert event["status"] == "clicked"
    assert event["data"]["brand_new_field"] == {"nested": [1, 2]}
    assert event["event_id"] != event_for("messages/status-delivered.json")["event_id"]


def test_unknown_verify_status_is_kept_lower_cased() -> None:
    payload = with_("verify/event-completed.json", status="PARTIALLY_COMPLETED")
    event = normalise("verify", None, payload, account_id=None, received_at=RECEIVED_AT)
    assert (event["type"], event["status"]) == ("verify.event", "partially_completed")


def test_unknown_verify_callback_type_is_kept_under_its_own_name() -> None:
    payload = with_("verify/event-completed.json", type="Progress")
    event = normalise("verify", None, payload, account_id=None, received_at=RECEIVED_AT)
    assert event["type"] == "verify.progress"


@pytest.mark.parametrize(
    ("twilio_type", "expected_type", "expected_status", "subject_key"),
    [
        ("challenge.expired", "verify_push.challenge.expired", "expired", "challenge_sid"),
        ("factor.updated", "verify_push.factor.updated", "updated", "factor_sid"),
        ("Challenge.Approved-V3", "verify_push.challenge.approved_v3", "approved_v3", "challenge_sid"),
        ("entity.removed", "verify_push.entity.removed", "removed", "challenge_sid"),
    ],
)
def test_unknown_twilio_event_type_is_kept(
    twilio_type: str, expected_type: str, expected_status: str, subject_key: str
) -> None:
    payload = with_("verify_push/challenge-approved.json", type=twilio_type)
    event = normalise("verify_push", None, payload, account_id=None, received_at=RECEIVED_AT)
    assert (event["type"], event["status"]) == (expected_type, expected_status)
    assert event["subject_id"] == payload[subject_key]


def test_unparseable_provider_timestamp_falls_back_to_received_at() -> None:
    payload = with_("messages/status-delivered.json", timestamp="around teatime")
    event = normalise("messages", "status", payload, account_id=None, received_at=RECEIVED_AT)
    assert event["occurred_at"] == RECEIVED


def test_repeated_form_parameter_uses_its_first_value_and_is_kept_as_a_list() -> None:
    payload: dict[str, Any] = with_(
        "sms/inbound-plain.json", messageId=["16000002632BEC99", "16000002632BEC99"]
    )
    event = normalise("sms", "inbound", payload, account_id=None, received_at=RECEIVED_AT)
    assert event["subject_id"] == "16000002632BEC99"
    assert event["data"]["messageId"] == ["16000002632BEC99", "16000002632BEC99"]


@pytest.mark.parametrize(
    ("extra", "status"),
    [
        ({"speech": {"results": [{"text": "yes", "confidence": "0.9"}]}}, "input"),
        ({"dtmf": {"digits": "1", "timed_out": False}}, "input"),
        ({"recording_url": "https://api.nexmo.com/v1/files/abc"}, "recorded"),
        ({"conversation_uuid_from": "CON-a", "conversation_uuid_to": "CON-b"}, "transfer"),
        ({"type": "notify", "payload": {"k": "v"}}, "event"),
    ],
)
def test_voice_event_without_status_gets_a_derived_status(extra: dict[str, Any], status: str) -> None:
    payload = {"uuid": CALL, "conversation_uuid": CON, "timestamp": "2025-06-12T13:00:40.000Z", **extra}
    event = normalise("voice", "event", payload, account_id=None, received_at=RECEIVED_AT)
    assert event["status"] == status


@pytest.mark.parametrize(
    ("raw", "status"), [(0, "success"), ("0", "success"), (3, "error_3"), ("43", "error_43")]
)
def test_number_insight_status_becomes_success_or_error_code(raw: Any, status: str) -> None:
    payload = with_("number_insight/result-error.json", status=raw)
    assert (
        normalise("number_insight", None, payload, account_id=None, received_at=RECEIVED_AT)["status"]
        == status
    )


# --- account, channel, client_ref ----------------------------------------------------------------


def test_verified_account_id_wins_over_the_payload() -> None:
    event = event_for("verify_push/challenge-approved.json", account_id="AC00000000000000000000000000000001")
    assert event["account_id"] == "AC00000000000000000000000000000001"


@pytest.mark.parametrize(
    ("relpath", "account"),
    [
        ("verify_push/challenge-approved.json", "AC2d072ce8fd85913ea2c784368ef49715"),
        ("verify_push/challenge-approved-v1-capture.json", "AC81cffb679132d4154463d551b34dec2b"),
        ("sms/inbound-unicode.json", "a1b2c3d4"),
        ("sms/receipt-failed.json", "a1b2c3d4"),
        ("sms/inbound-plain.json", None),
        ("messages/status-delivered.json", None),
        ("verify/event-completed.json", None),
    ],
)
def test_account_id_falls_back_to_the_payload_only_for_twilio_and_sms(
    relpath: str, account: str | None
) -> None:
    assert event_for(relpath)["account_id"] == account


def test_account_id_falls_back_to_twilio_capitalised_account_sid_and_sms_api_key_alias() -> None:
    twilio = {k: v for k, v in load("verify_push/factor-created.json").items() if k != "account_sid"}
    twilio["AccountSid"] = "AC11111111111111111111111111111111"
    sms = {k: v for k, v in load("sms/inbound-unicode.json").items() if k != "api-key"}
    sms["api_key"] = "abcd1234"
    assert normalise("verify_push", None, twilio, account_id=None, received_at=RECEIVED_AT)["account_id"] == (
        "AC11111111111111111111111111111111"
    )
    assert (
        normalise("sms", "inbound", sms, account_id="", received_at=RECEIVED_AT)["account_id"] == "abcd1234"
    )


@pytest.mark.parametrize(
    ("relpath", "client_ref"),
    [
        ("verify/event-completed.json", "my-personal-ref"),
        ("verify/summary-completed.json", "checkout-9913"),
        ("messages/status-delivered.json", "order-5521"),
        ("sms/receipt-failed.json", "otp-2291"),
        ("sms/receipt-delivered.json", None),
        ("voice/event-completed.json", None),
    ],
)
def test_client_ref_is_read_from_client_ref_or_client_dash_ref(relpath: str, client_ref: str | None) -> None:
    assert event_for(relpath)["client_ref"] == client_ref


# --- verify specifics ----------------------------------------------------------------------------


@pytest.mark.parametrize("relpath", [p for p in PAYLOAD_FILES if p.startswith("verify/summary-")])
def test_summary_keeps_the_whole_workflow(relpath: str) -> None:
    assert event_for(relpath)["data"]["workflow"] == load(relpath)["workflow"]


def test_summaries_cover_every_workflow_status() -> None:
    seen = {
        step["status"]
        for relpath in PAYLOAD_FILES
        if relpath.startswith("verify/summary-")
        for step in event_for(relpath)["data"]["workflow"]
    }
    assert seen == {"unused", "completed", "failed", "expired", "blocked", "user_rejected", "cancelled"}


def test_summary_failed_keeps_all_four_workflow_steps_in_order() -> None:
    workflow = event_for("verify/summary-failed.json")["data"]["workflow"]
    assert [(s["channel"], s["status"]) for s in workflow] == [
        ("sms", "expired"),
        ("whatsapp", "completed"),
        ("whatsapp", "user_rejected"),
        ("voice", "unused"),
    ]


def test_silent_auth_keeps_check_url_when_action_is_an_object() -> None:
    event = event_for("verify/event-silent-auth-action-pending.json")
    assert event["data"]["action"]["check_url"] == (
        "https://eu.api.silent.auth/phone_check/v0.1/checks/request_id/redirect"
    )


def test_silent_auth_keeps_check_url_when_action_is_a_list() -> None:
    event = event_for("verify/event-silent-auth-action-pending-list.json")
    assert event["data"]["action"][0]["check_url"] == (
        "https://eu.api.silent.auth/phone_check/v0.1/checks/05c84e8a-a60d-4ad8-afe9-038746ff015d/redirect"
    )


def test_final_silent_auth_event_keeps_the_silent_auth_type_and_gets_its_own_id() -> None:
    pending = event_for("verify/event-silent-auth-action-pending.json")
    payload = with_("verify/event-silent-auth-action-pending.json", status="completed")
    del payload["action"]
    completed = normalise("verify", None, payload, account_id=None, received_at=RECEIVED_AT)
    assert (completed["type"], completed["status"]) == ("verify.silent_auth", "completed")
    assert completed["event_id"] != pending["event_id"]


# --- rejections ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("product", "kind", "relpath", "field"),
    [
        ("verify", None, "verify/event-completed.json", "request_id"),
        ("verify", None, "verify/summary-failed.json", "request_id"),
        ("messages", "inbound", "messages/inbound-sms.json", "message_uuid"),
        ("messages", "status", "messages/status-delivered.json", "message_uuid"),
        ("sms", "inbound", "sms/inbound-plain.json", "messageId"),
        ("sms", "receipt", "sms/receipt-delivered.json", "messageId"),
        ("voice", "answer", "voice/answer.json", "uuid"),
        ("voice", "event", "voice/event-completed.json", "uuid"),
        ("number_insight", None, "number_insight/result-success.json", "request_id"),
        ("verify_push", None, "verify_push/challenge-approved.json", "challenge_sid"),
        ("verify_push", None, "verify_push/factor-created.json", "factor_sid"),
    ],
)
def test_missing_subject_id_is_rejected_with_missing_field(
    product: str, kind: str | None, relpath: str, field: str
) -> None:
    # voice falls back from uuid to call_uuid (AMD) and conversation_uuid (record): drop all three
    payload = {k: v for k, v in load(relpath).items() if k not in {field, "call_uuid", "conversation_uuid"}}
    with pytest.raises(MissingField) as caught:
        normalise(product, kind, payload, account_id=None, received_at=RECEIVED_AT)
    assert caught.value.diagnostic["field"] == field


def test_empty_subject_id_counts_as_missing() -> None:
    with pytest.raises(MissingField):
        normalise(
            "messages",
            "status",
            with_("messages/status-delivered.json", message_uuid=""),
            account_id=None,
            received_at=RECEIVED_AT,
        )


@pytest.mark.parametrize(
    ("product", "kind", "relpath", "field"),
    [
        ("verify", None, "verify/event-completed.json", "status"),
        ("verify", None, "verify/event-completed.json", "type"),
        ("messages", "status", "messages/status-delivered.json", "status"),
        ("sms", "receipt", "sms/receipt-delivered.json", "status"),
        ("number_insight", None, "number_insight/result-success.json", "status"),
        ("verify_push", None, "verify_push/challenge-approved.json", "type"),
    ],
)
def test_status_callback_without_its_status_is_rejected(
    product: str, kind: str | None, relpath: str, field: str
) -> None:
    payload = {k: v for k, v in load(relpath).items() if k != field}
    with pytest.raises(MissingField) as caught:
        normalise(product, kind, payload, account_id=None, received_at=RECEIVED_AT)
    assert caught.value.diagnostic["field"] == field


def test_payload_that_is_a_list_is_rejected_with_invalid_field() -> None:
    body: Any = [load("messages/status-delivered.json")]
    with pytest.raises(InvalidField) as caught:
        normalise("messages", "status", body, account_id=None, received_at=RECEIVED_AT)
    assert caught.value.diagnostic["field"] == "body"


@pytest.mark.parametrize("bad", [{"id": "x"}, [{"id": "x"}], True, 1.5])
def test_subject_id_of_the_wrong_type_is_rejected_with_invalid_field(bad: Any) -> None:
    payload = with_("messages/status-delivered.json", message_uuid=bad)
    with pytest.raises(InvalidField) as caught:
        normalise("messages", "status", payload, account_id=None, received_at=RECEIVED_AT)
    assert caught.value.diagnostic["field"] == "message_uuid"


@pytest.mark.parametrize("bad", ["three", 1.5, True, {"code": 3}])
def test_number_insight_status_that_is_not_an_integer_is_rejected(bad: Any) -> None:
    with pytest.raises(InvalidField):
        normalise(
            "number_insight",
            None,
            with_("number_insight/result-error.json", status=bad),
            account_id=None,
            received_at=RECEIVED_AT,
        )


@pytest.mark.parametrize(
    ("product", "kind"),
    [("fax", None), ("messages", None), ("messages", "receipt"), ("verify", "event"), ("voice", "status")],
)
def test_unknown_product_or_kind_is_a_programming_error(product: str, kind: str | None) -> None:
    with pytest.raises(ValueError):
        normalise(product, kind, {}, account_id=None, received_at=RECEIVED_AT)


# --- timestamps ----------------------------------------------------------------------------------


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, micro: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, micro, tzinfo=UTC)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2020-01-01T14:00:00.032Z", utc(2020, 1, 1, 14, 0, 0, 32000)),
        ("2020-01-01T14:00:00Z", utc(2020, 1, 1, 14)),
        ("2020-01-01T14:00:00.000Z", utc(2020, 1, 1, 14)),
        ("2020-01-01T15:30:00+01:30", utc(2020, 1, 1, 14)),
        ("2020-01-01T09:00:00-0500", utc(2020, 1, 1, 14)),
        ("2020-01-01T14:00:00.1234567Z", utc(2020, 1, 1, 14, 0, 0, 123456)),
        ("2020-01-01t14:00:00z", utc(2020, 1, 1, 14)),
        ("2020-01-01 14:00:00 UTC", utc(2020, 1, 1, 14)),
        ("2020-01-01 14:00:00 GMT", utc(2020, 1, 1, 14)),
        ("2020-01-01 14:00:00", utc(2020, 1, 1, 14)),
        ("2020-01-01T14:00:00", utc(2020, 1, 1, 14)),
        ("  2025-02-03T12:14:25Z  ", utc(2025, 2, 3, 12, 14, 25)),
        (1577887200, utc(2020, 1, 1, 14)),
        (1577887200.25, utc(2020, 1, 1, 14, 0, 0, 250000)),
        (1577887200032, utc(2020, 1, 1, 14, 0, 0, 32000)),
        ("1577887200", utc(2020, 1, 1, 14)),
        ("1577887200032", utc(2020, 1, 1, 14, 0, 0, 32000)),
        ("1548240699", utc(2019, 1, 23, 10, 51, 39)),
        ("1577887200.5", utc(2020, 1, 1, 14, 0, 0, 500000)),
        ("2001011400", utc(2020, 1, 1, 14)),  # YYMMDDHHMM (scts)
        ("1810251310", utc(2018, 10, 25, 13, 10)),  # valid as both: YYMMDDHHMM wins
        (datetime(2020, 1, 1, 16, 0, tzinfo=timezone(timedelta(hours=2))), utc(2020, 1, 1, 14)),
        (datetime(2020, 1, 1, 14, 0), utc(2020, 1, 1, 14)),
    ],
)
def test_timestamp_formats_are_parsed_to_aware_utc(raw: Any, expected: datetime) -> None:
    parsed = parse_timestamp(raw)
    assert parsed == expected
    assert parsed is not None and parsed.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    "raw",
    [
        None,
        "",
        "   ",
        "yesterday",
        "2020-13-01T00:00:00Z",
        "2020-01-01T14:00:00Z and more",
        "UTC",
        True,
        0,
        -5,
        "0",
        float("nan"),
        float("inf"),
        99999999999999999999,
        "99999999999999999999",
        {},
        [],
        b"2020-01-01",
    ],
)
def test_unparseable_timestamps_give_none(raw: Any) -> None:
    assert parse_timestamp(raw) is None


@pytest.mark.parametrize(
    ("dt", "text"),
    [
        (utc(2020, 1, 1, 14, 0, 0, 32999), "2020-01-01T14:00:00.032Z"),
        (utc(2020, 1, 1, 14), "2020-01-01T14:00:00.000Z"),
        (
            datetime(2020, 1, 1, 23, 59, 59, 999999, tzinfo=timezone(timedelta(hours=-1))),
            "2020-01-02T00:59:59.999Z",
        ),
        (datetime(2020, 1, 1, 14, 0), "2020-01-01T14:00:00.000Z"),
        (utc(999, 1, 2, 3, 4, 5), "0999-01-02T03:04:05.000Z"),
    ],
)
def test_format_timestamp_is_utc_with_milliseconds(dt: datetime, text: str) -> None:
    assert format_timestamp(dt) == text


def test_naive_received_at_is_taken_as_utc() -> None:
    event = normalise(
        "messages",
        "inbound",
        load("messages/inbound-sms.json"),
        account_id=None,
        received_at=datetime(2026, 3, 1, 9, 30, 0, 123456),
    )
    assert event["received_at"] == RECEIVED


def test_sms_receipt_prefers_message_timestamp_over_scts_and_unix_timestamp() -> None:
    payload = with_("sms/receipt-delivered.json", timestamp="1749730000")
    event = normalise("sms", "receipt", payload, account_id=None, received_at=RECEIVED_AT)
    assert event["occurred_at"] == "2018-10-25T12:10:29.000Z"


def test_sms_unix_timestamp_is_never_read_as_scts() -> None:
    # 1610011200 is both a valid YYMMDDHHMM (2016-10-01 12:00) and unix seconds (2021-01-07 09:20)
    payload = {k: v for k, v in load("sms/receipt-unknown-signed-unix-only.json").items()}
    payload["timestamp"] = "1610011200"
    event = normalise("sms", "receipt", payload, account_id=None, received_at=RECEIVED_AT)
    assert event["occurred_at"] == "2021-01-07T09:20:00.000Z"
