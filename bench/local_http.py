"""Wall-clock latency against the local stack (``switchboard.local.running``, in this process).

The real local stack — moto's server on 127.0.0.1 with the template's queues, table and secret; the
HTTP server turning each request into an API Gateway event for the real handler; the recorder
polling the ingest queue in the background — is sent freshly signed requests over one keep-alive
HTTP connection, a bounded number per type. The anchor, in the same run, is the emulator's own
floor: the stack's 404 (no handler) plus a direct boto3 ``send_message`` to the same ingest queue.

switchboard/local.py's handler writes each response in one piece (``wbufsize = -1``, adopted from
an earlier run of this suite). A second pass measures the handler as it was before that line, for the
before → after: a subclass of the stack's own handler class with ``wbufsize = 0`` (socketserver's
default: headers and body leave in two writes, which meet Nagle's algorithm and the client's delayed
ACK on a keep-alive connection). Nothing else differs between the passes.
"""

from __future__ import annotations

import http.client
import os
import shutil
import socket
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.common import Stat, percentile

REQUESTS = 150
WARMUP = 15
TIME_LIMIT_S = 15.0
CASES = (
    ("Vonage Verify v2 (JWT, POST JSON)", "verify/event-completed", "POST", None),
    ("Vonage SMS receipt (sig, GET)", "sms/receipt-delivered", "GET", "query"),
    ("Twilio Verify Push (POST form)", "verify_push/challenge-approved", "POST", None),
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _timed(fn: Callable[[], object]) -> list[float]:
    for _ in range(WARMUP):
        fn()
    out: list[float] = []
    deadline = time.monotonic() + TIME_LIMIT_S
    while len(out) < REQUESTS and time.monotonic() < deadline:
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1e3)
    return out


def _summary(values: list[float]) -> dict[str, Any]:
    return {
        "p50": percentile(values, 50),
        "p99": percentile(values, 99),
        "stat": Stat.of(values, "ms").to_json(),
        "n": len(values),
    }


def _pass(two_writes: bool) -> tuple[dict[str, Any], int]:
    import boto3

    from switchboard import local
    from switchboard.samples import dev_secrets, sample
    from switchboard.signing import sign

    original = local.LocalStack._handler_class
    shipped_wbufsize: list[int] = []

    def observed(self: Any) -> Any:
        cls = original(self)
        shipped_wbufsize.append(int(cls.wbufsize))
        if two_writes:  # the handler as it was before `wbufsize = -1`, everything else its own
            return type("TwoWritesHandler", (cls,), {"wbufsize": 0})
        return cls

    local.LocalStack._handler_class = observed  # type: ignore[method-assign]
    try:
        with local.running(port=_free_port(), aws_port=_free_port(), quiet=True) as stack:
            state = stack.state
            assert state is not None
            host, port = "127.0.0.1", stack.port
            conn = http.client.HTTPConnection(host, port, timeout=10)
            secrets = dev_secrets()
            results: dict[str, Any] = {}

            def requester(
                method: str, path: str, body: bytes, headers: dict[str, str], want: int
            ) -> Callable[[], None]:
                def go() -> None:
                    conn.request(method, path, body=body or None, headers=headers)
                    response = conn.getresponse()
                    response.read()
                    if response.status != want:
                        raise RuntimeError(f"{method} {path}: HTTP {response.status}, expected {want}")

                return go

            for name, sample_name, method, encoding in CASES:
                s = sample(sample_name)
                req = sign(
                    s.route,
                    s.payload,
                    secrets,
                    state.base_url,
                    now=int(time.time()),
                    method=method,
                    encoding=encoding,
                )
                path = req.url[len(state.base_url) :]
                results[name] = _summary(_timed(requester(req.method, path, req.body, req.headers, 200)))
            results["floor: local 404 (no handler)"] = _summary(
                _timed(requester("GET", "/nope", b"", {}, 404))
            )
            sqs = boto3.session.Session(region_name=state.region).client(
                "sqs", endpoint_url=state.aws_endpoint
            )
            body = '{"bench":"' + "x" * 600 + '"}'
            results["floor: boto3 send_message to the emulator"] = _summary(
                _timed(lambda: sqs.send_message(QueueUrl=state.ingest_queue_url, MessageBody=body))
            )
            conn.close()
            return results, shipped_wbufsize[0]
    finally:
        local.LocalStack._handler_class = original  # type: ignore[method-assign]


def run(*, two_writes: bool = False) -> dict[str, Any]:
    """One pass per process: moto's backends are process-global, so a second stack would clash."""
    state_dir = Path(tempfile.mkdtemp(prefix="bench-local-"))
    os.environ["SWITCHBOARD_STATE_FILE"] = str(state_dir / "state.json")
    os.environ.setdefault("LOG_LEVEL", "ERROR")
    try:
        results, shipped_wbufsize = _pass(two_writes=two_writes)
        return {
            "results": results,
            "requests": REQUESTS,
            "two_writes": two_writes,
            "shipped_wbufsize": shipped_wbufsize,  # what switchboard/local.py's handler class has
        }
    finally:
        shutil.rmtree(state_dir, ignore_errors=True)
