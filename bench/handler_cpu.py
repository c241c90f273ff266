"""Ingress handler CPU per request, with no network wait, and the recorder's client-side CPU per event.

``functions.vonage.app.handler`` / ``functions.twilio.app.handler`` run as in Lambda — Powertools
``inject_lambda_context`` and ``log_metrics`` included, INFO logging (the template's default) written
to a counting sink — on the committed sample events with deps built by ``shared.webhook.build_deps``
and the clock pinned to ``signed_at`` (as tests/integration/conftest.py does). Two SQS clients:

- ``fake``: an object whose ``send_message`` returns at once (what the brief asks for);
- ``boto3``: the real botocore client short-circuited at 'before-send' (``common.short_circuit``):
  parameter validation, serialisation, SigV4 and parsing all run; no socket is opened. This is the
  CPU a Lambda invocation spends, used by the cost model.

The anchor is ``shared.ingress.receive`` (verify + normalise) on the same request, in the same run.
CPU is ``time.process_time`` around a block of calls.
"""

from __future__ import annotations

import io
import json
import os
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from bench.common import EVENTS, FAKE_AWS_ENV, Stat, calls_for, short_circuit

REPEATS = 9
HANDLER_CASES = (
    ("Verify v2 event", "http/verify/event-completed.json", "VonageFunction"),
    ("Messages status", "http/messages/status-delivered.json", "VonageFunction"),
    ("Messages inbound", "http/messages/inbound-whatsapp-text.json", "VonageFunction"),
    ("SMS receipt (GET)", "http/sms/receipt-delivered.json", "VonageFunction"),
    ("Voice answer (GET)", "http/voice/answer.json", "VonageFunction"),
    ("Voice event", "http/voice/event-completed.json", "VonageFunction"),
    ("Number Insight", "http/number_insight/result-success.json", "VonageFunction"),
    ("Twilio Verify Push (POST form)", "http/verify_push/challenge-approved.json", "TwilioFunction"),
)


class CountingSink(io.TextIOBase):
    """stdout for the handlers: counts what Powertools would write to CloudWatch Logs."""

    def __init__(self) -> None:
        self.chars = 0

    def write(self, s: str) -> int:
        self.chars += len(s.encode("utf-8")) if not s.isascii() else len(s)
        return len(s)

    def writable(self) -> bool:
        return True


class FakeSQS:
    def __init__(self) -> None:
        self.last_body_bytes = 0

    def send_message(self, **kwargs: Any) -> dict[str, str]:
        self.last_body_bytes = len(str(kwargs["MessageBody"]).encode("utf-8"))
        return {"MessageId": "00000000-0000-4000-8000-000000000000"}


class FakeSecrets:
    def __init__(self, text: str) -> None:
        self.text = text

    def get_secret_value(self, **kwargs: Any) -> dict[str, str]:
        return {"SecretString": self.text}


def _cpu_us(fn: Callable[[], object], number: int) -> float:
    c0 = time.process_time()
    for _ in range(number):
        fn()
    return (time.process_time() - c0) / number * 1e6


def _environment() -> dict[str, str]:
    from switchboard.template import Stack, function_environment, load_template

    template = load_template()
    stack = Stack.of(template, "us-east-1")
    stack.refs.update(
        IngestQueue="https://sqs.us-east-1.amazonaws.com/123456789012/switchboard-IngestQueue",
        EventsQueue="https://sqs.us-east-1.amazonaws.com/123456789012/switchboard-EventsQueue.fifo",
        HistoryTable="switchboard-HistoryTable",
        ProviderSecret="arn:aws:secretsmanager:us-east-1:123456789012:secret:switchboard-ProviderSecret",
    )
    env = {**function_environment(template, "VonageFunction", stack), **FAKE_AWS_ENV}
    env["SWITCHBOARD_EVENTS_QUEUE_URL"] = stack.refs["EventsQueue"]
    return env


def run() -> dict[str, Any]:
    sink = CountingSink()
    real_stdout = sys.stdout
    sys.stdout = sink  # before Powertools' Logger is created: its handler keeps this stream
    try:
        return _run(sink)
    finally:
        sys.stdout = real_stdout


