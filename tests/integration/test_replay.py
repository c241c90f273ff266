"""`switchboard replay --stack` under moto: events recorded by the real handlers and recorder, read
back from the history table and published to the events FIFO queue again, as the recorder did."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from shared.recorder import group_id
from switchboard import cli, replay
from tests.integration.conftest import Harness
from tests.unit.test_contract_schemas import violations

DELIVERY = "e7b0a3c2-5d1f-4b8e-9c6a-2f3e4d5c6b7a"  # messages: status-submitted, then status-delivered
SHARED = "bbbbbbbb-cccc-4ddd-8eee-0123456789ab"  # a Messages attempt and a Dispatch report


@pytest.fixture
def stack(harness: Harness) -> Iterator[Harness]:
    """A CloudFormation stack whose outputs name the harness's table and queues."""
    refs = harness.stack.refs
    outputs = {
        "TableName": refs["HistoryTable"],
        "EventsQueueUrl": refs["EventsQueue"],
        "EventsDLQUrl": refs["EventsDLQ"],
        "IngestQueueUrl": refs["IngestQueue"],
        "IngestDLQUrl": refs["IngestDLQ"],
        "SecretArn": refs["ProviderSecret"],
        "ApiBaseUrl": "https://abc123.execute-api.us-east-1.amazonaws.com",
        "StatusApiUrl": "https://abc123.execute-api.us-east-1.amazonaws.com/status",
    }
    template = {
        "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {k: {"Value": v} for k, v in outputs.items()},
    }
    boto3.client("cloudformation").create_stack(StackName="sb", TemplateBody=json.dumps(template))
    yield harness


def record(harness: Harness, *files: str) -> None:
    for file in files:
        assert harness.send(file)["statusCode"] == 200, file
    harness.drain()
    harness.queue_messages("EventsQueue")  # what the recorder published: consumed, out of the way


def received(harness: Harness) -> list[dict[str, Any]]:
    sqs, url = harness.client("sqs"), harness.stack.refs["EventsQueue"]
    out: list[dict[str, Any]] = []
    while True:
        got = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"], MessageAttributeNames=["All"]
        )
        if not got.get("Messages"):
            return out
        for m in got["Messages"]:
            out.append(m)
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(["replay", *argv, "--stack", "sb"])
    out, err = capsys.readouterr()
    return code, out, err


def test_a_subjects_events_are_published_again_in_time_order_with_their_ids_group_and_current(
    stack: Harness, capsys: pytest.CaptureFixture[str]
):
    # delivered arrives first; submitted happened first (occurred_at): the replay follows time
    record(stack, "http/messages/status-delivered.json", "http/messages/status-submitted.json")
    stored = stack.events(DELIVERY)

    code, out, err = run(capsys, "--subject", DELIVERY)

    assert code == 0, err
    messages = received(stack)
    bodies = [json.loads(m["Body"]) for m in messages]
    assert [b["event_id"] for b in bodies] == [e["event_id"] for e in stored]
    assert [b["status"] for b in bodies] == ["submitted", "delivered"]
    assert [{k: v for k, v in b.items() if k != "current"} for b in bodies] == stored
    assert all(b["current"]["status"] == "delivered" for b in bodies)  # the subject's status now
    assert all(violations("queue-message", b) == [] for b in bodies)
    run_id = messages[0]["MessageAttributes"][replay.REPLAY_ATTRIBUTE]["StringValue"]
    for m, b in zip(messages, bodies, strict=True):
        assert m["Attributes"]["MessageGroupId"] == group_id("vonage", "messages", DELIVERY)
        assert m["Attributes"]["MessageDeduplicationId"] == f"replay-{run_id}-{b['event_id']}"
        assert m["MessageAttributes"][replay.REPLAY_ATTRIBUTE]["StringValue"] == run_id
    assert f"replay {run_id}: published 2 of 2 event(s) of 1 subject(s)" in out
    assert "published 2/2" in err


