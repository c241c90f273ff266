"""The recorder's batch loop under moto: a failure in one record's publish or history write fails that
record alone; a retry records it once; one delivery twice in one batch is published once."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from typing import Any

import pytest
from botocore.exceptions import ClientError

from shared import storage
from shared.observability import logger
from shared.recorder import Recorder, fifo_publisher
from shared.recorder_batch import REASON_ATTRIBUTE, handle_batch, sqs_dead_letter
from shared.sqs_batch import MAX_BYTES as MAX_BATCH_BYTES
from tests.integration.conftest import Harness


def event(n: int, status: str = "delivered") -> dict[str, Any]:
    return {
        "event_id": f"evt_{n:032x}",
        "provider": "vonage",
        "product": "messages",
        "type": "messages.status",
        "subject_id": f"msg-{n}",
        "status": status,
        "occurred_at": "2026-01-01T00:00:00.000Z",
        "received_at": "2026-01-01T00:00:01.000Z",
    }


def records(*events: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "Records": [
            {"messageId": f"m{i}", "body": json.dumps(e), "attributes": {"ApproximateReceiveCount": "1"}}
            for i, e in enumerate(events)
        ]
    }


class Publisher:
    def __init__(self, refuse: set[str] | None = None) -> None:
        self.calls: list[list[str]] = []
        self.refuse = refuse or set()

    def __call__(self, events: Sequence[Mapping[str, Any]]) -> list[str]:
        self.calls.append([e["event_id"] for e in events])
        refused = [e["event_id"] for e in events if e["event_id"] in self.refuse]
        self.refuse -= set(refused)  # refuses once
        return refused


def recorder(harness: Harness, publish: Publisher) -> Recorder:
    return Recorder(harness.client("dynamodb"), harness.stack.refs["HistoryTable"], publish, retention_days=7)


def test_a_batch_is_published_in_one_call_and_a_refused_entry_fails_only_its_record(harness: Harness):
    publish = Publisher(refuse={event(2)["event_id"]})
    rec = recorder(harness, publish)
    got = handle_batch(records(event(1), event(2), event(3)), rec, logger)
    assert got == {"batchItemFailures": [{"itemIdentifier": "m1"}]}
    assert len(publish.calls) == 1 and len(publish.calls[0]) == 3
    assert harness.history("msg-2") == []  # not published, so not recorded: the retry will
    retried = handle_batch(records(event(1), event(2), event(3)), rec, logger)
    assert retried == {"batchItemFailures": []}
    assert publish.calls[1] == [event(2)["event_id"]]  # the others are duplicates now
    assert [len(harness.history(f"msg-{n}")) for n in (1, 2, 3)] == [1, 1, 1]


def test_one_delivery_twice_in_one_batch_is_published_once(harness: Harness):
    publish = Publisher()
    got = handle_batch(records(event(1), event(1)), recorder(harness, publish), logger)
    assert got == {"batchItemFailures": []}
    assert publish.calls == [[event(1)["event_id"]]]
    assert len(harness.history("msg-1")) == 1


def test_a_failed_history_write_after_the_publish_fails_that_record_and_its_retry_records_it_once(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
):
    publish = Publisher()
    rec = recorder(harness, publish)
    db = harness.client("dynamodb")
    original = db.put_item

    def put_item(**kwargs: Any) -> Any:
        if kwargs["Item"]["sk"]["S"] == storage.HISTORY_PREFIX + event(2)["event_id"]:
            monkeypatch.setattr(db, "put_item", original)  # fails once
            raise db.exceptions.ProvisionedThroughputExceededException(
                {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow down"}},
                "PutItem",
            )
        return original(**kwargs)

    monkeypatch.setattr(db, "put_item", put_item)
    got = handle_batch(records(event(1), event(2)), rec, logger)
    assert got == {"batchItemFailures": [{"itemIdentifier": "m1"}]}
    assert handle_batch(records(event(2)), rec, logger) == {"batchItemFailures": []}
    # published twice with one deduplication id: the FIFO queue delivers it once (5-minute window)
    assert publish.calls == [[event(1)["event_id"], event(2)["event_id"]], [event(2)["event_id"]]]
    assert len(harness.history("msg-2")) == 1
    assert harness.status_item("msg-2")["status"]["S"] == "delivered"  # type: ignore[index]


def test_a_queue_outage_fails_every_new_record_of_the_batch_and_none_is_recorded(harness: Harness):
    def down(events: Sequence[Mapping[str, Any]]) -> list[str]:
        raise ConnectionError("events queue unreachable")

    rec = Recorder(harness.client("dynamodb"), harness.stack.refs["HistoryTable"], down, retention_days=7)
    got = handle_batch(records(event(1), event(2)), rec, logger)
    assert got == {"batchItemFailures": [{"itemIdentifier": "m0"}, {"itemIdentifier": "m1"}]}
    assert harness.history("msg-1") == harness.history("msg-2") == []


def test_a_poison_message_fails_alone(harness: Harness):
    batch = records(event(1))
    batch["Records"].append({"messageId": "bad", "body": "{not json", "attributes": {}})
    got = handle_batch(batch, recorder(harness, Publisher()), logger)
    assert got == {"batchItemFailures": [{"itemIdentifier": "bad"}]}
    assert len(harness.history("msg-1")) == 1


def test_a_poison_message_is_dead_lettered_with_its_reason_and_attributes_and_not_retried(
    harness: Harness, caplog: pytest.LogCaptureFixture
):
    sqs, dlq = harness.client("sqs"), harness.stack.refs["IngestDLQ"]
    batch = records(event(1))
    credential = {"stringValue": "jwt:abc", "dataType": "String"}
    batch["Records"].append(
        {"messageId": "bad", "body": '{"event_id": "x"}', "messageAttributes": {"credential": credential}}
    )
    got = handle_batch(batch, recorder(harness, Publisher()), logger, sqs_dead_letter(sqs, dlq))
    assert got == {"batchItemFailures": []}
    assert len(harness.history("msg-1")) == 1
    [dead] = sqs.receive_message(QueueUrl=dlq, MessageAttributeNames=["All"])["Messages"]
    assert dead["Body"] == '{"event_id": "x"}'
    assert dead["MessageAttributes"]["credential"]["StringValue"] == "jwt:abc"  # a redrive can record it
    assert "lacks required fields" in dead["MessageAttributes"][REASON_ATTRIBUTE]["StringValue"]
    [line] = [r for r in caplog.records if r.getMessage().startswith("poison message")]
    assert line.exc_info is None and "occurred_at" in line.missing  # type: ignore[attr-defined]


def test_a_poison_message_whose_dead_letter_send_fails_is_left_to_the_redrive_policy(harness: Harness):
    def down(raw: Mapping[str, Any], reason: str) -> None:
        raise ConnectionError("DLQ unreachable")

    batch = {"Records": [{"messageId": "bad", "body": "[[[", "attributes": {}}]}
    got = handle_batch(batch, recorder(harness, Publisher()), logger, down)
    assert got == {"batchItemFailures": [{"itemIdentifier": "bad"}]}


def test_a_body_whose_escape_decodes_to_a_lone_surrogate_is_poison_not_retried(harness: Harness):
    # The \ud800 escape is ASCII on the queue but decodes to a str no DynamoDB or SQS write can
    # encode: every receive failed with a UnicodeEncodeError traceback until the redrive policy's 5th.
    sqs, dlq = harness.client("sqs"), harness.stack.refs["IngestDLQ"]
    body = json.dumps({**event(1), "subject_id": "msg-\ud800"})
    emoji = json.dumps({**event(2), "data": {"text": "\U0001f600"}})  # a surrogate *pair*: fine
    batch = {
        "Records": [
            {"messageId": "sur", "body": body, "attributes": {}},
            {"messageId": "ok", "body": emoji, "attributes": {}},
        ]
    }
    assert "\\ud83d\\ude00" in emoji and "\\ud800" in body

    got = handle_batch(batch, recorder(harness, Publisher()), logger, sqs_dead_letter(sqs, dlq))

    assert got == {"batchItemFailures": []}
    assert len(harness.history("msg-2")) == 1
    [dead] = sqs.receive_message(QueueUrl=dlq, MessageAttributeNames=["All"])["Messages"]
    assert dead["Body"] == body
    assert "lone surrogate" in dead["MessageAttributes"][REASON_ATTRIBUTE]["StringValue"]


def test_a_batch_logs_one_line_not_one_per_event(harness: Harness, caplog: pytest.LogCaptureFixture):
    rec = recorder(harness, Publisher())
    handle_batch(records(event(1)), rec, logger)
    caplog.clear()
    handle_batch(records(event(1), event(2), event(3), event(4)), rec, logger)
    lines = [r for r in caplog.records if r.name == logger.name]
    assert [r.getMessage() for r in lines] == ["batch recorded"]
    assert (getattr(lines[0], "new", None), getattr(lines[0], "duplicate", None)) == (3, 1)
    assert getattr(lines[0], "duplicates", None) == [event(1)["event_id"]]


def test_log_lines_leave_out_what_the_log_group_already_says():
    record = logging.LogRecord("switchboard", logging.INFO, __file__, 1, "probe", None, None)
    logger.append_keys(function_arn="arn:aws:lambda:us-east-1:1:function:f", function_name="f")
    try:
        line = json.loads(logger.registered_formatter.format(record))
    finally:
        logger.remove_keys(["function_arn", "function_name"])
    assert line["message"] == "probe" and line["level"] == "INFO"
    assert not {"function_arn", "function_name", "function_memory_size", "service"} & set(line)


def test_two_copies_of_one_event_in_a_batch_publish_and_store_the_same_first_copy(harness: Harness):
    # SMS `text=PAY_100` and `text=PAY=100` carry one signature and one event id: never publish
    # one copy and store the other.
    first, second = event(1), event(1)
    first["data"], second["data"] = {"text": "PAY_100"}, {"text": "PAY=100"}
    publish = Publisher()
    rec = recorder(harness, publish)
    published: list[Mapping[str, Any]] = []

    def spy(events: Sequence[Mapping[str, Any]]) -> list[str]:
        published.extend(events)
        return publish(events)

    rec.publish = spy
    assert handle_batch(records(first, second), rec, logger) == {"batchItemFailures": []}
    assert [p["data"] for p in published] == [{"text": "PAY_100"}]
    assert [e["data"] for e in harness.events("msg-1")] == [{"text": "PAY_100"}]


class ChunkySqs:
    """Refuses the call whose first entry is ``refuse``; records what each call carried."""

    def __init__(self, refuse: str | None = None) -> None:
        self.calls: list[list[str]] = []
        self.refuse = refuse

    def send_message_batch(self, QueueUrl: str, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        ids = [e["MessageDeduplicationId"] for e in Entries]
        self.calls.append(ids)
        if ids[0] == self.refuse:
            raise ClientError(
                {"Error": {"Code": "AWS.SimpleQueueService.BatchRequestTooLong"}}, "SendMessageBatch"
            )
        return {"Successful": [{"Id": e["Id"]} for e in Entries], "Failed": []}


def test_a_chunk_the_queue_refuses_fails_its_own_events_and_the_rest_are_published():
    events = [event(n) for n in range(25)]
    sqs = ChunkySqs(refuse=events[10]["event_id"])
    failed = fifo_publisher(sqs, "events.fifo")([{**e, "current": None} for e in events])
    assert [len(c) for c in sqs.calls] == [10, 10, 5]
    assert failed == [e["event_id"] for e in events[10:20]]


def test_an_event_too_large_for_the_queue_fails_alone_before_any_call():
    events = [event(n) for n in range(3)]
    events[1]["data"] = {"text": "x" * MAX_BATCH_BYTES}
    sqs = ChunkySqs()
    failed = fifo_publisher(sqs, "events.fifo")([{**e, "current": None} for e in events])
    assert failed == [events[1]["event_id"]]
    assert sqs.calls == [[events[0]["event_id"], events[2]["event_id"]]]
