"""Number Insight async callbacks: a secret URL token, since Vonage does not sign them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from shared.errors import NotConfigured, SignatureInvalid, SignatureMissing, SwitchboardError
from shared.verify.url_token import TOKEN_PARAM, verify_url_token


def assert_rejected(
    call: Callable[[], Any], error: type[SwitchboardError], code: str, status: int
) -> SwitchboardError:
    with pytest.raises(error) as caught:
        call()
    assert type(caught.value) is error
    assert caught.value.code == code
    assert caught.value.status == status
    return caught.value


EXPECTED = "0123456789abcdef-ni-callback-token"


def test_token_parameter_is_named_token():
    assert TOKEN_PARAM == "token"


def test_matching_token_is_accepted():
    verify_url_token(EXPECTED, EXPECTED)


@pytest.mark.parametrize("expected", [None, ""], ids=["unset", "empty"])
def test_route_without_a_configured_token_is_not_configured_503(expected):
    assert_rejected(lambda: verify_url_token(EXPECTED, expected), NotConfigured, "not_configured", 503)


def test_unconfigured_route_refuses_even_an_empty_token():
    assert_rejected(lambda: verify_url_token("", None), NotConfigured, "not_configured", 503)


@pytest.mark.parametrize("provided", [None, ""], ids=["absent", "empty"])
def test_missing_token_is_rejected_with_signature_missing(provided):
    assert_rejected(lambda: verify_url_token(provided, EXPECTED), SignatureMissing, "signature_missing", 401)


@pytest.mark.parametrize(
    "provided",
    [EXPECTED[:-1], EXPECTED + "x", EXPECTED.upper(), " " + EXPECTED, "é" * 10, "wrong"],
    ids=["prefix", "extended", "case", "leading-space", "non-ascii", "other"],
)
def test_wrong_token_is_rejected_with_signature_invalid_and_not_echoed(provided):
    err = assert_rejected(
        lambda: verify_url_token(provided, EXPECTED), SignatureInvalid, "signature_invalid", 401
    )
    text = repr(err.diagnostic) + str(err)
    assert EXPECTED not in text
    assert provided not in text
