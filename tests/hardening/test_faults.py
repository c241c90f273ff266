"""Fault injection and load on the local stack (in this process, so faults can be injected into its
AWS clients): the ingest queue write failing, DynamoDB throttling, the recorder crashing mid-batch
between its writes, and a poison message. Every signed event sent ends up in the history exactly
once, or in a DLQ and, once redriven, in the history exactly once. Concurrent senders retry on 5xx
as the providers do. The counts are printed (pytest -s) and asserted."""

from __future__ import annotations

import json
import random
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from shared import aws, storage
from shared.config import ProviderSecrets
from shared.ingress import ROUTES
from switchboard.cli import _move_messages
from switchboard.local import DEV_SECRETS, running
from switchboard.signing import sign
from tests.e2e.conftest import free_port
from tests.hardening.conftest import HEAVY

EVENTS = 400 if HEAVY else 60
SENDERS = 8 if HEAVY else 4
FAULT_RATE = 0.15
STATUSES = ["submitted", "delivered", "read", "rejected"]


class Faults:
    """Wraps client methods so that a share of calls fail, reproducibly."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.injected: Counter[str] = Counter()
        self.active = True

    def fail(self, name: str, rate: float) -> bool:
        with self.lock:
            if self.active and self.rng.random() < rate:
                self.injected[name] += 1
                return True
            return False

    def wrap(self, obj: Any, method: str, name: str, rate: float, error: str, when: Any = None) -> None:
        original = getattr(obj, method)

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if (when is None or when(kwargs)) and self.fail(name, rate):
                raise ClientError({"Error": {"Code": error, "Message": f"injected {name}"}}, method)
            return original(*args, **kwargs)

        setattr(obj, method, wrapper)


def _post(url: str, request: Any) -> int:
    req = urllib.request.Request(
        url, data=request.body or None, method=request.method, headers=request.headers
    )
    try:
        with urllib.request.urlopen(req, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def _wait_until_drained(sqs: Any, url: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        attrs = sqs.get_queue_attributes(
            QueueUrl=url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        if (
            attrs["ApproximateNumberOfMessages"] == "0"
            and attrs["ApproximateNumberOfMessagesNotVisible"] == "0"
        ):
            return
        time.sleep(0.3)
    raise AssertionError(f"{url} did not drain in {timeout}s")


@pytest.fixture
def stack(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("SWITCHBOARD_LOCAL_RETRY_DELAY", "0")
    monkeypatch.setenv("SWITCHBOARD_STATE_FILE", "/tmp/switchboard-faults-state.json")
    import switchboard.local as local

    monkeypatch.setattr(local, "RETRY_DELAY_S", 0)
    with running(port=free_port(), quiet=True) as s:
        yield s


@pytest.mark.parametrize("fault_rate", [FAULT_RATE, 0.0], ids=["faults", "load-without-faults"])
def test_every_signed_event_is_recorded_exactly_once_despite_faults(stack: Any, fault_rate: float) -> None:
    state = stack.state
    sqs, dynamodb = aws.client("sqs"), aws.client("dynamodb")
    faults = Faults(seed=7)
    faults.wrap(
        sqs,
        "send_message",
        "ingest_write",
        fault_rate,
        "ServiceUnavailable",
        lambda kw: kw["QueueUrl"] == state.ingest_queue_url,
    )
    # Each of the recorder's writes can fail: the binding and the history put (put_item, the latter
    # after the publish), the status update, the batch publish to the events queue.
    faults.wrap(
        dynamodb, "put_item", "dynamodb_throttle", fault_rate, "ProvisionedThroughputExceededException"
    )
    faults.wrap(dynamodb, "update_item", "recorder_crash_mid_batch", fault_rate, "InternalServerError")
    faults.wrap(sqs, "send_message_batch", "events_publish", fault_rate, "ServiceUnavailable")

    secrets = ProviderSecrets.from_json(DEV_SECRETS.read_text())
    route = ROUTES["/vonage/messages/status"]
    payloads = [
        {
            "message_uuid": str(uuid.uuid4()),
            "to": "447700900000",
            "from": "447700900001",
            "timestamp": f"2026-01-01T00:00:{i % 60:02d}.000Z",
            "status": STATUSES[i % len(STATUSES)],
            "channel": "whatsapp",
        }
        for i in range(EVENTS)
    ]
    tries: Counter[int] = Counter()

    def deliver(payload: dict[str, Any]) -> tuple[str, int]:
        # A provider: retry on 5xx (Vonage retries 429/5xx for 24 h), each retry freshly signed.
        for attempt in range(1, 20):
            request = sign(route, payload, secrets, state.base_url, now=int(time.time()))
            status = _post(request.url, request)
            if status < 500:
                tries[attempt] += 1
                return payload["message_uuid"], status
        return payload["message_uuid"], status

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=SENDERS) as pool:
        results = list(pool.map(deliver, payloads))
    send_s = time.monotonic() - started
    assert all(status == 200 for _, status in results), Counter(s for _, s in results)

    # A poison message on the ingest queue (sent with a client of its own, past the fault injection).
    boto3.client(
        "sqs",
        endpoint_url=state.aws_endpoint,
        region_name=state.region,
        aws_access_key_id="x",
        aws_secret_access_key="x",
    ).send_message(QueueUrl=state.ingest_queue_url, MessageBody="{poison")

    _wait_until_drained(sqs, state.ingest_queue_url, 120)
    # The outage ends; the operator redrives the DLQ. Real events get recorded, the poison returns.
    faults.active = False
    dead = _move_messages(sqs, state.ingest_dlq_url, state.ingest_queue_url)
    _wait_until_drained(sqs, state.ingest_queue_url, 120)
    still_dead = sqs.receive_message(
        QueueUrl=state.ingest_dlq_url, MaxNumberOfMessages=10, WaitTimeSeconds=0
    ).get("Messages", [])

    history: Counter[str] = Counter()
    for payload in payloads:
        pk = storage.subject_pk("vonage", "messages", payload["message_uuid"])
        got = dynamodb.query(**storage.query_subject(state.table, pk))["Items"]
        history[payload["message_uuid"]] = sum(
            1 for i in got if i["sk"]["S"].startswith(storage.HISTORY_PREFIX)
        )
    published: Counter[str] = Counter()
    while True:
        got = sqs.receive_message(
            QueueUrl=state.events_queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0
        ).get("Messages", [])
        if not got:
            break
        for m in got:
            published[json.loads(m["Body"])["event_id"]] += 1
            sqs.delete_message(QueueUrl=state.events_queue_url, ReceiptHandle=m["ReceiptHandle"])

    report = {
        "events_sent": EVENTS,
        "senders": SENDERS,
        "send_seconds": round(send_s, 2),
        "throughput_per_s": round(EVENTS / send_s, 1),
        "delivery_attempts": dict(sorted(tries.items())),
        "faults_injected": dict(faults.injected),
        "dead_lettered_then_redriven": dead,
        "left_in_dlq": len(still_dead),
        "recorded_once": sum(1 for n in history.values() if n == 1),
        "lost": sum(1 for n in history.values() if n == 0),
        "duplicated": sum(1 for n in history.values() if n > 1),
        "published": sum(published.values()),
        "published_twice": sum(1 for n in published.values() if n > 1),
    }
    report["fault_rate"] = fault_rate
    print("\nfault injection report:", json.dumps(report, indent=2))
    if fault_rate:
        assert sum(faults.injected.values()) > 0, "no fault was injected: the test proves nothing"
    else:
        assert report["dead_lettered_then_redriven"] == 1  # the poison message alone
        assert report["delivery_attempts"] == {1: EVENTS}
    assert report["lost"] == 0 and report["duplicated"] == 0
    assert report["recorded_once"] == EVENTS
    assert [m["Body"] for m in still_dead] == ["{poison"]
    assert report["published"] == EVENTS and report["published_twice"] == 0
