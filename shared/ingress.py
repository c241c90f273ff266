"""The request path: route → verify → decode → normalise. Pure: no AWS, no environment.

``receive`` takes a request, the secrets and the settings, and returns one normalised event or
raises a typed error. Signatures are checked before a body is decoded wherever the scheme allows it
(Vonage JWT, Twilio JSON); the form-based schemes sign the decoded parameters, so those are parsed
first, with strict UTF-8.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from shared.config import ProviderSecrets, Settings
from shared.errors import (
    BadRequest,
    InvalidField,
    MethodNotAllowed,
    RouteNotFound,
    UnsupportedMediaType,
)
from shared.http import HttpRequest, Params, flatten, last_values
from shared.normalise import normalise
from shared.verify.twilio import SIGNATURE_HEADER, verify_twilio_signature
from shared.verify.url_token import TOKEN_PARAM, verify_url_token
from shared.verify.vonage_sms import verify_sms_signature

JSON_TYPES = ("application/json", "text/json")
FORM_TYPE = "application/x-www-form-urlencoded"
# Twilio signs ``name1value1name2value2…`` and the SMS API ``&name=value…`` with ``&``/``=`` replaced
# in values only: neither separates names from values, so a captured request can be re-split
# (``uuid=X`` → ``u=uidX``; ``api-key=K&err-code=0`` as one percent-encoded name) and still verify.
# No real parameter of either provider needs another character, and every SMS re-split needs ``&``
# or ``=`` in a name: names outside this set are refused before anything is verified.
PARAM_NAME = re.compile(r"[A-Za-z0-9_-]+")


@dataclass(frozen=True)
class Route:
    path: str
    methods: tuple[str, ...]
    provider: str  # vonage | twilio
    scheme: str  # vonage_jwt | vonage_sms | twilio | url_token
    product: str
    kind: str | None = None


ROUTES: dict[str, Route] = {
    r.path: r
    for r in (
        Route("/vonage/verify", ("POST",), "vonage", "vonage_jwt", "verify"),
        Route("/vonage/messages/inbound", ("POST",), "vonage", "vonage_jwt", "messages", "inbound"),
        Route("/vonage/messages/status", ("POST",), "vonage", "vonage_jwt", "messages", "status"),
        Route("/vonage/sms/inbound", ("GET", "POST"), "vonage", "vonage_sms", "sms", "inbound"),
        Route("/vonage/sms/receipt", ("GET", "POST"), "vonage", "vonage_sms", "sms", "receipt"),
        Route("/vonage/voice/answer", ("GET", "POST"), "vonage", "vonage_jwt", "voice", "answer"),
        Route("/vonage/voice/event", ("GET", "POST"), "vonage", "vonage_jwt", "voice", "event"),
        Route("/vonage/number-insight", ("POST",), "vonage", "url_token", "number_insight"),
        Route("/twilio/verify-push", ("GET", "POST"), "twilio", "twilio", "verify_push"),
    )
}


def match_route(method: str, path: str) -> Route:
    route = ROUTES.get(path.rstrip("/") or "/")
    if route is None:
        raise RouteNotFound(path=path[:200])
    if method not in route.methods:
        raise MethodNotAllowed(method=method[:10], allowed=list(route.methods))
    return route


@dataclass(frozen=True)
class Received:
    event: dict[str, Any]
    # The signed credential that vouched for the event: a Vonage JWT, a Twilio signature or an SMS
    # ``sig``, hashed with its account. The recorder binds each credential to one event id, so a
    # captured credential cannot vouch for a second event: a JWT reused on another route or with a
    # GET query it does not sign, a Twilio or SMS request re-split into different parameters.
    credential: str | None = None


def receive(
    request: HttpRequest,
    secrets: ProviderSecrets,
    settings: Settings,
    *,
    now: datetime | None = None,
    route: Route | None = None,
) -> dict[str, Any]:
    """Verify the request and return its normalised event. Raises a SwitchboardError otherwise."""
    return receive_with_credential(request, secrets, settings, now=now, route=route).event


def receive_with_credential(
    request: HttpRequest,
    secrets: ProviderSecrets,
    settings: Settings,
    *,
    now: datetime | None = None,
    route: Route | None = None,
) -> Received:
    now = now or datetime.now(UTC)
    route = route or match_route(request.method, request.route_path(settings.public_base_url))
    verify = _SCHEMES[route.scheme]
    account_id, data, credential = verify(request, route, secrets, settings, now.timestamp())
    event = normalise(route.product, route.kind, data, account_id=account_id, received_at=now)
    return Received(event, credential)


# --- one function per scheme: (request, …) -> (account_id, decoded payload) ----------------------

Verified = tuple[str | None, Mapping[str, Any], str | None]  # account id, payload, credential


def _vonage_jwt(
    request: HttpRequest, route: Route, secrets: ProviderSecrets, settings: Settings, now: float
) -> Verified:
    # Imported here so that PyJWT is loaded only by the function that verifies JWTs (VonageFunction
    # imports this module at init); TwilioFunction never pays for it.
    from shared.verify.vonage_jwt import verify_vonage_jwt

    identity = verify_vonage_jwt(
        request.header("authorization"),
        request.body,
        secrets.vonage_signature_secrets,
        now=now,
        max_age=settings.vonage_jwt_max_age_s,
        skew=settings.clock_skew_s,
        application_ids=secrets.vonage_application_ids,
    )
    credential = credential_id("vonage-jwt", identity.api_key, identity.jti or identity.signature)
    if request.method == "GET":  # voice answer/event with GET: all data in the query string
        if request.body:
            raise BadRequest("a GET request carries no body")
        return identity.api_key, flatten(request.query_params()), credential
    _require_json(request)
    return identity.api_key, request.json_object(), credential


def _vonage_sms(
    request: HttpRequest, route: Route, secrets: ProviderSecrets, settings: Settings, now: float
) -> Verified:
    if request.method == "GET":
        params = last_values(request.query_params())
    elif request.media_type in JSON_TYPES:
        params = {k: _param_text(v) for k, v in request.json_object().items()}
    elif request.media_type in (FORM_TYPE, ""):
        params = last_values(request.form_params())
    else:
        raise UnsupportedMediaType(media_type=request.media_type[:64], expected=[FORM_TYPE, *JSON_TYPES])
    check_param_names(params)
    identity = verify_sms_signature(
        params,
        secrets.vonage_signature_secrets,
        secrets.vonage_sms_signature_methods,
        now=now,
        max_age=settings.sms_max_age_s,
        skew=settings.clock_skew_s,
    )
    data = {k: v for k, v in params.items() if k != "sig"}
    return (
        identity.api_key,
        data,
        credential_id("vonage-sms", identity.api_key, params["sig"].strip().lower()),
    )


def _twilio(
    request: HttpRequest, route: Route, secrets: ProviderSecrets, settings: Settings, now: float
) -> Verified:
    url = request.url(settings.public_base_url)
    signature = request.header(SIGNATURE_HEADER)
    query = request.query_params()
    check_param_names(query)
    form: Params | None = None
    json_body: bytes | None = None
    if request.method == "POST" and request.media_type in JSON_TYPES:
        json_body = request.body
        body_data: Mapping[str, Any] = request.json_object()
    elif request.method == "POST":
        if request.media_type not in (FORM_TYPE, ""):
            raise UnsupportedMediaType(media_type=request.media_type[:64], expected=[FORM_TYPE, *JSON_TYPES])
        form = request.form_params()
        check_param_names(form)
        body_data = flatten(form)
    else:
        body_data = flatten(query)
    sid = _first_text(body_data, "account_sid", "AccountSid")
    identity = verify_twilio_signature(
        url, form, signature, secrets.twilio_auth_tokens, account_sid=sid, json_body=json_body
    )
    credential = credential_id("twilio", identity.account_sid, str(signature).strip())
    return identity.account_sid, body_data, credential


def _url_token(
    request: HttpRequest, route: Route, secrets: ProviderSecrets, settings: Settings, now: float
) -> Verified:
    provided = request.query_params().get(TOKEN_PARAM, [None])[-1]
    verify_url_token(provided, secrets.number_insight_token)
    _require_json(request)
    return None, request.json_object(), None


_SCHEMES = {
    "vonage_jwt": _vonage_jwt,
    "vonage_sms": _vonage_sms,
    "twilio": _twilio,
    "url_token": _url_token,
}


def check_param_names(names: Iterable[str]) -> None:
    """Refuse a parameter name outside ``PARAM_NAME`` (see there why) with 400 ``invalid_field``."""
    for name in names:
        if not PARAM_NAME.fullmatch(name):
            raise InvalidField(
                "parameter names may hold only ASCII letters, digits, '_' and '-'",
                field=ascii(name[:64]),
            )


def credential_id(kind: str, account: str, signature: str) -> str:
    """A signed credential as the recorder binds it: its kind and a hash of account + signature
    (the signature itself is not stored). Every part is verified text already; ``surrogatepass``
    only makes sure this can never raise on the request path."""
    material = f"{account}\x1f{signature}".encode("utf-8", "surrogatepass")
    return f"{kind}:{hashlib.sha256(material).hexdigest()[:40]}"


def _require_json(request: HttpRequest) -> None:
    # Vonage sends application/json; an absent content type is tolerated, a form body is not.
    if request.media_type not in (*JSON_TYPES, ""):
        raise UnsupportedMediaType(media_type=request.media_type[:64], expected=list(JSON_TYPES))


def _param_text(value: Any) -> str:
    """SMS POST-JSON values as Vonage signs them: strings as they are, scalars as their JSON text."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    return str(value)


def _first_text(data: Mapping[str, Any], *names: str) -> str | None:
    for name in names:
        value = data.get(name)
        if isinstance(value, list):
            value = value[-1] if value else None
        if isinstance(value, str) and value:
            return value
    return None
