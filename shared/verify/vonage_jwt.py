"""Vonage signed webhooks (Verify v2, Messages, Voice): ``Authorization: Bearer <JWT>``.

PyJWT checks the token: HS256 only (``algorithms=["HS256"]``), the signature, the required claims
(``iat``, ``iss``, ``payload_hash``, ``api_key``), ``iss == "Vonage"``, and its own claim rules
(``aud`` only when expected, ``jti`` and ``sub`` strings). Our rules sit on top, each with its own
error (shared/errors.py), in this order:

1. no header → *unsigned callback* (503: Vonage retries it signed); longer than 4096 characters →
   token_malformed before any decoding;
2. ``Bearer`` + three base64url segments, ASCII, no padding (PyJWT accepts ``=`` padding; one token
   has one spelling here) → token_malformed;
3. header and claims read *unverified* (one PyJWT parse) only to choose the key: they must be JSON
   objects whose strings are all encodable as UTF-8 (json turns a ``"\\ud800"`` escape into a str
   that is not, which would crash whatever logs or hashes it) and nested at most ``MAX_DEPTH`` deep
   → token_malformed; ``alg`` must be HS256 → algorithm_not_allowed, before any key is touched;
   a ``crit`` header → token_malformed (we support no extension, not even PyJWT's ``b64``);
4. ``api_key`` (a non-empty string) picks the account's secrets → claim_missing / unknown_api_key;
   ``jwt.decode`` with each secret in turn, newest first (rotation): ``InvalidSignatureError``
   tries the next, none matching → signature_invalid; any other PyJWT error is final (the claims
   are the same whichever secret signed them) and maps to one code (``_PYJWT_ERRORS``);
5. times against the injected ``now`` (PyJWT's own iat/nbf/exp checks are off: 2.15.1 reads the
   wall clock and offers no way to inject one, and a verifier is pure): ``iat`` at most ``skew``
   ahead (token_from_future) and at most ``max_age`` old (token_expired); ``exp``, if present,
   after now (token_expired); ``nbf``, if present, at most ``skew`` ahead (token_from_future).
   A time claim must be a JSON number that is a finite float: a string, a bool, NaN, ``1e400``
   (json reads inf) or an integer beyond float range (400 digits, either sign) → claim_missing,
   "missing or malformed" — such a value is not a time, so it is never judged as future or past;
6. ``application_id`` (a string if present) in the allow-list when one is set →
   application_not_allowed; ``jti`` a string if present → claim_missing;
7. ``payload_hash`` equal, in constant time, to the SHA-256 hex of the raw body bytes exactly as
   received → payload_hash_mismatch (not a string → claim_missing).

Diagnostics never hold a secret, the whole token or its signature; values from the token are cut
short, escaped to ASCII, and shown by type name when they are not strings.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import jwt
from jwt.exceptions import InvalidJTIError, InvalidSubjectError
from jwt.types import Options

from shared.errors import (
    AlgorithmNotAllowed,
    ApplicationNotAllowed,
    ClaimMissing,
    IssuerInvalid,
    PayloadHashMismatch,
    SignatureError,
    SignatureInvalid,
    TokenExpired,
    TokenFromFuture,
    TokenMalformed,
    UnknownApiKey,
    UnsignedCallback,
)
from shared.safejson import has_lone_surrogate

ISSUER = "Vonage"
ALGORITHM = "HS256"
MAX_AUTHORIZATION = 4096  # characters; a Vonage token is ≈ 500
MAX_DEPTH = 8  # JSON nesting in the header and claims; Vonage's are flat (depth 1)
REQUIRED_CLAIMS = ("iat", "iss", "payload_hash", "api_key")
_TOKEN = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")  # RFC 7515 §2, no padding
_UNVERIFIED: Options = {"verify_signature": False}
_VERIFY: Options = {
    "require": list(REQUIRED_CLAIMS),
    # Ours, against the injected clock (rule 5).
    "verify_iat": False,
    "verify_nbf": False,
    "verify_exp": False,
}
# PyJWT's verdicts after a signature matched, most specific first: (PyJWT error, ours, claim named).
_PYJWT_ERRORS: tuple[tuple[type[jwt.PyJWTError], type[SignatureError], str | None], ...] = (
    (jwt.InvalidAlgorithmError, AlgorithmNotAllowed, None),
    (jwt.InvalidIssuerError, IssuerInvalid, "iss"),
    (jwt.InvalidIssuedAtError, ClaimMissing, "iat"),
    (jwt.ExpiredSignatureError, TokenExpired, "exp"),
    (jwt.ImmatureSignatureError, TokenFromFuture, None),
    (jwt.InvalidAudienceError, ClaimMissing, "aud"),  # Vonage sends no aud: one there is not for us
    (InvalidSubjectError, ClaimMissing, "sub"),
    (InvalidJTIError, ClaimMissing, "jti"),
    (jwt.PyJWTError, TokenMalformed, None),  # DecodeError and whatever a later PyJWT adds
)


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
    token = _bearer_token(authorization)
    header, unverified = _peek(token)
    alg = header.get("alg")
    if alg != ALGORITHM:
        raise AlgorithmNotAllowed(rule="alg must be HS256", alg=_shown(alg, 16))
    if "crit" in header:
        raise TokenMalformed(rule="critical header extensions are not supported")
    api_key = unverified.get("api_key")
    if not isinstance(api_key, str) or not api_key:
        raise ClaimMissing(rule="api_key claim selects the signature secret", claim="api_key")
    candidates = secrets.get(api_key)
    if not candidates:
        raise UnknownApiKey(rule="api_key has no configured signature secret", api_key=_shown(api_key, 64))

    claims, matched = _decode(token, candidates, api_key, unverified)
    jti = _optional_text(claims, "jti", api_key)
    _check_times(claims, now=now, max_age=max_age, skew=skew, api_key=api_key, jti=jti)
    application_id = _optional_text(claims, "application_id", api_key)
    if application_ids and application_id not in application_ids:
        raise ApplicationNotAllowed(
            rule="application_id not in the allow-list",
            application_id=_shown(application_id, 64),
            api_key=_shown(api_key),
        )
    _check_payload_hash(claims, body, api_key, jti)
    return VonageIdentity(
        api_key=api_key,
        application_id=application_id,
        jti=jti,
        secret_index=matched,
        signature=token.rpartition(".")[2],
    )


def _bearer_token(authorization: str | None) -> str:
    """Rules 1-2: the token out of ``Bearer <JWT>``, judged as text before anything decodes it."""
    if authorization is None:
        raise UnsignedCallback(rule="no Authorization header")
    if len(authorization) > MAX_AUTHORIZATION:
        raise TokenMalformed(
            rule=f"Authorization longer than {MAX_AUTHORIZATION} characters", length=len(authorization)
        )
    if not authorization.strip():
        raise UnsignedCallback(rule="empty Authorization header")
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise TokenMalformed(rule="Authorization is not 'Bearer <JWT>'", scheme=_shown(scheme, 16))
    if not _TOKEN.fullmatch(token):
        raise TokenMalformed(
            rule="a JWT is three dot-separated base64url segments (ASCII, no padding)",
            parts=token.count(".") + 1,
        )
    return token


def _peek(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Rule 3: header and claims *without* trusting them, only to pick the algorithm and the secret."""
    try:
        decoded = jwt.decode_complete(token, options=_UNVERIFIED)
    # OverflowError, RecursionError: caught inside PyJWT 2.15.1, but not promised by it.
    except (jwt.PyJWTError, OverflowError, RecursionError) as err:
        raise TokenMalformed(
            rule="header and claims must be base64url JSON objects", pyjwt=_name(err)
        ) from None
    header: dict[str, Any] = decoded["header"]
    claims: dict[str, Any] = decoded["payload"]
    if not _well_formed(header, claims):
        raise TokenMalformed(rule=f"header and claims: UTF-8 strings only, nested at most {MAX_DEPTH} deep")
    return header, claims


