"""Vonage's verification schemes: the signed JWT (Messages, Verify, Voice, and the newer JWT-signed
APIs), the SMS API ``sig``, and the secret URL token for the APIs Vonage does not sign (Number
Insight, US Short Codes). Each takes (request, route, secrets, settings, now) and returns the
verified account, the decoded payload and the credential the recorder binds to one event."""

from __future__ import annotations

from shared.config import ProviderSecrets, Settings
from shared.errors import BadRequest, UnsupportedMediaType
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
    provided = request.query_params().get(TOKEN_PARAM, [None])[-1]
    verify_url_token(provided, secrets.number_insight_token)
    require_json(request)
    return None, request.json_object(), None


SCHEMES = {"vonage_jwt": vonage_jwt, "vonage_sms": vonage_sms, "url_token": url_token}
