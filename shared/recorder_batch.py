"""The ingest queue's batch loop: Powertools' BatchProcessor (partial batch failures), with one
publish call per batch.

Each record goes through the recorder's steps 1-3 in the record handler; the events that are new
are then published together (one SendMessageBatch per 10) and their history items written. A
record whose publish or history write fails is moved to the failures, so only it is retried.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from shared.recorder import CREDENTIAL_ATTRIBUTE, Outcome, Pending, Recorder


class RecorderBatch(BatchProcessor):
    def __init__(self, recorder: Recorder, log: Any) -> None:
        super().__init__(EventType.SQS, raise_on_entire_batch_failure=False)
        self.recorder = recorder
        self.log = log

    def record_handler(self, record: SQSRecord) -> Outcome | Pending:
        return self.recorder.prepare(json.loads(record.body or ""), _credential(record.raw_event))

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


def _credential(raw: Mapping[str, Any]) -> str | None:
    attribute = (raw.get("messageAttributes") or {}).get(CREDENTIAL_ATTRIBUTE) or {}
    value = attribute.get("stringValue")
    return value if isinstance(value, str) else None


def handle_batch(sqs_event: Mapping[str, Any], recorder: Recorder, log: Any) -> dict[str, Any]:
    """Record each SQS record; report the failed ones so only they are retried (then DLQ'd)."""
    processor = RecorderBatch(recorder, log)
    records = list(sqs_event.get("Records") or [])
    with processor(records, processor.record_handler):
        processor.process()
    return dict(processor.response())
