"""Sign requests exactly as Vonage and Twilio do, for `switchboard send`, the sample events and tests.

Vonage JWT: HS256 over {iat, jti, iss: "Vonage", payload_hash: sha256(body), api_key,
application_id} with the account's newest signature secret. SMS API: ``sig`` with the account's
configured method over the parameters plus a fresh ``timestamp`` and ``nonce``. Twilio:
``X-Twilio-Signature`` over the exact target URL and the form parameters; Twilio Event Streams: over
the target URL with ``bodySHA256`` (the SHA-256 hex of the exact JSON body) appended.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

import jwt
from jwt.warnings import InsecureKeyLengthWarning

from shared.config import URL_TOKEN_KEYS, ProviderSecrets
from shared.ingress import ROUTES, Route
from shared.verify.twilio import compute_twilio_signature
from shared.verify.vonage_sms import compute_sms_signature


@dataclass
class SignedRequest:
    method: str
    url: str  # full URL, raw query string included
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    @property
    def path(self) -> str:
        return urlsplit(self.url).path

    @property
    def query(self) -> str:
        return urlsplit(self.url).query


def json_bytes(payload: Mapping[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def vonage_jwt(
    body: bytes,
    api_key: str,
    secret: str,
    *,
    iat: int,
    jti: str | None = None,
    application_id: str | None = None,
) -> str:
    claims: dict[str, Any] = {
        "iat": iat,
        "jti": jti or str(uuid.uuid4()),
        "iss": "Vonage",
        "payload_hash": hashlib.sha256(body).hexdigest(),
        "api_key": api_key,
    }
    if application_id:
        claims["application_id"] = application_id
    with warnings.catch_warnings():  # a short signature secret is the account's choice, not ours
        warnings.simplefilter("ignore", InsecureKeyLengthWarning)
        return jwt.encode(claims, secret, algorithm="HS256")


def first_vonage_account(secrets: ProviderSecrets) -> tuple[str, str]:
    for api_key, values in secrets.vonage_signature_secrets.items():
        return api_key, values[0]
    raise LookupError("the secrets document has no vonage.signature_secrets")


def first_twilio_account(secrets: ProviderSecrets) -> tuple[str, str]:
    for sid, values in secrets.twilio_auth_tokens.items():
        return sid, values[0]
    raise LookupError("the secrets document has no twilio.auth_tokens")


@dataclass
class SignInput:
    """What a scheme's dev signer gets: the target URL, the payload and how to send it (made fresh
    for each call: a signer may refine it, e.g. add the query to ``url``)."""

    url: str
    payload: Any
    secrets: ProviderSecrets
    now: int
    method: str
    encoding: str | None
    nonce: str | None


def sign(
    route: Route,
    payload: Any,
    secrets: ProviderSecrets,
    base_url: str,
    *,
    now: int,
    method: str | None = None,
    encoding: str | None = None,
    nonce: str | None = None,
) -> SignedRequest:
    """Build the request the provider would send for ``payload`` to ``base_url + route.path``, with
    the dev signer of the route's scheme (``SIGNERS``).

    ``encoding`` picks how parameters travel: "json", "form" or "query" (default per route).
    ``nonce`` seeds the JWT id / SMS nonce (random when omitted).
    """
    signer = SIGNERS.get(route.scheme)
    if signer is None:
        raise ValueError(f"unknown scheme {route.scheme}")
    url = base_url.rstrip("/") + route.path
    return signer(SignInput(url, payload, secrets, now, method or route.methods[-1], encoding, nonce))


def _sign_vonage_jwt(r: SignInput) -> SignedRequest:
    api_key, secret = first_vonage_account(r.secrets)
    app_id = next(iter(sorted(r.secrets.vonage_application_ids)), "aaaaaaaa-bbbb-4ccc-8ddd-0123456789ab")
    if r.method == "GET":
        r.url = f"{r.url}?{urlencode(_text_params(r.payload))}"
        body = b""
        headers = {}
    else:
        body = json_bytes(r.payload)
        headers = {"content-type": "application/json"}
    token = vonage_jwt(body, api_key, secret, iat=r.now, jti=r.nonce, application_id=app_id)
    return SignedRequest(r.method, r.url, {**headers, "authorization": f"Bearer {token}"}, body)


def _sign_vonage_sms(r: SignInput) -> SignedRequest:
    api_key, secret = first_vonage_account(r.secrets)
    params = {k: v for k, v in _text_params(r.payload).items() if k not in ("sig",)}
    params.update({"api-key": api_key, "timestamp": str(r.now), "nonce": r.nonce or str(uuid.uuid4())})
    params["sig"] = compute_sms_signature(params, secret, r.secrets.sms_method(api_key))
    r.encoding = r.encoding or ("query" if r.method == "GET" else "form")
    if r.encoding == "query":
        return SignedRequest("GET", f"{r.url}?{urlencode(params)}")
    if r.encoding == "json":
        return SignedRequest("POST", r.url, {"content-type": "application/json"}, json_bytes(params))
    return SignedRequest(
        "POST", r.url, {"content-type": "application/x-www-form-urlencoded"}, urlencode(params).encode()
    )


def _sign_twilio(r: SignInput) -> SignedRequest:
    sid, token = first_twilio_account(r.secrets)
    params = {**_text_params(r.payload), "account_sid": sid}
    if r.method == "GET":
        r.url = f"{r.url}?{urlencode(params)}"
        return SignedRequest(
            "GET", r.url, {"x-twilio-signature": compute_twilio_signature(r.url, None, token)}
        )
    body = urlencode(params).encode()
    headers = {
        "content-type": "application/x-www-form-urlencoded",
        "x-twilio-signature": compute_twilio_signature(r.url, {k: [v] for k, v in params.items()}, token),
    }
    return SignedRequest("POST", r.url, headers, body)


def _sign_twilio_event_streams(r: SignInput) -> SignedRequest:
    """A sink delivery: ``r.payload`` (a list of CloudEvents) as the JSON body, ``bodySHA256`` appended
    to the URL's query, the full URL signed with the first account's newest auth token. The events
    are made that account's own, as Twilio's are (the receiver refuses an event naming another)."""
    sid, token = first_twilio_account(r.secrets)
    body = json.dumps(own_events(r.payload, sid), separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    r.url = (
        f"{r.url}{'&' if '?' in r.url else '?'}{urlencode({'bodySHA256': hashlib.sha256(body).hexdigest()})}"
    )
    headers = {
        "content-type": "application/json",
        "x-twilio-signature": compute_twilio_signature(r.url, None, token),
    }
    return SignedRequest(r.method, r.url, headers, body)


def own_events(payload: Any, sid: str) -> Any:
    """``payload`` with every account SID a CloudEvent names (``data.account_sid``, ``/Accounts/AC…``
    in ``source``) replaced by ``sid``."""
    if not isinstance(payload, list):
        return payload
    out = []
    for item in payload:
        if isinstance(item, dict):
            item = dict(item)
            if isinstance(item.get("data"), dict) and "account_sid" in item["data"]:
                item["data"] = {**item["data"], "account_sid": sid}
            if isinstance(item.get("source"), str):
                item["source"] = re.sub(r"/Accounts/AC[0-9A-Za-z]+", f"/Accounts/{sid}", item["source"])
        out.append(item)
    return out


def _sign_url_token(r: SignInput) -> SignedRequest:
    """The route's own URL token (``ProviderSecrets.url_token``: Number Insight's, or the short
    codes'), chosen by the route the URL ends with. ``encoding``: "query" (GET, the data beside the
    token), "json" (the POST default) or "form"."""
    route = max(
        (x for x in ROUTES.values() if urlsplit(r.url).path.endswith(x.path)), key=lambda x: len(x.path)
    )
    token = r.secrets.url_token(route.product)
    if not token:
        raise LookupError(f"the secrets document has no {URL_TOKEN_KEYS.get(route.product)}")
    r.encoding = r.encoding or ("query" if r.method == "GET" else "json")
    if r.encoding == "query":
        return SignedRequest("GET", f"{r.url}?{urlencode({**_text_params(r.payload), 'token': token})}")
    r.url = f"{r.url}?{urlencode({'token': token})}"
    if r.encoding == "form":
        body = urlencode(_text_params(r.payload)).encode()
        return SignedRequest("POST", r.url, {"content-type": "application/x-www-form-urlencoded"}, body)
    return SignedRequest("POST", r.url, {"content-type": "application/json"}, json_bytes(r.payload))


# The dev signer of each verification scheme (shared.providers.*.verifiers hold the verifiers).
SIGNERS: dict[str, Callable[[SignInput], SignedRequest]] = {
    "vonage_jwt": _sign_vonage_jwt,
    "vonage_sms": _sign_vonage_sms,
    "twilio": _sign_twilio,
    "twilio_event_streams": _sign_twilio_event_streams,
    "url_token": _sign_url_token,
}


def _text_params(payload: Mapping[str, Any]) -> dict[str, str]:
    """Form/query parameters are strings; nested values travel as JSON text (Twilio metadata)."""
    out = {}
    for key, value in payload.items():
        if isinstance(value, str):
            out[key] = value
        elif isinstance(value, bool):
            out[key] = "true" if value else "false"
        elif isinstance(value, int | float):
            out[key] = str(value)
        elif value is not None:
            out[key] = json.dumps(value, separators=(",", ":"))
    return out