def test_a_replay_right_after_the_recorders_publish_is_not_dropped_as_a_duplicate(
    stack: Harness, capsys: pytest.CaptureFixture[str]
):
    """The FIFO queue drops a deduplication id it saw within 5 minutes: the recorder used the event id."""
    assert stack.send("http/messages/status-submitted.json")["statusCode"] == 200
    stack.drain()
    original = received(stack)

    assert run(capsys, "--subject", DELIVERY)[0] == 0
    again = received(stack)

    assert [json.loads(m["Body"])["event_id"] for m in again] == [
        json.loads(m["Body"])["event_id"] for m in original
    ]
    assert [m["Attributes"]["MessageDeduplicationId"] for m in original] == [
        json.loads(original[0]["Body"])["event_id"]
    ]
    assert (
        again[0]["Attributes"]["MessageDeduplicationId"]
        != original[0]["Attributes"]["MessageDeduplicationId"]
    )


def test_dry_run_counts_per_subject_and_publishes_nothing(stack: Harness, capsys: pytest.CaptureFixture[str]):
    record(stack, "http/messages/status-delivered.json", "http/messages/status-submitted.json")

    code, out, _ = run(capsys, "--subject", DELIVERY, "--dry-run")

    assert code == 0
    assert f"vonage/messages  {DELIVERY}  2 event(s)" in out
    assert "2 event(s) of 1 subject(s) would be published again (--dry-run: nothing sent)" in out
    assert received(stack) == []


def test_an_id_several_products_share_needs_product_and_then_replays_only_that_one(
    stack: Harness, capsys: pytest.CaptureFixture[str]
):
    record(
        stack, "http/messages/status-delivered-failover-second.json", "http/dispatch/final-report-error.json"
    )

    ambiguous = run(capsys, "--subject", SHARED)
    assert ambiguous[0] == cli.EXIT_USAGE
    assert "2 subjects share this id (vonage/dispatch, vonage/messages)" in ambiguous[2]
    assert received(stack) == []

    code, _, err = run(capsys, "--subject", SHARED, "--product", "dispatch")
    assert code == 0, err
    assert [json.loads(m["Body"])["product"] for m in received(stack)] == ["dispatch"]


def test_a_product_time_range_replays_every_subject_in_it_each_in_order(
    stack: Harness, capsys: pytest.CaptureFixture[str]
):
    record(
        stack,
        "http/messages/status-delivered.json",
        "http/messages/status-submitted.json",
        "http/messages/status-delivered-failover-second.json",
        "http/verify/event-completed.json",  # another product: not in the range
    )
    expected = {DELIVERY: stack.events(DELIVERY), SHARED: stack.events(SHARED)}

    dry = run(capsys, "--product", "messages", "--since", "2000-01-01", "--dry-run")
    assert "3 event(s) of 2 subject(s)" in dry[1]
    code, _, err = run(capsys, "--product", "messages", "--since", "2000-01-01", "--until", "2999-12-31")

    assert code == 0, err
    bodies = [json.loads(m["Body"]) for m in received(stack)]
    assert {b["product"] for b in bodies} == {"messages"}
    for subject, events in expected.items():
        assert [b["event_id"] for b in bodies if b["subject_id"] == subject] == [
            e["event_id"] for e in events
        ]
    assert all(violations("queue-message", b) == [] for b in bodies)


def test_an_empty_range_publishes_nothing_and_says_so(stack: Harness, capsys: pytest.CaptureFixture[str]):
    record(stack, "http/messages/status-submitted.json")
    code, out, _ = run(capsys, "--product", "messages", "--since", "2999-01-01")
    assert code == 0
    assert "published 0 of 0 event(s) of 0 subject(s)" in out
    assert received(stack) == []


