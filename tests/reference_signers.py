"""Reference signers for the verifier tests, independent of ``shared`` (nothing is imported from it).

- Vonage JWT: PyJWT ``jwt.encode(..., algorithm="HS256")`` over Vonage-shaped claims, a builder
  for hand-made tokens (``alg: none`` and other headers PyJWT will not produce for us), and an
  HS256 signer written with ``hmac`` over verbatim JSON text (claims no JSON encoder writes).
- Vonage SMS ``sig``: written from the algorithm text (providers reference, section 3.4), not from
  the code under test. HMAC results are upper-case hex, as Vonage sends them; md5hash is lower-case.
- Twilio (form, JSON and Event Streams deliveries): the vendor's own
  ``twilio.request_validator.RequestValidator``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import jwt
from twilio.request_validator import RequestValidator

VONAGE_ISSUER = "Vonage"
DEFAULT_APPLICATION_ID = "aaaaaaaa-bbbb-cccc-dddd-0123456789ab"
SMS_METHODS = ("md5hash", "md5", "sha1", "sha256", "sha512")


# --- Vonage signed webhooks (JWT) ----------------------------------------------------------------


def vonage_claims(body: bytes, api_key: str, iat: float, **extra: Any) -> dict[str, Any]:
    """Claims shaped like Vonage's: iat, jti, iss, payload_hash, api_key, application_id (in that order).

    ``extra`` overrides any of them (keeping its position) or adds new ones (exp, nbf, ...).
    """
    claims: dict[str, Any] = {
        "iat": iat,
        "jti": str(uuid.uuid4()),
        "iss": VONAGE_ISSUER,
        "payload_hash": hashlib.sha256(body).hexdigest(),
        "api_key": api_key,
        "application_id": DEFAULT_APPLICATION_ID,
    }
    claims.update(extra)
    return claims


def vonage_jwt_token(
    claims: Mapping[str, Any], secret: str, *, algorithm: str = "HS256", headers: dict[str, Any] | None = None
) -> str:
    return jwt.encode(dict(claims), secret, algorithm=algorithm, headers=headers)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def hand_built_jwt(header: Mapping[str, Any], claims: Mapping[str, Any], signature: bytes = b"") -> str:
    """A compact JWS assembled by hand; an empty ``signature`` gives an RFC 7519 unsecured token."""
    head = _b64url(json.dumps(dict(header), separators=(",", ":")).encode("utf-8"))
    body = _b64url(json.dumps(dict(claims), separators=(",", ":")).encode("utf-8"))
    return f"{head}.{body}.{_b64url(signature)}"


def bearer(token: str) -> str:
    return f"Bearer {token}"


def hs256_jwt_from_json(header_json: str, claims_json: str, secret: str) -> str:
    """A compact HS256 JWS over JSON texts given verbatim, signed with ``hmac`` by hand: for claims
    no JSON encoder writes (``1e400``, ``NaN``, 400-digit integers, ``"\\ud800"``, deep nesting)."""
    head = _b64url(header_json.encode("utf-8"))
    body = _b64url(claims_json.encode("utf-8"))
    mac = hmac.new(secret.encode("utf-8"), f"{head}.{body}".encode("ascii"), hashlib.sha256).digest()
    return f"{head}.{body}.{_b64url(mac)}"


# --- Vonage SMS API signed messages (sig) --------------------------------------------------------

_SIG_VALUE_REPLACEMENTS = str.maketrans({"&": "_", "=": "_"})


def sms_sig(params: Mapping[str, str], secret: str, method: str) -> str:
    """The ``sig`` Vonage would send for ``params`` (reference section 3.4, steps 1-5).

    1. every parameter but ``sig``; 2. sorted by name in code-point order; 3. ``&`` and ``=`` in each
    value become ``_``; 4. ``&name=value`` concatenated (leading ``&``); 5. md5hash = MD5(string +
    secret), otherwise HMAC keyed with the secret.
    """
    names = sorted(name for name in params if name != "sig")
    string = "".join("&" + name + "=" + params[name].translate(_SIG_VALUE_REPLACEMENTS) for name in names)
    if method == "md5hash":
        return hashlib.md5((string + secret).encode("utf-8"), usedforsecurity=False).hexdigest()
    if method not in SMS_METHODS:
        raise ValueError(method)
    return hmac.new(secret.encode("utf-8"), string.encode("utf-8"), method).hexdigest().upper()


# --- Twilio --------------------------------------------------------------------------------------


class _MultiParams:
    """The smallest MultiDict the Twilio SDK understands (it calls ``getall`` for each name)."""

    def __init__(self, pairs: Iterable[tuple[str, str]]) -> None:
        self._pairs = list(pairs)

    def __iter__(self) -> Iterator[str]:
        return iter([name for name, _ in self._pairs])

    def __len__(self) -> int:
        return len(self._pairs)

    def getall(self, name: str) -> list[str]:
        return [value for key, value in self._pairs if key == name]


def twilio_signature(url: str, params: Mapping[str, Sequence[str]] | None, auth_token: str) -> str:
    """``X-Twilio-Signature`` as twilio-python computes it; repeated names passed through ``getall``."""
    multi = _MultiParams((name, value) for name, values in (params or {}).items() for value in values)
    signature: str = RequestValidator(auth_token).compute_signature(url, multi)
    return signature


def twilio_body_hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def twilio_event_streams_request(sink_url: str, body: bytes, auth_token: str) -> tuple[str, str]:
    """A Twilio Event Streams delivery of ``body`` to ``sink_url``: the URL Twilio calls (the sink's
    with ``bodySHA256`` = the SHA-256 hex of the raw body appended to its query) and the
    ``X-Twilio-Signature`` over that full URL with no POST parameters (providers-more.md §7.2), as
    twilio-python computes it; the vendor's ``validate`` must accept the pair with the raw body."""
    joiner = "&" if "?" in sink_url else "?"
    url = f"{sink_url}{joiner}bodySHA256={hashlib.sha256(body).hexdigest()}"
    validator = RequestValidator(auth_token)
    signature: str = validator.compute_signature(url, {})
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:  # the vendor's validate reads a str: it cannot take these bytes
        return url, signature
    assert validator.validate(url, text, signature), "the vendor refuses its own request"
    return url, signature
