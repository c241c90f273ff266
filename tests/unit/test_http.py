"""The request as the verifiers need it, built from an API Gateway HTTP API (payload 2.0) event."""

from __future__ import annotations

import base64
import socket
from collections.abc import Callable
from typing import Any

import pytest
import pytest_socket
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.errors import BodyTooLarge, InvalidEncoding, InvalidJson, SwitchboardError
from shared.http import HttpRequest, flatten, last_values, parse_params, request_from_apigw


def assert_rejected(
    call: Callable[[], Any], error: type[SwitchboardError], code: str, status: int
) -> SwitchboardError:
    with pytest.raises(error) as caught:
        call()
    assert type(caught.value) is error
    assert caught.value.code == code
    assert caught.value.status == status
    return caught.value


LIMIT = 1024
DOMAIN = "abc123.execute-api.eu-west-1.amazonaws.com"


def apigw_event(
    *,
    method: str = "POST",
    raw_path: str = "/twilio/verify-push",
    raw_query: str = "",
    headers: dict[str, str] | None = None,
    body: str | None = None,
    is_base64: bool = False,
) -> dict[str, Any]:
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": raw_path,
        "rawQueryString": raw_query,
        "headers": {"host": DOMAIN} if headers is None else headers,
        "requestContext": {"domainName": DOMAIN, "http": {"method": method, "path": raw_path}},
        "body": body,
        "isBase64Encoded": is_base64,
    }


def build(**kwargs: Any) -> HttpRequest:
    return request_from_apigw(apigw_event(**kwargs), max_body_bytes=LIMIT)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


@pytest.mark.filterwarnings("ignore:A test tried to use socket.socket")
def test_unit_tests_cannot_open_sockets():
    with pytest.raises(pytest_socket.SocketBlockedError):
        socket.socket(socket.AF_INET, socket.SOCK_STREAM)


# --- body -------------------------------------------------------------------------------------------


def test_base64_body_is_decoded_to_the_exact_bytes():
    raw = b"\x00\xff binary \r\n\x80"
    assert build(body=b64(raw), is_base64=True).body == raw


def test_plain_body_is_kept_as_its_utf8_bytes():
    assert build(body='{"text":"héllo ✓"}').body == '{"text":"héllo ✓"}'.encode()


def test_absent_or_empty_body_is_empty_bytes():
    assert build(body=None).body == b""
    assert build(body="").body == b""
    assert build(body="", is_base64=True).body == b""


@pytest.mark.parametrize("body", ["not base64!", "YWJj=", "YW Jj", "YWJ", "YWJjZA==\n"])
def test_invalid_base64_is_rejected_with_invalid_encoding(body):
    assert_rejected(lambda: build(body=body, is_base64=True), InvalidEncoding, "invalid_encoding", 400)


def test_non_string_body_is_rejected_with_invalid_encoding():
    event = apigw_event()
    event["body"] = {"already": "parsed"}
    assert_rejected(
        lambda: request_from_apigw(event, max_body_bytes=LIMIT), InvalidEncoding, "invalid_encoding", 400
    )


def test_plain_body_with_a_lone_surrogate_is_rejected_with_invalid_encoding():
    assert_rejected(lambda: build(body="a\ud800b"), InvalidEncoding, "invalid_encoding", 400)


def test_plain_body_at_the_limit_is_accepted_and_one_byte_over_is_too_large():
    assert len(build(body="x" * LIMIT).body) == LIMIT
    err = assert_rejected(lambda: build(body="x" * (LIMIT + 1)), BodyTooLarge, "body_too_large", 413)
    assert err.diagnostic["limit"] == LIMIT


