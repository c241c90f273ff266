"""Configuration: the provider secrets document and the typed settings from the environment.

The secrets document has the same shape in AWS (one Secrets Manager secret) and locally (a file)::

    {"vonage": {"signature_secrets": {"<api_key>": ["<newest>", "<older>"]},
                "sms_signature_methods": {"<api_key>": "md5hash"},
                "application_ids": []},
     "twilio": {"auth_tokens": {"<account_sid>": ["<newest>", "<older>"]}},
     "number_insight_token": "<random>",
     "short_codes_token": "<another random>"}

Everything is validated once, when loaded, and a bad document fails with a message naming the key.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from shared.errors import ConfigError

SMS_SIGNATURE_METHODS = ("md5hash", "md5", "sha1", "sha256", "sha512")
DEFAULT_SMS_SIGNATURE_METHOD = "md5hash"
# The longest replay window accepted for a timed credential (a Vonage JWT's iat, an SMS sig's
# timestamp): the recorder's bindings (shared/recorder.py CREDENTIAL_TTL_S) must outlive it.
MAX_REPLAY_WINDOW_S = 72 * 3600
# The products Vonage does not sign, each with its own secret URL token (its key in the document):
# a token that opens one product's routes never opens another's.
URL_TOKEN_KEYS = {"number_insight": "number_insight_token", "short_codes": "short_codes_token"}
MIN_URL_TOKEN_LENGTH = 16


@dataclass(frozen=True)
class ProviderSecrets:
    """Provider secrets, validated. Never log an instance's values."""

    vonage_signature_secrets: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    vonage_sms_signature_methods: Mapping[str, str] = field(default_factory=dict)
    vonage_application_ids: frozenset[str] = frozenset()
    twilio_auth_tokens: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    number_insight_token: str | None = None
    short_codes_token: str | None = None

    def __repr__(self) -> str:  # never show a secret, even by accident
        return (
            f"ProviderSecrets(vonage_api_keys={sorted(self.vonage_signature_secrets)}, "
            f"twilio_accounts={sorted(self.twilio_auth_tokens)}, "
            f"number_insight_token={'set' if self.number_insight_token else 'unset'}, "
            f"short_codes_token={'set' if self.short_codes_token else 'unset'})"
        )

    def url_token(self, product: str) -> str | None:
        """The secret URL token of a product Vonage does not sign (None: not configured, or a
        product without one)."""
        if product == "number_insight":
            return self.number_insight_token
        if product == "short_codes":
            return self.short_codes_token
        return None

    def sms_method(self, api_key: str) -> str:
        return self.vonage_sms_signature_methods.get(api_key, DEFAULT_SMS_SIGNATURE_METHOD)

    @classmethod
    def from_json(cls, text: str | bytes, *, source: str = "secrets") -> ProviderSecrets:
        try:
            doc = json.loads(text)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{source}: not valid JSON ({exc})", key="(document)") from None
        return cls.from_mapping(doc, source=source)

    @classmethod
    def from_mapping(cls, doc: Any, *, source: str = "secrets") -> ProviderSecrets:
        _object(doc, source, "(document)")
        _known(doc, source, "", {"vonage", "twilio", *URL_TOKEN_KEYS.values()})
        vonage = doc.get("vonage", {})
        _object(vonage, source, "vonage")
        _known(vonage, source, "vonage.", {"signature_secrets", "sms_signature_methods", "application_ids"})
        twilio = doc.get("twilio", {})
        _object(twilio, source, "twilio")
        _known(twilio, source, "twilio.", {"auth_tokens"})

        signature_secrets = _secret_lists(
            vonage.get("signature_secrets", {}), source, "vonage.signature_secrets"
        )
        methods_doc = vonage.get("sms_signature_methods", {})
        _object(methods_doc, source, "vonage.sms_signature_methods")
        methods: dict[str, str] = {}
        for api_key, method in methods_doc.items():
            name = f"vonage.sms_signature_methods.{api_key}"
            if not isinstance(method, str) or method.lower() not in SMS_SIGNATURE_METHODS:
                raise ConfigError(  # the value is not echoed: a secret pasted here must not reach a log
                    f"{source}: {name} must be one of {', '.join(SMS_SIGNATURE_METHODS)}",
                    key=name,
                )
            methods[api_key] = method.lower()
        app_ids = vonage.get("application_ids", [])
        if not isinstance(app_ids, list) or not all(isinstance(a, str) and a for a in app_ids):
            raise ConfigError(
                f"{source}: vonage.application_ids must be a list of non-empty strings",
                key="vonage.application_ids",
            )
        auth_tokens = _secret_lists(twilio.get("auth_tokens", {}), source, "twilio.auth_tokens")
        tokens = _url_tokens(doc, source)
        return cls(
            vonage_signature_secrets=signature_secrets,
            vonage_sms_signature_methods=methods,
            vonage_application_ids=frozenset(app_ids),
            twilio_auth_tokens=auth_tokens,
            number_insight_token=tokens.get("number_insight_token"),
            short_codes_token=tokens.get("short_codes_token"),
        )


def _url_tokens(doc: Mapping[str, Any], source: str) -> dict[str, str]:
    """The URL tokens, each a string of at least 16 characters, no two alike (one token must not
    open two products' routes)."""
    tokens: dict[str, str] = {}
    for key in URL_TOKEN_KEYS.values():
        token = doc.get(key)
        if token is None:
            continue
        if not isinstance(token, str) or len(token) < MIN_URL_TOKEN_LENGTH:
            raise ConfigError(
                f"{source}: {key} must be a string of at least {MIN_URL_TOKEN_LENGTH} characters", key=key
            )
        if token in tokens.values():  # the value is not echoed
            raise ConfigError(f"{source}: {key} must differ from the other URL tokens", key=key)
        tokens[key] = token
    return tokens


