"""Every handler in-process under moto, with the table, queues and secret created from template.yaml.

The clock of the webhook functions is pinned to the moment the committed sample events were signed
(events/manifest.json), so their signatures stay inside the replay window whatever today's date.
"""

from __future__ import annotations

import importlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import boto3
import pytest
from aws_lambda_powertools.utilities import parameters
from moto import mock_aws

from shared import aws, recorder, recorder_batch, storage, webhook
from switchboard.apigw import http_event
from switchboard.esm import LambdaContext, PollResult, poll_once
from switchboard.samples import DEV_SECRETS, SAMPLE_HOST
from switchboard.template import (
    Stack,
    function_environment,
    functions,
    handler_module,
    load_template,
    provision,
    queue_sources,
)

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "events"
MANIFEST = json.loads((EVENTS / "manifest.json").read_text())
SIGNED_AT = MANIFEST["signed_at"]
REGION = "us-east-1"


def load_event(file: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS / file).read_text())
    return event


def cases(*kinds: str, function: str | None = None) -> list[Any]:
    return [
        pytest.param(c, id=c["file"])
        for c in MANIFEST["cases"]
        if c["case"] in kinds and (function is None or c["function"] == function)
    ]


def reset_caches() -> None:
    aws.client.cache_clear()
    webhook.default_deps.cache_clear()
    recorder.default_recorder.cache_clear()
    recorder_batch.default_dead_letter.cache_clear()
    parameters.clear_caches()  # type: ignore[no-untyped-call]


@dataclass
class Harness:
    stack: Stack
    template: dict[str, Any]

    def client(self, service: str) -> Any:
        return aws.client(service)

    def handler(self, function: str) -> Any:
        return importlib.import_module(handler_module(self.template, function)).handler

    def invoke(self, function: str, event: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = self.handler(function)(event, LambdaContext(function_name=function))
        return result

    def send(self, case_or_file: dict[str, Any] | str) -> dict[str, Any]:
        case = case_or_file if isinstance(case_or_file, dict) else case_for(case_or_file)
        return self.invoke(case["function"], load_event(case["file"]))

    def drain(self, *, max_polls: int = 20) -> list[PollResult]:
        """Run the recorder over the ingest queue as the event source mapping would, until empty."""
        source = queue_sources(self.template)[0]
        results = []
        for _ in range(max_polls):
            got = poll_once(
                self.client("sqs"),
                self.stack.refs[source.queue],
                self.handler(source.function),
                function_name=source.function,
                batch_size=source.batch_size,
                report_batch_item_failures=source.report_batch_item_failures,
            )
            if not got.received:
                break
            results.append(got)
        return results

    def queue_messages(self, logical: str, *, delete: bool = True) -> list[dict[str, Any]]:
        sqs, url = self.client("sqs"), self.stack.refs[logical]
        out: list[dict[str, Any]] = []
        while True:
            got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"])
            messages = got.get("Messages") or []
            if not messages:
                return out
            for m in messages:
                out.append({"body": m["Body"], "attributes": m.get("Attributes", {})})
                if delete:
                    sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])

    def items(self, subject_id: str) -> list[dict[str, Any]]:
        """Every item of every subject with this id (one per provider and product)."""
        items: list[dict[str, Any]] = []
        for pk in storage.subject_pks(subject_id):
            got = self.client("dynamodb").query(**storage.query_subject(self.stack.refs["HistoryTable"], pk))
            items.extend(got["Items"])
        return items

    def history(self, subject_id: str) -> list[dict[str, Any]]:
        return [i for i in self.items(subject_id) if i["sk"]["S"].startswith(storage.HISTORY_PREFIX)]

    def events(self, subject_id: str) -> list[dict[str, Any]]:
        """The stored events of the subject(s), in occurrence order."""
        stored = [json.loads(storage.decode_event_text(i["event"]["B"])) for i in self.history(subject_id)]
        return sorted(stored, key=lambda e: (e["occurred_at"], e["received_at"]))

    def status_item(self, subject_id: str) -> dict[str, Any] | None:
        found = [i for i in self.items(subject_id) if i["sk"]["S"] == storage.STATUS_SK]
        assert len(found) <= 1, "several products share this subject id"
        return found[0] if found else None

    def all_items(self) -> list[dict[str, Any]]:
        got = self.client("dynamodb").scan(TableName=self.stack.refs["HistoryTable"])
        items: list[dict[str, Any]] = got["Items"]
        return items


def ask(harness: Harness, subject_id: str, **query: str) -> tuple[int, dict[str, Any]]:
    """GET /status/{subject_id}?query as API Gateway would invoke StatusFunction."""
    request = http_event(
        "GET",
        "/status/" + quote(subject_id, safe=""),
        urlencode(query),
        {},
        b"",
        host=SAMPLE_HOST,
        route_key="GET /status/{subject_id}",
        path_parameters={"subject_id": subject_id},
        epoch_ms=SIGNED_AT * 1000,
    )
    response = harness.invoke("StatusFunction", request)
    answer: dict[str, Any] = json.loads(response["body"])
    return response["statusCode"], answer


def case_for(file: str) -> dict[str, Any]:
    """The manifest entry of one event file."""
    return next(c for c in MANIFEST["cases"] if c["file"] == file)


def fake_aws_env(mp: pytest.MonkeyPatch) -> None:
    """Fake credentials and region, and nothing that could point a client at a real endpoint."""
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
    }.items():
        mp.setenv(key, value)
    mp.delenv("AWS_ENDPOINT_URL", raising=False)
    mp.delenv("AWS_PROFILE", raising=False)


@pytest.fixture
def harness(monkeypatch: pytest.MonkeyPatch) -> Iterator[Harness]:
    fake_aws_env(monkeypatch)
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "Switchboard")
    template = load_template()
    with mock_aws():
        reset_caches()
        stack = provision(
            lambda s: boto3.client(s, region_name=REGION), secret_string=DEV_SECRETS.read_text()
        )
        for logical in functions(template):
            for key, value in function_environment(template, logical, stack).items():
                monkeypatch.setenv(key, value)
        frozen = datetime.fromtimestamp(SIGNED_AT + 1, UTC)
        pinned = cache(lambda: webhook.build_deps(os.environ, clock=lambda: frozen))
        for logical in ("VonageFunction", "TwilioFunction"):
            monkeypatch.setattr(
                importlib.import_module(handler_module(template, logical)), "default_deps", pinned
            )
        yield Harness(stack, template)
        reset_caches()


@pytest.fixture(scope="session")
def monkeypatch_env() -> Iterator[None]:
    """Fake AWS credentials for tests that open their own mock_aws (session-wide, for hypothesis)."""
    with pytest.MonkeyPatch.context() as mp:
        fake_aws_env(mp)
        yield
