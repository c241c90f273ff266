"""Configuration: the provider secrets document and the typed settings from the environment."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from shared.config import (
    DEFAULT_SMS_SIGNATURE_METHOD,
    ProviderSecrets,
    Settings,
    normalise_base_url,
)
from shared.errors import ConfigError, SwitchboardError


def assert_config_error(call: Callable[[], Any], key: str) -> SwitchboardError:
    with pytest.raises(ConfigError) as caught:
        call()
    err = caught.value
    assert type(err) is ConfigError
    assert (err.code, err.status) == ("configuration_error", 500)
    assert err.diagnostic["key"] == key
    if key != "(document)":  # the whole document is named by its source instead
        assert key in str(err)
    return err


VONAGE_SECRET_NEW = "vonage-secret-newest-Qm9vb"
VONAGE_SECRET_OLD = "vonage-secret-older-WXl6e"
TWILIO_TOKEN = "twilio-auth-token-c2VjcmV0"
NI_TOKEN = "number-insight-token-0123456789"
ALL_SECRETS = (VONAGE_SECRET_NEW, VONAGE_SECRET_OLD, TWILIO_TOKEN, NI_TOKEN)

DOCUMENT = {
    "vonage": {
        "signature_secrets": {"a1b2c3d": [VONAGE_SECRET_NEW, VONAGE_SECRET_OLD]},
        "sms_signature_methods": {"a1b2c3d": "SHA256"},
        "application_ids": ["aaaaaaaa-bbbb-cccc-dddd-0123456789ab"],
    },
    "twilio": {"auth_tokens": {"AC123": [TWILIO_TOKEN]}},
    "number_insight_token": NI_TOKEN,
}


# --- ProviderSecrets -------------------------------------------------------------------------------


def test_full_document_is_parsed_into_typed_values():
    secrets = ProviderSecrets.from_json(json.dumps(DOCUMENT))
    assert secrets.vonage_signature_secrets == {"a1b2c3d": (VONAGE_SECRET_NEW, VONAGE_SECRET_OLD)}
    assert secrets.vonage_sms_signature_methods == {"a1b2c3d": "sha256"}
    assert secrets.vonage_application_ids == frozenset({"aaaaaaaa-bbbb-cccc-dddd-0123456789ab"})
    assert secrets.twilio_auth_tokens == {"AC123": (TWILIO_TOKEN,)}
    assert secrets.number_insight_token == NI_TOKEN


def test_document_as_bytes_is_accepted():
    assert ProviderSecrets.from_json(json.dumps(DOCUMENT).encode()).twilio_auth_tokens == {
        "AC123": (TWILIO_TOKEN,)
    }


def test_empty_document_configures_nothing():
    secrets = ProviderSecrets.from_json("{}")
    assert secrets.vonage_signature_secrets == {}
    assert secrets.twilio_auth_tokens == {}
    assert secrets.vonage_application_ids == frozenset()
    assert secrets.number_insight_token is None


def test_bare_string_secret_is_accepted_as_a_one_element_list():
    secrets = ProviderSecrets.from_mapping(
        {"vonage": {"signature_secrets": {"k": "only-one"}}, "twilio": {"auth_tokens": {"AC1": "tok"}}}
    )
    assert secrets.vonage_signature_secrets == {"k": ("only-one",)}
    assert secrets.twilio_auth_tokens == {"AC1": ("tok",)}


def test_sms_method_defaults_to_md5hash_for_an_unconfigured_api_key():
    secrets = ProviderSecrets.from_mapping(DOCUMENT)
    assert DEFAULT_SMS_SIGNATURE_METHOD == "md5hash"
    assert secrets.sms_method("a1b2c3d") == "sha256"
    assert secrets.sms_method("other") == "md5hash"


MALFORMED = [
    ("unknown-top-level-key", {"vonage": {}, "twillio": {}}, "twillio"),
    ("unknown-vonage-key", {"vonage": {"signature_secret": {}}}, "vonage.signature_secret"),
    ("unknown-twilio-key", {"twilio": {"auth_token": {}}}, "twilio.auth_token"),
    ("document-not-object", [], "(document)"),
    ("vonage-not-object", {"vonage": []}, "vonage"),
    ("twilio-not-object", {"twilio": "AC1"}, "twilio"),
    ("secrets-not-object", {"vonage": {"signature_secrets": ["s"]}}, "vonage.signature_secrets"),
    ("secrets-not-list", {"vonage": {"signature_secrets": {"k": 5}}}, "vonage.signature_secrets.k"),
    ("secrets-object", {"twilio": {"auth_tokens": {"AC1": {"t": 1}}}}, "twilio.auth_tokens.AC1"),
    ("secrets-empty-list", {"vonage": {"signature_secrets": {"k": []}}}, "vonage.signature_secrets.k"),
    ("secret-empty-string", {"vonage": {"signature_secrets": {"k": ""}}}, "vonage.signature_secrets.k[0]"),
    ("second-secret-empty", {"twilio": {"auth_tokens": {"AC1": ["t", ""]}}}, "twilio.auth_tokens.AC1[1]"),
    (
        "secret-not-string",
        {"vonage": {"signature_secrets": {"k": ["s", 7]}}},
        "vonage.signature_secrets.k[1]",
    ),
    (
        "bad-sms-method",
        {"vonage": {"sms_signature_methods": {"k": "sha384"}}},
        "vonage.sms_signature_methods.k",
    ),
    (
        "sms-method-not-string",
        {"vonage": {"sms_signature_methods": {"k": 256}}},
        "vonage.sms_signature_methods.k",
    ),
    (
        "sms-methods-not-object",
        {"vonage": {"sms_signature_methods": ["md5"]}},
        "vonage.sms_signature_methods",
    ),
    ("application-ids-string", {"vonage": {"application_ids": "app"}}, "vonage.application_ids"),
    ("application-ids-empty-item", {"vonage": {"application_ids": ["app", ""]}}, "vonage.application_ids"),
    ("application-ids-number", {"vonage": {"application_ids": [1]}}, "vonage.application_ids"),
    ("ni-token-short", {"number_insight_token": "fifteen-chars-x"}, "number_insight_token"),
    ("ni-token-empty", {"number_insight_token": ""}, "number_insight_token"),
    ("ni-token-number", {"number_insight_token": 12345678901234567890}, "number_insight_token"),
]


@pytest.mark.parametrize(("case", "doc", "key"), MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_document_is_rejected_naming_the_bad_key(case, doc, key):
    assert_config_error(lambda: ProviderSecrets.from_mapping(doc), key)
    assert_config_error(lambda: ProviderSecrets.from_json(json.dumps(doc)), key)


def test_number_insight_token_of_16_characters_is_accepted():
    assert ProviderSecrets.from_mapping({"number_insight_token": "x" * 16}).number_insight_token == "x" * 16


@pytest.mark.parametrize("text", ["{", "", "not json", b"\xff\xfe{}", "{'single': 'quotes'}"])
def test_invalid_json_is_rejected_naming_the_document_and_its_source(text):
    err = assert_config_error(
        lambda: ProviderSecrets.from_json(text, source="switchboard/prod"), "(document)"
    )
    assert str(err).startswith("switchboard/prod: not valid JSON")


def test_errors_never_echo_a_secret_value():
    docs = [
        {"vonage": {"signature_secrets": {"k": [VONAGE_SECRET_NEW, ""]}}},
        {"twilio": {"auth_tokens": {"AC1": [TWILIO_TOKEN, 5]}}},
        {"number_insight_token": NI_TOKEN[:10]},
        {**DOCUMENT, "extra": True},
    ]
    for doc in docs:
        with pytest.raises(ConfigError) as caught:
            ProviderSecrets.from_mapping(doc)
        text = str(caught.value) + repr(caught.value.diagnostic)
        for secret in (*ALL_SECRETS, NI_TOKEN[:10]):
            assert secret not in text


def test_repr_and_str_never_show_a_secret():
    secrets = ProviderSecrets.from_mapping(DOCUMENT)
    for text in (repr(secrets), str(secrets), f"{secrets!r}", repr([secrets]), repr({"s": secrets})):
        for secret in ALL_SECRETS:
            assert secret not in text
    assert "a1b2c3d" in repr(secrets)
    assert "AC123" in repr(secrets)
    assert "number_insight_token=set" in repr(secrets)


# --- Settings ----------------------------------------------------------------------------------------


def test_settings_defaults():
    assert Settings.from_env({}) == Settings(
        vonage_jwt_max_age_s=86400,
        sms_max_age_s=259200,
        clock_skew_s=60,
        public_base_url=None,
        max_body_bytes=65536,
        secret_id=None,
        secrets_file=None,
        secrets_cache_s=300,
    )


def test_settings_overrides_from_the_environment():
    env = {
        "SWITCHBOARD_VONAGE_JWT_MAX_AGE_SECONDS": "600",
        "SWITCHBOARD_SMS_MAX_AGE_SECONDS": " 7200 ",
        "SWITCHBOARD_CLOCK_SKEW_SECONDS": "0",
        "SWITCHBOARD_PUBLIC_BASE_URL": "https://hooks.example.com/prod",
        "SWITCHBOARD_MAX_BODY_BYTES": "1024",
        "SWITCHBOARD_SECRET_ID": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:switchboard-AbCdEf",
        "SWITCHBOARD_SECRETS_FILE": "env.local.json",
        "SWITCHBOARD_SECRETS_CACHE_SECONDS": "0",
    }
    assert Settings.from_env(env) == Settings(
        vonage_jwt_max_age_s=600,
        sms_max_age_s=7200,
        clock_skew_s=0,
        public_base_url="https://hooks.example.com/prod",
        max_body_bytes=1024,
        secret_id="arn:aws:secretsmanager:eu-west-1:123456789012:secret:switchboard-AbCdEf",
        secrets_file="env.local.json",
        secrets_cache_s=0,
    )


def test_blank_variables_fall_back_to_the_defaults():
    env = {
        "SWITCHBOARD_MAX_BODY_BYTES": "  ",
        "SWITCHBOARD_SECRET_ID": "",
        "SWITCHBOARD_PUBLIC_BASE_URL": " ",
    }
    settings = Settings.from_env(env)
    assert (settings.max_body_bytes, settings.secret_id, settings.public_base_url) == (65536, None, None)


def test_unprefixed_variables_are_ignored():
    assert Settings.from_env({"MAX_BODY_BYTES": "2048"}).max_body_bytes == 65536


def test_settings_read_os_environ_by_default(monkeypatch):
    monkeypatch.setenv("SWITCHBOARD_CLOCK_SKEW_SECONDS", "30")
    assert Settings.from_env().clock_skew_s == 30


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("VONAGE_JWT_MAX_AGE_SECONDS", "1d"),
        ("SMS_MAX_AGE_SECONDS", "3.5"),
        ("CLOCK_SKEW_SECONDS", "sixty"),
        ("MAX_BODY_BYTES", "256k"),
        ("SECRETS_CACHE_SECONDS", "0x10"),
    ],
)
def test_non_integer_setting_is_rejected_naming_the_variable(name, value):
    err = assert_config_error(
        lambda: Settings.from_env({f"SWITCHBOARD_{name}": value}), f"SWITCHBOARD_{name}"
    )
    assert repr(value) in str(err)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("VONAGE_JWT_MAX_AGE_SECONDS", "0"),
        ("SMS_MAX_AGE_SECONDS", "-1"),
        ("CLOCK_SKEW_SECONDS", "3601"),
        ("MAX_BODY_BYTES", "1023"),
        ("MAX_BODY_BYTES", str(64 * 1024 + 1)),
        ("SECRETS_CACHE_SECONDS", "86401"),
    ],
)
def test_out_of_range_setting_is_rejected_naming_the_variable(name, value):
    assert_config_error(lambda: Settings.from_env({f"SWITCHBOARD_{name}": value}), f"SWITCHBOARD_{name}")


@pytest.mark.parametrize(
    ("name", "value"),
    [("CLOCK_SKEW_SECONDS", "3600"), ("MAX_BODY_BYTES", "1024"), ("MAX_BODY_BYTES", str(64 * 1024))],
)
def test_settings_at_their_bounds_are_accepted(name, value):
    assert Settings.from_env({f"SWITCHBOARD_{name}": value})


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("https://hooks.example.com", "https://hooks.example.com"),
        ("https://hooks.example.com/", "https://hooks.example.com"),
        ("https://hooks.example.com/prod/", "https://hooks.example.com/prod"),
        ("https://user:pass@hooks.example.com/prod/", "https://hooks.example.com/prod"),
        ("https://user:p@ss@hooks.example.com", "https://hooks.example.com"),
        ("http://localhost:3000/", "http://localhost:3000"),
        ("  https://hooks.example.com:8443/a/b  ", "https://hooks.example.com:8443/a/b"),
        ("HTTPS://hooks.example.com", "https://hooks.example.com"),
    ],
)
def test_public_base_url_is_normalised(value, expected):
    assert normalise_base_url(value) == expected
    assert Settings.from_env({"SWITCHBOARD_PUBLIC_BASE_URL": value}).public_base_url == expected


@pytest.mark.parametrize(
    "value",
    [
        "https://hooks.example.com/prod?stage=1",
        "https://hooks.example.com/#frag",
        "ftp://hooks.example.com",
        "hooks.example.com/prod",
        "https://",
        "https:///path",
    ],
)
def test_public_base_url_with_query_fragment_or_no_host_is_rejected_naming_the_variable(value):
    assert_config_error(
        lambda: Settings.from_env({"SWITCHBOARD_PUBLIC_BASE_URL": value}), "SWITCHBOARD_PUBLIC_BASE_URL"
    )


@pytest.mark.parametrize("value", ["https://hooks.example.com:abc/prod", "https://hooks.example.com:99999"])
def test_public_base_url_with_an_invalid_port_is_rejected(value):
    assert_config_error(lambda: normalise_base_url(value), "SWITCHBOARD_PUBLIC_BASE_URL")


def test_public_base_url_error_does_not_echo_credentials():
    with pytest.raises(ConfigError) as caught:
        normalise_base_url("ftp://deploy:hunter2-password@hooks.example.com")
    assert "hunter2-password" not in str(caught.value)