def _object(value: Any, source: str, name: str) -> None:
    if not isinstance(value, dict):
        raise ConfigError(f"{source}: {name} must be a JSON object", key=name)


def _known(doc: Mapping[str, Any], source: str, prefix: str, allowed: set[str]) -> None:
    for key in doc:
        if key not in allowed:
            raise ConfigError(
                f"{source}: unknown key {prefix}{key} (expected one of: {', '.join(sorted(allowed))})",
                key=f"{prefix}{key}",
            )


def _secret_lists(value: Any, source: str, name: str) -> dict[str, tuple[str, ...]]:
    _object(value, source, name)
    out: dict[str, tuple[str, ...]] = {}
    for ident, secrets in value.items():
        key = f"{name}.{ident}"
        if isinstance(secrets, str):  # one secret given bare: accept it as a one-element list
            secrets = [secrets]
        if not isinstance(secrets, list) or not secrets:
            raise ConfigError(f"{source}: {key} must be a non-empty list of secrets, newest first", key=key)
        for i, secret in enumerate(secrets):
            if not isinstance(secret, str) or not secret:
                raise ConfigError(f"{source}: {key}[{i}] must be a non-empty string", key=f"{key}[{i}]")
        out[ident] = tuple(secrets)
    return out


# --- settings from the environment ---------------------------------------------------------------

ENV_PREFIX = "SWITCHBOARD_"


@dataclass(frozen=True)
class Settings:
    """Typed, validated settings. Environment variables carry names and numbers, never secrets."""

    vonage_jwt_max_age_s: int = 24 * 3600  # Vonage's retry horizon for signed callbacks
    sms_max_age_s: int = 72 * 3600  # the SMS delivery-receipt retry horizon
    clock_skew_s: int = 60
    public_base_url: str | None = None
    # Provider payloads are a few KB. 64 KiB keeps the normalised event, even with every byte escaped
    # on re-serialisation, inside SQS's 256 KiB message limit and DynamoDB's 400 KB item limit.
    max_body_bytes: int = 64 * 1024
    secret_id: str | None = None  # Secrets Manager name or ARN
    secrets_file: str | None = None  # local JSON file in the same shape
    # The document inline: only for `sam local invoke --env-vars` (a container cannot see a host
    # file). The template never sets it; in AWS the secret is read from Secrets Manager.
    secrets_json: str | None = field(default=None, repr=False)
    secrets_cache_s: int = 300

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        base = _opt(env, "PUBLIC_BASE_URL")
        if base is not None:
            base = normalise_base_url(base)
        return cls(
            vonage_jwt_max_age_s=_int(
                env, "VONAGE_JWT_MAX_AGE_SECONDS", cls.vonage_jwt_max_age_s, 1, MAX_REPLAY_WINDOW_S
            ),
            sms_max_age_s=_int(env, "SMS_MAX_AGE_SECONDS", cls.sms_max_age_s, 1, MAX_REPLAY_WINDOW_S),
            clock_skew_s=_int(env, "CLOCK_SKEW_SECONDS", cls.clock_skew_s, 0, 3600),
            public_base_url=base,
            max_body_bytes=_int(env, "MAX_BODY_BYTES", cls.max_body_bytes, 1024, 64 * 1024),
            secret_id=_opt(env, "SECRET_ID"),
            secrets_file=_opt(env, "SECRETS_FILE"),
            secrets_json=_opt(env, "SECRETS_JSON"),
            secrets_cache_s=_int(env, "SECRETS_CACHE_SECONDS", cls.secrets_cache_s, 0, 86400),
        )


def normalise_base_url(value: str) -> str:
    """Validate PUBLIC_BASE_URL: scheme://host[:port][/prefix], no query; user:password dropped.

    Twilio drops credentials from the URL before signing, so they are dropped here too.
    """
    parts = urlsplit(value.strip())
    shown = f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}{parts.path}"  # never echo a password
    try:
        port_ok = parts.port is None or parts.port > 0
    except ValueError:
        port_ok = False
    if parts.scheme not in ("http", "https") or not parts.hostname or not port_ok:
        raise ConfigError(
            f"{ENV_PREFIX}PUBLIC_BASE_URL must look like https://host[:port][/prefix], got {shown!r}",
            key=f"{ENV_PREFIX}PUBLIC_BASE_URL",
        )
    if parts.query or parts.fragment:
        raise ConfigError(
            f"{ENV_PREFIX}PUBLIC_BASE_URL must not have a query or fragment",
            key=f"{ENV_PREFIX}PUBLIC_BASE_URL",
        )
    netloc = parts.netloc.rpartition("@")[2]
    return f"{parts.scheme}://{netloc}{parts.path.rstrip('/')}"


def _opt(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(ENV_PREFIX + name, "").strip()
    return value or None


def _int(env: Mapping[str, str], name: str, default: int, low: int, high: int | None = None) -> int:
    raw = env.get(ENV_PREFIX + name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(
            f"{ENV_PREFIX}{name} must be an integer, got {raw!r}", key=ENV_PREFIX + name
        ) from None
    if value < low or (high is not None and value > high):
        bounds = f">= {low}" if high is None else f"between {low} and {high}"
        raise ConfigError(f"{ENV_PREFIX}{name} must be {bounds}, got {value}", key=ENV_PREFIX + name)
    return value


def require_env(name: str, env: Mapping[str, str] | None = None) -> str:
    value = (os.environ if env is None else env).get(name, "").strip()
    if not value:
        raise ConfigError(f"environment variable {name} is required", key=name)
    return value