@pytest.mark.parametrize(
    "argv",
    [
        ("--subject", DELIVERY, "--since", "1h"),
        ("--product", "messages"),
        ("--since", "1h"),
        ("--product", "messages", "--since", "yesterday"),
        ("--product", "messages", "--since", "2026-01-02", "--until", "2026-01-01"),
    ],
)
def test_usage_errors_exit_2_and_publish_nothing(
    stack: Harness, capsys: pytest.CaptureFixture[str], argv: tuple[str, ...]
):
    record(stack, "http/messages/status-submitted.json")
    code, _, err = run(capsys, *argv)
    assert code == cli.EXIT_USAGE, err
    assert received(stack) == []


def test_an_unknown_subject_is_an_error(stack: Harness, capsys: pytest.CaptureFixture[str]):
    code, _, err = run(capsys, "--subject", "no-such-subject")
    assert code == cli.EXIT_ERROR
    assert "no recorded events for subject no-such-subject" in err


# --- a failing queue: entries retried, then reported ---------------------------------------------


class FlakySqs:
    """The real (moto) client, with SendMessageBatch refusing chosen entries a number of times."""

    def __init__(self, sqs: Any, fail: dict[int, int], sender_fault: bool = False) -> None:
        self.sqs, self.fail, self.sender_fault = sqs, fail, sender_fault
        self.calls: list[list[str]] = []

    def send_message_batch(self, QueueUrl: str, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        self.calls.append([e["Id"] for e in Entries])
        refused = [e for e in Entries if self.fail.get(int(e["Id"]), 0) > 0]
        for e in refused:
            self.fail[int(e["Id"])] -= 1
        sent = [e for e in Entries if e not in refused]
        got = self.sqs.send_message_batch(QueueUrl=QueueUrl, Entries=sent) if sent else {}
        failed = [
            {"Id": e["Id"], "SenderFault": self.sender_fault, "Code": "InternalError", "Message": "try again"}
            for e in refused
        ]
        return {"Successful": got.get("Successful", []), "Failed": failed}


def flaky_target(monkeypatch: pytest.MonkeyPatch, flaky: FlakySqs) -> None:
    real = cli.target_from

    def target_from(args: Any) -> cli.Target:
        target = real(args)
        clients = target.clients
        target.clients = lambda service: flaky if service == "sqs" else clients(service)
        return target

    monkeypatch.setattr(replay, "target_from", target_from)
    monkeypatch.setattr(replay, "BACKOFF_SECONDS", 0)


def test_a_refused_entry_is_sent_again_and_everything_is_published(
    stack: Harness, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
):
    record(stack, "http/messages/status-delivered.json", "http/messages/status-submitted.json")
    flaky = FlakySqs(stack.client("sqs"), fail={0: 2})
    flaky_target(monkeypatch, flaky)

    code, out, err = run(capsys, "--subject", DELIVERY)

    assert code == 0, err
    assert flaky.calls == [["0", "1"], ["0"], ["0"]]
    assert sorted(json.loads(m["Body"])["status"] for m in received(stack)) == ["delivered", "submitted"]
    assert "published 2 of 2" in out


def test_an_entry_refused_every_time_is_reported_and_the_exit_code_is_1(
    stack: Harness, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
):
    record(stack, "http/messages/status-delivered.json", "http/messages/status-submitted.json")
    first = stack.events(DELIVERY)[0]["event_id"]
    flaky = FlakySqs(stack.client("sqs"), fail={0: 99})
    flaky_target(monkeypatch, flaky)

    code, out, err = run(capsys, "--subject", DELIVERY)

    assert code == cli.EXIT_ERROR
    assert len(flaky.calls) == replay.ATTEMPTS
    assert f"not published: {first}: InternalError: try again" in err
    assert "published 1 of 2" in out
    assert [json.loads(m["Body"])["status"] for m in received(stack)] == ["delivered"]


def test_an_entry_refused_for_its_own_fault_is_not_sent_again(
    stack: Harness, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
):
    record(stack, "http/messages/status-submitted.json")
    flaky = FlakySqs(stack.client("sqs"), fail={0: 99}, sender_fault=True)
    flaky_target(monkeypatch, flaky)

    assert run(capsys, "--subject", DELIVERY)[0] == cli.EXIT_ERROR
    assert flaky.calls == [["0"]]


def test_twenty_three_events_go_in_calls_of_ten(stack: Harness, monkeypatch: pytest.MonkeyPatch):
    subject = replay.Subject("vonage", "messages", "s", None, [_event(i) for i in range(23)])
    flaky = FlakySqs(stack.client("sqs"), fail={})

    failures = replay.publish(flaky, stack.stack.refs["EventsQueue"], replay.outgoing([subject], "run1"))

    assert failures == []
    assert [len(c) for c in flaky.calls] == [10, 10, 3]
    assert [json.loads(m["Body"])["event_id"] for m in received(stack)] == [
        f"evt_{i:032x}" for i in range(23)
    ]


def test_an_event_over_256_kib_fails_alone_before_any_call(stack: Harness):
    big = {**_event(1), "data": {"text": "x" * (256 * 1024)}}
    subject = replay.Subject("vonage", "messages", "s", None, [_event(0), big, _event(2)])
    flaky = FlakySqs(stack.client("sqs"), fail={})

    failures = replay.publish(flaky, stack.stack.refs["EventsQueue"], replay.outgoing([subject], "run1"))

    assert [f.event_id for f in failures] == [big["event_id"]]
    assert "over the queue's 256 KiB message limit" in failures[0].reason
    assert flaky.calls == [["0", "2"]]


def _event(i: int) -> dict[str, Any]:
    return {"event_id": f"evt_{i:032x}", "provider": "vonage", "product": "messages", "subject_id": "s"}


def test_an_unreadable_stored_event_is_reported_not_replaced_by_a_stand_in(
    stack: Harness, capsys: pytest.CaptureFixture[str]
):
    record(stack, "http/messages/status-delivered.json", "http/messages/status-submitted.json")
    damaged, kept = stack.history(DELIVERY)
    stack.client("dynamodb").update_item(
        TableName=stack.stack.refs["HistoryTable"],
        Key={"pk": damaged["pk"], "sk": damaged["sk"]},
        UpdateExpression="SET #e = :b",
        ExpressionAttributeNames={"#e": "event"},
        ExpressionAttributeValues={":b": {"B": b"\x00garbage"}},
    )

    code, out, err = run(capsys, "--subject", DELIVERY)

    assert code == cli.EXIT_ERROR
    damaged_id = damaged["sk"]["S"].removeprefix("E#")
    assert f"not published: {damaged_id}: stored event unreadable (unknown encoding): not replayed" in err
    assert [json.loads(m["Body"])["event_id"] for m in received(stack)] == [
        kept["sk"]["S"].removeprefix("E#")
    ]
    assert "published 1 of 1 event(s)" in out


def _blob(text: str) -> bytes:
    """A history item's event attribute holding this JSON text (storage.encode_event's format)."""
    import zlib

    from shared import storage

    deflate = zlib.compressobj(9, zlib.DEFLATED, -15, 9, zlib.Z_DEFAULT_STRATEGY, storage._DICTIONARY)
    return storage._ENCODING + deflate.compress(text.encode("utf-8")) + deflate.flush()


@pytest.mark.parametrize(
    ("damage", "why"),
    [
        # JSON's \ud800 escape: readable JSON whose string cannot be encoded as UTF-8 for SQS
        (lambda e: json.dumps({**e, "data": {"text": "\ud800"}}, ensure_ascii=True), "lone surrogate"),
        (lambda e: json.dumps({k: v for k, v in e.items() if k != "event_id"}), "event_id"),
    ],
)
def test_a_stored_event_that_decodes_but_cannot_be_published_is_reported_and_the_rest_replayed(
    stack: Harness, capsys: pytest.CaptureFixture[str], damage: Any, why: str
):
    record(stack, "http/messages/status-delivered.json", "http/messages/status-submitted.json")
    damaged, kept = stack.history(DELIVERY)
    damaged_id = damaged["sk"]["S"].removeprefix("E#")
    event = next(e for e in stack.events(DELIVERY) if e["event_id"] == damaged_id)
    stack.client("dynamodb").update_item(
        TableName=stack.stack.refs["HistoryTable"],
        Key={"pk": damaged["pk"], "sk": damaged["sk"]},
        UpdateExpression="SET #e = :b",
        ExpressionAttributeNames={"#e": "event"},
        ExpressionAttributeValues={":b": {"B": _blob(damage(event))}},
    )

    code, _, err = run(capsys, "--subject", DELIVERY)

    assert code == cli.EXIT_ERROR
    assert f"not published: {damaged_id}: stored event unreadable" in err and why in err
    assert [json.loads(m["Body"])["event_id"] for m in received(stack)] == [
        kept["sk"]["S"].removeprefix("E#")
    ]


# --- SQS's size limits count message attributes too --------------------------------------------

SQS_MAX_BYTES = 262_144  # a message, and a SendMessageBatch call: bodies and attributes together


def sqs_size(entry: dict[str, Any]) -> int:
    """What SQS counts against its 256 KiB limit: the body, and each attribute's name, type and value."""
    size = len(entry["MessageBody"].encode("utf-8"))
    for name, attr in (entry.get("MessageAttributes") or {}).items():
        size += len(name.encode()) + len(attr["DataType"].encode()) + len(attr["StringValue"].encode())
    return size


class SizedSqs(FlakySqs):
    """The real (moto) client, refusing what AWS refuses and moto (1 MiB, bodies only) lets through."""

    def send_message_batch(self, QueueUrl: str, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        from botocore.exceptions import ClientError

        total = sum(sqs_size(e) for e in Entries)
        if total > SQS_MAX_BYTES:
            self.calls.append([e["Id"] for e in Entries])
            raise ClientError(
                {"Error": {"Code": "AWS.SimpleQueueService.BatchRequestTooLong", "Message": f"{total}"}},
                "SendMessageBatch",
            )
        return super().send_message_batch(QueueUrl, Entries)


def _padded(i: int, body_bytes: int, run_id: str) -> dict[str, Any]:
    """An event whose replayed body is exactly body_bytes long."""
    event = {**_event(i), "data": {"text": ""}}
    base = len(
        replay.outgoing([replay.Subject("vonage", "messages", "s", None, [event])], run_id)[0]
        .entry["MessageBody"]
        .encode()
    )
    return {**event, "data": {"text": "x" * (body_bytes - base)}}


def test_ten_events_whose_bodies_fit_256_kib_but_not_with_the_replay_attribute_are_split(stack: Harness):
    run_id = "20260101T000000Z-abcdef"
    subject = replay.Subject("vonage", "messages", "s", None, [_padded(i, 26_200, run_id) for i in range(10)])
    pending = replay.outgoing([subject], run_id)
    assert (
        sum(len(o.entry["MessageBody"]) for o in pending)
        <= SQS_MAX_BYTES
        < sum(sqs_size(o.entry) for o in pending)
    )
    sized = SizedSqs(stack.client("sqs"), fail={})

    failures = replay.publish(sized, stack.stack.refs["EventsQueue"], pending)

    assert failures == []
    assert len(sized.calls) == 2
    assert len(received(stack)) == 10


def test_one_event_that_fits_256_kib_only_without_the_replay_attribute_fails_alone_before_any_call(
    stack: Harness,
):
    run_id = "20260101T000000Z-abcdef"
    big = _padded(1, SQS_MAX_BYTES - 10, run_id)
    subject = replay.Subject("vonage", "messages", "s", None, [_event(0), big, _event(2)])
    sized = SizedSqs(stack.client("sqs"), fail={})

    failures = replay.publish(sized, stack.stack.refs["EventsQueue"], replay.outgoing([subject], run_id))

    assert [f.event_id for f in failures] == [big["event_id"]]
    assert "over the queue's 256 KiB message limit" in failures[0].reason
    assert sized.calls == [["0", "2"]]
