"""Typed domain errors. Every rejection has a stable ``code`` and an HTTP ``status``.

Logic raises these; exactly one place (``to_http``) turns them into a response. Nothing chooses a
status from message text. ``diagnostic`` says what was tried (URL variants, key ids, rule) and is
logged; it never holds a secret or a whole token and is never sent back to the caller.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar


class SwitchboardError(Exception):
    """Base of every error Switchboard maps to an HTTP answer."""

    code: ClassVar[str] = "internal_error"
    status: ClassVar[int] = 500
    public_message: ClassVar[str] = "internal error"

    def __init__(self, message: str | None = None, **diagnostic: Any) -> None:
        super().__init__(message or self.public_message)
        self.message = message or self.public_message
        self.diagnostic: dict[str, Any] = diagnostic


# --- signature / authentication (401 unless said otherwise) -------------------------------------


class SignatureError(SwitchboardError):
    """The request is not proven to come from the provider. Never produces an event."""

    code = "signature_invalid"
    status = 401
    public_message = "signature verification failed"


class SignatureMissing(SignatureError):
    code = "signature_missing"
    public_message = "the request carries no signature"


class UnsignedCallback(SignatureMissing):
    """No Authorization header on a JWT-signed Vonage route.

    Vonage documents that after an internal error it may send a callback unsigned and that a 5xx
    makes it retry, signed. So this is retryable (503), never an event.
    """

    status = 503
    public_message = "unsigned callback; retry with a signed request"


class SignatureInvalid(SignatureError):
    code = "signature_invalid"


class TokenMalformed(SignatureError):
    code = "token_malformed"
    public_message = "the bearer token is not a well-formed JWT"


class AlgorithmNotAllowed(SignatureError):
    code = "algorithm_not_allowed"
    public_message = "the token's algorithm is not accepted (HS256 only)"


class IssuerInvalid(SignatureError):
    code = "issuer_invalid"
    public_message = "the token's issuer is not Vonage"


class ClaimMissing(SignatureError):
    code = "claim_missing"
    public_message = "a required token claim is missing or malformed"


class PayloadHashMismatch(SignatureError):
    code = "payload_hash_mismatch"
    public_message = "the body does not match the signed hash"


class TokenExpired(SignatureError):
    code = "token_expired"
    public_message = "the signature is older than the replay window"


class TokenFromFuture(SignatureError):
    code = "token_from_future"
    public_message = "the signature is dated in the future"


class TimestampInvalid(SignatureError):
    code = "timestamp_invalid"
    public_message = "the signed timestamp is missing or not a number"


class UnknownApiKey(SignatureError):
    code = "unknown_api_key"
    public_message = "no signature secret is configured for this api key"


class UnknownAccount(SignatureError):
    code = "unknown_account"
    public_message = "no auth token is configured for this account"


class ApplicationNotAllowed(SignatureError):
    code = "application_not_allowed"
    public_message = "the token's application is not in the allow-list"


class NotConfigured(SwitchboardError):
    """A route whose secret is absent from the configuration. Retryable while it is fixed."""

    code = "not_configured"
    status = 503
    public_message = "this route is not configured"


# --- bad input (4xx) -----------------------------------------------------------------------------


class BadRequest(SwitchboardError):
    code = "bad_request"
    status = 400
    public_message = "bad request"


class InvalidJson(BadRequest):
    code = "invalid_json"
    public_message = "the body is not a JSON object"


class InvalidEncoding(BadRequest):
    code = "invalid_encoding"
    public_message = "the body is not valid UTF-8 or not valid base64"


class MissingField(BadRequest):
    code = "missing_field"
    public_message = "a required field is missing"


class InvalidField(BadRequest):
    code = "invalid_field"
    public_message = "a field has the wrong type"


class UnsupportedMediaType(SwitchboardError):
    code = "unsupported_media_type"
    status = 415
    public_message = "unsupported content type for this route"


class BodyTooLarge(SwitchboardError):
    code = "body_too_large"
    status = 413
    public_message = "the body exceeds the size limit"


class MethodNotAllowed(SwitchboardError):
    code = "method_not_allowed"
    status = 405
    public_message = "method not allowed on this route"


class RouteNotFound(SwitchboardError):
    code = "route_not_found"
    status = 404
    public_message = "no such route"


class NotFound(SwitchboardError):
    code = "not_found"
    status = 404
    public_message = "not found"


# --- infrastructure ------------------------------------------------------------------------------


class ConfigError(SwitchboardError):
    """Bad configuration. Raised at load time, naming the bad key."""

    code = "configuration_error"
    status = 500
    public_message = "Switchboard is misconfigured"


class StorageUnavailable(SwitchboardError):
    """A durable write failed: 503 so the provider retries and nothing is lost."""

    code = "storage_unavailable"
    status = 503
    public_message = "temporarily unable to store the event; retry"


class SecretsUnavailable(SwitchboardError):
    code = "secrets_unavailable"
    status = 503
    public_message = "temporarily unable to read the signing secrets; retry"


ERROR_CODES: dict[str, type[SwitchboardError]] = {}


def _collect(cls: type[SwitchboardError]) -> None:
    for sub in cls.__subclasses__():
        ERROR_CODES.setdefault(sub.code, sub)
        _collect(sub)


_collect(SwitchboardError)
ERROR_CODES.setdefault(SwitchboardError.code, SwitchboardError)


def to_http(err: SwitchboardError, *, request_id: str | None = None) -> tuple[int, dict[str, str], str]:
    """The one mapping from a domain error to (status, headers, body). No diagnostics leak out.

    A 4xx says what was wrong with the request (messages are written by us, never hold a secret);
    a 5xx says only its public text: configuration details stay in the logs.
    """
    message = err.message if err.status < 500 else err.public_message
    payload: dict[str, str] = {"error": err.code, "message": message}
    if request_id:
        payload["request_id"] = request_id
    headers = {"content-type": "application/json"}
    if err.status in (503, 429):
        headers["retry-after"] = "5"
    return err.status, headers, json.dumps(payload, separators=(",", ":"))
