"""Vonage signed webhooks (``Authorization: Bearer <JWT>``): known answers, one negative per rule,
hostile input (issue 9 §2), properties, and PyJWT's own verdict next to ours (every disagreement
pinned with its reason). Vectors copied from the providers reference, section 4.4."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import jwt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jwt.exceptions import InvalidJTIError, InvalidSubjectError

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
from shared.verify.vonage_jwt import MAX_AUTHORIZATION, MAX_DEPTH, verify_vonage_jwt
from tests.reference_signers import (
    DEFAULT_APPLICATION_ID,
    bearer,
    hand_built_jwt,
    hs256_jwt_from_json,
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


B64URL_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def _non_canonical_twin(token: str) -> str:
    # The 43rd character carries 2 unused bits: flipping one decodes to the very same 32 bytes.
    return token[:-1] + B64URL_ALPHABET[B64URL_ALPHABET.index(token[-1]) ^ 1]


def test_a_non_canonical_encoding_of_the_same_signature_is_rejected():
    # PyJWT refuses it while decoding (DecodeError "Invalid crypto padding"), before any key: so it
    # is token_malformed now (the hand-written check called it signature_invalid). One MAC, one token.
    assert _delivered(DELIVERED_TOKEN).api_key == VECTOR_API_KEY
    twin = _non_canonical_twin(DELIVERED_TOKEN)
    assert_rejected(lambda: _delivered(twin), TokenMalformed, "token_malformed", 401)


@pytest.mark.parametrize("suffix", ["=", "==", "+", "/", ".", "%3D"])
def test_padding_or_characters_outside_base64url_make_the_token_invalid(suffix: str):
    token = DELIVERED_TOKEN + suffix
    with pytest.raises(SwitchboardError) as caught:
        _delivered(token)
    assert caught.value.status == 401


# --- more known answers and negatives, one per rule --------------------------------------------------


HS256_HEADER = '{"alg":"HS256","typ":"JWT"}'
CRIT_B64_HEADER = '{"alg":"HS256","crit":["b64"],"b64":true}'  # RFC 7797 with b64 true: PyJWT takes it


def _claims_json(raw: Mapping[str, str] | None = None, *, iat: float = NOW, **extra: Any) -> str:
    """Vonage-shaped claims as JSON text, with ``raw`` claims spliced in verbatim (replacing any)."""
    claims = vonage_claims(BODY, API_KEY, iat, **extra)
    for name in raw or {}:
        claims.pop(name, None)
    text = json.dumps(claims, separators=(",", ":"))[:-1]
    return text + "".join(f",{json.dumps(name)}:{value}" for name, value in (raw or {}).items()) + "}"


def _raw_token(raw: Mapping[str, str] | None = None, header: str = HS256_HEADER, **extra: Any) -> str:
    return hs256_jwt_from_json(header, _claims_json(raw, **extra), SECRET)


def _loggable(err: SwitchboardError) -> None:
    """What webhook.py logs must encode as UTF-8 (a lone surrogate makes the log line vanish)."""
    (json.dumps(err.diagnostic, ensure_ascii=False) + str(err)).encode("utf-8")


def test_identity_carries_the_tokens_signature_segment_and_its_jti():
    token = _token(jti="jti-1")
    identity = _verify(bearer(token))
    assert (identity.signature, identity.jti) == (token.split(".")[2], "jti-1")


def test_token_without_jti_verifies_with_jti_none():
    claims = vonage_claims(BODY, API_KEY, NOW)
    del claims["jti"]
    assert _verify(bearer(vonage_jwt_token(claims, SECRET))).jti is None


def test_non_string_jti_is_rejected_with_claim_missing():
    err = assert_rejected(lambda: _verify(bearer(_token(jti=7))), ClaimMissing, "claim_missing", 401)
    assert err.diagnostic["claim"] == "jti"


def test_non_string_application_id_is_rejected_with_claim_missing():
    err = assert_rejected(
        lambda: _verify(bearer(_token(application_id=["app"]))), ClaimMissing, "claim_missing", 401
    )
    assert err.diagnostic["claim"] == "application_id"


def test_aud_claim_is_rejected_with_claim_missing():
    # Vonage sends no aud; PyJWT refuses one when no audience is expected (InvalidAudienceError).
    err = assert_rejected(lambda: _verify(bearer(_token(aud="someone"))), ClaimMissing, "claim_missing", 401)
    assert err.diagnostic["claim"] == "aud"


def test_non_string_sub_is_rejected_with_claim_missing():
    err = assert_rejected(lambda: _verify(bearer(_token(sub=1))), ClaimMissing, "claim_missing", 401)
    assert err.diagnostic["claim"] == "sub"


@pytest.mark.parametrize("ahead", [59, 60])
def test_nbf_up_to_the_skew_ahead_is_accepted(ahead):
    assert _verify(bearer(_token(nbf=NOW + ahead)), skew=60).api_key == API_KEY


def test_nbf_61_seconds_ahead_is_rejected_as_from_the_future():
    assert_rejected(
        lambda: _verify(bearer(_token(nbf=NOW + 61)), skew=60), TokenFromFuture, "token_from_future", 401
    )


def test_header_with_a_string_kid_and_no_typ_is_accepted():
    token = vonage_jwt_token(vonage_claims(BODY, API_KEY, NOW), SECRET, headers={"kid": "k1", "typ": None})
    assert "typ" not in jwt.get_unverified_header(token)
    assert _verify(bearer(token)).api_key == API_KEY


def test_header_kid_that_is_not_a_string_is_rejected_with_token_malformed():
    token = hs256_jwt_from_json('{"alg":"HS256","kid":1}', _claims_json(), SECRET)  # PyJWT won't write it
    assert_rejected(lambda: _verify(bearer(token)), TokenMalformed, "token_malformed", 401)


def test_crit_b64_header_that_pyjwt_supports_is_still_rejected_with_token_malformed():
    token = hs256_jwt_from_json(CRIT_B64_HEADER, _claims_json(), SECRET)  # PyJWT's encoder drops b64: true
    assert jwt.decode(token, SECRET, algorithms=["HS256"])["api_key"] == API_KEY  # PyJWT: fine
    assert_rejected(lambda: _verify(bearer(token)), TokenMalformed, "token_malformed", 401)


def test_finite_but_absurd_times_are_judged_as_times():
    assert_rejected(lambda: _verify(bearer(_token(iat=1e300))), TokenFromFuture, "token_from_future", 401)
    assert_rejected(lambda: _verify(bearer(_token(iat=-1e300))), TokenExpired, "token_expired", 401)


# Each PyJWT error that can follow a matching signature, and what it becomes (the two that our
# options switch off, Expired and Immature, are mapped too, so no PyJWT change can make them a 500).
@pytest.mark.parametrize(
    ("raised", "error", "code"),
    [
        (jwt.InvalidAlgorithmError("x"), AlgorithmNotAllowed, "algorithm_not_allowed"),
        (jwt.InvalidIssuerError("x"), IssuerInvalid, "issuer_invalid"),
        (jwt.MissingRequiredClaimError("iss"), IssuerInvalid, "issuer_invalid"),
        (jwt.MissingRequiredClaimError("payload_hash"), ClaimMissing, "claim_missing"),
        (jwt.InvalidIssuedAtError("x"), ClaimMissing, "claim_missing"),
        (jwt.ExpiredSignatureError("x"), TokenExpired, "token_expired"),
        (jwt.ImmatureSignatureError("x"), TokenFromFuture, "token_from_future"),
        (jwt.InvalidAudienceError("x"), ClaimMissing, "claim_missing"),
        (InvalidSubjectError("x"), ClaimMissing, "claim_missing"),
        (InvalidJTIError("x"), ClaimMissing, "claim_missing"),
        (jwt.DecodeError("x"), TokenMalformed, "token_malformed"),
        (jwt.InvalidTokenError("x"), TokenMalformed, "token_malformed"),
        (jwt.InvalidKeyError("x"), TokenMalformed, "token_malformed"),
        (OverflowError("x"), TokenMalformed, "token_malformed"),
        (RecursionError("x"), TokenMalformed, "token_malformed"),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, BaseException) else None,
)
def test_each_pyjwt_error_after_the_key_is_chosen_maps_to_one_code(monkeypatch, raised, error, code):
    token = _token()

    def decode(*args: Any, **kwargs: Any) -> Any:
        raise raised

    monkeypatch.setattr(jwt, "decode", decode)
    err = assert_rejected(lambda: _verify(bearer(token)), error, code, 401)
    assert SECRET not in repr(err.diagnostic)


@pytest.mark.parametrize("raised", [jwt.DecodeError("x"), OverflowError("x"), RecursionError("x")])
def test_an_error_while_peeking_at_the_token_is_token_malformed(monkeypatch, raised):
    token = _token()

    def decode_complete(*args: Any, **kwargs: Any) -> Any:
        raise raised

    monkeypatch.setattr(jwt, "decode_complete", decode_complete)
    assert_rejected(lambda: _verify(bearer(token)), TokenMalformed, "token_malformed", 401)


def test_invalid_signature_with_the_newest_secret_tries_the_next_one_and_stops_at_the_match(monkeypatch):
    calls: list[str] = []
    real = jwt.decode

    def decode(token: str, key: str, **kwargs: Any) -> Any:
        calls.append(key)
        return real(token, key, **kwargs)

    older, newest = "the-older-secret-still-in-rotation", "the-newest-secret-just-added-to-the-account"
    token = _token(secret=older)
    monkeypatch.setattr(jwt, "decode", decode)
    identity = _verify(bearer(token), secrets={API_KEY: [newest, older, "never-tried"]})
    assert (identity.secret_index, calls) == (1, [newest, older])


# --- hostile input (issue 9 §2): each a 401 with its code, never another exception ---------------


def test_hand_signed_claims_verify():  # the signer the hostile tests use, on a well-formed token
    assert _verify(bearer(_raw_token())).api_key == API_KEY


# 1. Size: the Authorization value is capped at 4 KiB before anything decodes it.


def test_authorization_of_exactly_4096_characters_is_read():
    authorization = bearer(_token()).ljust(MAX_AUTHORIZATION)  # trailing blanks are stripped later
    assert len(authorization) == 4096
    assert _verify(authorization).api_key == API_KEY


def test_authorization_of_4097_characters_is_rejected_with_token_malformed():
    authorization = bearer(_token()).ljust(MAX_AUTHORIZATION + 1)
    err = assert_rejected(lambda: _verify(authorization), TokenMalformed, "token_malformed", 401)
    assert err.diagnostic["length"] == 4097


def test_an_oversized_signed_token_is_rejected_before_it_is_decoded(monkeypatch):
    token = _token(filler="x" * 4000)
    assert jwt.decode(token, SECRET, algorithms=["HS256"])["filler"]  # PyJWT has no size limit

    def decode_complete(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("decoded a token over the size cap")

    monkeypatch.setattr(jwt, "decode_complete", decode_complete)
    assert_rejected(lambda: _verify(bearer(token)), TokenMalformed, "token_malformed", 401)


# 2. Time claims that are not times. A huge positive iat is claim_missing, not token_from_future:
# a value no float can hold is not a time at all (shared/verify/vonage_jwt.py, rule 5).

HUGE = "1" + "0" * 399
NOT_A_TIME = {
    "400-digits": HUGE,
    "minus-400-digits": "-" + HUGE,
    "1e400": "1e400",
    "minus-1e400": "-1e400",
    "NaN": "NaN",
    "Infinity": "Infinity",
    "string": '"1735732800"',
    "true": "true",
    "false": "false",
    "null": "null",
    "list": "[1735732800]",
    "object": '{"s":1735732800}',
}


@pytest.mark.parametrize("claim", ["iat", "exp", "nbf"])
@pytest.mark.parametrize("raw", list(NOT_A_TIME.values()), ids=list(NOT_A_TIME))
def test_a_time_claim_that_is_not_a_finite_number_is_rejected_with_claim_missing(claim, raw):
    token = _raw_token({claim: raw})
    err = assert_rejected(lambda: _verify(bearer(token)), ClaimMissing, "claim_missing", 401)
    assert err.diagnostic["claim"] == claim
    _loggable(err)


# 3. Nesting: thousands deep within the 4 KiB cap is token_malformed, never a RecursionError.


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


DEEP = {
    "claim-1200-deep": (HS256_HEADER, _claims_json({"deep": _nested(1200)})),
    "object-claim-350-deep": (HS256_HEADER, _claims_json({"deep": '{"a":' * 350 + "1" + "}" * 350})),
    "header-param-1200-deep": ('{"alg":"HS256","x":' + _nested(1200) + "}", _claims_json()),
    "alg-1200-deep": ('{"alg":' + _nested(1200) + "}", _claims_json()),
    "claims-2000-open-brackets": (HS256_HEADER, "[" * 2000),
    "header-2000-open-brackets": ("[" * 2000, _claims_json()),
    "claims-1400-deep-array": (HS256_HEADER, _nested(1400)),
}


@pytest.mark.parametrize(("header", "claims"), list(DEEP.values()), ids=list(DEEP))
def test_deeply_nested_header_or_claims_are_rejected_with_token_malformed(header, claims):
    authorization = bearer(hs256_jwt_from_json(header, claims, SECRET))
    assert len(authorization) <= MAX_AUTHORIZATION  # the cap alone does not stop these
    assert_rejected(lambda: _verify(authorization), TokenMalformed, "token_malformed", 401)


def test_nesting_up_to_the_depth_limit_is_accepted_and_one_more_is_not():
    # The claims object is level 1, so a claim may hold MAX_DEPTH - 1 levels of arrays.
    assert _verify(bearer(_raw_token({"deep": _nested(MAX_DEPTH - 1)}))).api_key == API_KEY
    assert_rejected(
        lambda: _verify(bearer(_raw_token({"deep": _nested(MAX_DEPTH)}))),
        TokenMalformed,
        "token_malformed",
        401,
    )


# 4. Lone surrogates: json turns "\ud800" into a str that cannot be encoded as UTF-8, which the
# ingress would hash and the logger write. Refused in any string of the header or claims.


@pytest.mark.parametrize("claim", ["jti", "api_key", "application_id", "iss", "payload_hash"])
@pytest.mark.parametrize("escape", ["\\ud800", "\\udfff", "k\\udfffk", "\\udc00\\ud800"])
def test_a_lone_surrogate_in_a_claim_is_rejected_with_token_malformed(claim, escape):
    token = _raw_token({claim: f'"{escape}"'})
    # Configure the surrogate api key too, so that without the rule this token would verify.
    secrets = {API_KEY: [SECRET], json.loads(f'"{escape}"'): [SECRET]}
    err = assert_rejected(
        lambda: _verify(bearer(token), secrets=secrets), TokenMalformed, "token_malformed", 401
    )
    _loggable(err)


@pytest.mark.parametrize(
    ("header", "raw"),
    [
        ('{"alg":"HS256","kid":"\\ud800"}', {}),
        ('{"alg":"HS256","\\ud800":1}', {}),
        (HS256_HEADER, {"name": '1,"\\udfff":1'}),  # spliced verbatim: a claim named by a surrogate
        (HS256_HEADER, {"extra": '["ok", {"x": "\\ud800"}]'}),
    ],
    ids=["header-value", "header-name", "claim-name", "nested-claim-value"],
)
def test_a_lone_surrogate_anywhere_in_header_or_claims_is_rejected_with_token_malformed(header, raw):
    token = hs256_jwt_from_json(header, _claims_json(raw), SECRET)
    assert_rejected(lambda: _verify(bearer(token)), TokenMalformed, "token_malformed", 401)


def test_surrogate_pairs_and_other_unicode_in_claims_are_accepted_and_encodable():
    # PyJWT's encoder writes "😀" as the escaped pair \ud83d\ude00: a pair is a character, not a lone half.
    api_key, jti, app = "ключ-😀", "jti-日本-😀", "app-é"
    token = vonage_jwt_token(vonage_claims(BODY, api_key, NOW, jti=jti, application_id=app), SECRET)
    assert "\\ud83d\\ude00" in json.dumps(jti)
    identity = _verify(bearer(token), secrets={api_key: [SECRET]})
    assert (identity.api_key, identity.jti, identity.application_id) == (api_key, jti, app)
    f"{identity.api_key}\x1f{identity.jti or identity.signature}".encode()  # what shared/ingress.py does


# 5. Characters outside base64url anywhere in the token: token_malformed, before PyJWT sees it.

OUTSIDE_BASE64URL = ["é", "Ａ", "٣", "\u200b", "\u00a0", "\ud800", "+", "/", "=", "%", "*", "\x00", "\t", " "]


@pytest.mark.parametrize("segment", [0, 1, 2], ids=["header", "claims", "signature"])
@pytest.mark.parametrize("char", OUTSIDE_BASE64URL, ids=[f"U+{ord(c):04X}" for c in OUTSIDE_BASE64URL])
def test_a_character_outside_base64url_anywhere_in_the_token_is_rejected_with_token_malformed(segment, char):
    parts = _token().split(".")
    parts[segment] = parts[segment][:5] + char + parts[segment][5:]
    err = assert_rejected(lambda: _verify(bearer(".".join(parts))), TokenMalformed, "token_malformed", 401)
    _loggable(err)


@pytest.mark.parametrize("scheme", ["Bеarer", "Bearer\ud800", "\ud800", "Bearer\u3000x"])
def test_a_non_ascii_scheme_is_rejected_with_a_loggable_token_malformed(scheme):
    err = assert_rejected(lambda: _verify(f"{scheme} {_token()}"), TokenMalformed, "token_malformed", 401)
    _loggable(err)


def test_values_from_the_token_are_shown_short_and_by_type_in_diagnostics():
    claims = vonage_claims(BODY, API_KEY, NOW)
    long_alg = hand_built_jwt({"alg": "X" * 500}, claims, signature=b"x")
    nested_alg = hand_built_jwt({"alg": [[["HS256"]]]}, claims, signature=b"x")
    err = assert_rejected(
        lambda: _verify(bearer(long_alg)), AlgorithmNotAllowed, "algorithm_not_allowed", 401
    )
    assert err.diagnostic["alg"] == "X" * 16
    err = assert_rejected(
        lambda: _verify(bearer(nested_alg)), AlgorithmNotAllowed, "algorithm_not_allowed", 401
    )
    assert err.diagnostic["alg"] == "<list>"


# --- differential: PyJWT's own verdict next to ours -----------------------------------------------
#
# PyJWT's verdict is plain `jwt.decode(token, secret, algorithms=["HS256"])` with the api key's
# secret; ours is verify_vonage_jwt with now = the wall clock (PyJWT reads it), max_age one day,
# skew 60 s. Each case names both verdicts exactly.


def _pyjwt_verdict(token: str, secret: str) -> str:
    try:
        jwt.decode(token, secret, algorithms=["HS256"])
    except jwt.PyJWTError as err:
        return type(err).__name__
    except Exception as err:  # a crash is a verdict too: pinned below where PyJWT has one
        return f"crash:{type(err).__name__}"
    return "accept"


def _our_verdict(authorization: str, body: bytes, now: int, **options: Any) -> str:
    try:
        verify_vonage_jwt(authorization, body, SECRETS, now=now, **{"max_age": DAY, **options})
    except SwitchboardError as err:
        assert err.status == 401
        return err.code
    return "accept"


@dataclass(frozen=True)
class Differential:
    token: Callable[[int], str]  # the wall clock (whole seconds) → token
    ours: str
    pyjwt: str
    body: bytes = BODY
    options: Mapping[str, Any] = field(default_factory=dict)


def _at(wall: int, *, secret: str = SECRET, age: int = 5, **extra: Any) -> str:
    iat = extra.pop("iat", wall - age)
    return vonage_jwt_token(vonage_claims(BODY, API_KEY, iat, **extra), secret)


def _without(claim: str) -> Callable[[int], str]:
    def build(wall: int) -> str:
        claims = vonage_claims(BODY, API_KEY, wall - 5)
        del claims[claim]
        return vonage_jwt_token(claims, SECRET)

    return build


def _raw_at(raw: Mapping[str, str]) -> Callable[[int], str]:
    return lambda wall: hs256_jwt_from_json(HS256_HEADER, _claims_json(raw, iat=wall - 5), SECRET)


# Both accept, or both reject (each with its own error).
AGREE: dict[str, Differential] = {
    "fresh token": Differential(lambda w: _at(w), "accept", "accept"),
    "exp an hour ahead": Differential(lambda w: _at(w, exp=w + 3600), "accept", "accept"),
    "non-ASCII claims": Differential(lambda w: _at(w, jti="日本-😀"), "accept", "accept"),
    "another secret": Differential(
        lambda w: _at(w, secret="another-secret-of-thirty-two-bytes-or-more"),
        "signature_invalid",
        "InvalidSignatureError",
    ),
    "claims edited after signing": Differential(
        lambda w: ".".join([_at(w).split(".")[0], _at(w, iss="Mallory").split(".")[1], _at(w).split(".")[2]]),
        "signature_invalid",
        "InvalidSignatureError",
    ),
    "signature stripped": Differential(
        lambda w: _at(w).rpartition(".")[0] + ".", "signature_invalid", "InvalidSignatureError"
    ),
    "alg none": Differential(
        lambda w: hand_built_jwt({"alg": "none"}, vonage_claims(BODY, API_KEY, w - 5)),
        "algorithm_not_allowed",
        "InvalidAlgorithmError",
    ),
    "alg HS384": Differential(
        lambda w: vonage_jwt_token(vonage_claims(BODY, API_KEY, w - 5), SECRET * 2, algorithm="HS384"),
        "algorithm_not_allowed",
        "InvalidAlgorithmError",
    ),
    "non-canonical signature": Differential(
        lambda w: _non_canonical_twin(_at(w)), "token_malformed", "DecodeError"
    ),
    "non-ASCII letter in the token": Differential(
        lambda w: _at(w)[:10] + "é" + _at(w)[10:], "token_malformed", "DecodeError"
    ),
    "crit exp": Differential(
        lambda w: vonage_jwt_token(
            vonage_claims(BODY, API_KEY, w - 5), SECRET, headers={"crit": ["exp"], "exp": 1}
        ),
        "token_malformed",
        "InvalidTokenError",
    ),
    "kid a number": Differential(
        lambda w: hs256_jwt_from_json('{"alg":"HS256","kid":1}', _claims_json(iat=w - 5), SECRET),
        "token_malformed",
        "InvalidTokenError",
    ),
    "claims a JSON array": Differential(
        lambda w: hs256_jwt_from_json(HS256_HEADER, "[1]", SECRET), "token_malformed", "DecodeError"
    ),
    "claims 2000 open brackets": Differential(
        lambda w: hs256_jwt_from_json(HS256_HEADER, "[" * 2000, SECRET), "token_malformed", "DecodeError"
    ),
    "aud present": Differential(lambda w: _at(w, aud="x"), "claim_missing", "InvalidAudienceError"),
    "jti a number": Differential(lambda w: _at(w, jti=1), "claim_missing", "InvalidJTIError"),
    "sub a number": Differential(lambda w: _at(w, sub=1), "claim_missing", "InvalidSubjectError"),
    "exp passed": Differential(lambda w: _at(w, exp=w - 1), "token_expired", "ExpiredSignatureError"),
    "iat an hour ahead": Differential(
        lambda w: _at(w, age=-3600), "token_from_future", "ImmatureSignatureError"
    ),
    "nbf an hour ahead": Differential(
        lambda w: _at(w, nbf=w + 3600), "token_from_future", "ImmatureSignatureError"
    ),
    "iat NaN": Differential(_raw_at({"iat": "NaN"}), "claim_missing", "InvalidIssuedAtError"),
    # PyJWT 2.15.1 catches the OverflowError of int(inf) itself.
    "iat 1e400": Differential(_raw_at({"iat": "1e400"}), "claim_missing", "InvalidIssuedAtError"),
    "exp 1e400": Differential(_raw_at({"exp": "1e400"}), "claim_missing", "DecodeError"),
    "nbf -1e400": Differential(_raw_at({"nbf": "-1e400"}), "claim_missing", "DecodeError"),
    "iat a list": Differential(_raw_at({"iat": "[1]"}), "claim_missing", "InvalidIssuedAtError"),
    # Both reject: PyJWT reads it as a time far ahead, we as no time at all (rule 5 of the module).
    "iat 400 digits": Differential(_raw_at({"iat": HUGE}), "claim_missing", "ImmatureSignatureError"),
}

# Where PyJWT's verdict and ours differ, and why.
PINNED: dict[str, Differential] = {
    # Our skew tolerates Vonage's clock running up to 60 s ahead of ours; PyJWT's leeway is 0.
    "iat 30 s ahead": Differential(lambda w: _at(w, age=-30), "accept", "ImmatureSignatureError"),
    "nbf 30 s ahead": Differential(lambda w: _at(w, nbf=w + 30), "accept", "ImmatureSignatureError"),
    # PyJWT has no maximum age: an old token replays for ever unless exp is set (Vonage sets none).
    "iat an hour old, max_age 300": Differential(
        lambda w: _at(w, age=3600), "token_expired", "accept", options={"max_age": 300}
    ),
    # PyJWT never sees the body: payload_hash is our rule.
    "body changed after signing": Differential(
        lambda w: _at(w), "payload_hash_mismatch", "accept", body=BODY + b" "
    ),
    "payload_hash absent": Differential(_without("payload_hash"), "claim_missing", "accept"),
    "payload_hash a number": Differential(lambda w: _at(w, payload_hash=1), "claim_missing", "accept"),
    # The allow-list is ours.
    "application_id outside the allow-list": Differential(
        lambda w: _at(w, application_id="app-other"),
        "application_not_allowed",
        "accept",
        options={"application_ids": {"app-allowed"}},
    ),
    "application_id a number": Differential(lambda w: _at(w, application_id=5), "claim_missing", "accept"),
    # Plain decode checks iss only when given an issuer; we require "Vonage".
    "iss Nexmo": Differential(lambda w: _at(w, iss="Nexmo"), "issuer_invalid", "accept"),
    "iss absent": Differential(_without("iss"), "issuer_invalid", "accept"),
    # api_key chooses the secret; plain decode is handed the secret directly.
    "api_key absent": Differential(_without("api_key"), "claim_missing", "accept"),
    "api_key unknown": Differential(
        lambda w: vonage_jwt_token(vonage_claims(BODY, "someone-else", w - 5), SECRET),
        "unknown_api_key",
        "accept",
    ),
    # Without iat no maximum age can apply; Vonage always sends one.
    "iat absent": Differential(_without("iat"), "claim_missing", "accept"),
    # A NumericDate is a JSON number (RFC 7519 §2); PyJWT's int() also takes strings and bools.
    "iat a numeric string": Differential(lambda w: _at(w, iat=str(w - 5)), "claim_missing", "accept"),
    "iat true": Differential(lambda w: _at(w, iat=True), "claim_missing", "accept"),
    # A 400-digit negative iat is far in the past for PyJWT, and it has no maximum age.
    "iat minus 400 digits": Differential(_raw_at({"iat": "-" + HUGE}), "claim_missing", "accept"),
    # PyJWT accepts '=' padding (some issuers send it); we keep one spelling per token.
    "signature padded with '='": Differential(lambda w: _at(w) + "=", "token_malformed", "accept"),
    # PyJWT supports the b64 extension; we support none.
    "crit b64": Differential(
        lambda w: hs256_jwt_from_json(CRIT_B64_HEADER, _claims_json(iat=w - 5), SECRET),
        "token_malformed",
        "accept",
    ),
    # PyJWT has no size or depth limit, and passes lone surrogates through.
    "token over 4 KiB": Differential(lambda w: _at(w, filler="x" * 4000), "token_malformed", "accept"),
    "claim nested 1200 deep": Differential(_raw_at({"deep": _nested(1200)}), "token_malformed", "accept"),
    "lone surrogate in jti": Differential(_raw_at({"jti": '"\\ud800"'}), "token_malformed", "accept"),
    # PyJWT encodes the token str as UTF-8 before any check: a lone surrogate in the text escapes as
    # UnicodeEncodeError, not a PyJWTError (a 500 for a caller that catches only PyJWT's errors).
    "lone surrogate in the token text": Differential(
        lambda w: _at(w)[:10] + "\ud800" + _at(w)[10:], "token_malformed", "crash:UnicodeEncodeError"
    ),
}


def _run(case: Differential) -> tuple[str, str]:
    wall = int(time.time())
    token = case.token(wall)
    ours = _our_verdict(bearer(token), case.body, wall, **case.options)
    return ours, _pyjwt_verdict(token, SECRET)


@pytest.mark.parametrize("name", list(AGREE))
def test_pyjwt_and_we_reach_the_same_verdict(name):
    case = AGREE[name]
    assert _run(case) == (case.ours, case.pyjwt)
    assert (case.ours == "accept") == (case.pyjwt == "accept")


@pytest.mark.parametrize("name", list(PINNED))
def test_where_pyjwt_and_we_differ_the_difference_is_pinned(name):
    case = PINNED[name]
    assert _run(case) == (case.ours, case.pyjwt)
    assert (case.ours == "accept") != (case.pyjwt == "accept") or case.pyjwt.startswith("crash:")


@PROPERTY_SETTINGS
@given(
    index=st.integers(0, 10_000),
    kind=st.sampled_from(["replace", "insert", "delete"]),
    char=st.sampled_from(B64URL_ALPHABET + "."),
)
def test_any_one_character_change_to_a_token_gets_the_same_verdict_from_pyjwt_and_us(index, kind, char):
    wall = int(time.time())
    token = _at(wall)
    i = index % len(token)
    mutated = {
        "replace": token[:i] + char + token[i + 1 :],
        "insert": token[:i] + char + token[i:],
        "delete": token[:i] + token[i + 1 :],
    }[kind]
    ours = _our_verdict(bearer(mutated), BODY, wall)
    theirs = _pyjwt_verdict(mutated, SECRET)
    assert (ours == "accept") == (theirs == "accept"), (ours, theirs)
