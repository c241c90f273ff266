"""What every verification scheme does with a request: media types, parameter names, credentials.

Used by the provider packages' verifiers (``shared.providers.*.verifiers``); ``shared.ingress``
re-exports the names its callers and tests know it by.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from typing import Any

from shared.errors import InvalidField, UnsupportedMediaType
from shared.http import HttpRequest

JSON_TYPES = ("application/json", "text/json")
FORM_TYPE = "application/x-www-form-urlencoded"
# Twilio signs ``name1value1name2value2…`` and the SMS API ``&name=value…`` with ``&``/``=`` replaced
# in values only: neither separates names from values, so a captured request can be re-split
# (``uuid=X`` → ``u=uidX``; ``api-key=K&err-code=0`` as one percent-encoded name) and still verify.
# No real parameter of either provider needs another character, and every SMS re-split needs ``&``
# or ``=`` in a name: names outside this set are refused before anything is verified.
PARAM_NAME = re.compile(r"[A-Za-z0-9_-]+")


Verified = tuple[str | None, Any, str | None]  # account id, decoded payload, credential


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


def require_json(request: HttpRequest) -> None:
    # Vonage sends application/json; an absent content type is tolerated, a form body is not.
    if request.media_type not in (*JSON_TYPES, ""):
        raise UnsupportedMediaType(media_type=request.media_type[:64], expected=list(JSON_TYPES))


def param_text(value: Any) -> str:
    """SMS POST-JSON values as Vonage signs them: strings as they are, scalars as their JSON text."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    return str(value)


def first_text(data: Mapping[str, Any], *names: str) -> str | None:
    for name in names:
        value = data.get(name)
        if isinstance(value, list):
            value = value[-1] if value else None
        if isinstance(value, str) and value:
            return value
    return None
