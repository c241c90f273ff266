"""Webhooks Vonage does not sign (Number Insight, US Short Codes): a secret URL token, one per
product, authenticates them."""

from __future__ import annotations

import hmac

from shared.errors import NotConfigured, SignatureInvalid, SignatureMissing

TOKEN_PARAM = "token"  # noqa: S105 - a parameter name, not a secret


def verify_url_token(provided: str | None, expected: str | None, key: str = "the product's token") -> None:
    if not expected:
        raise NotConfigured(rule=f"{key} is not set in the secrets document")
    if not provided:
        raise SignatureMissing(rule=f"no '{TOKEN_PARAM}' query parameter")
    # surrogatepass: a lone surrogate (from a hand-made event; API Gateway decodes none) is bytes
    # that match no token, not a 500.
    if not hmac.compare_digest(provided.encode("utf-8", "surrogatepass"), expected.encode("utf-8")):
        raise SignatureInvalid(rule="URL token does not match", token_length=len(provided))
