"""Twilio ``X-Twilio-Signature``: known answers, one negative per rule, and properties against the
vendor's own ``RequestValidator``. Vectors copied from the providers reference, section 7.3
(twilio-python tests/unit/test_request_validator.py, token 12345)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import string
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator

from shared.errors import (
    PayloadHashMismatch,
    SignatureInvalid,
    SignatureMissing,
    SwitchboardError,
    UnknownAccount,
)
from shared.verify.twilio import compute_twilio_signature, url_variants, verify_twilio_signature
from tests.reference_signers import twilio_body_hash, twilio_signature


def assert_rejected(
    call: Callable[[], Any], error: type[SwitchboardError], code: str, status: int
) -> SwitchboardError:
    with pytest.raises(error) as caught:
        call()
    assert type(caught.value) is error
    assert caught.value.code == code
    assert caught.value.status == status
    return caught.value


# --- vectors (providers reference §7.3) -----------------------------------------------------------

TOKEN = "12345"
ACCOUNT = "AC81cffb679132d4154463d551b34dec2b"
TOKENS = {ACCOUNT: [TOKEN]}

BASE_URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
BASE_PARAMS = {
    "CallSid": ["CA1234567890ABCDE"],
    "Digits": ["1234"],
    "From": ["+14158675309"],
    "To": ["+18005551212"],
    "Caller": ["+14158675309"],
}
BASE_SIGNATURE = "RSOYDt4T1cUTdK1PDd93/VVr8B8="
DUPLICATE_PARAMS = {"Sid": ["CA123"], "SidAccount": ["AC123"], "Digits": ["5678", "1234", "1234"]}
DUPLICATE_SIGNATURE = "IK+Dwps556ElfBT0I3Rgjkr1wJU="
DUPLICATE_SIGNATURE_WITHOUT_DEDUPE = "tM//N+MVWOh7+ol2z8YCNxSY0Eg="
JSON_BODY = b'{"property": "value", "boolean": true}'
JSON_BODY_HASH = "0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620"
JSON_URL = f"{BASE_URL}&bodySHA256={JSON_BODY_HASH}"
JSON_SIGNATURE = "a9nBmqA0ju/hNViExpshrM61xv4="
GET_SIGNATURE = "zYQTYrRWXE7LtzbG4PfP7/bkkGo="

# (case, URL as received, signature Twilio sent, URL variant expected to match)
FORM_VECTORS = [
    ("base", BASE_URL, BASE_SIGNATURE, BASE_URL),
    (
        "https-1234-port-stripped",
        "https://mycompany.com:1234/myapp.php?foo=1&bar=2",
        BASE_SIGNATURE,
        BASE_URL,
    ),
    (
        "http-1234-signed-with-port",
        "http://mycompany.com:1234/myapp.php?foo=1&bar=2",
        "Zmvh+3yNM1Phv2jhDCwEM3q5ebU=",
        "http://mycompany.com:1234/myapp.php?foo=1&bar=2",
    ),
    (
        "https-signed-with-443",
        BASE_URL,
        "kvajT1Ptam85bY51eRf/AJRuM3w=",
        "https://mycompany.com:443/myapp.php?foo=1&bar=2",
    ),
    (
        "http-signed-with-80",
        "http://mycompany.com/myapp.php?foo=1&bar=2",
        "0ZXoZLH/DfblKGATFgpif+LLRf4=",
        "http://mycompany.com:80/myapp.php?foo=1&bar=2",
    ),
]


@pytest.mark.parametrize(
    ("case", "url", "signature", "matched"), FORM_VECTORS, ids=[v[0] for v in FORM_VECTORS]
)
def test_vendor_form_vector_verifies_and_reports_the_url_variant_that_matched(case, url, signature, matched):
    identity = verify_twilio_signature(url, BASE_PARAMS, signature, TOKENS, account_sid=ACCOUNT)
    assert (identity.account_sid, identity.url, identity.token_index) == (ACCOUNT, matched, 0)


@pytest.mark.parametrize(
    ("case", "url", "signature", "matched"), FORM_VECTORS, ids=[v[0] for v in FORM_VECTORS]
)
def test_compute_twilio_signature_over_the_signed_url_matches_the_vendor_vector(
    case, url, signature, matched
):
    assert compute_twilio_signature(matched, BASE_PARAMS, TOKEN) == signature
    assert twilio_signature(matched, BASE_PARAMS, TOKEN) == signature


def test_base_vector_signs_the_documented_string():
    signed = (
        "https://mycompany.com/myapp.php?foo=1&bar=2"
        "CallSidCA1234567890ABCDECaller+14158675309Digits1234From+14158675309To+18005551212"
    )
    expected = base64.b64encode(hmac.new(TOKEN.encode(), signed.encode(), hashlib.sha1).digest()).decode()
    assert expected == BASE_SIGNATURE == compute_twilio_signature(BASE_URL, BASE_PARAMS, TOKEN)


def test_duplicate_values_are_deduplicated_as_the_sdk_does():
    assert compute_twilio_signature(BASE_URL, DUPLICATE_PARAMS, TOKEN) == DUPLICATE_SIGNATURE
    assert twilio_signature(BASE_URL, DUPLICATE_PARAMS, TOKEN) == DUPLICATE_SIGNATURE
    identity = verify_twilio_signature(
        BASE_URL, DUPLICATE_PARAMS, DUPLICATE_SIGNATURE, TOKENS, account_sid=ACCOUNT
    )
    assert identity.url == BASE_URL


def test_signature_computed_without_dedupe_is_rejected():
    assert_rejected(
        lambda: verify_twilio_signature(
            BASE_URL, DUPLICATE_PARAMS, DUPLICATE_SIGNATURE_WITHOUT_DEDUPE, TOKENS, account_sid=ACCOUNT
        ),
        SignatureInvalid,
        "signature_invalid",
        401,
    )


def test_json_body_vector_verifies_through_body_sha256():
    assert twilio_body_hash(JSON_BODY) == JSON_BODY_HASH
    identity = verify_twilio_signature(
        JSON_URL, None, JSON_SIGNATURE, TOKENS, account_sid=ACCOUNT, json_body=JSON_BODY
    )
    assert identity.url == JSON_URL
    assert RequestValidator(TOKEN).validate(JSON_URL, JSON_BODY.decode(), JSON_SIGNATURE)


def test_json_body_is_signed_over_the_url_alone_even_if_form_params_are_passed():
    identity = verify_twilio_signature(
        JSON_URL, BASE_PARAMS, JSON_SIGNATURE, TOKENS, account_sid=ACCOUNT, json_body=JSON_BODY
    )
    assert identity.token_index == 0


def test_get_without_params_vector_verifies():
    assert compute_twilio_signature(BASE_URL, None, TOKEN) == GET_SIGNATURE
    assert compute_twilio_signature(BASE_URL, {}, TOKEN) == GET_SIGNATURE
    assert twilio_signature(BASE_URL, None, TOKEN) == GET_SIGNATURE
    assert verify_twilio_signature(BASE_URL, None, GET_SIGNATURE, TOKENS, account_sid=ACCOUNT).url == BASE_URL


def test_surrounding_whitespace_in_the_header_is_ignored():
    assert verify_twilio_signature(BASE_URL, BASE_PARAMS, f" {BASE_SIGNATURE}\t", TOKENS, account_sid=ACCOUNT)


# --- url_variants ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "variants"),
    [
        (BASE_URL, [BASE_URL, "https://mycompany.com:443/myapp.php?foo=1&bar=2"]),
        (
            "https://mycompany.com:1234/myapp.php?foo=1&bar=2",
            ["https://mycompany.com:1234/myapp.php?foo=1&bar=2", BASE_URL],
        ),
        ("https://mycompany.com:443/p", ["https://mycompany.com:443/p", "https://mycompany.com/p"]),
        ("http://h.example/p", ["http://h.example/p", "http://h.example:80/p"]),
        ("https://h.example", ["https://h.example", "https://h.example:443"]),
        ("https://h.example?a=1:2", ["https://h.example?a=1:2", "https://h.example:443?a=1:2"]),
        ("https://[::1]:8443/p", ["https://[::1]:8443/p", "https://[::1]/p"]),
        ("https://[::1]/p", ["https://[::1]/p", "https://[::1]:443/p"]),
        ("not a url", ["not a url"]),
    ],
)
def test_url_variants_are_as_received_without_port_and_with_default_port(url, variants):
    assert url_variants(url) == variants


def test_url_variants_never_touch_path_or_query():
    url = "https://h.example:8443/a:1/b?x=https://y:9/&z=%20+"
    assert all(v.endswith("/a:1/b?x=https://y:9/&z=%20+") for v in url_variants(url))


# --- one negative test per rule -------------------------------------------------------------------


@pytest.mark.parametrize("signature", [None, "", "   "], ids=["absent", "empty", "blank"])
def test_missing_signature_header_is_rejected_with_signature_missing(signature):
    assert_rejected(
        lambda: verify_twilio_signature(BASE_URL, BASE_PARAMS, signature, TOKENS, account_sid=ACCOUNT),
        SignatureMissing,
        "signature_missing",
        401,
    )


@pytest.mark.parametrize("account_sid", [None, ""], ids=["absent", "empty"])
def test_request_without_account_sid_is_rejected_with_unknown_account(account_sid):
    assert_rejected(
        lambda: verify_twilio_signature(
            BASE_URL, BASE_PARAMS, BASE_SIGNATURE, TOKENS, account_sid=account_sid
        ),
        UnknownAccount,
        "unknown_account",
        401,
    )


def test_unconfigured_account_is_rejected_with_unknown_account():
    err = assert_rejected(
        lambda: verify_twilio_signature(
            BASE_URL, BASE_PARAMS, BASE_SIGNATURE, TOKENS, account_sid="ACnobody"
        ),
        UnknownAccount,
        "unknown_account",
        401,
    )
    assert err.diagnostic["account_sid"] == "ACnobody"


def test_account_configured_with_no_tokens_is_rejected_with_unknown_account():
    assert_rejected(
        lambda: verify_twilio_signature(
            BASE_URL, BASE_PARAMS, BASE_SIGNATURE, {ACCOUNT: []}, account_sid=ACCOUNT
        ),
        UnknownAccount,
        "unknown_account",
        401,
    )


def test_signature_made_with_another_token_is_rejected_with_signature_invalid():
    assert_rejected(
        lambda: verify_twilio_signature(
            BASE_URL, BASE_PARAMS, BASE_SIGNATURE, {ACCOUNT: ["54321"]}, account_sid=ACCOUNT
        ),
        SignatureInvalid,
        "signature_invalid",
        401,
    )


def test_signature_of_another_account_is_rejected_with_signature_invalid():
    tokens = {ACCOUNT: ["token-of-account-one"], "AC2": [TOKEN]}
    assert_rejected(
        lambda: verify_twilio_signature(BASE_URL, BASE_PARAMS, BASE_SIGNATURE, tokens, account_sid=ACCOUNT),
        SignatureInvalid,
        "signature_invalid",
        401,
    )


def test_older_token_still_in_rotation_verifies_with_token_index_1():
    identity = verify_twilio_signature(
        BASE_URL, BASE_PARAMS, BASE_SIGNATURE, {ACCOUNT: ["the-new-primary", TOKEN]}, account_sid=ACCOUNT
    )
    assert identity.token_index == 1


def test_json_body_without_body_sha256_in_the_url_is_rejected_with_payload_hash_mismatch():
    signature = twilio_signature(BASE_URL, None, TOKEN)  # a genuine URL signature does not help
    assert_rejected(
        lambda: verify_twilio_signature(
            BASE_URL, None, signature, TOKENS, account_sid=ACCOUNT, json_body=JSON_BODY
        ),
        PayloadHashMismatch,
        "payload_hash_mismatch",
        401,
    )


@pytest.mark.parametrize(
    "body",
    [b'{"property": "value", "boolean": false}', JSON_BODY + b"\n", b"", JSON_BODY[:-1]],
    ids=["value-changed", "trailing-newline", "empty", "truncated"],
)
def test_tampered_json_body_is_rejected_with_payload_hash_mismatch(body):
    err = assert_rejected(
        lambda: verify_twilio_signature(
            JSON_URL, None, JSON_SIGNATURE, TOKENS, account_sid=ACCOUNT, json_body=body
        ),
        PayloadHashMismatch,
        "payload_hash_mismatch",
        401,
    )
    assert "property" not in repr(err.diagnostic)


def test_json_body_hash_is_checked_before_the_signature():
    # A forged signature with a tampered body is reported as the body mismatch: nothing is signed yet.
    assert_rejected(
        lambda: verify_twilio_signature(
            JSON_URL, None, "Zm9yZ2Vk", TOKENS, account_sid=ACCOUNT, json_body=b"{}"
        ),
        PayloadHashMismatch,
        "payload_hash_mismatch",
        401,
    )


def test_json_body_with_matching_hash_but_forged_signature_is_rejected_with_signature_invalid():
    assert_rejected(
        lambda: verify_twilio_signature(
            JSON_URL, None, BASE_SIGNATURE, TOKENS, account_sid=ACCOUNT, json_body=JSON_BODY
        ),
        SignatureInvalid,
        "signature_invalid",
        401,
    )


@pytest.mark.parametrize(
    ("signed_url", "received_url"),
    [
        ("https://mycompany.com/hook?q=a%20b", "https://mycompany.com/hook?q=a+b"),
        ("https://mycompany.com/hook?q=a+b", "https://mycompany.com/hook?q=a%20b"),
        ("https://mycompany.com/hook?q=it%27s", "https://mycompany.com/hook?q=it's"),
        ("https://mycompany.com/hook?q=a%3Ab", "https://mycompany.com/hook?q=a%3ab"),
        (BASE_URL, "https://mycompany.com/myapp.php?bar=2&foo=1"),
        (BASE_URL, "https://mycompany.com/myapp.php"),
        (BASE_URL, "https://mycompany.com/myapp.php/?foo=1&bar=2"),
        (BASE_URL, "http://mycompany.com/myapp.php?foo=1&bar=2"),
        (BASE_URL, "https://MyCompany.com/myapp.php?foo=1&bar=2"),
    ],
    ids=[
        "%20-vs-plus",
        "plus-vs-%20",
        "quote-unescaped",
        "hex-case",
        "reordered",
        "query-dropped",
        "trailing-slash",
        "scheme",
        "host-case",
    ],
)
def test_url_that_differs_from_the_signed_one_is_rejected(signed_url, received_url):
    signature = twilio_signature(signed_url, BASE_PARAMS, TOKEN)
    assert verify_twilio_signature(signed_url, BASE_PARAMS, signature, TOKENS, account_sid=ACCOUNT)
    assert_rejected(
        lambda: verify_twilio_signature(received_url, BASE_PARAMS, signature, TOKENS, account_sid=ACCOUNT),
        SignatureInvalid,
        "signature_invalid",
        401,
    )


def test_form_params_moved_into_the_query_string_are_rejected():
    url = BASE_URL + "&Digits=1234"
    params = {k: v for k, v in BASE_PARAMS.items() if k != "Digits"}
    assert_rejected(
        lambda: verify_twilio_signature(url, params, BASE_SIGNATURE, TOKENS, account_sid=ACCOUNT),
        SignatureInvalid,
        "signature_invalid",
        401,
    )


@pytest.mark.parametrize("signature", ["RSOYDt4T1cUTdK1PDd93/VVr8B8é", "ＲＳＯＹ", "\u00a0" + "x" * 27 + "="])
def test_non_ascii_signature_is_rejected_with_signature_invalid_not_a_crash(signature):
    assert_rejected(
        lambda: verify_twilio_signature(BASE_URL, BASE_PARAMS, signature, TOKENS, account_sid=ACCOUNT),
        SignatureInvalid,
        "signature_invalid",
        401,
    )


def test_failure_diagnostic_lists_the_urls_tried_with_query_values_redacted_and_no_token():
    token = "a-very-recognisable-auth-token"
    url = "https://hooks.example.com/twilio/verify-push?to=%2B14155550100&uuid=2c4f7a36&bodySHA256="
    params = {"entity_identity": ["c57320476ac925f9e21e"], "From": ["+14155550199"]}
    err = assert_rejected(
        lambda: verify_twilio_signature(url, params, "Zm9yZ2Vk", {ACCOUNT: [token]}, account_sid=ACCOUNT),
        SignatureInvalid,
        "signature_invalid",
        401,
    )
    assert err.diagnostic["urls_tried"] == [
        "https://hooks.example.com/twilio/verify-push?to=…&uuid=…&bodySHA256=…",
        "https://hooks.example.com:443/twilio/verify-push?to=…&uuid=…&bodySHA256=…",
    ]
    assert err.diagnostic["tokens_tried"] == 1
    assert err.diagnostic["param_names"] == ["From", "entity_identity"]
    text = repr(err.diagnostic) + str(err)
    for leaked in (token, "14155550100", "2c4f7a36", "c57320476ac925f9e21e", "14155550199", "Zm9yZ2Vk"):
        assert leaked not in text


# --- properties -----------------------------------------------------------------------------------

PROPERTY_SETTINGS = settings(max_examples=150, deadline=None)
_chars = st.characters(codec="utf-8")
_text = st.text(alphabet=_chars, max_size=16)
_params = st.dictionaries(
    st.text(alphabet=_chars, min_size=1, max_size=12), st.lists(_text, min_size=1, max_size=4), max_size=6
)
_URL_CHARS = string.ascii_letters + string.digits + "-._~%!$&'()*+,;=:@/?"
_hosts = st.sampled_from(["mycompany.com", "hooks.example.com", "abc123.execute-api.eu-west-1.amazonaws.com"])
_tails = st.text(alphabet=_URL_CHARS, max_size=60).map(lambda t: "/" + t)
_tokens = st.text(alphabet=_chars, min_size=1, max_size=40).filter(lambda t: t != "another-token")


@PROPERTY_SETTINGS
@given(url=st.builds(lambda h, t: f"https://{h}{t}", _hosts, _tails), params=_params, token=_tokens)
def test_compute_matches_the_twilio_sdk_including_repeated_names(url, params, token):
    assert compute_twilio_signature(url, params, token) == twilio_signature(url, params, token)


@PROPERTY_SETTINGS
@given(
    url=st.builds(lambda h, t: f"https://{h}{t}", _hosts, _tails),
    params=st.dictionaries(st.text(alphabet=_chars, min_size=1, max_size=12), _text, max_size=6),
    token=_tokens,
)
def test_compute_matches_the_twilio_sdk_given_a_plain_dict(url, params, token):
    expected = RequestValidator(token).compute_signature(url, params)
    assert compute_twilio_signature(url, params, token) == expected
    assert compute_twilio_signature(url, {k: [v] for k, v in params.items()}, token) == expected


@PROPERTY_SETTINGS
@given(
    host=_hosts,
    tail=_tails,
    params=st.one_of(st.none(), _params),
    token=_tokens,
    port=st.sampled_from(["", ":443"]),
)
def test_any_request_signed_by_the_sdk_verifies(host, tail, params, token, port):
    signed_url = f"https://{host}{port}{tail}"
    received_url = f"https://{host}{tail}"  # Twilio may sign with :443 even though the request had none
    signature = twilio_signature(signed_url, params, token)
    identity = verify_twilio_signature(
        received_url, params, signature, {ACCOUNT: ["another-token", token]}, account_sid=ACCOUNT
    )
    assert (identity.url, identity.token_index) == (signed_url, 1)


@st.composite
def _url_and_change(draw: st.DrawFn) -> tuple[str, str]:
    prefix = "https://" + draw(_hosts) + "/"
    rest = draw(st.text(alphabet=_URL_CHARS, max_size=60))
    url = prefix + rest
    kind = draw(st.sampled_from(["replace", "insert", "delete"] if rest else ["insert"]))
    # Changes after the first "/" of the path: everything Twilio signs beyond scheme://host[:port].
    if kind == "insert":
        i = draw(st.integers(0, len(rest)))
        return url, prefix + rest[:i] + draw(st.sampled_from(_URL_CHARS)) + rest[i:]
    i = draw(st.integers(0, len(rest) - 1))
    if kind == "delete":
        return url, prefix + rest[:i] + rest[i + 1 :]
    new = draw(st.sampled_from(_URL_CHARS).filter(lambda c: c != rest[i]))
    return url, prefix + rest[:i] + new + rest[i + 1 :]


@PROPERTY_SETTINGS
@given(pair=_url_and_change(), params=st.one_of(st.none(), _params))
def test_any_change_to_the_signed_url_is_rejected(pair, params):
    url, changed = pair
    signature = twilio_signature(url, params, TOKEN)
    assert_rejected(
        lambda: verify_twilio_signature(changed, params, signature, TOKENS, account_sid=ACCOUNT),
        SignatureInvalid,
        "signature_invalid",
        401,
    )


@st.composite
def _params_and_change(draw: st.DrawFn) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    original = draw(_params.filter(bool))
    changed = {k: list(v) for k, v in original.items()}
    name = draw(st.sampled_from(sorted(original)))
    kind = draw(st.sampled_from(["value", "rename", "add", "remove", "add-value"]))
    new_name = draw(st.text(alphabet=_chars, min_size=1, max_size=12).filter(lambda n: n not in original))
    if kind == "value":
        i = draw(st.integers(0, len(changed[name]) - 1))
        changed[name][i] = draw(_text.filter(lambda v: v != original[name][i]))
    elif kind == "rename":
        changed[new_name] = changed.pop(name)
    elif kind == "add":
        changed[new_name] = draw(st.lists(_text, min_size=1, max_size=2))
    elif kind == "add-value":
        changed[name].append(draw(_text))
    else:
        del changed[name]
    return original, changed


@PROPERTY_SETTINGS
@given(pair=_params_and_change())
def test_any_change_to_a_form_parameter_name_or_value_is_rejected(pair):
    original, changed = pair
    # Twilio's scheme cannot see some changes (name/value boundaries, repeated equal values): the SDK decides.
    assume(twilio_signature(BASE_URL, changed, TOKEN) != twilio_signature(BASE_URL, original, TOKEN))
    signature = twilio_signature(BASE_URL, original, TOKEN)
    assert_rejected(
        lambda: verify_twilio_signature(BASE_URL, changed, signature, TOKENS, account_sid=ACCOUNT),
        SignatureInvalid,
        "signature_invalid",
        401,
    )