def _decode(
    token: str, candidates: Sequence[str], api_key: str, unverified: Mapping[str, Any]
) -> tuple[dict[str, Any], int]:
    """Rule 4: ``jwt.decode`` with each of the api key's secrets, newest first."""
    for index, secret in enumerate(candidates):
        try:
            claims: dict[str, Any] = jwt.decode(
                token, secret, algorithms=[ALGORITHM], issuer=ISSUER, options=_VERIFY
            )
        except jwt.InvalidSignatureError:
            continue  # rotation: an older secret may have signed it
        except jwt.PyJWTError as err:
            raise _mapped(err, api_key, unverified) from None
        except (OverflowError, RecursionError) as err:  # as in _peek
            raise TokenMalformed(rule="PyJWT could not decode the token", pyjwt=_name(err)) from None
        return claims, index
    raise SignatureInvalid(
        rule="HS256 signature matches none of the api key's secrets",
        api_key=_shown(api_key),
        secrets_tried=len(candidates),
        jti=_shown(unverified.get("jti")),
    )


def _mapped(err: jwt.PyJWTError, api_key: str, claims: Mapping[str, Any]) -> SignatureError:
    """One PyJWT verdict (the signature matched) as our error with its stable code."""
    if isinstance(err, jwt.MissingRequiredClaimError):
        if err.claim == "iss":
            return IssuerInvalid(rule="iss must be 'Vonage'", iss=None, api_key=_shown(api_key))
        return ClaimMissing(rule=f"{err.claim} claim is required", claim=err.claim, api_key=_shown(api_key))
    ours, claim = next((o, c) for theirs, o, c in _PYJWT_ERRORS if isinstance(err, theirs))
    diagnostic: dict[str, Any] = {"pyjwt": _name(err), "api_key": _shown(api_key)}
    if ours is IssuerInvalid:
        diagnostic["iss"] = _shown(claims.get("iss"))
    elif claim is not None:
        diagnostic["claim"] = claim
    return ours(rule=f"PyJWT: {_name(err)}", **diagnostic)


