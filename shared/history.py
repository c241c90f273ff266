"""The status API's read side: a subject's current status and its history in one query."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from shared import safejson
from shared.config import require_env
from shared.errors import BadRequest, NotFound, StorageUnavailable, SwitchboardError, to_http
from shared.normalise import SCHEMA_VERSION
from shared.observability import logger
from shared.recorder import HISTORY_PREFIX, STATUS_SK, SUBJECT_PREFIX

MAX_SUBJECT_ID = 256
MAX_HISTORY_ITEMS = 1000


def subject_status(dynamodb: Any, table: str, subject_id: str) -> dict[str, Any]:
    if not subject_id or len(subject_id) > MAX_SUBJECT_ID:
        raise BadRequest("subject_id must be 1 to 256 characters", length=len(subject_id))
    status_item: dict[str, Any] | None = None
    history: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {
        "TableName": table,
        "KeyConditionExpression": "pk = :pk",
        "ExpressionAttributeValues": {":pk": {"S": SUBJECT_PREFIX + subject_id}},
        "ConsistentRead": True,
    }
    # The current status separately: it sorts after every history item, so a long history could
    # end the paging below before reaching it.
    got = dynamodb.get_item(
        TableName=table,
        Key={"pk": {"S": SUBJECT_PREFIX + subject_id}, "sk": {"S": STATUS_SK}},
        ConsistentRead=True,
    )
    status_item = got.get("Item")
    kwargs["KeyConditionExpression"] = "pk = :pk AND begins_with(sk, :h)"
    kwargs["ExpressionAttributeValues"][":h"] = {"S": HISTORY_PREFIX}
    while True:
        page = dynamodb.query(**kwargs)
        for item in page.get("Items", []):
            history.append(stored_event(item))
        last = page.get("LastEvaluatedKey")
        if not last or len(history) >= MAX_HISTORY_ITEMS:
            break
        kwargs["ExclusiveStartKey"] = last
    if status_item is None and not history:
        raise NotFound("no events for this subject", subject_id=subject_id)
    history.sort(key=lambda e: (e["occurred_at"], e["received_at"]))
    latest = history[-1] if history else {}
    return {
        "subject_id": subject_id,
        "provider": status_item["provider"]["S"] if status_item else latest.get("provider"),
        "product": status_item["product"]["S"] if status_item else latest.get("product"),
        "status": status_item["status"]["S"] if status_item else None,
        "terminal": status_item["terminal"]["BOOL"] if status_item else False,
        "updated_at": status_item["updated_at"]["S"] if status_item else latest.get("received_at"),
        "history": history,
        "truncated": len(history) >= MAX_HISTORY_ITEMS,
    }


def stored_event(item: Mapping[str, Any]) -> dict[str, Any]:
    """The event a history item holds. An item the status API cannot serve back as JSON (stored
    before the ingress bounded its depth, or damaged) is answered from its key attributes, with
    ``data`` saying why, rather than failing every later read. (No stored item can hold a lone
    surrogate: DynamoDB takes only valid UTF-8, and the answer escapes to ASCII anyway.)"""
    raw = item.get("event", {}).get("S", "")
    try:
        event = safejson.loads(raw, max_depth=safejson.MAX_DEPTH + 2)
        if not isinstance(event, dict):
            raise safejson.JsonRejected("not an object")
    except safejson.JsonRejected as exc:
        logger.warning("stored event unreadable", extra={"sk": _attr(item, "sk"), "reason": exc.reason})
        return _from_attributes(item, exc.reason)
    return event


def _from_attributes(item: Mapping[str, Any], reason: str) -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        **{key: _attr(item, key) for key in ("event_id", "provider", "product", "type", "status")},
        "subject_id": _attr(item, "pk").removeprefix(SUBJECT_PREFIX),
        "occurred_at": _attr(item, "occurred_at"),
        "received_at": _attr(item, "received_at"),
        "account_id": _attr(item, "account_id") or None,
        "channel": None,
        "client_ref": None,
        "data": {"unreadable": f"the stored payload cannot be served as JSON ({reason})"},
    }


def _attr(item: Mapping[str, Any], name: str) -> str:
    value = item.get(name, {}).get("S", "")
    return value if isinstance(value, str) else ""


def handle_status(event: Mapping[str, Any], dynamodb: Any = None, table: str | None = None) -> dict[str, Any]:
    """API Gateway payload-2.0 event → response. Errors map through ``errors.to_http``."""
    try:
        subject_id = str((event.get("pathParameters") or {}).get("subject_id") or "")
        if dynamodb is None:
            from shared import aws

            dynamodb = aws.client("dynamodb")
        body = subject_status(dynamodb, table or require_env("SWITCHBOARD_TABLE_NAME"), subject_id)
    except (ClientError, BotoCoreError) as exc:
        return _error(StorageUnavailable("the history table is unavailable", reason=type(exc).__name__))
    except SwitchboardError as err:
        return _error(err)
    return {
        "statusCode": 200,
        "headers": {"content-type": "application/json", "cache-control": "no-store"},
        "body": json.dumps(body, separators=(",", ":")),
    }


def _error(err: SwitchboardError) -> dict[str, Any]:
    status, headers, text = to_http(err)
    return {"statusCode": status, "headers": headers, "body": text}
