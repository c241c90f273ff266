"""boto3 clients, built once per process with tight timeouts (a provider waits on the request path).

``AWS_ENDPOINT_URL`` (honoured by botocore) points every client at the local emulator."""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from botocore.config import Config

_CONFIG = Config(
    connect_timeout=2,
    read_timeout=4,
    retries={"mode": "standard", "max_attempts": 3},
)


@cache
def client(service: str) -> Any:
    return boto3.session.Session().client(service, config=_CONFIG)  # type: ignore[call-overload]
