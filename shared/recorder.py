"""The recorder: each event recorded once, status kept monotonic, each NEW event published once.

Per event, in this order (each write conditional and idempotent, so no transaction is needed:
DynamoDB bills every item of a transaction twice), with the items of ``shared.storage``:

1. Read the event's history item (``S#…``/``E#<event_id>``). Present: the event was recorded and
   published before; a redelivery is a no-op.
2. Bind the signed credential that vouched for it (if any) to this event and subject. Bound to
   another: a forgery from a captured request; dropped, nothing written.
3. Project the status: one conditional update whose condition is ``shared.status_rank``'s rule, so
   a late or lower-ranked callback cannot move the status backwards.
4. Publish to the events FIFO queue with the subject's current status attached (one SendMessageBatch
   per batch of records; deduplication id = event id).
5. Write the history item, conditional on its absence. Its presence is what step 1 reads as
   "published": it is written only once the event is on the events queue.

A crash anywhere is safe: the ingest message is retried and replays steps 1-5 idempotently (2 and
3 pass again for the same event; a publish repeated within 5 minutes is dropped by the FIFO queue's
deduplication). A status API read between steps 3 and 5 sees the new status a few milliseconds
before the history item that carries it.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any

from botocore.exceptions import ClientError

from shared import safejson, storage
from shared.config import require_env
from shared.errors import BadRequest, ConfigError
from shared.sqs_batch import MAX_BYTES, batches, sqs_size, valid_fifo_id
from shared.status_rank import position

CREDENTIAL_ATTRIBUTE = "credential"  # the ingest message attribute that carries it
# A binding must outlive the replay window of the credential it binds, and no longer: it is only
# there to refuse a second use. A Vonage JWT (VonageJwtMaxAgeSeconds) and an SMS `sig` (its signed
# timestamp, SmsMaxAgeSeconds) are refused past 72 h at most; a Twilio signature carries no time at
# all, so its binding lives as long as the history it protects (and at least as long as the others).
CREDENTIAL_TTL_S = 4 * 86400
UNTIMED_CREDENTIAL_KINDS = frozenset({"twilio"})
REQUIRED_FIELDS = (
    "event_id",
    "provider",
    "product",
    "type",
    "subject_id",
    "status",
    "occurred_at",
    "received_at",
)
# Publishes one batch of events; returns the event ids that were NOT accepted.
Publisher = Callable[[Sequence[Mapping[str, Any]]], Sequence[str]]


@dataclass(frozen=True)
class Outcome:
    event_id: str
    result: str  # "new" | "duplicate" | "rejected_credential_reused"
    current: Mapping[str, Any] | None


@dataclass(frozen=True)
class Pending:
    """An event through steps 1-3, waiting for the batch's publish (4) and its history item (5)."""

    event: Mapping[str, Any]
    current: Mapping[str, Any] | None
    expires_at: int


class PublishFailed(Exception):
    """The events queue did not accept this event; the ingest message will be retried."""


def validate_event(event: Any) -> Mapping[str, Any]:
    if not isinstance(event, dict):
        raise BadRequest("the queued message is not a JSON object")
    missing = [f for f in REQUIRED_FIELDS if not isinstance(event.get(f), str) or not event.get(f)]
    if missing:
        raise BadRequest("the queued event lacks required fields", missing=missing)
    return event


