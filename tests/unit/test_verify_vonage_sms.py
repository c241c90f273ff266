"""Vonage SMS API signed messages (``sig``): known answers, one negative per rule, properties.

Vectors copied from the providers reference, section 3.4 (vendor SDK tests, recomputed there).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from shared.errors import (
    SignatureInvalid,
    SignatureMissing,
    SwitchboardError,
    TimestampInvalid,
    TokenExpired,
    TokenFromFuture,
    UnknownApiKey,
)
from shared.verify.vonage_sms import compute_sms_signature, signing_string, verify_sms_signature
from tests.reference_signers import SMS_METHODS, sms_sig


def assert_rejected(
    call: Callable[[], Any], error: type[SwitchboardError], code: str, status: int
) -> SwitchboardError:
    with pytest.raises(error) as caught:
        call()
    assert type(caught.value) is error
    assert caught.value.code == code
    assert caught.value.status == status
    return caught.value


# --- vectors (providers reference §3.4) ----------------------------------------------------------

SECRET = "my_secret_key_for_testing"

PARAMS_A = {
    "message-timestamp": "2013-11-21 15:27:30",
    "messageId": "020000001B0FE827",
    "msisdn": "14843472194",
    "text": "Test again",
    "timestamp": "1385047698",
    "to": "13239877404",
    "type": "text",
}
PARAMS_B = {
    "keyword": "TEST",
    "message-timestamp": "2017-04-04 22:57:47",
    "messageId": "0B00000042AC53BD",
    "msisdn": "14843472194",
    "nonce": "929d6744-bd28-42c8-b6cf-31d5b4f43732",
    "text": "Test with & and =",
    "timestamp": "1491346667",
    "to": "12192259404",
    "type": "text",
}
PARAMS_C = {
    "keyword": "TESTINGS",
    "message-timestamp": "2017-04-04 23:05:22",
    "messageId": "0C00000027217D5B",
    "msisdn": "14843472194",
    "nonce": "c4ab6ed2-9bf5-48a0-af91-107e29bdd399",
    "text": "Testings",
    "timestamp": "1491347122",
    "to": "12192259404",
    "type": "text",
}
PARAMS_D = {
    "message-timestamp": "2013-11-21 17:37:31",
    "messageId": "030000002A267DBB",
    "msisdn": "14843472194",
    "text": "One more time",
    "timestamp": "1385055451",
    "to": "14849970568",
    "type": "text",
}
PARAMS_E = {
    "message-timestamp": "2013-11-21 17:31:42",
    "messageId": "030000002A264B8B",
    "msisdn": "14843472194",
    "text": "Message test",
    "timestamp": "1385055102",
    "to": "14849970568",
    "type": "text",
}
PARAMS_F = {
    "api_key": "not_a_key",
    "from": "12192259404",
    "text": "Test&test=something",
    "timestamp": "1490638615",
    "to": "14843472194",
}
PARAMS_G = {
    "api_key": "fake_api_key",
    "to": "14155550100",
    "from": "AcmeInc",
    "text": "Test From Nexmo",
    "type": "text",
    "timestamp": "1540924779",
}
PARAMS_H = {"a": "1", "b": "2", "timestamp": "1461605396"}
PARAMS_I = {"param1": "value1", "param2": "value2", "timestamp": "1234567890"}
PARAMS_J = {"param1": "value&1", "param2": "value=2", "timestamp": "1234567890"}
PARAMS_K = {"param": "value", "timestamp": "1234567890"}
SECRET_G = "71efab63122f1d179f51c46bac838fb5"

# (row, params, secret, method, expected hex exactly as the reference gives it)
VECTORS: list[tuple[str, dict[str, str], str, str, str]] = [
    ("A", PARAMS_A, SECRET, "md5hash", "d2e7b1dc968737c5998ad624e02f90b7"),
    ("A", PARAMS_A, SECRET, "md5", "DDEBD46008C2D4E93CCE578A332A52D5"),
    ("A", PARAMS_A, SECRET, "sha1", "27D0D05C2876C7CB1720DBCDBA4D492E1E55C09A"),
    ("A", PARAMS_A, SECRET, "sha256", "DDB8397C2B90AAC7F3882D306475C9A5058C92322EEF43C92B298B6E0FC0D330"),
    (
        "A",
        PARAMS_A,
        SECRET,
        "sha512",
        "E0D3C650F8C9D1A5C174D10DDDBFB003E561F59B265616208B0487C5D819481C"
        "D3C311D59CF6165ECD1139622D5BA3A256C0D763AC4A9AD9144B5A426B94FE82",
    ),
    ("B", PARAMS_B, SECRET, "md5hash", "e06d9763e3fd0b9c31beb5fc2fcb011c"),
    ("C", PARAMS_C, SECRET, "md5hash", "ff933bf31c79ab3fc6a38d100191c48f"),
    ("D", PARAMS_D, SECRET, "md5hash", "83c052a82906ec7c116e16f6d92f7eee"),
    ("E", PARAMS_E, "", "md5hash", "f0bfad43bd90cf1ea1f1525c18ba4dab"),
    ("F", PARAMS_F, SECRET, "md5hash", "17f5e3b22f778ec73464c01d180e9d0f"),
    ("G", PARAMS_G, SECRET_G, "md5", "51CDAFEBB4BBCE9525B195C1617CB8D2"),
    ("G", PARAMS_G, SECRET_G, "sha1", "0162AEC64BC183B2E1256545951FE5639DC98020"),
    ("G", PARAMS_G, SECRET_G, "sha256", "9FEC5EF6D0F2B3D2BB7558B6E4042569823CAB9EA0DD30503472B7B304601975"),
    (
        "G",
        PARAMS_G,
        SECRET_G,
        "sha512",
        "40BD12B9A4B6000AD1138EEFD24FFE9FBD72AEE13C3FA04B32BB69DBC256AD0A"
        "04A463B1A9AF6660D10F6E1E769EE14B9CFF6A635502E93AFCD0BFAB29F38F87",
    ),
    ("H", PARAMS_H, "secret", "md5hash", "6af838ef94998832dbfc29020b564830"),
    ("H", PARAMS_H, "secret", "md5", "c15c21ced558c93a226c305f58f902f2"),
    ("H", PARAMS_H, "secret", "sha1", "3e19a4e6880fdc2c1426bfd0587c98b9532f0210"),
    ("H", PARAMS_H, "secret", "sha256", "a321e824b9b816be7c3f28859a31749a098713d39f613c80d455bbaffae1cd24"),
    (
        "H",
        PARAMS_H,
        "secret",
        "sha512",
        "812a18f76680fa0fe1b8bd9ee1625466ceb1bd96242e4d050d2cfd9a7b40166c"
        "63ed26ec9702168781b6edcf1633db8ff95af9341701004eec3fcf9550572ee8",
    ),
    (
        "I",
        PARAMS_I,
        "signature_secret",
        "sha256",
        "280c4320703dbc98bfa22db676655ed2acfbfe8792b062ff7622e67f1183c287",
    ),
    ("I", PARAMS_I, "signature_secret", "md5", "724c2bf6ca423c36e20631b11d1c5753"),
    ("J", PARAMS_J, "signature_secret", "md5", "2bbf0abafb2c55e5af6231513896a2ac"),
    ("K", PARAMS_K, "signature_secret", "md5", "655a4d0b7f064dff438defc52b012cf5"),
    ("L", {"k": "_"}, SECRET, "md5hash", "c3d6a686ab9c7e7408bb1c0506e9629a"),
    ("L", {"k": "&"}, SECRET, "md5hash", "c3d6a686ab9c7e7408bb1c0506e9629a"),
    ("L", {"k": "="}, SECRET, "md5hash", "c3d6a686ab9c7e7408bb1c0506e9629a"),
]
VECTOR_IDS = [f"{row}-{method}-{next(iter(params.values()))}" for row, params, _, method, _ in VECTORS]
TIMESTAMPED_VECTORS = [v for v in VECTORS if "timestamp" in v[1]]
TIMESTAMPED_IDS = [i for i, v in zip(VECTOR_IDS, VECTORS, strict=True) if "timestamp" in v[1]]

ACCOUNT = "acct-1"
NOW = 1_700_000_000
MAX_AGE = 72 * 3600


def _account_for(params: dict[str, str]) -> str:
    return params.get("api_key", ACCOUNT)


@pytest.mark.parametrize(("row", "params", "secret", "method", "expected"), VECTORS, ids=VECTOR_IDS)
def test_compute_sms_signature_matches_vendor_vector(row, params, secret, method, expected):
    assert compute_sms_signature(params, secret, method) == expected.lower()


@pytest.mark.parametrize(("row", "params", "secret", "method", "expected"), VECTORS, ids=VECTOR_IDS)
def test_reference_signer_matches_vendor_vector(row, params, secret, method, expected):
    assert sms_sig(params, secret, method).lower() == expected.lower()


@pytest.mark.parametrize("case", [str.upper, str.lower], ids=["upper-hex", "lower-hex"])
@pytest.mark.parametrize(
    ("row", "params", "secret", "method", "expected"), TIMESTAMPED_VECTORS, ids=TIMESTAMPED_IDS
)
def test_vendor_vector_verifies_in_either_hex_case(row, params, secret, method, expected, case):
    account = _account_for(params)
    signed = {**params, "sig": case(expected)}
    identity = verify_sms_signature(
        signed, {account: [secret]}, {account: method}, now=int(params["timestamp"]), max_age=MAX_AGE
    )
    assert (identity.api_key, identity.method, identity.secret_index) == (account, method, 0)


@pytest.mark.parametrize("value", ["_", "&", "="])
def test_vector_l_without_timestamp_passes_the_signature_and_fails_only_on_the_timestamp(value):
    # Row L carries no timestamp: the sig must match (so no SignatureInvalid), then the replay rule bites.
    params = {"k": value, "sig": "c3d6a686ab9c7e7408bb1c0506e9629a"}
    assert_rejected(
        lambda: verify_sms_signature(params, {ACCOUNT: [SECRET]}, {}, now=NOW, max_age=MAX_AGE),
        TimestampInvalid,
        "timestamp_invalid",
        401,
    )


def test_signing_string_sorts_by_code_point_and_starts_with_ampersand():
    assert signing_string(PARAMS_A) == (
        "&message-timestamp=2013-11-21 15:27:30&messageId=020000001B0FE827&msisdn=14843472194"
        "&text=Test again&timestamp=1385047698&to=13239877404&type=text"
    )


def test_signing_string_replaces_ampersand_and_equals_in_values_only_and_drops_sig():
    s = signing_string({**PARAMS_B, "sig": "whatever", "a&b=c": "x&y=z"})
    assert "&text=Test with _ and _" in s
    assert "&a&b=c=x_y_z" in s
    assert "sig" not in s


def test_compute_sms_signature_rejects_an_unknown_method():
    with pytest.raises(ValueError, match="sha384"):
        compute_sms_signature(PARAMS_A, SECRET, "sha384")


# --- one negative test per rule -------------------------------------------------------------------


def _signed(params: dict[str, str], secret: str = SECRET, method: str = "md5hash") -> dict[str, str]:
    return {**params, "sig": sms_sig(params, secret, method)}


def _fresh(**extra: str) -> dict[str, str]:
    return {"msisdn": "447700900001", "to": "447700900000", "text": "hi", "timestamp": str(NOW), **extra}


@pytest.mark.parametrize("sig", [None, ""], ids=["absent", "empty"])
def test_missing_sig_is_rejected_with_signature_missing(sig):
    params = _fresh()
    if sig is not None:
        params["sig"] = sig
    assert_rejected(
        lambda: verify_sms_signature(params, {ACCOUNT: [SECRET]}, {}, now=NOW, max_age=MAX_AGE),
        SignatureMissing,
        "signature_missing",
        401,
    )


def test_sig_made_with_another_secret_is_rejected_with_signature_invalid():
    params = _signed(_fresh(), secret="not-the-configured-secret")
    err = assert_rejected(
        lambda: verify_sms_signature(params, {ACCOUNT: [SECRET]}, {}, now=NOW, max_age=MAX_AGE),
        SignatureInvalid,
        "signature_invalid",
        401,
    )
    assert SECRET not in repr(err.diagnostic)
    assert params["sig"] not in repr(err.diagnostic)


def test_sig_with_the_wrong_method_is_rejected():
    params = _signed(_fresh(), method="sha256")
    assert_rejected(
        lambda: verify_sms_signature(
            params, {ACCOUNT: [SECRET]}, {ACCOUNT: "sha1"}, now=NOW, max_age=MAX_AGE
        ),
        SignatureInvalid,
        "signature_invalid",
        401,
    )


@pytest.mark.parametrize("param", ["api-key", "api_key"])
def test_unknown_api_key_is_rejected_with_unknown_api_key(param):
    params = _signed(_fresh(**{param: "nobody"}))
    assert_rejected(
        lambda: verify_sms_signature(params, {ACCOUNT: [SECRET]}, {}, now=NOW, max_age=MAX_AGE),
        UnknownApiKey,
        "unknown_api_key",
        401,
    )


def test_no_configured_accounts_and_no_api_key_is_rejected_with_unknown_api_key():
    assert_rejected(
        lambda: verify_sms_signature(_signed(_fresh()), {}, {}, now=NOW, max_age=MAX_AGE),
        UnknownApiKey,
        "unknown_api_key",
        401,
    )


def test_api_key_param_selects_that_accounts_secret_and_method():
    secrets = {"first": ["s-one"], "second": ["s-two"]}
    methods = {"first": "md5hash", "second": "sha512"}
    params = _signed(_fresh(**{"api-key": "second"}), secret="s-two", method="sha512")
    identity = verify_sms_signature(params, secrets, methods, now=NOW, max_age=MAX_AGE)
    assert (identity.api_key, identity.method) == ("second", "sha512")


@pytest.mark.parametrize(
    ("account", "secret", "method"), [("first", "s-one", "md5hash"), ("second", "s-two", "sha256")]
)
def test_without_api_key_each_configured_account_is_tried_with_its_own_method(account, secret, method):
    secrets = {"first": ["s-one"], "second": ["s-two"]}
    methods = {"first": "md5hash", "second": "sha256"}
    params = _signed(_fresh(), secret=secret, method=method)
    identity = verify_sms_signature(params, secrets, methods, now=NOW, max_age=MAX_AGE)
    assert (identity.api_key, identity.method, identity.secret_index) == (account, method, 0)


def test_other_accounts_method_does_not_validate_a_signature():
    # Signed by "second"'s secret but with "first"'s method: neither account's (secret, method) matches.
    secrets = {"first": ["s-one"], "second": ["s-two"]}
    methods = {"first": "md5hash", "second": "sha256"}
    params = _signed(_fresh(), secret="s-two", method="md5hash")
    assert_rejected(
        lambda: verify_sms_signature(params, secrets, methods, now=NOW, max_age=MAX_AGE),
        SignatureInvalid,
        "signature_invalid",
        401,
    )


def test_older_secret_of_a_rotated_account_verifies_with_its_index():
    params = _signed(_fresh(), secret="old-secret")
    identity = verify_sms_signature(
        params, {ACCOUNT: ["new-secret", "old-secret"]}, {}, now=NOW, max_age=MAX_AGE
    )
    assert identity.secret_index == 1


def test_md5hash_is_the_default_when_no_method_is_configured():
    params = {**PARAMS_C, "sig": "ff933bf31c79ab3fc6a38d100191c48f"}
    identity = verify_sms_signature(
        params, {ACCOUNT: [SECRET]}, {}, now=int(PARAMS_C["timestamp"]), max_age=60
    )
    assert identity.method == "md5hash"


def test_hmac_signature_is_not_accepted_when_the_default_md5hash_applies():
    params = {**PARAMS_A, "sig": "DDB8397C2B90AAC7F3882D306475C9A5058C92322EEF43C92B298B6E0FC0D330"}
    assert_rejected(
        lambda: verify_sms_signature(params, {ACCOUNT: [SECRET]}, {}, now=1385047698, max_age=60),
        SignatureInvalid,
        "signature_invalid",
        401,
    )


def test_timestamp_older_than_max_age_is_rejected_as_expired():
    params = _signed(_fresh(timestamp=str(NOW - MAX_AGE - 1)))
    assert_rejected(
        lambda: verify_sms_signature(params, {ACCOUNT: [SECRET]}, {}, now=NOW, max_age=MAX_AGE),
        TokenExpired,
        "token_expired",
        401,
    )


def test_timestamp_exactly_max_age_old_is_accepted():
    params = _signed(_fresh(timestamp=str(NOW - MAX_AGE)))
    assert verify_sms_signature(params, {ACCOUNT: [SECRET]}, {}, now=NOW, max_age=MAX_AGE).api_key == ACCOUNT


def test_timestamp_more_than_skew_ahead_is_rejected_as_from_the_future():
    params = _signed(_fresh(timestamp=str(NOW + 61)))
    assert_rejected(
        lambda: verify_sms_signature(params, {ACCOUNT: [SECRET]}, {}, now=NOW, max_age=MAX_AGE, skew=60),
        TokenFromFuture,
        "token_from_future",
        401,
    )


@pytest.mark.parametrize("ahead", [59, 60])
def test_timestamp_within_skew_ahead_is_accepted(ahead):
    params = _signed(_fresh(timestamp=str(NOW + ahead)))
    assert verify_sms_signature(params, {ACCOUNT: [SECRET]}, {}, now=NOW, max_age=MAX_AGE, skew=60)


@pytest.mark.parametrize("timestamp", ["soon", "", "1.5", "0x10"])
def test_non_numeric_signed_timestamp_is_rejected_with_timestamp_invalid(timestamp):
    params = _signed(_fresh(timestamp=timestamp))
    assert_rejected(
        lambda: verify_sms_signature(params, {ACCOUNT: [SECRET]}, {}, now=NOW, max_age=MAX_AGE),
        TimestampInvalid,
        "timestamp_invalid",
        401,
    )


def test_signed_request_without_timestamp_is_rejected_with_timestamp_invalid():
    params = _fresh()
    del params["timestamp"]
    assert_rejected(
        lambda: verify_sms_signature(_signed(params), {ACCOUNT: [SECRET]}, {}, now=NOW, max_age=MAX_AGE),
        TimestampInvalid,
        "timestamp_invalid",
        401,
    )


def test_signature_is_judged_before_the_timestamp():
    # A forged request with a stale timestamp learns nothing about the replay window.
    params = _signed(_fresh(timestamp="soon"), secret="forger")
    assert_rejected(
        lambda: verify_sms_signature(params, {ACCOUNT: [SECRET]}, {}, now=NOW, max_age=MAX_AGE),
        SignatureInvalid,
        "signature_invalid",
        401,
    )


def test_ampersand_and_equals_in_a_value_sign_like_underscore():
    # Vector B: the text "Test with & and =" is signed as "Test with _ and _" (documented scheme).
    as_sent = {**PARAMS_B, "sig": "e06d9763e3fd0b9c31beb5fc2fcb011c"}
    as_underscores = {**as_sent, "text": "Test with _ and _"}
    for params in (as_sent, as_underscores):
        identity = verify_sms_signature(
            params, {ACCOUNT: [SECRET]}, {}, now=int(PARAMS_B["timestamp"]), max_age=60
        )
        assert identity.api_key == ACCOUNT


@pytest.mark.parametrize("sig", ["é" * 32, "ＡＢＣＤ", "d2e7b1dc968737c5998ad624e02f90b7\u00a0x"])
def test_non_ascii_sig_is_rejected_with_signature_invalid_not_a_crash(sig):
    params = {**_fresh(), "sig": sig}
    assert_rejected(
        lambda: verify_sms_signature(params, {ACCOUNT: [SECRET]}, {}, now=NOW, max_age=MAX_AGE),
        SignatureInvalid,
        "signature_invalid",
        401,
    )


def test_sig_with_a_lone_surrogate_is_rejected_with_signature_invalid_not_a_crash():
    params = {**_fresh(), "sig": "\ud800"}
    assert_rejected(
        lambda: verify_sms_signature(params, {ACCOUNT: [SECRET]}, {}, now=NOW, max_age=MAX_AGE),
        SignatureInvalid,
        "signature_invalid",
        401,
    )


@pytest.mark.parametrize(
    "encoded", ["?", "\ufffd", "surrogatepass"], ids=["java-question-mark", "replacement-char", "code-unit"]
)
@pytest.mark.parametrize("method", ["md5hash", "sha256"])
def test_a_lone_surrogate_in_free_text_verifies_under_each_way_a_utf16_platform_encodes_it(
    encoded: str, method: str
) -> None:
    """A POST-JSON inbound SMS split inside an emoji: never lose it for an encoding Vonage does not
    document. The signature is computed by the reference signer over the text as encoded."""
    params = _fresh(text="half an emoji \ud83d")
    if encoded == "surrogatepass":
        raw = "".join(f"&{k}={params[k].replace('&', '_').replace('=', '_')}" for k in sorted(params)).encode(
            "utf-8", "surrogatepass"
        )
        sig = (
            hashlib.md5(raw + SECRET.encode(), usedforsecurity=False).hexdigest()
            if method == "md5hash"
            else hmac.new(SECRET.encode(), raw, "sha256").hexdigest()
        )
    else:
        sig = sms_sig({**params, "text": params["text"].replace("\ud83d", encoded)}, SECRET, method)
    identity = verify_sms_signature(
        {**params, "sig": sig}, {ACCOUNT: [SECRET]}, {ACCOUNT: method}, now=NOW, max_age=MAX_AGE
    )
    assert identity.api_key == ACCOUNT


def test_a_lone_surrogate_does_not_widen_what_a_wrong_secret_can_sign() -> None:
    params = _fresh(text="half an emoji \ud83d")
    forged = {**params, "sig": sms_sig({**params, "text": "half an emoji ?"}, "not-the-secret", "md5hash")}
    assert_rejected(
        lambda: verify_sms_signature(forged, {ACCOUNT: [SECRET]}, {}, now=NOW, max_age=MAX_AGE),
        SignatureInvalid,
        "signature_invalid",
        401,
    )


def test_verify_does_not_mutate_the_params():
    params = _signed(_fresh())
    before = dict(params)
    verify_sms_signature(params, {ACCOUNT: [SECRET]}, {}, now=NOW, max_age=MAX_AGE)
    assert params == before


# --- properties -----------------------------------------------------------------------------------

RESERVED = {"sig", "timestamp", "api-key", "api_key"}
# Strings a decoded query, form or JSON body can hold: valid UTF-8, so no lone surrogates (lone surrogates are tested above).
_chars = st.characters(codec="utf-8")
_text = st.text(alphabet=st.one_of(_chars, st.sampled_from("&=_ +%")), max_size=24)
_names = st.text(alphabet=_chars, min_size=1, max_size=12).filter(lambda n: n not in RESERVED)
_params = st.dictionaries(_names, _text, max_size=8)
_secrets = st.text(alphabet=_chars, min_size=1, max_size=40)
_methods = st.sampled_from(SMS_METHODS)
PROPERTY_SETTINGS = settings(max_examples=150, deadline=None)


@PROPERTY_SETTINGS
@given(params=_params, secret=_secrets, method=_methods, age=st.integers(-60, MAX_AGE))
def test_any_params_signed_by_the_reference_verify(params, secret, method, age):
    params = {**params, "timestamp": str(NOW - age)}
    signed = {**params, "sig": sms_sig(params, secret, method)}
    identity = verify_sms_signature(signed, {ACCOUNT: [secret]}, {ACCOUNT: method}, now=NOW, max_age=MAX_AGE)
    assert (identity.api_key, identity.method) == (ACCOUNT, method)
    assert compute_sms_signature(params, secret, method) == sms_sig(params, secret, method).lower()


@st.composite
def _mutated(draw: st.DrawFn) -> tuple[dict[str, str], dict[str, str]]:
    original = draw(st.dictionaries(_names, _text, min_size=1, max_size=8))
    original["timestamp"] = str(NOW)
    mutated = dict(original)
    name = draw(st.sampled_from(sorted(original)))
    kind = draw(st.sampled_from(["value", "rename", "add", "remove"]))
    if kind == "value":
        mutated[name] = draw(_text.filter(lambda v: v != original[name]))
    elif kind == "rename" and name != "timestamp":
        new_name = draw(_names.filter(lambda n: n not in original))
        mutated[new_name] = mutated.pop(name)
    elif kind == "add":
        mutated[draw(_names.filter(lambda n: n not in original))] = draw(_text)
    elif name != "timestamp":
        del mutated[name]
    return original, mutated


@PROPERTY_SETTINGS
@given(pair=_mutated(), secret=_secrets, method=_methods)
def test_any_change_to_a_signed_parameter_name_or_value_is_rejected(pair, secret, method):
    original, mutated = pair
    # Only changes the scheme itself can see (& = _ are one character to it); the reference decides.
    assume(sms_sig(mutated, secret, method) != sms_sig(original, secret, method))
    forged = {**mutated, "sig": sms_sig(original, secret, method)}
    assert_rejected(
        lambda: verify_sms_signature(
            forged, {ACCOUNT: [secret]}, {ACCOUNT: method}, now=NOW, max_age=MAX_AGE
        ),
        SignatureInvalid,
        "signature_invalid",
        401,
    )


@PROPERTY_SETTINGS
@given(params=_params, value=_text)
def test_ampersand_equals_and_underscore_are_interchangeable_in_values(params, value):
    params = {**params, "timestamp": str(NOW)}
    a = {**params, "text": value}
    b = {**params, "text": value.replace("&", "=").replace("_", "&")}
    assert compute_sms_signature(a, SECRET, "sha256") == compute_sms_signature(b, SECRET, "sha256")
