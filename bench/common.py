"""Shared helpers: statistics, paths, freshly signed sample requests, canned AWS responses."""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / ".aws-sam" / "build"
EVENTS = ROOT / "events"
REGION = "us-east-1"
ACCOUNT = "123456789012"
# The emulator and every stub accept any credentials; these are not secrets.
FAKE_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
}


@dataclass(frozen=True)
class Stat:
    """A repeated measurement: median, min and max of ``n`` runs, in ``unit``."""

    median: float
    low: float
    high: float
    n: int
    unit: str

    @classmethod
    def of(cls, values: Iterable[float], unit: str) -> Stat:
        data = sorted(values)
        if not data:
            raise ValueError("no samples")
        return cls(statistics.median(data), data[0], data[-1], len(data), unit)

    def scaled(self, factor: float, unit: str) -> Stat:
        return Stat(self.median * factor, self.low * factor, self.high * factor, self.n, unit)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> Stat:
        return cls(
            float(doc["median"]), float(doc["low"]), float(doc["high"]), int(doc["n"]), str(doc["unit"])
        )


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty list."""
    data = sorted(values)
    rank = max(1, min(len(data), round(q / 100 * len(data) + 0.5)))
    return data[rank - 1]


def time_calls(fn: Callable[[], object], number: int) -> float:
    """µs per call of ``number`` back-to-back calls (wall clock, perf_counter)."""
    t0 = time.perf_counter()
    for _ in range(number):
        fn()
    return (time.perf_counter() - t0) / number * 1e6


def interleaved_us(
    contenders: dict[str, Callable[[], object]], *, repeats: int, target_s: float = 0.03
) -> tuple[dict[str, int], dict[str, list[float]]]:
    """timeit-style medians: each contender's calls per repeat chosen so a repeat lasts about
    ``target_s``; repeats interleaved across contenders so drift hits them alike. µs per call."""
    numbers = {name: calls_for(fn, target_s) for name, fn in contenders.items()}
    samples: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(repeats):
        for name, fn in contenders.items():
            samples[name].append(time_calls(fn, numbers[name]))
    return numbers, samples


def calls_for(fn: Callable[[], object], target_s: float) -> int:
    """How many calls of ``fn`` take about ``target_s`` (at least 1, at most 200,000)."""
    fn()  # warm
    number = 1
    while number < 200_000:
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        took = time.perf_counter() - t0
        if took >= target_s / 4:
            return max(1, min(200_000, int(number * target_s / took)))
        number *= 4
    return number


def write_json(path: Path, doc: Any) -> None:
    path.write_text(json.dumps(doc, indent=2, sort_keys=True))


# --- freshly signed requests ---------------------------------------------------------------------


@dataclass(frozen=True)
class SignedCase:
    name: str  # what the report calls it
    sample: str  # events/payloads name
    method: str
    encoding: str | None
    event: dict[str, Any]  # API Gateway payload-2.0 event
    signed_at: int


# One representative request per webhook type and encoding.
CASES: tuple[tuple[str, str, str, str | None], ...] = (
    ("Vonage JWT · Verify v2 event (POST JSON)", "verify/event-completed", "POST", None),
    ("Vonage JWT · Messages status (POST JSON)", "messages/status-delivered", "POST", None),
    ("Vonage JWT · Messages inbound (POST JSON)", "messages/inbound-whatsapp-text", "POST", None),
    ("Vonage JWT · Voice answer (GET query)", "voice/answer", "GET", None),
    ("Vonage JWT · Voice event (POST JSON)", "voice/event-completed", "POST", None),
    ("Vonage SMS sig · receipt (GET query)", "sms/receipt-delivered", "GET", "query"),
    ("Vonage SMS sig · receipt (POST form)", "sms/receipt-delivered", "POST", "form"),
    ("Vonage SMS sig · receipt (POST JSON)", "sms/receipt-delivered", "POST", "json"),
    ("Vonage SMS sig · inbound (GET query)", "sms/inbound-plain", "GET", "query"),
    ("Number Insight URL token (POST JSON)", "number_insight/result-success", "POST", None),
    ("Twilio Verify Push (POST form)", "verify_push/challenge-approved", "POST", None),
    ("Twilio Verify Push (GET query)", "verify_push/challenge-approved", "GET", None),
)


def signed_cases(now: int | None = None, base_url: str | None = None) -> list[SignedCase]:
    """Every case in CASES, signed at ``now`` (default: the current time) with the dev secrets."""
    from switchboard.samples import SAMPLE_HOST, dev_secrets, sample, to_event
    from switchboard.signing import sign

    at = int(time.time()) if now is None else now
    secrets = dev_secrets()
    base = base_url or f"https://{SAMPLE_HOST}"
    out = []
    for name, sample_name, method, encoding in CASES:
        s = sample(sample_name)
        req = sign(s.route, s.payload, secrets, base, now=at, method=method, encoding=encoding)
        out.append(SignedCase(name, sample_name, method, encoding, to_event(req, at=at), at))
    return out


def dev_secrets_text() -> str:
    from switchboard.samples import DEV_SECRETS

    return DEV_SECRETS.read_text(encoding="utf-8")


# --- canned AWS answers (the JSON protocols of SQS, Secrets Manager and DynamoDB) -----------------


def canned_answer(target: str, request: dict[str, Any], secret_string: str) -> tuple[int, dict[str, Any]]:
    """What AWS would answer to ``X-Amz-Target: target`` with this JSON request, minimally."""
    import hashlib
    import uuid

    op = target.rpartition(".")[2]
    if op == "GetSecretValue":
        arn = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:{request.get('SecretId', 'bench')}"
        return 200, {
            "ARN": arn,
            "Name": str(request.get("SecretId", "bench")),
            "VersionId": "00000000-0000-4000-8000-000000000001",
            "SecretString": secret_string,
            "VersionStages": ["AWSCURRENT"],
            "CreatedDate": 1_700_000_000.0,
        }
    if op == "SendMessage":
        body = str(request.get("MessageBody", ""))
        return 200, {
            "MessageId": str(uuid.uuid4()),
            "MD5OfMessageBody": hashlib.md5(body.encode(), usedforsecurity=False).hexdigest(),
        }
    if op == "SendMessageBatch":
        entries = request.get("Entries") or []
        return 200, {
            "Successful": [
                {
                    "Id": e["Id"],
                    "MessageId": str(uuid.uuid4()),
                    "MD5OfMessageBody": hashlib.md5(
                        str(e.get("MessageBody", "")).encode(), usedforsecurity=False
                    ).hexdigest(),
                    "SequenceNumber": "1",
                }
                for e in entries
            ],
            "Failed": [],
        }
    if op in ("TransactWriteItems", "PutItem"):
        return 200, {}
    if op == "UpdateItem":
        values = request.get("ExpressionAttributeValues") or {}
        if ":status" not in values:
            return 200, {}
        return 200, {
            "Attributes": {
                "status": values[":status"],
                "occurred_at": values[":occurred_at"],
                "updated_at": values[":updated_at"],
                "event_id": values[":event_id"],
                "terminal": values[":terminal"],
            }
        }
    if op == "GetItem":
        return 200, {}
    if op == "Query":
        return 200, {"Items": [], "Count": 0, "ScannedCount": 0}
    return 400, {"__type": "com.amazon.coral.service#UnknownOperationException", "message": op}


def short_circuit(client: Any, secret_string: str) -> Any:
    """Make a real boto3 client answer from ``canned_answer`` at 'before-send': it still validates,
    serialises, signs (SigV4) and parses exactly as in Lambda, but never opens a socket."""
    from botocore.awsrequest import AWSResponse
    from botocore.compat import HTTPHeaders

    class _Raw:
        def __init__(self, data: bytes) -> None:
            self._data = data

        def stream(self, **_: Any) -> Iterable[bytes]:
            yield self._data

    def before_send(request: Any, **_: Any) -> Any:
        target = request.headers.get("X-Amz-Target", b"")
        target = target.decode() if isinstance(target, bytes) else str(target)
        body = request.body or b"{}"
        payload = json.loads(body.decode() if isinstance(body, bytes) else body)
        status, answer = canned_answer(target, payload, secret_string)
        data = json.dumps(answer).encode()
        headers = HTTPHeaders()
        headers["content-type"] = "application/x-amz-json-1.0"
        headers["x-amzn-requestid"] = "bench"
        return AWSResponse(request.url, status, headers, _Raw(data))

    client.meta.events.register("before-send", before_send)
    return client


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    import os
    import platform
    import subprocess
    import sys
    from datetime import UTC, datetime

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass

    def git(*args: str) -> str:
        try:
            return subprocess.run(  # noqa: S603 - fixed, read-only git commands
                ["git", *args],  # noqa: S607 - git from PATH
                cwd=ROOT,
                capture_output=True,
                text=True,
                check=False,
                timeout=10,
            ).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""

    commit = git("rev-parse", "--short", "HEAD")
    if commit and git("status", "--porcelain", "--untracked-files=no"):
        commit += " + uncommitted changes"
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "arch": platform.machine(),
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "os": f"{platform.system()} {platform.release()}",
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": commit,
    }
