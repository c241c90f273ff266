"""Twilio's verification scheme: ``X-Twilio-Signature`` over the URL and the form parameters, or over
the URL with ``bodySHA256`` for a JSON body (providers.md §7)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.config import ProviderSecrets, Settings
from shared.errors import UnsupportedMediaType
from shared.http import HttpRequest, Params, flatten
from shared.providers.base import Route
from shared.verify.request import (
    FORM_TYPE,
    JSON_TYPES,
    Verified,
    check_param_names,
    credential_id,
    first_text,
)
from shared.verify.twilio import SIGNATURE_HEADER, verify_twilio_signature


def twilio(
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
    sid = first_text(body_data, "account_sid", "AccountSid")
    identity = verify_twilio_signature(
        url, form, signature, secrets.twilio_auth_tokens, account_sid=sid, json_body=json_body
    )
    credential = credential_id("twilio", identity.account_sid, str(signature).strip())
    return identity.account_sid, body_data, credential


SCHEMES = {"twilio": twilio}
