"""Issue 10 under moto, end to end through the real handlers: a subject belongs to one provider and
product; the Verify summary is the request's truth; the layout v2 items and index shards."""

from __future__ import annotations

import json
from typing import Any

from shared import storage
from shared.ingress import ROUTES
from switchboard.samples import SIGNED_AT, dev_secrets, sample, to_event
from switchboard.signing import sign
from tests.integration.conftest import Harness, case_for

SECRETS = dev_secrets()
BASE = "https://switchboard.example.com"


def deliver(harness: Harness, path: str, payload: dict[str, Any], nonce: str) -> dict[str, Any]:
    route = ROUTES[path]
    request = sign(route, payload, SECRETS, BASE, now=SIGNED_AT, nonce=nonce)
    function = "TwilioFunction" if route.provider == "twilio" else "VonageFunction"
    response = harness.invoke(function, to_event(request, at=SIGNED_AT))
    assert response["statusCode"] in (200, 204), response
    harness.drain()
    return response


def current(harness: Harness, provider: str, product: str, subject_id: str) -> tuple[str, bool] | None:
    got = harness.client("dynamodb").get_item(
        TableName=harness.stack.refs["HistoryTable"],
        Key=storage.status_key(storage.subject_pk(provider, product, subject_id)),
    )
    item = got.get("Item")
    return (item["status"]["S"], item["terminal"]["BOOL"]) if item else None


# --- §1 a subject belongs to one provider and product ---------------------------------------------


def test_a_number_insight_callback_naming_another_products_subject_never_changes_it(harness: Harness):
    # Holding only the Number Insight URL token, post a "result" whose request_id is a message's id.
    message = case_for("http/messages/status-delivered.json")
    assert harness.send(message)["statusCode"] == 200
    harness.drain()
    uuid = message["subject_id"]
    before = current(harness, "vonage", "messages", uuid)
    forged = {**sample("number_insight/result-success").payload, "request_id": uuid}
    deliver(harness, "/vonage/number-insight", forged, "ni-1")
    assert current(harness, "vonage", "messages", uuid) == before == ("delivered", False)
    assert current(harness, "vonage", "number_insight", uuid) == ("success", True)
    products = sorted(e["product"] for e in harness.events(uuid))
    assert products == ["messages", "number_insight"]


def test_a_late_terminal_status_of_another_product_cannot_lock_a_pending_verify_request(harness: Harness):
    pending = {**sample("verify/event-silent-auth-action-pending").payload}
    request_id = pending["request_id"]
    deliver(harness, "/vonage/verify", pending, "v-1")
    error = {**sample("number_insight/result-error").payload, "request_id": request_id}
    deliver(harness, "/vonage/number-insight", error, "ni-2")
    failed = {**sample("verify/summary-failed").payload, "request_id": request_id}
    deliver(harness, "/vonage/verify", failed, "v-2")
    assert current(harness, "vonage", "verify", request_id) == ("failed", True)
    assert current(harness, "vonage", "number_insight", request_id) is not None


# --- §2 the Verify summary is the request's truth -------------------------------------------------


def verify_event(request_id: str, channel: str, status: str, at: str) -> dict[str, Any]:
    return {
        "request_id": request_id,
        "triggered_at": at,
        "type": "event",
        "channel": channel,
        "status": status,
        "finalized_at": at,
    }


def test_a_later_channels_completed_then_the_summary_set_the_verify_request(harness: Harness):
    summary = sample("verify/summary-completed").payload
    request_id = summary["request_id"]
    deliver(
        harness, "/vonage/verify", verify_event(request_id, "sms", "expired", "2025-11-03T12:35:00.000Z"), "a"
    )
    assert current(harness, "vonage", "verify", request_id) == ("expired", False)
    later = verify_event(request_id, "whatsapp", "completed", "2025-11-03T12:36:30.000Z")
    deliver(harness, "/vonage/verify", later, "b")
    assert current(harness, "vonage", "verify", request_id) == ("completed", True)
    deliver(harness, "/vonage/verify", summary, "c")
    assert current(harness, "vonage", "verify", request_id) == ("completed", True)
    published = [json.loads(m["body"]) for m in harness.queue_messages("EventsQueue")]
    assert [(p["type"], p["current"]["status"]) for p in published] == [
        ("verify.event", "expired"),
        ("verify.event", "completed"),
        ("verify.summary", "completed"),
    ]
    assert published[-1]["current"]["event_id"] == published[-1]["event_id"]  # the summary is current


def test_a_summary_overrides_an_earlier_event_and_a_late_event_never_overrides_it(harness: Harness):
    failed = sample("verify/summary-failed").payload
    request_id = failed["request_id"]
    deliver(
        harness,
        "/vonage/verify",
        verify_event(request_id, "sms", "completed", "2025-11-03T12:35:00.000Z"),
        "a",
    )
    deliver(harness, "/vonage/verify", failed, "b")
    assert current(harness, "vonage", "verify", request_id) == ("failed", True)
    late = verify_event(request_id, "voice", "completed", "2030-01-01T00:00:00.000Z")
    deliver(harness, "/vonage/verify", late, "c")
    assert current(harness, "vonage", "verify", request_id) == ("failed", True)
    assert len(harness.history(request_id)) == 3  # the late event joins the history


# --- the layout ----------------------------------------------------------------------------------


def test_every_item_carries_the_layout_version_and_events_spread_over_the_index_shards(harness: Harness):
    base = sample("messages/status-delivered").payload
    for i in range(40):
        deliver(harness, "/vonage/messages/status", {**base, "message_uuid": f"msg-{i:04d}"}, f"n{i}")
    items = harness.all_items()
    assert {i["pk"]["S"][:2] for i in items} == {storage.SUBJECT_PREFIX, storage.CREDENTIAL_PREFIX}
    assert all(i["v"]["N"] == str(storage.LAYOUT_VERSION) for i in items)  # bindings too
    subjects = [i for i in items if i["pk"]["S"].startswith(storage.SUBJECT_PREFIX)]
    shards = {i["gpk"]["S"] for i in subjects if "gpk" in i}
    assert len(shards) >= 8  # 40 events over 16 shards: one partition key would be a hot key
    assert shards <= set(storage.index_partitions("vonage", "messages"))
    listed = []
    for partition in storage.index_partitions("vonage", "messages"):
        kwargs = storage.query_index(harness.stack.refs["HistoryTable"], partition, "2000", "9999")
        listed += harness.client("dynamodb").query(**kwargs)["Items"]
    assert len(listed) == 40


def test_an_item_of_layout_version_1_is_never_read_nor_overwritten(harness: Harness):
    case = case_for("http/verify/event-completed.json")
    old = {
        "pk": {"S": f"SUBJECT#{case['subject_id']}"},
        "sk": {"S": "STATUS"},
        "status": {"S": "failed"},
        "rank": {"N": "100"},
        "terminal": {"BOOL": True},
    }
    harness.client("dynamodb").put_item(TableName=harness.stack.refs["HistoryTable"], Item=old)
    assert harness.send(case)["statusCode"] == 200
    harness.drain()
    assert current(harness, "vonage", "verify", case["subject_id"]) == ("completed", True)
    stored = harness.client("dynamodb").get_item(
        TableName=harness.stack.refs["HistoryTable"], Key={"pk": old["pk"], "sk": old["sk"]}
    )["Item"]
    assert stored == old
