"""Vonage signed webhooks (Verify v2, Messages, Voice): ``Authorization: Bearer <JWT>``.

Rules, each with its own error: a missing header is an *unsigned callback* (503, Vonage retries it
signed); the token must be HS256 (``none`` and every other algorithm are rejected before any key is
touched); ``api_key`` picks the account's signature secrets, each tried in turn (rotation);
``iss`` must be ``Vonage``; ``iat`` at most ``skew`` seconds ahead and at most ``max_age`` old;
``application_id`` in the allow-list when one is configured; ``payload_hash`` equal to the SHA-256
hex of the raw body bytes exactly as received.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import math
import warnings
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import jwt
from jwt.warnings import InsecureKeyLengthWarning

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

# Vonage lets accounts use signature secrets shorter than RFC 7518 recommends; that is the account's
# choice, reported once at configuration time, not a warning on every request.
warnings.filterwarnings("ignore", category=InsecureKeyLengthWarning)

ISSUER = "Vonage"
ALGORITHM = "HS256"
_DECODER = jwt.PyJWT(
    options={
        "verify_signature": True,
        "verify_exp": False,  # exp/nbf/iat are checked below against the injected clock
        "verify_nbf": False,
        "verify_iat": False,  # checked below with an explicit skew and maximum age
        "verify_aud": False,
        "verify_iss": False,  # checked below for a precise error code
    }
)


@dataclass(frozen=True)
class VonageIdentity:
    api_key: str
    application_id: str | None
    jti: str | None
    secret_index: int  # which of the api key's secrets matched (0 = newest)


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

    for index, secret in enumerate(candidates):
        try:
            _DECODER.decode(token, secret, algorithms=[ALGORITHM])
        except jwt.InvalidSignatureError:
            continue
        except jwt.PyJWTError as exc:
            raise TokenMalformed(
                rule="token rejected by the JWT decoder", reason=type(exc).__name__
            ) from None
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
    return VonageIdentity(api_key=api_key, application_id=application_id, jti=jti, secret_index=matched)


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
    if len(parts) != 3 or not parts[0] or not parts[1]:
        raise TokenMalformed(rule="a JWT has three dot-separated parts", parts=len(parts))
    try:
        header = json.loads(_b64url(parts[0]))
        claims = json.loads(_b64url(parts[1]))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise TokenMalformed(rule="header and claims must be base64url JSON") from None
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise TokenMalformed(rule="header and claims must be JSON objects")
    return header, claims


def _b64url(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
