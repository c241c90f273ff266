"""Number Insight async callbacks are not signed by Vonage: a secret URL token authenticates them."""

from __future__ import annotations

import hmac

from shared.errors import NotConfigured, SignatureInvalid, SignatureMissing

TOKEN_PARAM = "token"  # noqa: S105 - a parameter name, not a secret


def verify_url_token(provided: str | None, expected: str | None) -> None:
    if not expected:
        raise NotConfigured(rule="number_insight_token is not set in the secrets document")
    if not provided:
        raise SignatureMissing(rule=f"no '{TOKEN_PARAM}' query parameter")
    if not hmac.compare_digest(provided.encode("utf-8"), expected.encode("utf-8")):
        raise SignatureInvalid(rule="URL token does not match", token_length=len(provided))
