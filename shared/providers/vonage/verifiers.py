"""Vonage's verification schemes: the signed JWT (Messages, Verify, Voice, and the newer JWT-signed
APIs), the SMS API ``sig``, and the secret URL token for the APIs Vonage does not sign (Number
Insight, US Short Codes). Each takes (request, route, secrets, settings, now) and returns the
verified account, the decoded payload and the credential the recorder binds to one event."""

from __future__ import annotations

from typing import Any

from shared.config import URL_TOKEN_KEYS, ProviderSecrets, Settings
from shared.errors import BadRequest, NotConfigured, UnsupportedMediaType
from shared.http import HttpRequest, flatten, last_values
from shared.providers.base import Route
from shared.verify.request import (
    FORM_TYPE,
    JSON_TYPES,
    Verified,
    check_param_names,
    credential_id,
    param_text,
    require_json,
)
from shared.verify.url_token import TOKEN_PARAM, verify_url_token
from shared.verify.vonage_sms import verify_sms_signature


def vonage_jwt(
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
    require_json(request)
    return identity.api_key, request.json_object(), credential


def vonage_sms(
    request: HttpRequest, route: Route, secrets: ProviderSecrets, settings: Settings, now: float
) -> Verified:
    if request.method == "GET":
        params = last_values(request.query_params())
    elif request.media_type in JSON_TYPES:
        params = {k: param_text(v) for k, v in request.json_object().items()}
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


def url_token(
    request: HttpRequest, route: Route, secrets: ProviderSecrets, settings: Settings, now: float
) -> Verified:
    """The APIs Vonage does not sign (Number Insight, US Short Codes): ``?token=`` in the URL, each
    product with its own secret (``ProviderSecrets.url_token``), so that one product's token never
    opens another's routes. The data is the GET query (the token taken out), a POST form or a POST
    JSON body; a ``token`` field is never kept. Form and query parameter names are checked as on the
    SMS routes. Short-code ``sig``/``timestamp``/``nonce`` parameters, if any, are kept in the data
    but not verified: Vonage documents none for short codes, and the URL token is what proves the
    caller. No credential is bound: the token is the same on every request."""
    expected = secrets.url_token(route.product)
    if not expected:
        key = URL_TOKEN_KEYS.get(route.product, f"{route.product}_token")
        raise NotConfigured(rule=f"{key} is not set in the secrets document")
    query = request.query_params()
    verify_url_token(query.get(TOKEN_PARAM, [None])[-1], expected)
    data: dict[str, Any]
    if request.method == "GET":
        if request.body:
            raise BadRequest("a GET request carries no body")
        check_param_names(query)
        data = flatten(query)
    elif request.media_type in (*JSON_TYPES, ""):
        data = request.json_object()
    elif request.media_type == FORM_TYPE:
        form = request.form_params()
        check_param_names(form)
        data = flatten(form)
    else:
        raise UnsupportedMediaType(media_type=request.media_type[:64], expected=[*JSON_TYPES, FORM_TYPE])
    data.pop(TOKEN_PARAM, None)
    return None, data, None


SCHEMES = {"vonage_jwt": vonage_jwt, "vonage_sms": vonage_sms, "url_token": url_token}
