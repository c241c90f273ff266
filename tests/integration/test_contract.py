"""What a consumer receives is what the published schemas say, for every sample, through the real path.

Each sample's signed API Gateway event (events/http/) goes through its webhook handler, the ingest
queue and the RecorderFunction under moto; the messages are read off the events FIFO queue, the
StatusFunction answers for each subject, and each is validated with jsonschema (date-time formats
checked) against shared/queue-message.schema.json and shared/status-response.schema.json.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import pytest

from shared.recorder import group_id
from switchboard.apigw import http_event
from switchboard.samples import SAMPLE_HOST, samples
from tests.integration.conftest import MANIFEST, Harness, case_for, load_event
from tests.unit.test_contract_schemas import QUEUE_MESSAGE, STATUS_RESPONSE, violations

SAMPLE_FILES = [f"http/{s.name}.json" for s in samples()]
VALID_FILES = [c["file"] for c in MANIFEST["cases"] if c["case"] == "valid"]  # samples + encodings
SQS_FILES = [c["file"] for c in MANIFEST["cases"] if c["case"] == "sqs"]


def _published(h: Harness, files: list[str]) -> list[dict[str, Any]]:
    """The events-queue messages (body and SQS attributes) after delivering ``files``."""
    for file in files:
        assert h.send(file)["statusCode"] < 300, file
    h.drain()
    return h.queue_messages("EventsQueue")


def _everything_published(h: Harness) -> list[dict[str, Any]]:
    messages = _published(h, VALID_FILES)
    for file in SQS_FILES:  # the recorder's own sample batches, as the event source would deliver them
        h.invoke("RecorderFunction", load_event(file))
    return messages + h.queue_messages("EventsQueue")


def _status_answer(
    h: Harness, subject_id: str, provider: str | None = None, product: str | None = None
) -> dict[str, Any]:
    query = f"provider={provider}&product={product}" if provider and product else ""
    request = http_event(
        "GET",
        f"/status/{quote(subject_id, safe='')}",
        query,
        {},
        b"",
        host=SAMPLE_HOST,
        route_key="GET /status/{subject_id}",
        path_parameters={"subject_id": subject_id},
    )
    response = h.invoke("StatusFunction", request)
    assert response["statusCode"] == 200, response["body"]
    answer: dict[str, Any] = json.loads(response["body"])
    return answer


def _bodies(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [json.loads(m["body"]) for m in messages]


def test_every_sample_has_a_signed_event_that_the_contract_tests_send() -> None:
    assert len(SAMPLE_FILES) == len(samples()) > 0
    assert set(SAMPLE_FILES) <= set(VALID_FILES)


@pytest.mark.parametrize("file", SAMPLE_FILES)
def test_a_samples_queue_message_and_status_answer_match_the_published_schemas(
    harness: Harness, file: str
) -> None:
    messages = _published(harness, [file])
    assert len(messages) == case_for(file)["events"] >= 1  # an Event Streams array: one per CloudEvent
    for published in messages:
        message = json.loads(published["body"])
        assert violations(QUEUE_MESSAGE, message) == []
        assert violations(STATUS_RESPONSE, _status_answer(harness, message["subject_id"])) == []


def test_all_samples_in_one_stack_publish_only_valid_messages_and_answers(harness: Harness) -> None:
    messages = _bodies(_everything_published(harness))
    assert len(messages) == len({m["event_id"] for m in messages}) >= len(SAMPLE_FILES)
    assert {m["event_id"]: violations(QUEUE_MESSAGE, m) for m in messages} == {
        m["event_id"]: [] for m in messages
    }
    subjects = sorted({m["subject_id"] for m in messages})
    answers = {s: _status_answer(harness, s) for s in subjects}
    assert {s: violations(STATUS_RESPONSE, a) for s, a in answers.items()} == {s: [] for s in subjects}


def test_the_real_data_exercises_every_branch_of_current(harness: Harness) -> None:
    messages = _bodies(_everything_published(harness))
    currents = [m["current"] for m in messages]
    assert None in currents  # an informational event before any status
    assert any(c and c["event_id"] == m["event_id"] for m, c in zip(messages, currents, strict=True))
    assert any(c and c["event_id"] != m["event_id"] for m, c in zip(messages, currents, strict=True))
    assert {c["terminal"] for c in currents if c} == {True, False}


def test_every_message_is_grouped_by_subject_and_deduplicated_by_event_id(harness: Harness) -> None:
    for message in _everything_published(harness):
        body = json.loads(message["body"])
        group = group_id(body["provider"], body["product"], body["subject_id"])
        assert message["attributes"]["MessageGroupId"] == group
        assert message["attributes"]["MessageDeduplicationId"] == body["event_id"]


def test_the_last_message_of_a_subject_carries_the_status_the_api_reports(harness: Harness) -> None:
    # A subject is (provider, product, id): samples of two products may share an id.
    last: dict[tuple[str, str, str], dict[str, Any]] = {}
    for message in _bodies(_everything_published(harness)):  # in order within each subject's group
        last[(message["provider"], message["product"], message["subject_id"])] = message
    for (provider, product, subject), message in last.items():
        answer, current = _status_answer(harness, subject, provider, product), message["current"]
        recorded = {e["event_id"] for e in answer["history"]}
        assert message["event_id"] in recorded
        if current is None:
            assert (answer["status"], answer["terminal"]) == (None, False)
            continue
        assert current["event_id"] in recorded
        assert (answer["status"], answer["terminal"], answer["updated_at"]) == (
            current["status"],
            current["terminal"],
            current["updated_at"],
        )
