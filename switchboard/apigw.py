"""Build API Gateway HTTP API payload-2.0 events, as API Gateway would, from an HTTP request."""

from __future__ import annotations

import base64
import hashlib
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

TEXT_TYPES = ("application/json", "application/x-www-form-urlencoded", "text/")


def http_event(
    method: str,
    raw_path: str,
    raw_query: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    host: str,
    route_key: str | None = None,
    path_parameters: Mapping[str, str] | None = None,
    source_ip: str = "127.0.0.1",
    epoch_ms: int | None = None,
    force_base64: bool = False,
    stage: str = "$default",
) -> dict[str, Any]:
    epoch_ms = int(time.time() * 1000) if epoch_ms is None else epoch_ms
    lower = {k.lower(): v for k, v in headers.items()}
    lower.setdefault("host", host)
    lower.setdefault("x-forwarded-proto", "https")
    lower.setdefault("x-forwarded-port", "443")
    if body:
        lower.setdefault("content-length", str(len(body)))
    ctype = lower.get("content-type", "")
    # API Gateway passes text bodies as strings and base64-encodes everything else.
    is_text = any(ctype.startswith(t) for t in TEXT_TYPES)
    encode = force_base64 or (bool(body) and not is_text)
    if not encode and body:
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            encode = True
    request_id = hashlib.sha256(f"{method}{raw_path}{raw_query}{epoch_ms}".encode() + body).hexdigest()[:20]
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key or f"{method} {raw_path}",
        "rawPath": raw_path,
        "rawQueryString": raw_query,
        "headers": lower,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": host.split(".", 1)[0] or "local",
            "domainName": host,
            "domainPrefix": host.split(".", 1)[0],
            "http": {
                "method": method,
                "path": raw_path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": lower.get("user-agent", ""),
            },
            "requestId": request_id,
            "routeKey": route_key or f"{method} {raw_path}",
            "stage": stage,
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(epoch_ms / 1000)),
            "timeEpoch": epoch_ms,
        },
        "isBase64Encoded": encode,
    }
    if raw_query:
        params: dict[str, str] = {}
        for k, v in parse_qsl(raw_query, keep_blank_values=True):
            params[k] = f"{params[k]},{v}" if k in params else v
        event["queryStringParameters"] = params
    if path_parameters:
        event["pathParameters"] = dict(path_parameters)
    if body:
        event["body"] = base64.b64encode(body).decode("ascii") if encode else text
    return event
