"""The ingress path shared by VonageFunction and TwilioFunction.

verify → normalise → one SQS send → 2xx. A failed send is a 503 (the provider retries; nothing is
lost). Every rejection is a typed error mapped to a response in one place (``errors.to_http``),
logged with its reason code and diagnostic, and counted.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from shared import aws, safejson
from shared.config import Settings, require_env
from shared.errors import (
    ConfigError,
    RouteNotFound,
    SignatureError,
    SignatureInvalid,
    StorageUnavailable,
    SwitchboardError,
    UnknownAccount,
    UnknownApiKey,
    to_http,
)
from shared.http import request_from_apigw
from shared.ingress import Route, match_route, receive_with_credential
from shared.normalise import undocumented_fields
from shared.observability import count, logger, mask_phone
from shared.recorder import CREDENTIAL_ATTRIBUTE
from shared.secrets import SecretsSource, source_from_settings
from shared.sqs_batch import batches, sqs_size

EVENT_ID_HEADER = "x-switchboard-event-id"
SUBJECT_ID_HEADER = "x-switchboard-subject-id"
# Failures that a secret rotated in since the cache was filled could explain.
_ROTATION_CANDIDATES = (SignatureInvalid, UnknownApiKey, UnknownAccount)


Enqueue = Callable[[Mapping[str, Any], str | None], None]
EnqueueMany = Callable[[Sequence[Mapping[str, Any]], str | None], None]


@dataclass(frozen=True)
class WebhookDeps:
    settings: Settings
    secrets: SecretsSource
    enqueue: Enqueue
    voice_answer_ncco: str = "[]"
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    # Several events of one request (Event Streams): one SendMessageBatch per 10. None: one
    # ``enqueue`` per event (unit tests).
    enqueue_many: EnqueueMany | None = None
    voice_fallback_ncco: str | None = None  # None: the answer NCCO


def _attributes(credential: str | None) -> dict[str, Any]:
    return {CREDENTIAL_ATTRIBUTE: {"DataType": "String", "StringValue": credential}} if credential else {}


def _body(event: Mapping[str, Any]) -> str:
    return safejson.dumps_for_sqs(event)


def sqs_enqueuer(sqs: Any, queue_url: str) -> Enqueue:
    def enqueue(event: Mapping[str, Any], credential: str | None = None) -> None:
        try:
            sqs.send_message(
                QueueUrl=queue_url, MessageBody=_body(event), MessageAttributes=_attributes(credential)
            )
        except (ClientError, BotoCoreError) as exc:
            raise StorageUnavailable(reason=type(exc).__name__, detail=str(exc)[:200]) from None

    return enqueue


def sqs_batch_enqueuer(sqs: Any, queue_url: str) -> EnqueueMany:
    """Several events in SendMessageBatch calls of up to 10 entries / 256 KiB (one call for a usual
    Event Streams delivery). Any entry SQS refuses, or any failed call, is StorageUnavailable: the
    request is answered 5xx and retried whole; the events already queued are duplicates by id then,
    which the recorder drops."""

    def enqueue_many(events: Sequence[Mapping[str, Any]], credential: str | None = None) -> None:
        entries = [
            {"Id": str(i), "MessageBody": _body(e), "MessageAttributes": _attributes(credential)}
            for i, e in enumerate(events)
        ]
        for chunk in batches(entries, sqs_size):
            try:
                failed = sqs.send_message_batch(QueueUrl=queue_url, Entries=chunk).get("Failed") or []
            except (ClientError, BotoCoreError) as exc:
                raise StorageUnavailable(reason=type(exc).__name__, detail=str(exc)[:200]) from None
            if failed:
                raise StorageUnavailable(reason="BatchEntryFailed", detail=str(failed[0].get("Code"))[:200])

    return enqueue_many


def validate_ncco(text: str, key: str = "SWITCHBOARD_VOICE_ANSWER_NCCO") -> str:
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if not isinstance(value, list):
        raise ConfigError(f"{key} must be a JSON array", key=key)
    return json.dumps(value, separators=(",", ":"))


def build_deps(
    env: Mapping[str, str],
    *,
    clock: Callable[[], datetime] | None = None,
    client: Callable[[str], Any] = aws.client,
) -> WebhookDeps:
    """Dependencies from an environment: settings, the secret's source, the ingest queue."""
    settings = Settings.from_env(env)
    sqs, queue_url = client("sqs"), require_env("SWITCHBOARD_INGEST_QUEUE_URL", env)
    fallback = env.get("SWITCHBOARD_VOICE_FALLBACK_NCCO", "").strip()
    return WebhookDeps(
        settings=settings,
        secrets=source_from_settings(settings, client),
        enqueue=sqs_enqueuer(sqs, queue_url),
        enqueue_many=sqs_batch_enqueuer(sqs, queue_url),
        voice_answer_ncco=validate_ncco(env.get("SWITCHBOARD_VOICE_ANSWER_NCCO", "").strip() or "[]"),
        voice_fallback_ncco=validate_ncco(fallback, "SWITCHBOARD_VOICE_FALLBACK_NCCO") if fallback else None,
        clock=clock or (lambda: datetime.now(UTC)),
    )


@cache
def default_deps() -> WebhookDeps:
    """Built on the first request from the process environment; reused by every later request."""
    return build_deps(os.environ)


