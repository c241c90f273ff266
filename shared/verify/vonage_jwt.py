"""Vonage signed webhooks (Verify v2, Messages, Voice): ``Authorization: Bearer <JWT>``.

Rules, each with its own error: a missing header is an *unsigned callback* (503, Vonage retries it
signed); the token must be HS256 (``none`` and every other algorithm are rejected before any key is
touched); ``api_key`` picks the account's signature secrets, each tried in turn (rotation);
``iss`` must be ``Vonage``; ``iat`` at most ``skew`` seconds ahead and at most ``max_age`` old;
``application_id`` in the allow-list when one is configured; ``payload_hash`` equal to the SHA-256
hex of the raw body bytes exactly as received.

The HS256 check is done here, strictly, rather than by PyJWT: the header and claims have to be
read before any key is chosen anyway (``alg``, ``api_key``), so PyJWT would parse the token a second
time per secret tried, and it costs a third of the verification time and 39 ms of cold start
(bench/RESULTS.md). Segments must be canonical base64url (no padding, no stray characters) and the
signature exactly 32 bytes, compared in constant time. The tests check every token against PyJWT,
an independent implementation.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import math
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from shared.errors import (
    AlgorithmNotAllowed,
    ApplicationNotAllowed,
    ClaimMissing,
    IssuerInvalid,
    PayloadHashMismatch,
    SignatureInvalid,
    TokenExpired,
    TokenFromFuture,
    TokenMalformed,
    UnknownApiKey,
    UnsignedCallback,
)

ISSUER = "Vonage"
ALGORITHM = "HS256"
_SEGMENT = re.compile(r"[A-Za-z0-9_-]+")  # base64url without padding (RFC 7515 §2)


@dataclass(frozen=True)
class VonageIdentity:
    api_key: str
    application_id: str | None
    jti: str | None
    secret_index: int  # which of the api key's secrets matched (0 = newest)
    signature: str  # the token's signature segment: identifies the token without holding it


def verify_vonage_jwt(
    authorization: str | None,
    body: bytes,
    secrets: Mapping[str, Sequence[str]],
    *,
    now: float,
    max_age: int,
    skew: int = 60,
    application_ids: Collection[str] = (),
) -> VonageIdentity:
    if authorization is None or not authorization.strip():
        raise UnsignedCallback(rule="no Authorization header")
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise TokenMalformed(rule="Authorization is not 'Bearer <JWT>'", scheme=scheme[:16])
    header, claims = _peek(token)
    alg = header.get("alg")
    if alg != ALGORITHM:
        raise AlgorithmNotAllowed(rule="alg must be HS256", alg=str(alg)[:16])
    if "crit" in header:
        raise TokenMalformed(rule="critical header extensions are not supported")
    api_key = claims.get("api_key")
    if not isinstance(api_key, str) or not api_key:
        raise ClaimMissing(rule="api_key claim selects the signature secret", claim="api_key")
    candidates = secrets.get(api_key)
    if not candidates:
        raise UnknownApiKey(rule="api_key has no configured signature secret", api_key=api_key)
    jti = claims.get("jti") if isinstance(claims.get("jti"), str) else None

    signing_input, _, encoded_signature = token.rpartition(".")
    signature = _signature(encoded_signature)
    message = signing_input.encode("ascii")  # _peek checked the segments' alphabet
    for index, secret in enumerate(candidates):
        expected = hmac.new(secret.encode("utf-8"), message, hashlib.sha256).digest()
        if hmac.compare_digest(expected, signature):
            matched = index
            break
    else:
        raise SignatureInvalid(
            rule="HS256 signature matches none of the api key's secrets",
            api_key=api_key,
            secrets_tried=len(candidates),
            jti=jti,
        )

    if claims.get("iss") != ISSUER:
        raise IssuerInvalid(rule="iss must be 'Vonage'", iss=str(claims.get("iss"))[:32], api_key=api_key)
    iat = _number(claims, "iat", api_key)
    if iat is None:
        raise ClaimMissing(rule="iat must be a finite number", claim="iat", api_key=api_key)
    if iat > now + skew:
        raise TokenFromFuture(rule=f"iat more than {skew}s ahead", ahead_s=int(iat - now), jti=jti)
    if now - iat > max_age:
        raise TokenExpired(rule=f"iat older than {max_age}s", age_s=int(now - iat), jti=jti)
    exp = _number(claims, "exp", api_key)
    if exp is not None and now >= exp:
        raise TokenExpired(rule="exp claim has passed", api_key=api_key, jti=jti)
    nbf = _number(claims, "nbf", api_key)
    if nbf is not None and nbf > now + skew:
        raise TokenFromFuture(rule="nbf claim is in the future", api_key=api_key, jti=jti)
    application_id = claims.get("application_id")
    application_id = application_id if isinstance(application_id, str) else None
    if application_ids and application_id not in application_ids:
        raise ApplicationNotAllowed(
            rule="application_id not in the allow-list", application_id=application_id, api_key=api_key
        )
    payload_hash = claims.get("payload_hash")
    if not isinstance(payload_hash, str):
        raise ClaimMissing(rule="payload_hash claim is required", claim="payload_hash", jti=jti)
    actual = hashlib.sha256(body).hexdigest()
    if not hmac.compare_digest(payload_hash.strip().lower().encode("utf-8"), actual.encode("ascii")):
        raise PayloadHashMismatch(
            rule="sha256(raw body) != payload_hash", body_bytes=len(body), api_key=api_key, jti=jti
        )
    return VonageIdentity(
        api_key=api_key,
        application_id=application_id,
        jti=jti,
        secret_index=matched,
        signature=encoded_signature,
    )


def _number(claims: Mapping[str, Any], name: str, api_key: str) -> float | None:
    """A numeric claim, or None when absent; present but not a finite number is an error."""
    if name not in claims:
        return None
    value = claims[name]
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ClaimMissing(rule=f"{name} must be a finite number", claim=name, api_key=api_key)
    return float(value)


def _peek(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Decode header and claims *without* trusting them: only to pick the algorithm and the secret."""
    parts = token.split(".")
    if len(parts) != 3 or not _SEGMENT.fullmatch(parts[0]) or not _SEGMENT.fullmatch(parts[1]):
        raise TokenMalformed(rule="a JWT has three dot-separated base64url parts", parts=len(parts))
    try:
        header = json.loads(_b64url(parts[0]))
        claims = json.loads(_b64url(parts[1]))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise TokenMalformed(rule="header and claims must be base64url JSON") from None
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise TokenMalformed(rule="header and claims must be JSON objects")
    return header, claims


def _signature(segment: str) -> bytes:
    """The signature segment: canonical base64url of exactly 32 bytes (an HS256 MAC); else nothing
    can match, and an empty or odd one is simply an invalid signature."""
    if not _SEGMENT.fullmatch(segment) or len(segment) != 43:
        return b""
    raw = _b64url(segment)
    # Reject non-canonical encodings (the last character's unused bits set): one MAC, one token.
    return raw if base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii") == segment else b""


def _b64url(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