def _check_times(
    claims: Mapping[str, Any], *, now: float, max_age: int, skew: int, api_key: str, jti: str | None
) -> None:
    """Rule 5, against the injected clock."""
    iat = _time(claims, "iat", api_key)
    if iat is None:  # PyJWT required it; kept so this function stands alone
        raise ClaimMissing(rule="iat claim is required", claim="iat", api_key=_shown(api_key))
    if iat > now + skew:
        raise TokenFromFuture(rule=f"iat more than {skew}s ahead", ahead_s=int(iat - now), jti=_shown(jti))
    if now - iat > max_age:
        raise TokenExpired(rule=f"iat older than {max_age}s", age_s=int(now - iat), jti=_shown(jti))
    exp = _time(claims, "exp", api_key)
    if exp is not None and now >= exp:
        raise TokenExpired(rule="exp claim has passed", api_key=_shown(api_key), jti=_shown(jti))
    nbf = _time(claims, "nbf", api_key)
    if nbf is not None and nbf > now + skew:
        raise TokenFromFuture(rule="nbf claim is in the future", api_key=_shown(api_key), jti=_shown(jti))


def _time(claims: Mapping[str, Any], name: str, api_key: str) -> float | None:
    """A time claim in seconds, or None when absent; anything but a finite number is an error."""
    if name not in claims:
        return None
    value = claims[name]
    number = math.nan
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            number = float(value)
        except OverflowError:  # an integer of hundreds of digits: no float holds it
            number = math.nan
    if not math.isfinite(number):
        raise ClaimMissing(
            rule=f"{name} must be a finite number of seconds",
            claim=name,
            type=type(value).__name__,
            api_key=_shown(api_key),
        )
    return number


def _optional_text(claims: Mapping[str, Any], name: str, api_key: str) -> str | None:
    """Rule 6: a claim that may be absent but, when present, is a string (UTF-8 safe, rule 3)."""
    value = claims.get(name)
    if value is None or isinstance(value, str):
        return value
    raise ClaimMissing(
        rule=f"{name} must be a string", claim=name, type=type(value).__name__, api_key=_shown(api_key)
    )


def _check_payload_hash(claims: Mapping[str, Any], body: bytes, api_key: str, jti: str | None) -> None:
    """Rule 7: the raw body's SHA-256, compared in constant time."""
    payload_hash = claims.get("payload_hash")
    if not isinstance(payload_hash, str):
        raise ClaimMissing(rule="payload_hash claim is required", claim="payload_hash", jti=_shown(jti))
    actual = hashlib.sha256(body).hexdigest().encode("ascii")
    # Encodable: rule 3 let no lone surrogate through.
    if not hmac.compare_digest(payload_hash.strip().lower().encode("utf-8"), actual):
        raise PayloadHashMismatch(
            rule="sha256(raw body) != payload_hash",
            body_bytes=len(body),
            api_key=_shown(api_key),
            jti=_shown(jti),
        )


def _well_formed(*roots: object) -> bool:
    """Every string (keys too) encodable as UTF-8 and no container deeper than MAX_DEPTH. A loop
    with its own stack, not recursion: how deep the input goes costs nothing but the loop."""
    stack: list[tuple[object, int]] = [(root, 1) for root in roots]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, str):
            if not value.isascii() and has_lone_surrogate(value):
                return False
        elif isinstance(value, dict | list):
            if depth > MAX_DEPTH:
                return False
            if isinstance(value, dict):
                stack.extend((key, depth) for key in value)
                stack.extend((item, depth + 1) for item in value.values())
            else:
                stack.extend((item, depth + 1) for item in value)
    return True


def _shown(value: object, limit: int = 32) -> str | None:
    """A token value fit for a diagnostic: strings cut short and escaped to ASCII (nothing a log
    line cannot encode), other types by name only (str() of a deep structure is unbounded work)."""
    if value is None:
        return None
    if isinstance(value, str):
        return value[:limit].encode("ascii", "backslashreplace").decode("ascii")
    return f"<{type(value).__name__}>"


def _name(err: BaseException) -> str:
    return type(err).__name__
