"""Vonage signed webhooks (``Authorization: Bearer <JWT>``): known answers, one negative per rule,
properties. Vectors copied from the providers reference, section 4.4."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.errors import (
    AlgorithmNotAllowed,
    ApplicationNotAllowed,
    ClaimMissing,
    IssuerInvalid,
    PayloadHashMismatch,
    SignatureInvalid,
    SwitchboardError,
    TokenExpired,
    TokenFromFuture,
    TokenMalformed,
    UnknownApiKey,
    UnsignedCallback,
)
from shared.verify.vonage_jwt import verify_vonage_jwt
from tests.reference_signers import (
    DEFAULT_APPLICATION_ID,
    bearer,
    hand_built_jwt,
    vonage_claims,
    vonage_jwt_token,
)


def assert_rejected(
    call: Callable[[], Any], error: type[SwitchboardError], code: str, status: int
) -> SwitchboardError:
    with pytest.raises(error) as caught:
        call()
    assert type(caught.value) is error
    assert caught.value.code == code
    assert caught.value.status == status
    return caught.value


# --- vectors (providers reference §4.4) -----------------------------------------------------------

VALID_SECRET = "ZYtdTtGV3BCFN7tWmOWr1md66XsquMggr4W2cTtXtcPgfnI0Xw"
INVALID_SECRET = "ZYtdTtGV3BCFN7tWmOWr1md66XsquMggr4W2cTtXtcPgf55555"
VECTOR_API_KEY = "a1b2c3d"
VECTOR_APPLICATION_ID = "aaaaaaaa-bbbb-cccc-dddd-0123456789ab"
VECTOR_JTI = "c5ba8f24-1a14-4c10-bfdf-3fbe8ce511b5"

# Ruby SDK test/vonage/test.rb `sample_webhook_token`: claims are the docs sample; no body is known.
RUBY_SAMPLE_TOKEN = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
    "eyJpYXQiOjE1ODc0OTQ5NjIsImp0aSI6ImM1YmE4ZjI0LTFhMTQtNGMxMC1iZmRmLTNmYmU4Y2U1MTFiNSIsImlzcyI6IlZvbmFn"
    "ZSIsInBheWxvYWRfaGFzaCI6ImQ2YzBlNzRiNTg1N2RmMjBlM2I3ZTUxYjMwYzBjMmE0MGVjNzNhNzc4NzliNmYwNzRkZGM3YTIz"
    "MTdkZDAzMWIiLCJhcGlfa2V5IjoiYTFiMmMzZCIsImFwcGxpY2F0aW9uX2lkIjoiYWFhYWFhYWEtYmJiYi1jY2NjLWRkZGQtMDEy"
    "MzQ1Njc4OWFiIn0."
    "JQRKi1d0SQitmjPINfTWMpt3XZkGsLbD7EjCdXoNSbk"
)
RUBY_SAMPLE_IAT = 1587494962

# Constructed for the reference: a delivered status body (exact bytes, no trailing newline).
DELIVERED_BODY = (
    b'{"message_uuid":"aaaaaaaa-bbbb-4ccc-8ddd-0123456789ab","to":"447700900000","from":"447700900001",'
    b'"timestamp":"2025-01-01T12:00:00.000Z","status":"delivered","channel":"sms"}'
)
DELIVERED_PAYLOAD_HASH = "012488a07ce72d437e968ad2ae63ce78706428d0cad2edba73d2a93427cfa0e4"
DELIVERED_TOKEN = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
    "eyJpYXQiOjE3MzU3MzI4MDAsImp0aSI6ImM1YmE4ZjI0LTFhMTQtNGMxMC1iZmRmLTNmYmU4Y2U1MTFiNSIsImlzcyI6IlZvbmFn"
    "ZSIsInBheWxvYWRfaGFzaCI6IjAxMjQ4OGEwN2NlNzJkNDM3ZTk2OGFkMmFlNjNjZTc4NzA2NDI4ZDBjYWQyZWRiYTczZDJhOTM0"
    "MjdjZmEwZTQiLCJhcGlfa2V5IjoiYTFiMmMzZCIsImFwcGxpY2F0aW9uX2lkIjoiYWFhYWFhYWEtYmJiYi1jY2NjLWRkZGQtMDEy"
    "MzQ1Njc4OWFiIn0."
    "I4boq7DIkF3Sc-HYVvW-SgggK5lD5wk8a2nbwLQm6ms"
)
DELIVERED_IAT = 1735732800

DAY = 24 * 3600
VECTOR_SECRETS = {VECTOR_API_KEY: [VALID_SECRET]}


def test_delivered_vector_verifies_fully():
    identity = verify_vonage_jwt(
        bearer(DELIVERED_TOKEN), DELIVERED_BODY, VECTOR_SECRETS, now=DELIVERED_IAT + 5, max_age=DAY
    )
    assert identity.api_key == VECTOR_API_KEY
    assert identity.application_id == VECTOR_APPLICATION_ID
    assert identity.jti == VECTOR_JTI
    assert identity.secret_index == 0


def test_delivered_vector_body_hash_is_the_documented_one():
    assert hashlib.sha256(DELIVERED_BODY).hexdigest() == DELIVERED_PAYLOAD_HASH


def test_reference_signer_reproduces_the_delivered_vector_token():
    claims = vonage_claims(
        DELIVERED_BODY, VECTOR_API_KEY, DELIVERED_IAT, jti=VECTOR_JTI, application_id=VECTOR_APPLICATION_ID
    )
    assert vonage_jwt_token(claims, VALID_SECRET) == DELIVERED_TOKEN


def test_delivered_vector_with_a_trailing_newline_is_rejected_with_payload_hash_mismatch():
    assert_rejected(
        lambda: verify_vonage_jwt(
            bearer(DELIVERED_TOKEN), DELIVERED_BODY + b"\n", VECTOR_SECRETS, now=DELIVERED_IAT, max_age=DAY
        ),
        PayloadHashMismatch,
        "payload_hash_mismatch",
        401,
    )


def test_delivered_vector_with_the_invalid_secret_is_rejected_with_signature_invalid():
    assert_rejected(
        lambda: verify_vonage_jwt(
            bearer(DELIVERED_TOKEN),
            DELIVERED_BODY,
            {VECTOR_API_KEY: [INVALID_SECRET]},
            now=DELIVERED_IAT,
            max_age=DAY,
        ),
        SignatureInvalid,
        "signature_invalid",
        401,
    )


def test_ruby_sample_token_with_valid_secret_passes_the_signature_and_stops_at_the_unknown_body():
    # The vector has no body, so the signature step is proven by reaching the payload_hash rule.
    assert_rejected(
        lambda: verify_vonage_jwt(
            bearer(RUBY_SAMPLE_TOKEN), b"", VECTOR_SECRETS, now=RUBY_SAMPLE_IAT + 10, max_age=DAY
        ),
        PayloadHashMismatch,
        "payload_hash_mismatch",
        401,
    )


def test_ruby_sample_token_with_invalid_secret_is_rejected_with_signature_invalid():
    assert_rejected(
        lambda: verify_vonage_jwt(
            bearer(RUBY_SAMPLE_TOKEN),
            b"",
            {VECTOR_API_KEY: [INVALID_SECRET]},
            now=RUBY_SAMPLE_IAT + 10,
            max_age=DAY,
        ),
        SignatureInvalid,
        "signature_invalid",
        401,
    )


# --- one negative test per rule -------------------------------------------------------------------

API_KEY = "key-1"
SECRET = "a-signature-secret-of-32-or-more-bytes!"
NOW = 1_735_732_800
BODY = b'{"status":"delivered","message_uuid":"aaaaaaaa-bbbb-4ccc-8ddd-0123456789ab"}'
SECRETS = {API_KEY: [SECRET]}


def _token(body: bytes = BODY, *, secret: str = SECRET, iat: float = NOW, **extra: Any) -> str:
    return vonage_jwt_token(vonage_claims(body, API_KEY, iat, **extra), secret)


def _verify(authorization: str | None, body: bytes = BODY, **kwargs: Any) -> Any:
    options: dict[str, Any] = {"now": NOW, "max_age": DAY, **kwargs}
    secrets = options.pop("secrets", SECRETS)
    return verify_vonage_jwt(authorization, body, secrets, **options)


def test_a_freshly_signed_token_verifies():
    identity = _verify(bearer(_token()))
    assert (identity.api_key, identity.application_id, identity.secret_index) == (
        API_KEY,
        DEFAULT_APPLICATION_ID,
        0,
    )


@pytest.mark.parametrize("authorization", [None, "", "   "], ids=["absent", "empty", "blank"])
def test_missing_authorization_is_an_unsigned_callback_answered_503(authorization):
    assert_rejected(lambda: _verify(authorization), UnsignedCallback, "signature_missing", 503)


@pytest.mark.parametrize(
    "authorization",
    [
        "Basic x",
        "Basic dXNlcjpwYXNz",
        "Bearer",
        "Bearer    ",
        "garbage",
        "Bearer garbage",
        "Bearer a.b",
        "Bearer a.b.c.d",
        "Bearer ..",
        "Bearer !!!.@@@.###",
        "Bearer e30.W10.c2ln",  # header {} is fine, claims [] is not an object
        "Bearer WzFd.e30.c2ln",  # header [1]
        "Bearer bm90LWpzb24.e30.c2ln",  # header is not JSON
        "Bearer //79.e30.c2ln",  # header is not UTF-8
    ],
)
def test_authorization_that_is_not_a_bearer_jwt_is_rejected_with_token_malformed(authorization):
    assert_rejected(lambda: _verify(authorization), TokenMalformed, "token_malformed", 401)


def test_token_without_the_bearer_scheme_is_rejected_with_token_malformed():
    assert_rejected(lambda: _verify(_token()), TokenMalformed, "token_malformed", 401)


def test_bearer_scheme_is_case_insensitive():
    assert _verify("bearer " + _token()).api_key == API_KEY


def test_alg_none_with_a_placeholder_signature_is_rejected_with_algorithm_not_allowed():
    claims = vonage_claims(BODY, API_KEY, NOW)
    token = hand_built_jwt({"alg": "none", "typ": "JWT"}, claims, signature=b"x")
    assert_rejected(lambda: _verify(bearer(token)), AlgorithmNotAllowed, "algorithm_not_allowed", 401)


def test_alg_none_unsecured_token_is_rejected_with_algorithm_not_allowed():
    # RFC 7519 unsecured JWT: empty third part. Judged by its algorithm, not as a malformed token.
    token = hand_built_jwt({"alg": "none", "typ": "JWT"}, vonage_claims(BODY, API_KEY, NOW))
    assert token.endswith(".")
    assert_rejected(lambda: _verify(bearer(token)), AlgorithmNotAllowed, "algorithm_not_allowed", 401)


def test_hs256_token_with_its_signature_stripped_is_rejected_with_signature_invalid():
    head, claims, _ = _token().split(".")
    assert_rejected(lambda: _verify(bearer(f"{head}.{claims}.")), SignatureInvalid, "signature_invalid", 401)


@pytest.mark.parametrize("algorithm", ["HS512", "HS384"])
def test_other_hmac_algorithms_are_rejected_with_algorithm_not_allowed(algorithm):
    token = vonage_jwt_token(vonage_claims(BODY, API_KEY, NOW), SECRET * 2, algorithm=algorithm)
    assert_rejected(lambda: _verify(bearer(token)), AlgorithmNotAllowed, "algorithm_not_allowed", 401)


@pytest.mark.parametrize("header", [{"alg": "RS256", "typ": "JWT"}, {"alg": "hs256"}, {"typ": "JWT"}])
def test_rs256_lowercase_or_absent_alg_is_rejected_with_algorithm_not_allowed(header):
    token = hand_built_jwt(header, vonage_claims(BODY, API_KEY, NOW), signature=b"\x01" * 32)
    assert_rejected(lambda: _verify(bearer(token)), AlgorithmNotAllowed, "algorithm_not_allowed", 401)


def test_algorithm_is_judged_before_the_api_key_is_looked_up():
    token = hand_built_jwt({"alg": "none"}, vonage_claims(BODY, "unknown-key", NOW), signature=b"x")
    assert_rejected(lambda: _verify(bearer(token)), AlgorithmNotAllowed, "algorithm_not_allowed", 401)


def test_critical_header_extensions_are_rejected_with_token_malformed():
    token = vonage_jwt_token(vonage_claims(BODY, API_KEY, NOW), SECRET, headers={"crit": ["exp"], "exp": 1})
    assert_rejected(lambda: _verify(bearer(token)), TokenMalformed, "token_malformed", 401)


def test_unknown_api_key_is_rejected_with_unknown_api_key():
    token = vonage_jwt_token(vonage_claims(BODY, "someone-else", NOW), SECRET)
    err = assert_rejected(lambda: _verify(bearer(token)), UnknownApiKey, "unknown_api_key", 401)
    assert err.diagnostic["api_key"] == "someone-else"


@pytest.mark.parametrize("api_key", [None, "", 12345], ids=["absent", "empty", "number"])
def test_missing_or_non_string_api_key_claim_is_rejected_with_claim_missing(api_key):
    claims = vonage_claims(BODY, API_KEY, NOW)
    if api_key is None:
        del claims["api_key"]
    else:
        claims["api_key"] = api_key
    err = assert_rejected(
        lambda: _verify(bearer(vonage_jwt_token(claims, SECRET))), ClaimMissing, "claim_missing", 401
    )
    assert err.diagnostic["claim"] == "api_key"


def test_token_signed_with_another_secret_is_rejected_with_signature_invalid():
    token = _token(secret="somebody-elses-signature-secret-value")
    err = assert_rejected(lambda: _verify(bearer(token)), SignatureInvalid, "signature_invalid", 401)
    assert err.diagnostic["secrets_tried"] == 1
    assert SECRET not in repr(err.diagnostic)
    assert token not in repr(err.diagnostic)
    assert token.split(".")[2] not in repr(err.diagnostic)


def test_token_whose_claims_were_edited_after_signing_is_rejected_with_signature_invalid():
    genuine = _token(application_id="app-allowed").split(".")
    forged_claims = hand_built_jwt({}, vonage_claims(BODY, API_KEY, NOW, application_id="app-evil"))
    forged = f"{genuine[0]}.{forged_claims.split('.')[1]}.{genuine[2]}"
    assert_rejected(lambda: _verify(bearer(forged)), SignatureInvalid, "signature_invalid", 401)


def test_token_signed_with_the_older_of_two_secrets_verifies_with_secret_index_1():
    older, newest = "the-older-secret-still-in-rotation", "the-newest-secret-just-added-to-the-account"
    identity = _verify(bearer(_token(secret=older)), secrets={API_KEY: [newest, older]})
    assert identity.secret_index == 1


def test_signature_is_judged_before_any_claim():
    # Wrong secret AND a bad issuer AND an ancient iat: the answer is about the signature only.
    token = _token(secret="a-forgers-guess-at-the-signature-secret", iss="Mallory", iat=1)
    assert_rejected(lambda: _verify(bearer(token)), SignatureInvalid, "signature_invalid", 401)


@pytest.mark.parametrize("iss", ["Nexmo", "vonage", "", None], ids=["Nexmo", "lowercase", "empty", "absent"])
def test_issuer_other_than_vonage_is_rejected_with_issuer_invalid(iss):
    claims = vonage_claims(BODY, API_KEY, NOW)
    if iss is None:
        del claims["iss"]
    else:
        claims["iss"] = iss
    assert_rejected(
        lambda: _verify(bearer(vonage_jwt_token(claims, SECRET))), IssuerInvalid, "issuer_invalid", 401
    )


def test_iat_61_seconds_ahead_is_rejected_as_from_the_future():
    assert_rejected(
        lambda: _verify(bearer(_token(iat=NOW + 61)), skew=60), TokenFromFuture, "token_from_future", 401
    )


@pytest.mark.parametrize("ahead", [59, 60])
def test_iat_up_to_the_skew_ahead_is_accepted(ahead):
    assert _verify(bearer(_token(iat=NOW + ahead)), skew=60).api_key == API_KEY


def test_iat_older_than_max_age_is_rejected_as_expired():
    assert_rejected(
        lambda: _verify(bearer(_token(iat=NOW - 301)), max_age=300), TokenExpired, "token_expired", 401
    )


@pytest.mark.parametrize("age", [299, 300])
def test_iat_within_max_age_is_accepted(age):
    assert _verify(bearer(_token(iat=NOW - age)), max_age=300).api_key == API_KEY


@pytest.mark.parametrize("iat", [None, "1735732800", True], ids=["absent", "string", "bool"])
def test_missing_or_non_numeric_iat_is_rejected_with_claim_missing(iat):
    claims = vonage_claims(BODY, API_KEY, NOW)
    if iat is None:
        del claims["iat"]
    else:
        claims["iat"] = iat
    err = assert_rejected(
        lambda: _verify(bearer(vonage_jwt_token(claims, SECRET))), ClaimMissing, "claim_missing", 401
    )
    assert err.diagnostic["claim"] == "iat"


def test_iat_nan_is_rejected():
    with pytest.raises(SwitchboardError) as caught:
        _verify(bearer(_token(iat=float("nan"))))
    assert caught.value.status == 401


@pytest.mark.parametrize("iat", [float("inf"), float("-inf")], ids=["inf", "-inf"])
def test_infinite_iat_is_rejected_not_a_crash(iat):
    with pytest.raises(SwitchboardError) as caught:
        _verify(bearer(_token(iat=iat)))
    assert caught.value.status == 401


def test_application_outside_the_allow_list_is_rejected_with_application_not_allowed():
    token = _token(application_id="app-other")
    assert_rejected(
        lambda: _verify(bearer(token), application_ids={"app-allowed"}),
        ApplicationNotAllowed,
        "application_not_allowed",
        401,
    )


def test_token_without_application_id_is_rejected_when_an_allow_list_is_set():
    claims = vonage_claims(BODY, API_KEY, NOW)
    del claims["application_id"]
    assert_rejected(
        lambda: _verify(bearer(vonage_jwt_token(claims, SECRET)), application_ids={"app-allowed"}),
        ApplicationNotAllowed,
        "application_not_allowed",
        401,
    )


def test_application_in_the_allow_list_is_accepted():
    identity = _verify(bearer(_token(application_id="app-allowed")), application_ids={"app-x", "app-allowed"})
    assert identity.application_id == "app-allowed"


def test_any_application_is_accepted_when_no_allow_list_is_set():
    assert _verify(bearer(_token(application_id="anything")), application_ids=()).application_id == "anything"


@pytest.mark.parametrize("payload_hash", [None, 42], ids=["absent", "number"])
def test_missing_payload_hash_is_rejected_with_claim_missing(payload_hash):
    claims = vonage_claims(BODY, API_KEY, NOW)
    if payload_hash is None:
        del claims["payload_hash"]
    else:
        claims["payload_hash"] = payload_hash
    err = assert_rejected(
        lambda: _verify(bearer(vonage_jwt_token(claims, SECRET))), ClaimMissing, "claim_missing", 401
    )
    assert err.diagnostic["claim"] == "payload_hash"


def test_body_changed_by_one_byte_is_rejected_with_payload_hash_mismatch():
    tampered = BODY.replace(b"delivered", b"delivereD")
    assert len(tampered) == len(BODY)
    err = assert_rejected(
        lambda: _verify(bearer(_token()), body=tampered), PayloadHashMismatch, "payload_hash_mismatch", 401
    )
    assert BODY.decode() not in repr(err.diagnostic)


def test_payload_hash_in_upper_case_hex_is_accepted():
    token = _token(payload_hash=hashlib.sha256(BODY).hexdigest().upper())
    assert _verify(bearer(token)).api_key == API_KEY


def test_empty_body_is_verified_against_the_sha256_of_nothing():
    assert _verify(bearer(_token(b"")), body=b"").api_key == API_KEY
    assert_rejected(
        lambda: _verify(bearer(_token(b"")), body=b"{}"), PayloadHashMismatch, "payload_hash_mismatch", 401
    )


def test_exp_in_the_past_is_rejected_as_expired():
    # exp long before both the injected now and the wall clock.
    assert_rejected(lambda: _verify(bearer(_token(exp=1_000_000_000))), TokenExpired, "token_expired", 401)


def test_nbf_in_the_future_is_rejected_as_from_the_future():
    # nbf long after both the injected now and the wall clock.
    assert_rejected(
        lambda: _verify(bearer(_token(nbf=32_503_680_000))), TokenFromFuture, "token_from_future", 401
    )


def test_exp_after_the_injected_now_is_accepted():
    assert _verify(bearer(_token(exp=NOW + 3600))).api_key == API_KEY


def test_exp_before_the_injected_now_is_rejected_as_expired():
    later = 4_102_444_800  # 2100-01-01: exp is in the past for `now`, in the future for the wall clock
    token = vonage_jwt_token(vonage_claims(BODY, API_KEY, later - 10, exp=later - 5), SECRET)
    assert_rejected(lambda: _verify(bearer(token), now=later), TokenExpired, "token_expired", 401)


@pytest.mark.parametrize(
    "authorization",
    [None, "Basic x", bearer(RUBY_SAMPLE_TOKEN), bearer(DELIVERED_TOKEN)],
    ids=["none", "basic", "ruby-sample", "delivered"],
)
def test_diagnostics_never_hold_the_token_or_a_secret(authorization):
    secrets = {VECTOR_API_KEY: [INVALID_SECRET, VALID_SECRET]}
    with pytest.raises(SwitchboardError) as caught:
        verify_vonage_jwt(authorization, b"x", secrets, now=RUBY_SAMPLE_IAT, max_age=DAY)
    text = repr(caught.value.diagnostic) + str(caught.value)
    for secret in (INVALID_SECRET, VALID_SECRET):
        assert secret not in text
    for part in (authorization or "x").removeprefix("Bearer ").split("."):
        assert part not in text or len(part) < 8


# --- properties -----------------------------------------------------------------------------------

PROPERTY_SETTINGS = settings(max_examples=150, deadline=None)
_chars = st.characters(codec="utf-8")


@PROPERTY_SETTINGS
@given(
    body=st.binary(max_size=2048),
    api_key=st.text(alphabet=_chars, min_size=1, max_size=16),
    secret=st.text(alphabet=_chars, min_size=32, max_size=64),  # >= 32 bytes: no PyJWT key warning
    age=st.integers(-60, DAY),
    upper=st.booleans(),
)
def test_any_body_signed_by_the_reference_verifies(body, api_key, secret, age, upper):
    payload_hash = hashlib.sha256(body).hexdigest()
    claims = vonage_claims(
        body, api_key, NOW - age, payload_hash=payload_hash.upper() if upper else payload_hash
    )
    token = vonage_jwt_token(claims, secret)
    identity = verify_vonage_jwt(bearer(token), body, {api_key: ["x" * 32, secret]}, now=NOW, max_age=DAY)
    assert (identity.api_key, identity.jti, identity.secret_index) == (api_key, claims["jti"], 1)


@st.composite
def _body_and_one_byte_change(draw: st.DrawFn) -> tuple[bytes, bytes]:
    body = draw(st.binary(max_size=2048))
    kind = draw(st.sampled_from(["replace", "insert", "delete"] if body else ["insert"]))
    if kind == "insert":
        i = draw(st.integers(0, len(body)))
        return body, body[:i] + bytes([draw(st.integers(0, 255))]) + body[i:]
    i = draw(st.integers(0, len(body) - 1))
    if kind == "delete":
        return body, body[:i] + body[i + 1 :]
    new = draw(st.integers(0, 255).filter(lambda b: b != body[i]))
    return body, body[:i] + bytes([new]) + body[i + 1 :]


@PROPERTY_SETTINGS
@given(pair=_body_and_one_byte_change())
def test_any_one_byte_change_to_the_body_is_rejected_with_payload_hash_mismatch(pair):
    body, tampered = pair
    token = _token(body)
    assert_rejected(
        lambda: _verify(bearer(token), body=tampered), PayloadHashMismatch, "payload_hash_mismatch", 401
    )


def _delivered(token: str) -> Any:
    return verify_vonage_jwt(
        bearer(token), DELIVERED_BODY, {VECTOR_API_KEY: [VALID_SECRET]}, now=DELIVERED_IAT + 1, max_age=DAY
    )


def test_a_non_canonical_encoding_of_the_same_signature_is_rejected():
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    assert _delivered(DELIVERED_TOKEN).api_key == VECTOR_API_KEY
    last = DELIVERED_TOKEN[-1]
    # The 43rd character carries 2 unused bits: flipping one decodes to the very same 32 bytes.
    twin = DELIVERED_TOKEN[:-1] + alphabet[alphabet.index(last) ^ 1]
    assert_rejected(lambda: _delivered(twin), SignatureInvalid, "signature_invalid", 401)


@pytest.mark.parametrize("suffix", ["=", "==", "+", "/", ".", "%3D"])
def test_padding_or_characters_outside_base64url_make_the_token_invalid(suffix: str):
    token = DELIVERED_TOKEN + suffix
    with pytest.raises(SwitchboardError) as caught:
        _delivered(token)
    assert caught.value.status == 401
