"""The consumer examples in README.md ("Consume the events") work as written, on real pipeline messages.

The fenced blocks marked ``# readme-example: <name>`` are read from that section only. The SAM
snippet provisions the consumer's table under moto (as template.yaml provisions Switchboard's) and
gives the Lambda consumer its environment, batch size and partial-batch setting; the Python blocks
are loaded as the modules the README names (``once``, ``app``, ``consume``) and run against the
events FIFO queue that the webhook handlers and the RecorderFunction fill.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from switchboard.esm import PollResult, poll_once
from switchboard.template import load_template, resources
from tests.integration.conftest import ROOT, Harness

README = ROOT / "README.md"
SECTION = "### Consume the events"
MARKER = "# readme-example: "
MODULES = {"once": "once", "lambda-consumer": "app", "boto3-loop": "consume"}  # README order
CONSUMER_TABLE = "readme-consumer-processed-events"
DELIVERED, SUBMITTED = "http/messages/status-delivered.json", "http/messages/status-submitted.json"
COMPLETED = "http/verify/event-completed.json"


# --- reading the README ------------------------------------------------------------------------


def readme_examples() -> dict[str, str]:
    """The marked fenced blocks of the section, by marker name (headings inside fences ignored)."""
    examples: dict[str, str] = {}
    in_section = False
    block: list[str] | None = None
    for line in README.read_text(encoding="utf-8").splitlines():
        if block is not None and line.startswith("```"):
            if block and block[0].startswith(MARKER):
                examples[block[0].removeprefix(MARKER).strip()] = "\n".join(block) + "\n"
            block = None
        elif block is not None:
            block.append(line)
        elif line.startswith("#"):
            in_section = line == SECTION
        elif in_section and line.startswith("```"):
            block = []
    return examples


def sam_snippet(tmp_path: Path) -> dict[str, Any]:
    path = tmp_path / "consumer-template.yaml"
    path.write_text(readme_examples()["sam-consumer"], encoding="utf-8")
    return load_template(path)


def consumer_function(snippet: dict[str, Any]) -> dict[str, Any]:
    function = resources(snippet, "AWS::Serverless::Function")["ConsumerFunction"]
    properties: dict[str, Any] = function["Properties"]
    return properties


def queue_event_source(snippet: dict[str, Any]) -> dict[str, Any]:
    events = consumer_function(snippet)["Events"].values()
    (source,) = [e["Properties"] for e in events if e["Type"] == "SQS"]
    assert isinstance(source, dict)
    return source


def switchboard_queue(name: str) -> dict[str, Any]:
    properties: dict[str, Any] = resources(load_template(), "AWS::SQS::Queue")[name]["Properties"]
    return properties


# --- running the examples ----------------------------------------------------------------------


@dataclass
class Consumer:
    h: Harness
    snippet: dict[str, Any]
    modules: dict[str, ModuleType]
    acted: list[str]
    failing: set[str]

    @property
    def queue_url(self) -> str:
        return self.h.stack.refs["EventsQueue"]

    def poll_lambda(self, responses: list[dict[str, Any]] | None = None) -> PollResult:
        """One batch from the events queue through the README handler, as Lambda's event source would."""
        source, handler = queue_event_source(self.snippet), self.modules["app"].handler

        def invoke(event: dict[str, Any], context: Any) -> Any:
            result = handler(event, context)
            if responses is not None:
                responses.append({"event": event, "result": result})
            return result

        return poll_once(
            self.h.client("sqs"),
            self.queue_url,
            invoke,
            function_name="ConsumerFunction",
            batch_size=int(source["BatchSize"]),
            report_batch_item_failures="ReportBatchItemFailures" in source["FunctionResponseTypes"],
        )

    def claims(self) -> dict[str, dict[str, Any]]:
        items = self.h.client("dynamodb").scan(TableName=CONSUMER_TABLE)["Items"]
        return {item["event_id"]["S"]: item for item in items}

    def queue_is_empty(self) -> bool:
        names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        got = self.h.client("sqs").get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=names)
        return all(got["Attributes"][n] == "0" for n in names)


