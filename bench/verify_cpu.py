"""Verification CPU per webhook type: ours vs the provider's SDK vs the raw floor (µs per call).

- ours: ``shared.ingress.receive`` (verify + decode + normalise) on an HttpRequest built once, the
  route matched once (as the handler does), the clock at the signing time. On the Vonage JWT routes
  the verifier is PyJWT-based: one unverified decode (alg, api_key), one ``jwt.decode`` per secret
  tried, then our rules (times against the injected clock, application_id, payload_hash);
- SDK: Twilio — ``twilio.request_validator.RequestValidator.validate`` on the URL, the form already
  parsed into a dict (what a web framework hands it) and the header; Vonage JWT routes —
  ``vonage_jwt.verify_signature`` (one PyJWT ``jwt.decode``, no issuer, no required claims, no
  maximum age) plus the SHA-256 ``payload_hash`` check (claims read from the token's base64url
  JSON, sha256(body) compared in constant time). Both sides run the same PyJWT, so the ratio is
  what our rules and the second (unverified) parse cost, not a different library;
- pyjwt_decode (JWT routes): a bare ``jwt.decode(token, secret, algorithms=["HS256"])``, the least a
  PyJWT-based verifier can do, next to ``verify_vonage_jwt`` alone; pyjwt_unverified: the unverified
  ``jwt.decode_complete`` our verifier reads ``alg`` and ``api_key`` with; pyjwt_b64_claims: PyJWT's
  base64url check and decode of the claims segment alone (a private helper, timed to explain
  where a decode's time goes);
- floor: hmac/hashlib/json/urllib.parse only, doing the same checks with no error handling, no
  diagnostics and no normalisation.

Each callable is checked once to accept its request, then timed in interleaved repeats.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

from bench.common import Stat, interleaved_us, signed_cases

REPEATS = 9


def _b64url(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def _jwt_floor(token: str, secret: bytes, body: bytes, query: str) -> Callable[[], bool]:
    def floor() -> bool:
        h, c, sig = token.split(".")
        header = json.loads(_b64url(h))
        claims = json.loads(_b64url(c))
        mac = hmac.new(secret, f"{h}.{c}".encode(), hashlib.sha256).digest()
        ok = header["alg"] == "HS256" and hmac.compare_digest(mac, _b64url(sig))
        ok = ok and hmac.compare_digest(claims["payload_hash"], hashlib.sha256(body).hexdigest())
        data = json.loads(body) if body else dict(parse_qsl(query))
        return ok and bool(data)

    return floor


def _jwt_sdk(token: str, secret: str, body: bytes) -> Callable[[], bool]:
    from vonage_jwt import verify_signature  # type: ignore[import-untyped, import-not-found, unused-ignore]

    def sdk() -> bool:
        if not verify_signature(token, secret):
            return False
        claims = json.loads(_b64url(token.split(".")[1]))
        return hmac.compare_digest(str(claims["payload_hash"]), hashlib.sha256(body).hexdigest())

    return sdk


def _pyjwt_parts(token: str, secret: str) -> dict[str, Callable[[], object]]:
    import jwt
    from jwt.api_jws import PyJWS

    claims_segment = token.split(".")[1].encode("ascii")

    def decode() -> object:
        return jwt.decode(token, secret, algorithms=["HS256"])

    def unverified() -> object:
        return jwt.decode_complete(token, options={"verify_signature": False})

    def b64_claims() -> object:
        return PyJWS._decode_base64url_segment(claims_segment, "payload")

    return {"pyjwt_decode": decode, "pyjwt_unverified": unverified, "pyjwt_b64_claims": b64_claims}


def _sms_floor(query: str, body: bytes, media_type: str, secret: str) -> Callable[[], bool]:
    def floor() -> bool:
        if media_type == "application/json":
            params = {k: str(v) for k, v in json.loads(body).items()}
        else:
            params = dict(parse_qsl(query if not body else body.decode()))
        text = "".join(
            f"&{k}={params[k].replace('&', '_').replace('=', '_')}" for k in sorted(params) if k != "sig"
        )
        expected = hashlib.md5((text + secret).encode(), usedforsecurity=False).hexdigest()
        return hmac.compare_digest(expected, params["sig"].lower())

    return floor


def _ni_floor(query: str, body: bytes, token: str) -> Callable[[], bool]:
    def floor() -> bool:
        provided = dict(parse_qsl(query)).get("token", "")
        return hmac.compare_digest(provided.encode(), token.encode()) and bool(json.loads(body))

    return floor


def _twilio_floor(url: str, body: bytes, signature: str, token: bytes) -> Callable[[], bool]:
    query = url.partition("?")[2]

    def floor() -> bool:
        params: dict[str, list[str]] = {}
        for k, v in parse_qsl(body.decode() or query, keep_blank_values=True):
            params.setdefault(k, []).append(v)
        signed = params if body else {}  # a GET signs the URL alone; its data is the query
        text = url + "".join(k + v for k in sorted(signed) for v in sorted(set(signed[k])))
        mac = base64.b64encode(hmac.new(token, text.encode(), hashlib.sha1).digest()).decode()
        return hmac.compare_digest(mac, signature) and bool(params)

    return floor


def _twilio_sdk(url: str, body: bytes, signature: str, token: str) -> Callable[[], bool]:
    from twilio.request_validator import RequestValidator

    validator = RequestValidator(token)
    params = dict(parse_qsl(body.decode(), keep_blank_values=True))  # parsed once, as a framework does

    def sdk() -> bool:
        return bool(validator.validate(url, params, signature))

    return sdk


def _twilio_sdk_with_parse(url: str, body: bytes, signature: str, token: str) -> Callable[[], bool]:
    """The SDK as an app uses it without a framework: parse the parameters (the form, or the query
    of a GET — the app needs the data either way), then validate (a GET signs the URL alone)."""
    from twilio.request_validator import RequestValidator

    validator = RequestValidator(token)
    query = url.partition("?")[2]

    def sdk() -> bool:
        data = dict(parse_qsl(body.decode() or query, keep_blank_values=True))
        return bool(validator.validate(url, data if body else {}, signature)) and bool(data)

    return sdk


def run() -> dict[str, Any]:
    from bench.common import dev_secrets_text
    from shared.config import ProviderSecrets, Settings
    from shared.http import request_from_apigw
    from shared.ingress import match_route, receive
    from shared.verify.twilio import verify_twilio_signature
    from shared.verify.vonage_jwt import verify_vonage_jwt

    secrets = ProviderSecrets.from_json(dev_secrets_text())
    settings = Settings()
    api_key, vonage_secrets = next(iter(secrets.vonage_signature_secrets.items()))
    sid, twilio_tokens = next(iter(secrets.twilio_auth_tokens.items()))
    ni_token = secrets.number_insight_token or ""
    out: dict[str, Any] = {"cases": []}

    for case in signed_cases():
        now = datetime.fromtimestamp(case.signed_at, UTC)
        request = request_from_apigw(case.event, max_body_bytes=settings.max_body_bytes)
        route = match_route(request.method, request.raw_path)

        def ours(request: Any = request, route: Any = route, now: datetime = now) -> object:
            return receive(request, secrets, settings, now=now, route=route)

        contenders: dict[str, Callable[[], object]] = {"ours": ours}
        if route.scheme == "vonage_jwt":
            token = (request.header("authorization") or "").split(" ", 1)[1]
            contenders["sdk"] = _jwt_sdk(token, vonage_secrets[0], request.body)
            contenders["floor"] = _jwt_floor(
                token, vonage_secrets[0].encode(), request.body, request.raw_query
            )
            auth, body, ts = request.header("authorization"), request.body, now.timestamp()

            def ours_verify_only(auth: str | None = auth, body: bytes = body, ts: float = ts) -> object:
                return verify_vonage_jwt(auth, body, secrets.vonage_signature_secrets, now=ts, max_age=86400)

            contenders["ours_verify_only"] = ours_verify_only
            contenders.update(_pyjwt_parts(token, vonage_secrets[0]))
        elif route.scheme == "vonage_sms":
            contenders["floor"] = _sms_floor(
                request.raw_query, request.body, request.media_type, vonage_secrets[0]
            )
        elif route.scheme == "url_token":
            contenders["floor"] = _ni_floor(request.raw_query, request.body, ni_token)
        elif route.scheme == "twilio":
            url, sig = request.url(), request.header("x-twilio-signature") or ""
            contenders["sdk"] = _twilio_sdk(url, request.body, sig, twilio_tokens[0])
            contenders["floor"] = _twilio_floor(url, request.body, sig, twilio_tokens[0].encode())
            form = request.form_params() if request.method == "POST" else None
            sid_value = dict(parse_qsl(request.body.decode() or request.raw_query)).get("account_sid")

            def twilio_verify_only(
                url: str = url, form: Any = form, sig: str = sig, sid: Any = sid_value
            ) -> object:
                return verify_twilio_signature(url, form, sig, secrets.twilio_auth_tokens, account_sid=sid)

            contenders["ours_verify_only"] = twilio_verify_only
            contenders["sdk_with_parse"] = _twilio_sdk_with_parse(url, request.body, sig, twilio_tokens[0])

        for name, fn in contenders.items():
            result = fn()
            if result is False or result is None:
                raise RuntimeError(f"{case.name}: {name} rejected its own valid request")

        numbers, samples = interleaved_us(contenders, repeats=REPEATS)
        out["cases"].append(
            {
                "name": case.name,
                "scheme": route.scheme,
                "body_bytes": len(request.body),
                "query_bytes": len(request.raw_query),
                "stats": {name: Stat.of(v, "µs").to_json() for name, v in samples.items()},
                "calls_per_repeat": numbers,
            }
        )
    del api_key, sid
    return out
