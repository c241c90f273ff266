"""Twilio ``X-Twilio-Signature``: HMAC-SHA1 over the public URL plus the sorted POST parameters.

Exactly as twilio's own SDK computes it (request_validator.py): the full URL with its raw query
string; for form POSTs every parameter name, sorted, followed by each of its *distinct* values,
sorted; Base64. JSON bodies are signed over the URL alone, which carries ``bodySHA256`` = the SHA-256
hex of the raw body. The URL is tried as received, without its port and with the scheme's default
port, as the SDK does. The account's auth tokens (newest first, for rotation) are chosen by its SID.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import parse_qsl

from shared.errors import PayloadHashMismatch, SignatureInvalid, SignatureMissing, UnknownAccount

SIGNATURE_HEADER = "x-twilio-signature"
DEFAULT_PORTS = {"https": "443", "http": "80"}


@dataclass(frozen=True)
class TwilioIdentity:
    account_sid: str
    url: str  # the URL variant that matched
    token_index: int


def compute_twilio_signature(
    url: str, params: Mapping[str, Sequence[str] | str] | None, auth_token: str
) -> str:
    parts = [url]
    if params:
        for name in sorted(params):
            values = params[name]
            if isinstance(values, str):
                values = [values]
            for value in sorted(set(values)):
                parts.append(name)
                parts.append(value)
    mac = hmac.new(auth_token.encode("utf-8"), "".join(parts).encode("utf-8"), hashlib.sha1)
    return base64.b64encode(mac.digest()).decode("ascii")


def url_variants(url: str) -> list[str]:
    """The URL as received, without any port, and with the scheme's default port (deduplicated)."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return [url]
    cut = min((i for i in (rest.find("/"), rest.find("?"), rest.find("#")) if i >= 0), default=len(rest))
    netloc, tail = rest[:cut], rest[cut:]
    userinfo, at, hostport = netloc.rpartition("@")
    if hostport.startswith("["):  # IPv6 literal
        end = hostport.find("]")
        host, port = hostport[: end + 1], hostport[end + 2 :] if end + 1 < len(hostport) else ""
    else:
        host, _, port = hostport.partition(":")
    prefix = f"{scheme}://{userinfo}{at}"
    without_port = f"{prefix}{host}{tail}"
    default = DEFAULT_PORTS.get(scheme.lower())
    with_port = f"{prefix}{host}:{port or default}{tail}" if (port or default) else without_port
    out: list[str] = []
    for candidate in (url, without_port, with_port):
        if candidate not in out:
            out.append(candidate)
    return out


def verify_twilio_signature(
    url: str,
    params: Mapping[str, Sequence[str]] | None,
    signature: str | None,
    auth_tokens: Mapping[str, Sequence[str]],
    *,
    account_sid: str | None,
    json_body: bytes | None = None,
) -> TwilioIdentity:
    """Verify a Twilio request. ``params`` are the form parameters (None for GET and JSON bodies);
    ``json_body`` is the raw body when the request is JSON (signed through ``bodySHA256``)."""
    if not signature or not signature.strip():
        raise SignatureMissing(rule="no X-Twilio-Signature header")
    if not account_sid:
        raise UnknownAccount(rule="no account_sid / AccountSid parameter to select the auth token")
    tokens = auth_tokens.get(account_sid)
    if not tokens:
        raise UnknownAccount(rule="account has no configured auth token", account_sid=account_sid)
    if json_body is not None:
        query = url.partition("?")[2].partition("#")[0]
        claimed = [v for k, v in parse_qsl(query, keep_blank_values=True) if k == "bodySHA256"]
        if not claimed:
            raise PayloadHashMismatch(rule="a JSON body needs bodySHA256 in the signed URL")
        actual = hashlib.sha256(json_body).hexdigest().encode("ascii")
        if not hmac.compare_digest(claimed[-1].strip().lower().encode("utf-8", "surrogatepass"), actual):
            raise PayloadHashMismatch(rule="sha256(raw body) != bodySHA256", body_bytes=len(json_body))
        params = None
    provided = signature.strip().encode("utf-8", "surrogatepass")  # a lone surrogate matches nothing
    variants = url_variants(url)
    for index, token in enumerate(tokens):
        for variant in variants:
            expected = compute_twilio_signature(variant, params, token).encode("ascii")
            if hmac.compare_digest(expected, provided):
                return TwilioIdentity(account_sid=account_sid, url=variant, token_index=index)
    raise SignatureInvalid(
        rule="HMAC-SHA1 over URL + sorted params matches no auth token",
        account_sid=account_sid,
        urls_tried=[_redact_query(v) for v in variants],
        tokens_tried=len(tokens),
        param_names=sorted(params) if params else [],
    )


def _redact_query(url: str) -> str:
    """URLs in diagnostics keep parameter names, never values (they may hold phone numbers)."""
    base, sep, query = url.partition("?")
    if not sep:
        return url
    names = [pair.partition("=")[0] + "=…" if "=" in pair else "…" for pair in query.split("&")]
    return f"{base}?{'&'.join(names)}"
