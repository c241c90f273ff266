"""The ingest queue's batch loop: Powertools' BatchProcessor (partial batch failures), with one
publish call per batch.

Each record goes through the recorder's steps 1-3 in the record handler; the events that are new
are then published together (one SendMessageBatch per 10) and their history items written. A
record whose publish or history write fails is moved to the failures, so only it is retried.

A poison message (not JSON, or not an event: required fields missing) can never be recorded, so
retrying it only delays the alarm and repeats its traceback: it is sent to the ingest DLQ at once
and logged once, naming what is wrong. Only when that send fails is it left to SQS's redrive policy.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from shared import safejson
from shared.errors import BadRequest
from shared.recorder import CREDENTIAL_ATTRIBUTE, Outcome, Pending, Recorder, validate_event

# Sends one raw ingest record to the ingest DLQ (with the reason); raises when it could not.
DeadLetter = Callable[[Mapping[str, Any], str], None]
REASON_ATTRIBUTE = "switchboard-dead-letter-reason"


class RecorderBatch(BatchProcessor):
    def __init__(self, recorder: Recorder, log: Any, dead_letter: DeadLetter | None = None) -> None:
        super().__init__(EventType.SQS, raise_on_entire_batch_failure=False)
        self.recorder = recorder
        self.log = log
        self.dead_letter = dead_letter

    def record_handler(self, record: SQSRecord) -> Outcome | Pending:
        try:
            event = validate_event(decode_body(record.body or ""))
        except (ValueError, RecursionError, BadRequest) as exc:
            if self.dead_letter is None:
                raise
            return self._poison(record, exc, self.dead_letter)
        return self.recorder.prepare(event, _credential(record.raw_event))

    def _poison(self, record: SQSRecord, exc: Exception, dead_letter: DeadLetter) -> Outcome:
        """Logged once, with the fields it lacks, and dead-lettered without retries."""
        missing = exc.diagnostic.get("missing") if isinstance(exc, BadRequest) else None
        reason = str(exc) if isinstance(exc, BadRequest) else f"the body is not JSON ({type(exc).__name__})"
        dead_letter(record.raw_event, reason)  # raises when it cannot: the retry path
        self.log.error(
            "poison message sent to the ingest DLQ: it can never be recorded",
            extra={
                "message_id": record.message_id,
                "reason": reason,
                "missing": missing,
                "body_prefix": (record.body or "")[:120],
            },
        )
        return Outcome(record.message_id, "dead_lettered", None)

    def process(self) -> list[tuple[Any, ...]]:
        results = super().process()
        waiting = [(r[1], r[2]) for r in results if r[0] == "success" and isinstance(r[1], Pending)]
        finished = self.recorder.finish([p for p, _ in waiting])
        outcomes = [(r[2], r[1]) for r in results if r[0] == "success" and isinstance(r[1], Outcome)]
        for (_, raw), outcome in zip(waiting, finished, strict=True):
            if isinstance(outcome, Exception):
                self._fail(raw, outcome)
            else:
                outcomes.append((raw, outcome))
        self._report(outcomes)
        return results

    def _fail(self, raw: Mapping[str, Any], exc: Exception) -> None:
        self.success_messages.remove(raw)  # type: ignore[arg-type]
        self.failure_handler(SQSRecord(raw), (type(exc), exc, exc.__traceback__))  # type: ignore[arg-type]

    def failure_handler(self, record: Any, exception: Any) -> Any:
        """Logged once per failed attempt, with what the retry needs to know."""
        receives = (record.raw_event.get("attributes") or {}).get("ApproximateReceiveCount")
        self.log.error(
            "recording failed; the message will be retried",
            exc_info=exception,
            extra={
                "message_id": record.message_id,
                "error": exception[0].__name__,
                "receive_count": receives,
            },
        )
        return super().failure_handler(record, exception)

    def _report(self, outcomes: list[tuple[Mapping[str, Any], Outcome]]) -> None:
        """A forgery is an error of its own; everything else is one line per batch (the ingress
        already logged each event's id, type, subject and status: CloudWatch bills per byte)."""
        counts: dict[str, int] = {}
        duplicates: list[str] = []
        for raw, outcome in outcomes:
            counts[outcome.result] = counts.get(outcome.result, 0) + 1
            if outcome.result == "duplicate":
                duplicates.append(outcome.event_id)
            if outcome.result == "rejected_credential_reused":
                self.log.error(
                    "forged webhook dropped: its signed credential already vouched for another event",
                    extra={
                        "event_id": outcome.event_id,
                        "message_id": raw.get("messageId", ""),
                        "credential_kind": str(_credential(raw)).partition(":")[0],
                    },
                )
        if counts:
            self.log.info("batch recorded", extra={**counts, "duplicates": duplicates or None})


def decode_body(body: str) -> Any:
    """The queued JSON. A ``\\ud800``-``\\udfff`` escape that is not half of a pair decodes to a
    lone surrogate, which no DynamoDB or SQS write can encode: never recordable, so BadRequest
    (poison). The ingress never writes one (normalisation repairs them, and writes UTF-8, not
    escapes), so the full check runs only on a body holding such an escape."""
    event = json.loads(body)
    if ("\\ud" in body or "\\uD" in body) and safejson.has_lone_surrogate(
        json.dumps(event, ensure_ascii=False)
    ):
        raise BadRequest("the queued event holds a lone surrogate (\\ud800-\\udfff): not UTF-8 text")
    return event


def _credential(raw: Mapping[str, Any]) -> str | None:
    attribute = (raw.get("messageAttributes") or {}).get(CREDENTIAL_ATTRIBUTE) or {}
    value = attribute.get("stringValue")
    return value if isinstance(value, str) else None


def sqs_dead_letter(sqs: Any, dlq_url: str) -> DeadLetter:
    """Send the record as it came (body and message attributes, so a redrive after a fix can record
    it), with the reason as one more attribute."""

    def send(raw: Mapping[str, Any], reason: str) -> None:
        attributes = {
            name: {"DataType": a.get("dataType") or "String", "StringValue": a["stringValue"]}
            for name, a in (raw.get("messageAttributes") or {}).items()
            if isinstance(a, dict) and isinstance(a.get("stringValue"), str)
        }
        attributes[REASON_ATTRIBUTE] = {"DataType": "String", "StringValue": reason[:1000]}
        sqs.send_message(QueueUrl=dlq_url, MessageBody=raw.get("body") or " ", MessageAttributes=attributes)

    return send


@cache
def default_dead_letter() -> DeadLetter | None:
    """From SWITCHBOARD_INGEST_DLQ_URL; without it, poison messages take SQS's redrive path."""
    import os

    from shared import aws

    url = os.environ.get("SWITCHBOARD_INGEST_DLQ_URL")
    return sqs_dead_letter(aws.client("sqs"), url) if url else None


def handle_batch(
    sqs_event: Mapping[str, Any], recorder: Recorder, log: Any, dead_letter: DeadLetter | None = None
) -> dict[str, Any]:
    """Record each SQS record; report the failed ones so only they are retried (then DLQ'd)."""
    processor = RecorderBatch(recorder, log, dead_letter)
    records = list(sqs_event.get("Records") or [])
    with processor(records, processor.record_handler):
        processor.process()
    return dict(processor.response())
