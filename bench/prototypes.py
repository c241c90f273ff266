"""Prototypes of suggested changes to code bench/ does not own, measured, never shipped.

``DirectHS256`` is a drop-in for ``shared.verify.vonage_jwt._DECODER``: ``verify_vonage_jwt`` already
decodes the header and claims itself (``_peek``) and checks every claim itself, so PyJWT's decode is
used only for the HMAC — and PyJWT 2.15 validates each segment's alphabet with a per-character
Python generator (``jwt/api_jws.py``, ``any(c not in _BASE64URL_ALPHABET for c in …)``), ≈ 400 steps
per token. This does the same checks (strict base64url alphabet, HMAC-SHA256, constant-time
compare) with a compiled regex and one ``hmac.new``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from collections.abc import Sequence
from typing import Any

import jwt

_SEGMENT = re.compile(r"[A-Za-z0-9_-]+={0,2}")


class DirectHS256:
    def decode(self, token: str, key: str, algorithms: Sequence[str]) -> dict[str, Any]:
        signing_input, _, signature = token.rpartition(".")
        header, _, claims = signing_input.partition(".")
        if not all(_SEGMENT.fullmatch(part) for part in (header, claims, signature)):
            raise jwt.DecodeError("invalid base64url segment")
        try:
            provided = base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4))
        except (binascii.Error, ValueError):
            raise jwt.DecodeError("invalid signature encoding") from None
        expected = hmac.new(key.encode("utf-8"), signing_input.encode("ascii"), hashlib.sha256).digest()
        if not hmac.compare_digest(expected, provided):
            raise jwt.InvalidSignatureError("Signature verification failed")
        return {}


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
