"""Where the provider secrets come from: a Secrets Manager secret (AWS) or a JSON file (local).

The raw value is cached for ``secrets_cache_s`` (Powertools parameters in AWS, the file's mtime
locally) and parsed once per distinct value. ``get(force=True)`` re-reads at once, at most once per
``refresh_interval_s``: a signature that fails with every cached secret may have been made with one
rotated in since, but a flood of forged requests must not become a flood of Secrets Manager calls.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from shared.config import ProviderSecrets, Settings
from shared.errors import ConfigError, SecretsUnavailable

Fetch = Callable[[bool], str]


class SecretsSource:
    def __init__(self, fetch: Fetch, *, source: str, refresh_interval_s: float = 30.0) -> None:
        self._fetch = fetch
        self.source = source
        self._refresh_interval_s = refresh_interval_s
        self._raw: str | None = None
        self._parsed: ProviderSecrets | None = None
        self._last_forced = 0.0
        self._lock = threading.Lock()

    def get(self, *, force: bool = False) -> ProviderSecrets:
        with self._lock:
            if force:
                now = time.monotonic()
                if now - self._last_forced < self._refresh_interval_s and self._parsed is not None:
                    return self._parsed
                self._last_forced = now
            raw = self._fetch(force)
            if raw != self._raw or self._parsed is None:
                self._parsed = ProviderSecrets.from_json(raw, source=self.source)
                self._raw = raw
            return self._parsed

    def can_refresh(self) -> bool:
        return time.monotonic() - self._last_forced >= self._refresh_interval_s


def file_fetcher(path: str) -> Fetch:
    def fetch(force: bool) -> str:
        try:
            with open(path, encoding="utf-8") as fh:
                return fh.read()
        except OSError as exc:
            raise ConfigError(
                f"cannot read secrets file {path}: {exc.strerror}", key="SWITCHBOARD_SECRETS_FILE"
            ) from None

    return fetch


def secrets_manager_fetcher(secret_id: str, *, max_age: int, boto3_client: Any) -> Fetch:
    from aws_lambda_powertools.utilities.parameters import SecretsProvider
    from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

    provider = SecretsProvider(boto3_client=boto3_client)

    def fetch(force: bool) -> str:
        try:
            value = provider.get(secret_id, max_age=max_age, force_fetch=force)
        except GetParameterError as exc:
            raise SecretsUnavailable(reason=str(exc)[:200]) from None
        if isinstance(value, bytes):
            return value.decode("utf-8")
        return str(value)

    return fetch


def source_from_settings(settings: Settings, client_factory: Callable[[str], Any]) -> SecretsSource:
    if settings.secrets_json:
        inline = settings.secrets_json
        return SecretsSource(lambda force: inline, source="SWITCHBOARD_SECRETS_JSON")
    if settings.secrets_file:
        return SecretsSource(file_fetcher(settings.secrets_file), source=settings.secrets_file)
    if settings.secret_id:
        fetch = secrets_manager_fetcher(
            settings.secret_id,
            max_age=settings.secrets_cache_s,
            boto3_client=client_factory("secretsmanager"),
        )
        return SecretsSource(fetch, source=f"secret {settings.secret_id}")
    raise ConfigError(
        "set SWITCHBOARD_SECRET_ID (Secrets Manager) or SWITCHBOARD_SECRETS_FILE (a local JSON file)",
        key="SWITCHBOARD_SECRET_ID",
    )