def provision_consumer_table(h: Harness, snippet: dict[str, Any]) -> None:
    table = resources(snippet, "AWS::DynamoDB::Table")["ProcessedEvents"]["Properties"]
    dynamodb = h.client("dynamodb")
    dynamodb.create_table(
        TableName=CONSUMER_TABLE,
        AttributeDefinitions=table["AttributeDefinitions"],
        KeySchema=table["KeySchema"],
        BillingMode=table["BillingMode"],
    )
    dynamodb.update_time_to_live(
        TableName=CONSUMER_TABLE, TimeToLiveSpecification=table["TimeToLiveSpecification"]
    )


def load_module(name: str, code: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    path = tmp_path / f"{name}.py"
    path.write_text(code, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, name, module)  # `from once import process_once` finds it
    spec.loader.exec_module(module)
    return module


def recording(original: Callable[[dict[str, Any]], None], c: Consumer) -> Callable[[dict[str, Any]], None]:
    """The README's act, noting each event it ran for, and raising for the event ids in c.failing."""

    def act(event: dict[str, Any]) -> None:
        if event["event_id"] in c.failing:
            raise RuntimeError("injected failure")
        original(event)
        c.acted.append(event["event_id"])

    return act


@pytest.fixture
def consumer(harness: Harness, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Consumer:
    snippet = sam_snippet(tmp_path)
    provision_consumer_table(harness, snippet)
    for name, value in consumer_function(snippet)["Environment"]["Variables"].items():
        assert value == {"Ref": "ProcessedEvents"}
        monkeypatch.setenv(name, CONSUMER_TABLE)
    monkeypatch.setenv("EVENTS_QUEUE_URL", harness.stack.refs["EventsQueue"])
    examples = readme_examples()
    modules = {
        module: load_module(module, examples[m], tmp_path, monkeypatch) for m, module in MODULES.items()
    }
    c = Consumer(harness, snippet, modules, [], set())
    for module in ("app", "consume"):
        monkeypatch.setattr(modules[module], "act", recording(modules[module].act, c))
    monkeypatch.setattr(modules["consume"], "WAIT_SECONDS", 0)  # no long polling on an empty queue
    return c


def publish(h: Harness, *files: str) -> list[str]:
    """Deliver webhooks through the real pipeline; the event ids now on the events queue, in order."""
    event_ids = [h.send(file)["headers"]["x-switchboard-event-id"] for file in files]
    h.drain()
    return event_ids


def replay(h: Harness, event_id: str) -> None:
    """Put a copy of a queued event back, as a republish after SQS's 5-minute deduplication window."""
    sqs, url = h.client("sqs"), h.stack.refs["EventsQueue"]
    got = sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0, AttributeNames=["All"]
    )
    (message,) = [m for m in got["Messages"] if json.loads(m["Body"])["event_id"] == event_id]
    sqs.send_message(
        QueueUrl=url,
        MessageBody=message["Body"],
        MessageGroupId=message["Attributes"]["MessageGroupId"],
        MessageDeduplicationId=f"{event_id}-after-the-window",
    )


def failed_event_ids(responses: list[dict[str, Any]]) -> list[str]:
    out = []
    for response in responses:
        failed = {f["itemIdentifier"] for f in response["result"]["batchItemFailures"]}
        records = response["event"]["Records"]
        out += [json.loads(r["body"])["event_id"] for r in records if r["messageId"] in failed]
    return out


# --- the README --------------------------------------------------------------------------------


def test_the_consume_section_has_the_marked_examples() -> None:
    examples = readme_examples()
    assert set(examples) == {*MODULES, "sam-consumer"}
    for marker in MODULES:
        compile(examples[marker], f"README.md:{marker}", "exec")


def test_the_sam_snippet_fits_the_events_queue_and_the_handler(tmp_path: Path) -> None:
    snippet = sam_snippet(tmp_path)
    function, source = consumer_function(snippet), queue_event_source(snippet)
    assert function["Handler"] == f"{MODULES['lambda-consumer']}.handler"
    assert source["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert 1 <= source["BatchSize"] <= 10  # the FIFO maximum
    assert function["Timeout"] <= switchboard_queue("EventsQueue")["VisibilityTimeout"]
    table = resources(snippet, "AWS::DynamoDB::Table")["ProcessedEvents"]["Properties"]
    assert table["KeySchema"] == [{"AttributeName": "event_id", "KeyType": "HASH"}]


def test_a_claim_outlives_the_message_and_a_crashed_claim_runs_out_before_redelivery(
    consumer: Consumer,
) -> None:
    once = consumer.modules["once"]
    retention = [switchboard_queue(q)["MessageRetentionPeriod"] for q in ("EventsQueue", "EventsDLQ")]
    assert sum(retention) <= once.KEEP_SECONDS
    assert consumer_function(consumer.snippet)["Timeout"] <= once.LEASE_SECONDS
    assert switchboard_queue("EventsQueue")["VisibilityTimeout"] > once.LEASE_SECONDS


# --- (a) the Lambda consumer -------------------------------------------------------------------


def test_the_lambda_consumer_reports_a_failing_record_as_a_batch_item_failure(consumer: Consumer) -> None:
    delivered, submitted, completed = publish(consumer.h, DELIVERED, SUBMITTED, COMPLETED)
    consumer.failing.add(delivered)
    responses: list[dict[str, Any]] = []
    assert consumer.poll_lambda(responses) == PollResult(received=3, failed=2)
    # the failing record, and the later one of the same subject so that it is not handled first
    assert failed_event_ids(responses) == [delivered, submitted]
    assert consumer.acted == [completed]
    assert delivered not in consumer.claims()  # released: the retry can claim it
    consumer.failing.clear()
    assert consumer.poll_lambda() == PollResult(received=2, failed=0)
    assert consumer.acted == [completed, delivered, submitted]
    assert consumer.queue_is_empty()


def test_the_lambda_consumer_processes_a_duplicate_event_id_once(consumer: Consumer) -> None:
    (event_id,) = publish(consumer.h, COMPLETED)
    replay(consumer.h, event_id)
    results = [consumer.poll_lambda() for _ in range(3)]
    assert sum(r.received for r in results) == 2 and sum(r.failed for r in results) == 0
    assert consumer.acted == [event_id]
    assert consumer.queue_is_empty()
    (claim,) = consumer.claims().values()
    ttl = resources(consumer.snippet, "AWS::DynamoDB::Table")["ProcessedEvents"]["Properties"]
    assert ttl["TimeToLiveSpecification"]["AttributeName"] in claim
    assert "lease_until" not in claim  # done: no later copy can claim it


# --- (b) the boto3 loop ------------------------------------------------------------------------


def test_the_boto3_loop_processes_each_event_once_and_deletes_it(consumer: Consumer) -> None:
    event_ids = publish(consumer.h, DELIVERED, SUBMITTED, COMPLETED)
    replay(consumer.h, event_ids[0])
    while consumer.modules["consume"].poll():
        pass
    assert sorted(consumer.acted) == sorted(event_ids)
    assert consumer.queue_is_empty()


def test_the_boto3_loop_leaves_a_failed_event_and_its_subjects_later_ones_for_redelivery(
    consumer: Consumer, monkeypatch: pytest.MonkeyPatch
) -> None:
    delivered, submitted, completed = publish(consumer.h, DELIVERED, SUBMITTED, COMPLETED)
    consume, received = consumer.modules["consume"], []
    original = consume.sqs.receive_message

    def receive(**kwargs: Any) -> Any:
        got = original(**kwargs)
        received.extend(got.get("Messages", []))
        return got

    monkeypatch.setattr(consume.sqs, "receive_message", receive)
    consumer.failing.add(delivered)
    assert consume.poll() == 3
    assert consumer.acted == [completed]
    assert not consumer.queue_is_empty()  # not deleted: SQS delivers them again after 60 s …
    for message in (m for m in received if json.loads(m["Body"])["event_id"] != completed):  # … now
        consumer.h.client("sqs").change_message_visibility(
            QueueUrl=consumer.queue_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
        )
    consumer.failing.clear()
    while consume.poll():
        pass
    assert consumer.acted == [completed, delivered, submitted]
    assert consumer.queue_is_empty()
