"""Twilio's verification schemes: ``X-Twilio-Signature`` over the URL and the form parameters, or over
the URL with ``bodySHA256`` for a JSON body (providers.md §7); Event Streams sinks sign the second way
(providers-more.md §7.2)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from shared.config import ProviderSecrets, Settings
from shared.errors import SignatureInvalid, UnsupportedMediaType
from shared.http import HttpRequest, Params, flatten
from shared.providers.base import Route
from shared.providers.twilio.event_streams import VERIFY_TYPE_PREFIX
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


def twilio_event_streams(
    request: HttpRequest, route: Route, secrets: ProviderSecrets, settings: Settings, now: float
) -> Verified:
    """An Event Streams delivery: a JSON array of CloudEvents, POSTed with ``X-Twilio-Signature`` =
    HMAC-SHA1 (Auth Token, Base64) of the full URL, which carries ``bodySHA256`` = the SHA-256 hex of
    the raw body. Both are checked before the body is parsed; a JSON body whose URL has no
    ``bodySHA256`` is refused (``payload_hash_mismatch``), as is an unsigned one.

    The body names no account to pick a token (``data.account_sid`` is inside each event, and is
    only read after verification): every configured account is tried, and the one whose token
    verifies is the events' ``account_id``."""
    if request.media_type not in JSON_TYPES:
        raise UnsupportedMediaType(media_type=request.media_type[:64], expected=list(JSON_TYPES))
    url = request.url(settings.public_base_url)
    account = _signing_account(url, request.header(SIGNATURE_HEADER), request.body, secrets)
    # No credential: the signature fixes the URL and, through bodySHA256, the body byte for byte, so
    # a captured request can only ever yield these same events again, which dedupe by CloudEvent id.
    # The recorder's binding (one credential, one event) cannot apply to a request of many events.
    items = request.json_array()
    _check_accounts(items, account)
    return account, items, None


_ACCOUNT_IN_SOURCE = re.compile(r"/Accounts/(AC[0-9A-Za-z]+)")


def _check_accounts(items: list[Any], account: str) -> None:
    """A CloudEvent is the signing account's own. An account's auth token never vouches for an
    event that names another account (``data.account_sid``, or ``/Accounts/AC…`` in ``source``),
    and a Verify verification event must name its account: subjects are keyed by provider, product
    and verification SID, not by account, so with several accounts in the secret account B could
    otherwise move account A's verifications."""
    for index, item in enumerate(items):
        if not isinstance(item, Mapping):
            continue  # refused by the parser, with its index
        data = item.get("data")
        named = [data.get("account_sid")] if isinstance(data, Mapping) and "account_sid" in data else []
        source = item.get("source")
        if isinstance(source, str):
            named += _ACCOUNT_IN_SOURCE.findall(source)
        if any(sid != account for sid in named) or (not named and _is_verification(item)):
            raise SignatureInvalid(
                rule="a CloudEvent must name the account whose auth token signed it", item=index
            )


def _is_verification(item: Mapping[str, Any]) -> bool:
    kind = item.get("type")
    return isinstance(kind, str) and kind.startswith(VERIFY_TYPE_PREFIX)


def _signing_account(url: str, signature: str | None, body: bytes, secrets: ProviderSecrets) -> str:
    """The configured account whose auth token signed ``url`` (with ``bodySHA256`` of ``body``). A
    missing signature, or a missing or wrong body hash, raises on the first account tried."""
    tokens = secrets.twilio_auth_tokens
    if not tokens:  # as the verifier answers: signature_missing first, else unknown_account
        verify_twilio_signature(url, None, signature, tokens, account_sid=None, json_body=body)
    for sid in tokens:
        try:
            identity = verify_twilio_signature(url, None, signature, tokens, account_sid=sid, json_body=body)
        except SignatureInvalid:  # not this account's token
            continue
        return identity.account_sid
    raise SignatureInvalid(
        rule="HMAC-SHA1 over the URL with bodySHA256 matches no configured account's auth token",
        accounts_tried=len(tokens),
    )


SCHEMES = {"twilio": twilio, "twilio_event_streams": twilio_event_streams}
