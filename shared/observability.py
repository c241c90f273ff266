"""Logger and Metrics live here, once. No Tracer: it always imports the X-Ray SDK (≈ 95 ms of cold
start, performance-notes.md) and Switchboard's request path is one SQS call."""

from __future__ import annotations

import re
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter
from aws_lambda_powertools.metrics import MetricUnit

SERVICE = "switchboard"
# Keys the log group and the platform's REPORT line already carry. Dropped from every line: they
# are about a third of each (bench/: CloudWatch Logs is billed per byte ingested).
REDUNDANT_KEYS = frozenset({"function_arn", "function_memory_size", "function_name", "service"})


class LeanFormatter(LambdaPowertoolsFormatter):
    def serialize(self, log: Any) -> str:
        for key in REDUNDANT_KEYS:
            log.pop(key, None)
        return super().serialize(log)


logger = Logger(service=SERVICE, logger_formatter=LeanFormatter())
metrics = Metrics(namespace="Switchboard", service=SERVICE)

_DIGITS = re.compile(r"\+?\d[\d\s().-]{5,}\d")


def mask_phone(value: str) -> str:
    """Phone numbers in logs keep their last 3 digits: '447700900001' -> '*********001'."""
    return _DIGITS.sub(lambda m: "*" * (len(m.group()) - 3) + m.group()[-3:], value)


def count(name: str, value: float = 1) -> None:
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