def handle_webhook(
    event: Mapping[str, Any], provider: str, deps: Callable[[], WebhookDeps]
) -> dict[str, Any]:
    """Turn one API Gateway payload-2.0 event into one queued event and the provider's answer."""
    route: Route | None = None
    try:
        d = deps()
        request = request_from_apigw(event, max_body_bytes=d.settings.max_body_bytes)
        route = match_route(request.method, request.route_path(d.settings.public_base_url))
        if route.provider != provider:  # this function does not serve that path
            raise RouteNotFound(path=request.raw_path[:200])
        secrets = d.secrets.get()
        try:
            received = receive_with_credential(request, secrets, d.settings, now=d.clock(), route=route)
        except _ROTATION_CANDIDATES:
            if not d.secrets.can_refresh():
                raise
            fresh = d.secrets.get(force=True)
            if fresh is secrets:
                raise
            received = receive_with_credential(request, fresh, d.settings, now=d.clock(), route=route)
        _enqueue(d, received.events, received.credential)
    except SwitchboardError as err:
        return _rejected(err, route)
    except Exception:
        logger.exception(
            "unexpected error on the webhook path", extra={"route": route.path if route else None}
        )
        count("WebhookError")
        return _response(
            500, {"content-type": "application/json"}, '{"error":"internal_error","message":"internal error"}'
        )

    for normalised in received.events:
        count("WebhookAccepted")
        _log_accepted(route, normalised)
    return _answer(route, received.events, d)


def _enqueue(d: WebhookDeps, events: list[dict[str, Any]], credential: str | None) -> None:
    if not events:  # an empty Event Streams array: nothing to store, no SQS call
        return
    if len(events) == 1:
        d.enqueue(events[0], credential)
    elif d.enqueue_many is not None:
        d.enqueue_many(events, credential)
    else:
        for event in events:
            d.enqueue(event, credential)


def _log_accepted(route: Route, normalised: Mapping[str, Any]) -> None:
    _log_undocumented(normalised["product"], normalised["data"], normalised["provider"])
    logger.info(
        "webhook accepted",
        extra={
            "route": route.path,  # as on "webhook rejected": the dashboard counts both per route
            "event_id": normalised["event_id"],
            "type": normalised["type"],
            "subject_id": normalised["subject_id"],
            "status": normalised["status"],
            "account_id": normalised.get("account_id"),
            "from": _masked_sender(normalised["data"]),
        },
    )


def _answer(route: Route, events: list[dict[str, Any]], d: WebhookDeps) -> dict[str, Any]:
    """The provider's 2xx, as the route declares it (``Route.answer``)."""
    headers = {}
    if events:
        headers = {
            EVENT_ID_HEADER: events[0]["event_id"],
            SUBJECT_ID_HEADER: _header_safe(events[0]["subject_id"]),
        }
    if route.answer == "answer_ncco":
        return _response(200, {**headers, "content-type": "application/json"}, d.voice_answer_ncco)
    if route.answer == "fallback_ncco":
        ncco = d.voice_fallback_ncco or d.voice_answer_ncco
        return _response(200, {**headers, "content-type": "application/json"}, ncco)
    if route.answer == "empty":
        # Vonage may read a body on the voice event URL as an NCCO: answer with none.
        return _response(204, headers, "")
    if route.answer == "event_ids":
        body = json.dumps({"event_ids": [e["event_id"] for e in events]}, separators=(",", ":"))
    else:
        body = json.dumps({"event_id": events[0]["event_id"]}, separators=(",", ":"))
    return _response(200, {**headers, "content-type": "application/json"}, body)


_UNDOCUMENTED_SEEN: set[tuple[str, str]] = set()


def _log_undocumented(product: str, data: Mapping[str, Any], provider: str) -> None:
    """A field the provider's documentation does not list is kept (never refused: a 4xx is not
    retried, and providers add fields) and logged the first time this process sees it."""
    new = [f for f in undocumented_fields(product, data, provider) if (product, f) not in _UNDOCUMENTED_SEEN]
    if new:
        _UNDOCUMENTED_SEEN.update((product, f) for f in new)
        logger.warning("undocumented fields kept in data", extra={"product": product, "fields": new[:20]})


def _header_safe(value: str) -> str:
    """Subject ids come from the provider: keep the header printable ASCII, short, one line."""
    return "".join(c for c in value if " " <= c <= "~")[:256]


def _masked_sender(data: Mapping[str, Any]) -> str | None:
    """Who sent it, for support: the sender's number with all but its last 3 digits masked."""
    sender = data.get("from") or data.get("msisdn")
    return mask_phone(str(sender)) if isinstance(sender, str | int) else None


def _rejected(err: SwitchboardError, route: Route | None) -> dict[str, Any]:
    status, headers, body = to_http(err)
    level = logger.error if status >= 500 else logger.warning
    level(
        "webhook rejected",
        extra={
            "code": err.code,
            "http_status": status,
            "route": route.path if route else None,
            "reason": err.message,
            "diagnostic": err.diagnostic,
        },
    )
    count("WebhookRejected" if isinstance(err, SignatureError) else "WebhookInvalid")
    return _response(status, headers, body)


def _response(status: int, headers: Mapping[str, str], body: str) -> dict[str, Any]:
    return {"statusCode": status, "headers": dict(headers), "body": body, "isBase64Encoded": False}