def _run(sink: CountingSink) -> dict[str, Any]:
    env = _environment()
    os.environ.update(env)
    os.environ.pop("AWS_ENDPOINT_URL", None)

    import boto3

    from bench.common import dev_secrets_text
    from functions.twilio import app as twilio_app
    from functions.vonage import app as vonage_app
    from shared import aws
    from shared.http import request_from_apigw
    from shared.ingress import match_route, receive
    from shared.observability import logger
    from shared.webhook import build_deps
    from switchboard.esm import LambdaContext

    manifest = json.loads((EVENTS / "manifest.json").read_text())
    frozen = datetime.fromtimestamp(manifest["signed_at"] + 1, UTC)
    secret_text = dev_secrets_text()
    fake_sqs = FakeSQS()
    fakes: dict[str, Any] = {"sqs": fake_sqs, "secretsmanager": FakeSecrets(secret_text)}
    session = boto3.session.Session(region_name="us-east-1")
    real: dict[str, Any] = {
        name: short_circuit(session.client(name, config=aws._CONFIG), secret_text)
        for name in ("sqs", "secretsmanager", "dynamodb")
    }
    deps = {
        "fake": build_deps(env, clock=lambda: frozen, client=lambda s: fakes[s]),
        "boto3": build_deps(env, clock=lambda: frozen, client=lambda s: real[s]),
    }
    modules = {"VonageFunction": vonage_app, "TwilioFunction": twilio_app}
    out: dict[str, Any] = {"cases": []}
    for name, file, function in HANDLER_CASES:
        event = json.loads((EVENTS / file).read_text())
        expected = next(c["expect_status"] for c in manifest["cases"] if c["file"] == file)
        module = modules[function]
        ctx = LambdaContext(function_name=function)
        settings = deps["fake"].settings
        secrets = deps["fake"].secrets.get()
        request = request_from_apigw(event, max_body_bytes=settings.max_body_bytes)
        route = match_route(request.method, request.raw_path)

        def anchor(
            request: Any = request, route: Any = route, secrets: Any = secrets, settings: Any = settings
        ) -> object:
            return receive(request, secrets, settings, now=frozen, route=route)

        contenders: dict[str, Callable[[], object]] = {"receive": anchor}
        for kind, d in deps.items():

            def call(module: Any = module, d: Any = d, event: Any = event, ctx: Any = ctx) -> object:
                module.default_deps = lambda: d
                return module.handler(event, ctx)

            result: Any = call()
            if result["statusCode"] != expected:
                raise RuntimeError(f"{name} ({kind}): HTTP {result['statusCode']}, expected {expected}")
            contenders[kind] = call

        before = sink.chars
        contenders["fake"]()
        log_bytes = sink.chars - before
        logger.setLevel("WARNING")  # LogLevel WARNING (a template parameter): the EMF line stays
        before = sink.chars
        contenders["fake"]()
        log_bytes_warning = sink.chars - before
        logger.setLevel(env.get("POWERTOOLS_LOG_LEVEL") or "INFO")
        numbers = {k: calls_for(fn, 0.03) for k, fn in contenders.items()}
        samples: dict[str, list[float]] = {k: [] for k in contenders}
        for _ in range(REPEATS):
            for k, fn in contenders.items():
                samples[k].append(_cpu_us(fn, numbers[k]))
        out["cases"].append(
            {
                "name": name,
                "function": function,
                "file": file,
                "request_bytes": len(request.body)
                + len(request.raw_query)
                + sum(len(k) + len(v) + 4 for k, v in request.headers.items()),
                "sqs_body_bytes": fake_sqs.last_body_bytes,
                "log_bytes": log_bytes,
                "log_bytes_warning": log_bytes_warning,
                "stats": {k: Stat.of(v, "µs").to_json() for k, v in samples.items()},
            }
        )
    out["recorder"] = _recorder_cpu(real, sink)
    out["send"] = _send_cpu(real["sqs"], env["SWITCHBOARD_INGEST_QUEUE_URL"])
    return out


def _send_cpu(sqs: Any, queue_url: str) -> dict[str, Any]:
    """One SQS send's client-side CPU: botocore (short-circuited) vs a stdlib SigV4 floor."""
    from bench.prototypes import sigv4_send_message

    body = json.dumps({"event": "x" * 640})
    contenders: dict[str, Callable[[], object]] = {
        "botocore": lambda: sqs.send_message(QueueUrl=queue_url, MessageBody=body),
        "sigv4_floor": lambda: sigv4_send_message(
            queue_url,
            body,
            access_key="AKIDEXAMPLE",
            secret_key="bench",  # noqa: S106 - not a secret
            session_token="T" * 400,
            region="us-east-1",
            amz_date=time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()),
        ),
    }
    numbers = {k: calls_for(fn, 0.03) for k, fn in contenders.items()}
    samples: dict[str, list[float]] = {k: [] for k in contenders}
    for _ in range(REPEATS):
        for k, fn in contenders.items():
            samples[k].append(_cpu_us(fn, numbers[k]))
    return {k: Stat.of(v, "µs").to_json() for k, v in samples.items()}


def _recorder_cpu(real: dict[str, Any], sink: CountingSink) -> dict[str, Any]:
    """The recorder's own CPU per event (boto3 short-circuited), through the real batch loop: per event
    a GetItem, a PutItem binding (every record carries a signed credential, as every route but Number
    Insight's does), an UpdateItem and a PutItem history; one SendMessageBatch per batch of 10."""
    from shared.observability import logger
    from shared.recorder import CREDENTIAL_ATTRIBUTE, Recorder, fifo_publisher
    from shared.recorder_batch import handle_batch

    sqs_doc = json.loads((EVENTS / "sqs" / "batch-message-lifecycle.json").read_text())
    template = json.loads(sqs_doc["Records"][0]["body"])
    recorder = Recorder(
        real["dynamodb"],
        "switchboard-HistoryTable",
        fifo_publisher(real["sqs"], os.environ["SWITCHBOARD_EVENTS_QUEUE_URL"]),
        retention_days=90,
    )
    batch = {
        "Records": [
            {
                "messageId": f"m{i}",
                "body": json.dumps({**template, "event_id": f"evt_{i:032x}"}),
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {
                    CREDENTIAL_ATTRIBUTE: {"stringValue": f"vonage-jwt:{i:040x}", "dataType": "String"}
                },
            }
            for i in range(10)
        ]
    }
    result = handle_batch(batch, recorder, logger)
    if result["batchItemFailures"]:
        raise RuntimeError(f"recorder CPU bench: failures {result}")
    before = sink.chars
    handle_batch(batch, recorder, logger)
    log_bytes = (sink.chars - before) / 10
    samples = [_cpu_us(lambda: handle_batch(batch, recorder, logger), 5) / 10 for _ in range(REPEATS)]
    return {"per_event": Stat.of(samples, "µs").to_json(), "log_bytes_per_event": log_bytes}