class Recorder:
    def __init__(
        self,
        dynamodb: Any,
        table: str,
        publish: Publisher,
        *,
        retention_days: int,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.db = dynamodb
        self.table = table
        self.publish = publish
        self.retention_s = retention_days * 86400
        self.clock = clock

    def record(self, event: Mapping[str, Any], credential: str | None = None) -> Outcome:
        """One event, all five steps (a batch of one)."""
        prepared = self.prepare(event, credential)
        if isinstance(prepared, Outcome):
            return prepared
        result = self.finish([prepared])[0]
        if isinstance(result, Exception):
            raise result
        return result

    def prepare(self, event: Mapping[str, Any], credential: str | None = None) -> Outcome | Pending:
        """Steps 1-3. An Outcome when there is nothing to publish."""
        event = validate_event(event)
        now = int(self.clock().timestamp())
        if self.db.get_item(**storage.get_history(self.table, event)).get("Item"):
            return Outcome(event["event_id"], "duplicate", None)
        if credential and not self._bind(event, credential, now + self.credential_ttl(credential)):
            return Outcome(event["event_id"], "rejected_credential_reused", None)
        expires = now + self.retention_s
        return Pending(event, self._project(event, expires), expires)

    def finish(self, pending: Sequence[Pending]) -> list[Outcome | Exception]:
        """Steps 4-5 for a batch: one publish call, then each published event's history item."""
        if not pending:
            return []
        # One delivery twice in one batch: the first copy is published AND stored (never one copy
        # published and another stored); the others are duplicates of it.
        unique: dict[str, Pending] = {}
        for p in pending:
            unique.setdefault(p.event["event_id"], p)
        try:
            failed = set(self.publish([{**p.event, "current": p.current} for p in unique.values()]))
        except Exception as exc:  # the queue is unavailable: every event of the batch is retried
            return [exc for _ in pending]
        return [self._store(p, unique[p.event["event_id"]], failed) for p in pending]

    def _store(self, p: Pending, first: Pending, failed: set[str]) -> Outcome | Exception:
        """Step 5 for one record of the batch; an exception fails (and retries) this record only."""
        if p.event["event_id"] in failed:
            return PublishFailed(p.event["event_id"])
        if p is not first:
            return Outcome(p.event["event_id"], "duplicate", None)
        try:
            self._put_history(p)
        except Exception as exc:
            return exc
        return Outcome(p.event["event_id"], "new", p.current)

    def credential_ttl(self, credential: str) -> int:
        """Seconds a credential's binding lives (see CREDENTIAL_TTL_S)."""
        if credential.partition(":")[0] in UNTIMED_CREDENTIAL_KINDS:
            return max(self.retention_s, CREDENTIAL_TTL_S)
        return CREDENTIAL_TTL_S

    # --- steps --------------------------------------------------------------------------------

    def _bind(self, event: Mapping[str, Any], credential: str, expires: int) -> bool:
        try:
            self.db.put_item(**storage.put_binding(self.table, credential, event, expires))
        except self.db.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def _project(self, event: Mapping[str, Any], expires: int) -> dict[str, Any] | None:
        """Step 3. The subject's current status after this event."""
        place = position(event["product"], event["type"], event["status"], event.get("provider"))
        if place is None:  # informational (e.g. a voice input event): never changes the status
            got = self.db.get_item(**storage.get_status(self.table, storage.event_subject_pk(event)))
            return storage.current(got.get("Item"))
        request = storage.update_status(self.table, event, place.rank, place.terminal, expires)
        try:
            return storage.current(self.db.update_item(**request).get("Attributes"))
        except self.db.exceptions.ConditionalCheckFailedException as exc:
            return storage.current(exc.response.get("Item"))  # a later state stands

    def _put_history(self, p: Pending) -> None:
        # a concurrent delivery of the same event may have written it: the same item
        with contextlib.suppress(self.db.exceptions.ConditionalCheckFailedException):
            self.db.put_item(**storage.put_history(self.table, p.event, p.expires_at))


def fifo_publisher(sqs: Any, queue_url: str) -> Publisher:
    """SendMessageBatch in chunks of 10 entries and at most 256 KiB; returns the failed event ids.
    A chunk the queue refuses fails its own events only, and an event too large for the queue
    fails alone, before any call: the rest of the batch is published."""

    def publish(events: Sequence[Mapping[str, Any]]) -> list[str]:
        failed: list[str] = []
        fitting: list[dict[str, Any]] = []
        for i, event in enumerate(events):
            entry = fifo_entry(i, event)
            if sqs_size(entry) > MAX_BYTES:
                failed.append(entry["MessageDeduplicationId"])
            else:
                fitting.append(entry)
        for chunk in batches(fitting, sqs_size):
            ids = {entry["Id"]: entry["MessageDeduplicationId"] for entry in chunk}
            try:
                got = sqs.send_message_batch(QueueUrl=queue_url, Entries=chunk)
            except ClientError:
                failed.extend(ids.values())
                continue
            failed.extend(ids[f["Id"]] for f in got.get("Failed") or [])
        return failed

    return publish


def fifo_entry(index: int, event: Mapping[str, Any]) -> dict[str, Any]:
    """The events queue's SendMessageBatch entry for an event (``current`` already attached)."""
    return {
        "Id": str(index),
        "MessageBody": safejson.dumps_for_sqs(event),
        "MessageGroupId": group_id(event["provider"], event["product"], event["subject_id"]),
        "MessageDeduplicationId": event["event_id"],
    }


def group_id(provider: str, product: str, subject_id: str) -> str:
    """The subject's FIFO message group, ``<provider>:<product>:<subject_id>``: one subject's events
    in order, and another product's events with the same id never held behind them. Group ids are
    at most 128 printable ASCII characters; a longer or odd one is hashed."""
    group = f"{provider}:{product}:{subject_id}"
    return group if valid_fifo_id(group) else "sha256:" + hashlib.sha256(group.encode("utf-8")).hexdigest()


@cache
def default_recorder() -> Recorder:
    """Built once per process from the environment."""
    from shared import aws

    retention = require_env("SWITCHBOARD_RETENTION_DAYS")
    if not retention.isdigit() or int(retention) < 1:
        raise ConfigError(
            "SWITCHBOARD_RETENTION_DAYS must be a positive integer", key="SWITCHBOARD_RETENTION_DAYS"
        )
    return Recorder(
        aws.client("dynamodb"),
        require_env("SWITCHBOARD_TABLE_NAME"),
        fifo_publisher(aws.client("sqs"), require_env("SWITCHBOARD_EVENTS_QUEUE_URL")),
        retention_days=int(retention),
    )
