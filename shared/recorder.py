"""The recorder: each event recorded once, status kept monotonic, each NEW event published once.

Per event:
1. One transaction: the dedupe record (condition: no record for this event id) and the history
   item. Either both exist or neither, so the history never holds the same event twice.
2. The status projection: one conditional update that only succeeds when the new status ranks
   above the current one (``shared.status_rank``): a late callback joins the history but cannot move
   the status backwards; a terminal state is never replaced by a non-terminal one.
3. Publish to the events FIFO queue (group = subject, deduplication id = event id) with the
   subject's current status attached, then mark the dedupe record ``published``.
A crash between steps is safe: the SQS message is retried, step 1 finds the record ``recorded``
(not ``published``) and resumes at step 2; only a ``published`` record makes a retry a no-op.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any

from shared.config import require_env
from shared.errors import BadRequest, ConfigError
from shared.status_rank import is_terminal, rank

TTL_ATTRIBUTE = "expires_at"
CREDENTIAL_ATTRIBUTE = "credential"  # the ingest message attribute that carries it
CREDENTIAL_PREFIX = "CRED#"
# A binding must outlive the replay window of the credential it binds, and no longer: it is only
# there to refuse a second use. A Vonage JWT (VonageJwtMaxAgeSeconds) and an SMS `sig` (its signed
# timestamp, SmsMaxAgeSeconds) are refused past 72 h at most; a Twilio signature carries no time at
# all, so its binding lives as long as the history it protects (and at least as long as the others).
CREDENTIAL_TTL_S = 4 * 86400
UNTIMED_CREDENTIAL_KINDS = frozenset({"twilio"})
CREDENTIAL_SK = "CRED"


class CredentialReused(Exception):
    """A signed credential already vouched for another event: the webhook was forged from a captured
    one (a Vonage JWT on another route or with an unsigned GET query; a Twilio or SMS request whose
    parameters were re-split). Not retried, never recorded."""


SUBJECT_PREFIX = "SUBJECT#"
EVENT_PREFIX = "EVENT#"
STATUS_SK = "STATUS"
DEDUPE_SK = "EVENT"
HISTORY_PREFIX = "H#"
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


@dataclass(frozen=True)
class Outcome:
    event_id: str
    # "new" | "resumed" | "duplicate" | "duplicate_other_subject" | "rejected_credential_reused"
    result: str
    current: Mapping[str, Any] | None


def s(value: str) -> dict[str, str]:
    return {"S": value}


def n(value: int) -> dict[str, str]:
    return {"N": str(value)}


def validate_event(event: Any) -> Mapping[str, Any]:
    if not isinstance(event, dict):
        raise BadRequest("the queued message is not a JSON object")
    missing = [f for f in REQUIRED_FIELDS if not isinstance(event.get(f), str) or not event.get(f)]
    if missing:
        raise BadRequest("the queued event lacks required fields", missing=missing)
    return event


def history_sk(event: Mapping[str, Any]) -> str:
    return f"{HISTORY_PREFIX}{event['occurred_at']}#{event['received_at']}#{event['event_id']}"


class Recorder:
    def __init__(
        self,
        dynamodb: Any,
        table: str,
        publish: Callable[[Mapping[str, Any]], None],
        *,
        retention_days: int,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.db = dynamodb
        self.table = table
        self.publish = publish
        self.retention_s = retention_days * 86400
        self.clock = clock

    # --- public -------------------------------------------------------------------------------

    def record(self, event: Mapping[str, Any], credential: str | None = None) -> Outcome:
        event = validate_event(event)
        expires = int(self.clock().timestamp()) + self.retention_s
        try:
            previous = self._insert(event, expires, credential)
        except CredentialReused:
            return Outcome(event["event_id"], "rejected_credential_reused", None)
        first_subject = (previous or {}).get("subject_id", {}).get("S")
        if first_subject is not None and first_subject != event["subject_id"]:
            # One delivery id, two subjects: a re-split of a signed request (first use wins). Never
            # resumed from here: the first one's own retry resumes it.
            return Outcome(event["event_id"], "duplicate_other_subject", None)
        if previous is not None and previous.get("state", {}).get("S") == "published":
            return Outcome(event["event_id"], "duplicate", None)
        current = self._project(event, expires)
        self.publish({**event, "current": current})
        self.db.update_item(
            TableName=self.table,
            Key={"pk": s(EVENT_PREFIX + event["event_id"]), "sk": s(DEDUPE_SK)},
            UpdateExpression="SET #state = :published",
            ExpressionAttributeNames={"#state": "state"},
            ExpressionAttributeValues={":published": s("published")},
        )
        return Outcome(event["event_id"], "new" if previous is None else "resumed", current)

    def credential_ttl(self, credential: str) -> int:
        """Seconds a credential's binding lives (see CREDENTIAL_TTL_S)."""
        if credential.partition(":")[0] in UNTIMED_CREDENTIAL_KINDS:
            return max(self.retention_s, CREDENTIAL_TTL_S)
        return CREDENTIAL_TTL_S

    # --- steps --------------------------------------------------------------------------------

    def _insert(
        self, event: Mapping[str, Any], expires: int, credential: str | None
    ) -> dict[str, Any] | None:
        """Step 1. Returns None when inserted, else the existing dedupe record. With a credential
        (a Vonage JWT), the same transaction binds it to this event id: a token already bound to
        another event raises CredentialReused and nothing is written."""
        subject_pk = SUBJECT_PREFIX + event["subject_id"]
        history = {
            "pk": s(subject_pk),
            "sk": s(history_sk(event)),
            "event_id": s(event["event_id"]),
            "provider": s(event["provider"]),
            "product": s(event["product"]),
            "type": s(event["type"]),
            "status": s(event["status"]),
            "occurred_at": s(event["occurred_at"]),
            "received_at": s(event["received_at"]),
            # UTF-8, not \u escapes: the item stays about the size of the payload (400 KB item limit).
            "event": s(json.dumps(event, separators=(",", ":"), sort_keys=True, ensure_ascii=False)),
            "gsi1pk": s(f"PRODUCT#{event['product']}"),
            "gsi1sk": s(f"{event['occurred_at']}#{event['event_id']}"),
            "gsi2pk": s(f"STATUS#{event['product']}#{event['status']}"),
            "gsi2sk": s(f"{event['occurred_at']}#{event['event_id']}"),
            TTL_ATTRIBUTE: n(expires),
        }
        if event.get("account_id"):
            history["account_id"] = s(str(event["account_id"]))
        dedupe = {
            "pk": s(EVENT_PREFIX + event["event_id"]),
            "sk": s(DEDUPE_SK),
            "state": s("recorded"),
            "subject_id": s(event["subject_id"]),
            "history_sk": history["sk"],
            TTL_ATTRIBUTE: n(expires),
        }
        items: list[dict[str, Any]] = [
            {
                "Put": {
                    "TableName": self.table,
                    "Item": dedupe,
                    "ConditionExpression": "attribute_not_exists(pk)",
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                }
            },
            {"Put": {"TableName": self.table, "Item": history}},
        ]
        if credential:
            items.append(
                {
                    "Put": {
                        "TableName": self.table,
                        "Item": {
                            "pk": s(CREDENTIAL_PREFIX + credential),
                            "sk": s(CREDENTIAL_SK),
                            "event_id": s(event["event_id"]),
                            TTL_ATTRIBUTE: n(int(self.clock().timestamp()) + self.credential_ttl(credential)),
                        },
                        "ConditionExpression": "attribute_not_exists(pk) OR event_id = :event_id",
                        "ExpressionAttributeValues": {":event_id": s(event["event_id"])},
                    }
                }
            )
        try:
            self.db.transact_write_items(TransactItems=items)
        except self.db.exceptions.TransactionCanceledException as exc:
            reasons = exc.response.get("CancellationReasons") or []
            codes = [r.get("Code") for r in reasons]
            if len(codes) > 2 and codes[2] == "ConditionalCheckFailed":
                raise CredentialReused(event["event_id"]) from None
            if codes and codes[0] == "ConditionalCheckFailed":
                return dict(reasons[0].get("Item") or {"state": s("recorded")})
            raise
        return None

    def _project(self, event: Mapping[str, Any], expires: int) -> dict[str, Any] | None:
        """Step 2. Returns the subject's current status after this event."""
        product, status = event["product"], event["status"]
        new_rank = rank(product, status)
        key = {"pk": s(SUBJECT_PREFIX + event["subject_id"]), "sk": s(STATUS_SK)}
        if new_rank is None:  # informational (e.g. a voice input event): never changes the status
            got = self.db.get_item(TableName=self.table, Key=key, ConsistentRead=True)
            return _current(got.get("Item"))
        terminal = is_terminal(product, status)
        condition = (
            "attribute_not_exists(pk) OR (#terminal = :false AND "
            "(#rank < :rank OR (#rank = :rank AND #occurred_at <= :occurred_at)))"
        )
        values: dict[str, Any] = {
            ":status": s(status),
            ":rank": n(new_rank),
            ":terminal": {"BOOL": terminal},
            ":false": {"BOOL": False},
            ":occurred_at": s(event["occurred_at"]),
            ":updated_at": s(event["received_at"]),
            ":event_id": s(event["event_id"]),
            ":type": s(event["type"]),
            ":provider": s(event["provider"]),
            ":product": s(product),
            ":subject_id": s(event["subject_id"]),
            ":ttl": n(expires),
        }
        if terminal:  # a terminal status may replace a lower-ranked terminal one
            condition += " OR (#terminal = :terminal AND #rank < :rank)"
        try:
            got = self.db.update_item(
                TableName=self.table,
                Key=key,
                UpdateExpression=(
                    "SET #status = :status, #rank = :rank, #terminal = :terminal, #occurred_at = :occurred_at, "
                    "updated_at = :updated_at, event_id = :event_id, #type = :type, provider = :provider, "
                    "product = :product, subject_id = :subject_id, #ttl = :ttl"
                ),
                ConditionExpression=condition,
                ExpressionAttributeNames={
                    "#status": "status",
                    "#rank": "rank",
                    "#terminal": "terminal",
                    "#occurred_at": "occurred_at",
                    "#type": "type",
                    "#ttl": TTL_ATTRIBUTE,
                },
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
            return _current(got.get("Attributes"))
        except self.db.exceptions.ConditionalCheckFailedException as exc:
            return _current(exc.response.get("Item"))  # a later state stands; this event is history only


def _current(item: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if not item:
        return None
    return {
        "status": item["status"]["S"],
        "occurred_at": item["occurred_at"]["S"],
        "updated_at": item["updated_at"]["S"],
        "event_id": item["event_id"]["S"],
        "terminal": item["terminal"]["BOOL"],
    }


def fifo_publisher(sqs: Any, queue_url: str) -> Callable[[Mapping[str, Any]], None]:
    def publish(event: Mapping[str, Any]) -> None:
        sqs.send_message(
            QueueUrl=queue_url,
            MessageBody=json.dumps(event, separators=(",", ":"), ensure_ascii=False),
            MessageGroupId=group_id(event["subject_id"]),
            MessageDeduplicationId=event["event_id"],
        )

    return publish


def group_id(subject_id: str) -> str:
    """FIFO group ids are at most 128 printable ASCII characters; longer or odd ids are hashed."""
    if len(subject_id) <= 128 and all("!" <= c <= "~" for c in subject_id):  # SQS: no spaces
        return subject_id
    return "sha256:" + hashlib.sha256(subject_id.encode("utf-8")).hexdigest()


def handle_batch(sqs_event: Mapping[str, Any], recorder: Recorder, log: Any) -> dict[str, Any]:
    """Record each SQS record; report the failed ones so only they are retried (then DLQ'd)."""
    failures: list[dict[str, str]] = []
    for record in sqs_event.get("Records") or []:
        message_id = record.get("messageId", "")
        attribute = (record.get("messageAttributes") or {}).get(CREDENTIAL_ATTRIBUTE) or {}
        try:
            outcome = recorder.record(json.loads(record.get("body") or ""), attribute.get("stringValue"))
        except Exception as exc:
            receives = record.get("attributes", {}).get("ApproximateReceiveCount")
            log.exception(
                "recording failed; the message will be retried",
                extra={"message_id": message_id, "error": type(exc).__name__, "receive_count": receives},
            )
            failures.append({"itemIdentifier": message_id})
            continue
        if outcome.result == "rejected_credential_reused":
            log.error(
                "forged webhook dropped: its signed credential already vouched for another event",
                extra={
                    "event_id": outcome.event_id,
                    "message_id": message_id,
                    "credential_kind": str(attribute.get("stringValue")).partition(":")[0],
                },
            )
            continue
        if outcome.result == "duplicate_other_subject":
            log.error(
                "forged webhook suspected: its event id was recorded before under another subject; "
                "the first one stands",
                extra={"event_id": outcome.event_id, "message_id": message_id},
            )
            continue
        log.info(
            "event recorded",
            extra={"event_id": outcome.event_id, "result": outcome.result, "current": outcome.current},
        )
    return {"batchItemFailures": failures}


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
