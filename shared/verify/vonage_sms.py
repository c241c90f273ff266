"""Vonage SMS API signed messages: the ``sig`` parameter.

The string to sign is every received parameter except ``sig``, sorted by name (code point order),
each value with ``&`` and ``=`` replaced by ``_``, joined as ``&name=value`` (leading ``&``).
``md5hash`` is MD5(string + secret), the dashboard default; ``md5``/``sha1``/``sha256``/``sha512``
are HMACs keyed with the signature secret. Hex compares case-insensitively, in constant time. The
signed ``timestamp`` must be within the replay window (the SDKs do not check it; we do).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from shared.config import DEFAULT_SMS_SIGNATURE_METHOD, SMS_SIGNATURE_METHODS
from shared.errors import (
    SignatureInvalid,
    SignatureMissing,
    TimestampInvalid,
    TokenExpired,
    TokenFromFuture,
    UnknownApiKey,
)
from shared.safejson import replace_lone_surrogates

_DIGESTS: dict[str, Callable[..., Any]] = {
    "md5": hashlib.md5,
    "sha1": hashlib.sha1,
    "sha256": hashlib.sha256,
    "sha512": hashlib.sha512,
}
API_KEY_PARAMS = ("api-key", "api_key")


@dataclass(frozen=True)
class SmsIdentity:
    api_key: str
    method: str
    secret_index: int


def signing_string(params: Mapping[str, str]) -> str:
    return "".join(
        f"&{key}={params[key].replace('&', '_').replace('=', '_')}" for key in sorted(params) if key != "sig"
    )


def signing_messages(params: Mapping[str, str]) -> list[bytes]:
    """The bytes to sign: the signing string as UTF-8, or, when a value holds a lone surrogate (a
    JSON ``\\ud800`` escape in a POST-JSON webhook, e.g. a concatenated SMS split inside an emoji),
    each way a UTF-16 platform encodes one. Which of them Vonage signs is not documented
    (providers.md §3 gaps), and refusing the webhook would lose a real message: ``?`` (Java's
    encoder), U+FFFD (JavaScript, .NET) and the code unit's own bytes are tried, each still keyed by
    the secret."""
    text = signing_string(params)
    try:
        return [text.encode("utf-8")]
    except UnicodeEncodeError:
        return [
            replace_lone_surrogates(text, "?").encode("utf-8"),
            replace_lone_surrogates(text).encode("utf-8"),
            text.encode("utf-8", "surrogatepass"),
        ]


def compute_sms_signature(params: Mapping[str, str], secret: str, method: str) -> str:
    """Lower-case hex signature of ``params`` (``sig`` ignored) with the given method."""
    return _digest(signing_messages(params)[0], secret, method)


def _digest(message: bytes, secret: str, method: str) -> str:
    if method == "md5hash":
        return hashlib.md5(message + secret.encode("utf-8"), usedforsecurity=False).hexdigest()
    digest = _DIGESTS.get(method)
    if digest is None:
        raise ValueError(f"unknown SMS signature method {method!r}; expected one of {SMS_SIGNATURE_METHODS}")
    return hmac.new(secret.encode("utf-8"), message, digest).hexdigest()


def verify_sms_signature(
    params: Mapping[str, str],
    secrets: Mapping[str, Sequence[str]],
    methods: Mapping[str, str],
    *,
    now: float,
    max_age: int,
    skew: int = 60,
) -> SmsIdentity:
    """Verify ``sig``; returns the account that signed. ``params`` holds decoded string values."""
    sig = params.get("sig")
    if not sig:
        raise SignatureMissing(rule="no sig parameter (enable signed messages for the account)")
    if not sig.isascii():
        raise SignatureInvalid(rule="sig must be hex")
    provided = sig.strip().lower().encode("ascii")
    api_key = next((params[p] for p in API_KEY_PARAMS if params.get(p)), None)
    if api_key is not None:
        if api_key not in secrets:
            raise UnknownApiKey(rule="api-key has no configured signature secret", api_key=api_key)
        accounts = [api_key]
    else:
        # Inbound SMS may come without api-key: try each configured account, with its method.
        accounts = list(secrets)
        if not accounts:
            raise UnknownApiKey(rule="no Vonage signature secrets are configured")
    tried: list[str] = []
    messages = signing_messages(params)
    for account in accounts:
        method = methods.get(account, DEFAULT_SMS_SIGNATURE_METHOD)
        for index, secret in enumerate(secrets[account]):
            if any(
                hmac.compare_digest(_digest(m, secret, method).encode("ascii"), provided) for m in messages
            ):
                _check_timestamp(params, now=now, max_age=max_age, skew=skew, api_key=account)
                return SmsIdentity(api_key=account, method=method, secret_index=index)
        tried.append(f"{account}:{method}x{len(secrets[account])}")
    raise SignatureInvalid(
        rule="sig matches no configured secret",
        tried=tried,
        api_key_param=api_key is not None,
        params=sorted(k for k in params if k != "sig"),
    )


def _check_timestamp(params: Mapping[str, str], *, now: float, max_age: int, skew: int, api_key: str) -> None:
    raw = params.get("timestamp", "")
    try:
        ts = int(raw.strip())
    except ValueError:
        raise TimestampInvalid(rule="signed timestamp must be unix seconds", api_key=api_key) from None
    if ts > now + skew:
        raise TokenFromFuture(
            rule=f"timestamp more than {skew}s ahead", ahead_s=int(ts - now), api_key=api_key
        )
    if now - ts > max_age:
        raise TokenExpired(rule=f"timestamp older than {max_age}s", age_s=int(now - ts), api_key=api_key)
