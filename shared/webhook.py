"""The ingress path shared by VonageFunction and TwilioFunction.

verify → normalise → one SQS send → 2xx. A failed send is a 503 (the provider retries; nothing is
lost). Every rejection is a typed error mapped to a response in one place (``errors.to_http``),
logged with its reason code and diagnostic, and counted.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from shared import aws
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

EVENT_ID_HEADER = "x-switchboard-event-id"
SUBJECT_ID_HEADER = "x-switchboard-subject-id"
# Failures that a secret rotated in since the cache was filled could explain.
_ROTATION_CANDIDATES = (SignatureInvalid, UnknownApiKey, UnknownAccount)


@dataclass(frozen=True)
class WebhookDeps:
    settings: Settings
    secrets: SecretsSource
    enqueue: Callable[[Mapping[str, Any], str | None], None]
    voice_answer_ncco: str = "[]"
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)


def sqs_enqueuer(sqs: Any, queue_url: str) -> Callable[[Mapping[str, Any], str | None], None]:
    def enqueue(event: Mapping[str, Any], credential: str | None = None) -> None:
        try:
            body = json.dumps(event, separators=(",", ":"), ensure_ascii=False)
            attributes = (
                {CREDENTIAL_ATTRIBUTE: {"DataType": "String", "StringValue": credential}}
                if credential
                else {}
            )
            sqs.send_message(QueueUrl=queue_url, MessageBody=body, MessageAttributes=attributes)
        except (ClientError, BotoCoreError) as exc:
            raise StorageUnavailable(reason=type(exc).__name__, detail=str(exc)[:200]) from None

    return enqueue


def validate_ncco(text: str) -> str:
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if not isinstance(value, list):
        raise ConfigError(
            "SWITCHBOARD_VOICE_ANSWER_NCCO must be a JSON array", key="SWITCHBOARD_VOICE_ANSWER_NCCO"
        )
    return json.dumps(value, separators=(",", ":"))


def build_deps(
    env: Mapping[str, str],
    *,
    clock: Callable[[], datetime] | None = None,
    client: Callable[[str], Any] = aws.client,
) -> WebhookDeps:
    """Dependencies from an environment: settings, the secret's source, the ingest queue."""
    settings = Settings.from_env(env)
    return WebhookDeps(
        settings=settings,
        secrets=source_from_settings(settings, client),
        enqueue=sqs_enqueuer(client("sqs"), require_env("SWITCHBOARD_INGEST_QUEUE_URL", env)),
        voice_answer_ncco=validate_ncco(env.get("SWITCHBOARD_VOICE_ANSWER_NCCO", "").strip() or "[]"),
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
        normalised = received.event
        d.enqueue(normalised, received.credential)
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

    count("WebhookAccepted")
    _log_undocumented(route.product, normalised["data"])
    logger.info(
        "webhook accepted",
        extra={
            "event_id": normalised["event_id"],
            "type": normalised["type"],
            "subject_id": normalised["subject_id"],
            "status": normalised["status"],
            "account_id": normalised.get("account_id"),
            "from": _masked_sender(normalised["data"]),
        },
    )
    headers = {
        EVENT_ID_HEADER: normalised["event_id"],
        SUBJECT_ID_HEADER: _header_safe(normalised["subject_id"]),
    }
    if route.product == "voice" and route.kind == "answer":
        return _response(200, {**headers, "content-type": "application/json"}, d.voice_answer_ncco)
    if route.product == "voice":
        # Vonage may read a body on the event URL as an NCCO: answer with none.
        return _response(204, headers, "")
    body = json.dumps({"event_id": normalised["event_id"]}, separators=(",", ":"))
    return _response(200, {**headers, "content-type": "application/json"}, body)


_UNDOCUMENTED_SEEN: set[tuple[str, str]] = set()


def _log_undocumented(product: str, data: Mapping[str, Any]) -> None:
    """A field the provider's documentation does not list is kept (never refused: a 4xx is not
    retried, and providers add fields) and logged the first time this process sees it."""
    new = [f for f in undocumented_fields(product, data) if (product, f) not in _UNDOCUMENTED_SEEN]
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
