"""Floors for code bench/ does not own: measured alongside it, never shipped.

``sigv4_send_message`` builds and SigV4-signs the request ``sqs.send_message`` makes with the standard
library only: the CPU floor of one SQS send without botocore's machinery (§3.1 of RESULTS.md, and
the remaining cold-start miss in its findings).
"""

from __future__ import annotations

import hashlib
import hmac
import json


def sigv4_send_message(
    queue_url: str,
    body: str,
    *,
    access_key: str,
    secret_key: str,
    session_token: str,
    region: str,
    amz_date: str,
) -> tuple[bytes, dict[str, str]]:
    """The request ``sqs.send_message`` makes (SQS JSON protocol), built and SigV4-signed with the
    standard library only: the CPU floor of one SQS send, without botocore's machinery."""
    host = "sqs." + region + ".amazonaws.com"
    payload = json.dumps({"QueueUrl": queue_url, "MessageBody": body}, separators=(",", ":")).encode()
    payload_hash = hashlib.sha256(payload).hexdigest()
    headers = {
        "content-type": "application/x-amz-json-1.0",
        "host": host,
        "x-amz-date": amz_date,
        "x-amz-security-token": session_token,
        "x-amz-target": "AmazonSQS.SendMessage",
    }
    signed = ";".join(sorted(headers))
    canonical = "\n".join(
        ["POST", "/", "", *(f"{k}:{headers[k]}" for k in sorted(headers)), "", signed, payload_hash]
    )
    scope = f"{amz_date[:8]}/{region}/sqs/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    key = ("AWS4" + secret_key).encode()
    for part in (amz_date[:8], region, "sqs", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    headers["authorization"] = (
        f"AWS4-HMAC-SHA256 Credential={access_key}/{scope}, SignedHeaders={signed}, Signature={signature}"
    )
    return payload, headers