def test_plain_body_is_measured_in_bytes_not_characters():
    body = "é" * (LIMIT // 2 + 1)  # fewer characters than the limit, more bytes
    assert len(body) < LIMIT
    assert_rejected(lambda: build(body=body), BodyTooLarge, "body_too_large", 413)


def test_base64_body_at_the_limit_is_accepted_and_one_byte_over_is_too_large():
    assert len(build(body=b64(b"\x01" * LIMIT), is_base64=True).body) == LIMIT
    assert_rejected(
        lambda: build(body=b64(b"\x01" * (LIMIT + 1)), is_base64=True), BodyTooLarge, "body_too_large", 413
    )


def test_huge_base64_body_is_rejected_before_it_is_decoded():
    # Not even valid base64: the size bound comes first, so the answer is 413, not 400.
    assert_rejected(
        lambda: build(body="!" * (LIMIT * 2), is_base64=True), BodyTooLarge, "body_too_large", 413
    )


@settings(max_examples=150, deadline=None)
@given(data=st.binary(max_size=LIMIT + 64))
def test_base64_body_is_accepted_exactly_up_to_the_limit(data):
    if len(data) <= LIMIT:
        assert build(body=b64(data), is_base64=True).body == data
    else:
        assert_rejected(lambda: build(body=b64(data), is_base64=True), BodyTooLarge, "body_too_large", 413)


# --- reading the body as text, JSON, form --------------------------------------------------------

NOT_UTF8 = b"text=caf\xe9"


@pytest.mark.parametrize("read", ["text", "json_object", "form_params"])
def test_non_utf8_body_is_rejected_with_invalid_encoding_whichever_way_it_is_read(read):
    request = build(body=b64(NOT_UTF8), is_base64=True)
    err = assert_rejected(lambda: getattr(request, read)(), InvalidEncoding, "invalid_encoding", 400)
    assert err.diagnostic["position"] == 8


def test_json_object_is_parsed():
    assert build(body='{"a": [1, 2], "b": null}').json_object() == {"a": [1, 2], "b": None}


@pytest.mark.parametrize("body", ["[1, 2]", '"text"', "42", "null", "true"])
def test_json_that_is_not_an_object_is_rejected_with_invalid_json(body):
    err = assert_rejected(lambda: build(body=body).json_object(), InvalidJson, "invalid_json", 400)
    assert "got" in err.diagnostic


@pytest.mark.parametrize("body", ["", "{", "{'a': 1}", '{"a": 1} trailing', "\ufeff{}"])
def test_malformed_json_is_rejected_with_invalid_json(body):
    assert_rejected(lambda: build(body=body).json_object(), InvalidJson, "invalid_json", 400)


def test_form_body_keeps_repeated_and_blank_parameters_in_order():
    request = build(body="Digits=5678&Digits=1234&Empty=&From=%2B14155550100&Text=a+b%26c&Digits=1234")
    assert request.form_params() == {
        "Digits": ["5678", "1234", "1234"],
        "Empty": [""],
        "From": ["+14155550100"],
        "Text": ["a b&c"],
    }


def test_query_params_come_from_the_raw_query_string():
    request = build(method="GET", raw_query="a=1&b=%E2%9C%93&a=2&c")
    assert request.query_params() == {"a": ["1", "2"], "b": ["✓"], "c": [""]}


def test_percent_encoded_invalid_utf8_is_rejected_with_invalid_encoding():
    assert_rejected(lambda: parse_params("text=caf%E9"), InvalidEncoding, "invalid_encoding", 400)
    assert_rejected(
        lambda: build(method="GET", raw_query="x=%FF").query_params(),
        InvalidEncoding,
        "invalid_encoding",
        400,
    )


def test_flatten_keeps_single_values_as_strings_and_repeated_ones_as_lists():
    params = {"a": ["1"], "b": ["2", "3"], "c": [""]}
    assert flatten(params) == {"a": "1", "b": ["2", "3"], "c": ""}
    assert last_values(params) == {"a": "1", "b": "3", "c": ""}


# --- headers, method, scheme, host -----------------------------------------------------------------


def test_header_names_are_lower_cased_and_looked_up_case_insensitively():
    request = build(headers={"X-Twilio-Signature": "sig=", "Content-Type": "Application/JSON; charset=UTF-8"})
    assert dict(request.headers) == {
        "x-twilio-signature": "sig=",
        "content-type": "Application/JSON; charset=UTF-8",
    }
    assert request.header("X-TWILIO-SIGNATURE") == "sig="
    assert request.header("authorization") is None
    assert request.media_type == "application/json"


def test_media_type_is_empty_without_a_content_type():
    assert build(headers={}).media_type == ""


def test_method_is_upper_cased_and_defaults_to_get():
    assert build(method="post").method == "POST"
    event = apigw_event()
    del event["requestContext"]["http"]["method"]
    assert request_from_apigw(event, max_body_bytes=LIMIT).method == "GET"


def test_scheme_comes_from_x_forwarded_proto_and_host_from_the_host_header():
    request = build(headers={"Host": "hooks.example.com", "X-Forwarded-Proto": "HTTP, https"})
    assert (request.scheme, request.host) == ("http", "hooks.example.com")


def test_host_falls_back_to_the_domain_name_and_scheme_to_https():
    request = build(headers={})
    assert (request.scheme, request.host) == ("https", DOMAIN)


# --- url() --------------------------------------------------------------------------------------------


def test_url_without_a_public_base_is_scheme_host_raw_path_and_raw_query():
    request = build(raw_path="/twilio/verify-push", raw_query="b=2&a=%20x+y")
    assert request.url() == f"https://{DOMAIN}/twilio/verify-push?b=2&a=%20x+y"


def test_url_without_a_query_has_no_question_mark():
    assert build(raw_query="").url() == f"https://{DOMAIN}/twilio/verify-push"


def test_url_with_a_public_base_replaces_scheme_and_host():
    request = build(headers={"host": DOMAIN, "x-forwarded-proto": "http"}, raw_query="x=1")
    assert request.url("https://hooks.example.com") == "https://hooks.example.com/twilio/verify-push?x=1"


@pytest.mark.parametrize("raw_path", ["/prod/twilio/verify-push", "/twilio/verify-push"])
def test_url_with_a_base_path_prefix_is_right_whether_or_not_raw_path_includes_it(raw_path):
    request = build(raw_path=raw_path, raw_query="a=1")
    assert (
        request.url("https://hooks.example.com/prod")
        == "https://hooks.example.com/prod/twilio/verify-push?a=1"
    )


def test_url_with_a_nested_base_path_prefix():
    request = build(raw_path="/v1/prod/twilio/verify-push")
    assert (
        request.url("https://hooks.example.com/v1/prod")
        == "https://hooks.example.com/v1/prod/twilio/verify-push"
    )


def test_url_prefix_is_stripped_only_on_a_whole_path_segment():
    request = build(raw_path="/production/hook")
    assert request.url("https://hooks.example.com/prod") == "https://hooks.example.com/prod/production/hook"


def test_url_keeps_the_raw_path_and_query_byte_for_byte():
    request = build(raw_path="/twilio/verify%2Dpush", raw_query="q=it's&r=a%3ab&s=%7E")
    assert request.url() == f"https://{DOMAIN}/twilio/verify%2Dpush?q=it's&r=a%3ab&s=%7E"


# --- diagnostics ----------------------------------------------------------------------------------------

SECRET_IN_BODY = "sk-live-0123456789abcdef"


@pytest.mark.parametrize(
    "make",
    [
        lambda: build(body=f'{{"token": "{SECRET_IN_BODY}", ').json_object(),
        lambda: build(body=f'["{SECRET_IN_BODY}"]').json_object(),
        lambda: build(body=b64(f"token={SECRET_IN_BODY}\xff".encode("latin-1")), is_base64=True).text(),
        lambda: build(body=f"token={SECRET_IN_BODY}%FF").form_params(),
        lambda: build(body=SECRET_IN_BODY * 100),
        lambda: build(body=f"{SECRET_IN_BODY}!", is_base64=True),
    ],
    ids=["bad-json", "json-array", "not-utf8", "bad-percent", "too-large", "bad-base64"],
)
def test_diagnostics_never_contain_the_body(make):
    with pytest.raises(SwitchboardError) as caught:
        make()
    assert SECRET_IN_BODY not in repr(caught.value.diagnostic) + str(caught.value)
