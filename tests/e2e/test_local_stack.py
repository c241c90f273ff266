"""End to end over real HTTP: `switchboard run` in a subprocess, events signed by the CLI and,
independently, by PyJWT and by twilio's own RequestValidator, checked with `switchboard status`
and `switchboard consume`."""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jwt
import pytest
from twilio.request_validator import RequestValidator

from tests.e2e.conftest import CLI, ROOT, LocalStack, start

pytestmark = pytest.mark.e2e

DEV = json.loads((Path(__file__).resolve().parents[2] / "switchboard" / "dev_secrets.json").read_text())
API_KEY, VONAGE_SECRET = next(iter(DEV["vonage"]["signature_secrets"].items()))
ACCOUNT_SID, TOKENS = next(iter(DEV["twilio"]["auth_tokens"].items()))


def _wait_for(predicate: Any, timeout: float = 10) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.2)


def _status_when_recorded(stack: LocalStack, subject: str, events: int) -> dict[str, Any]:
    def ready() -> dict[str, Any] | None:
        done = stack.cli("status", subject, "--json", check=False)
        doc = json.loads(done.stdout) if done.stdout.strip() else {}
        return doc if done.returncode == 0 and len(doc.get("history", [])) >= events else None

    doc = _wait_for(ready)
    assert doc, f"{subject} was not recorded"
    return doc  # type: ignore[no-any-return]


def test_cli_sent_verify_event_is_acknowledged_queryable_and_consumed_exactly_once(local_stack: LocalStack):
    request_id = str(uuid.uuid4())
    sent = local_stack.cli("send", "verify/event-completed", "--set", f"request_id={request_id}")
    assert "HTTP 200 evt_" in sent.stdout
    event_id = re.search(r"evt_[0-9a-f]{32}", sent.stdout).group()  # type: ignore[union-attr]
    assert f"subject {request_id}" in sent.stdout
    doc = _status_when_recorded(local_stack, request_id, 1)
    assert (doc["status"], doc["product"], doc["provider"]) == ("completed", "verify", "vonage")
    assert [e["event_id"] for e in doc["history"]] == [event_id]
    consumed = [e for e in local_stack.consume() if e["subject_id"] == request_id]
    assert [e["event_id"] for e in consumed] == [event_id]
    assert consumed[0]["current"]["status"] == "completed"
    assert [e for e in local_stack.consume(wait=1) if e["subject_id"] == request_id] == []


def test_replays_are_one_event_and_a_late_status_never_moves_it_backwards(local_stack: LocalStack):
    uuid_ = str(uuid.uuid4())
    sent = local_stack.cli(
        "send",
        "messages/status-submitted",
        "--set",
        f"message_uuid={uuid_}",
        "--status",
        "delivered,submitted",
        "--repeat",
        "2",
    )
    assert sent.stdout.count("HTTP 200") == 4
    doc = _status_when_recorded(local_stack, uuid_, 2)
    assert doc["status"] == "delivered"
    assert sorted(e["status"] for e in doc["history"]) == ["delivered", "submitted"]
    consumed = [e for e in local_stack.consume() if e["subject_id"] == uuid_]
    assert [(e["status"], e["current"]["status"]) for e in consumed] == [
        ("delivered", "delivered"),
        ("submitted", "delivered"),
    ]


def test_an_event_signed_independently_with_pyjwt_is_accepted(local_stack: LocalStack):
    message_uuid = str(uuid.uuid4())
    body = json.dumps(
        {
            "message_uuid": message_uuid,
            "to": "447700900000",
            "from": "447700900001",
            "timestamp": "2025-01-01T12:00:00.000Z",
            "status": "delivered",
            "channel": "sms",
        }
    ).encode()
    claims = {
        "iat": int(time.time()),
        "jti": str(uuid.uuid4()),
        "iss": "Vonage",
        "payload_hash": hashlib.sha256(body).hexdigest(),
        "api_key": API_KEY,
    }
    token = jwt.encode(claims, VONAGE_SECRET[0], algorithm="HS256")
    headers = {"content-type": "application/json", "authorization": f"Bearer {token}"}
    assert local_stack.post("/vonage/messages/status", body, headers) == 200
    assert _status_when_recorded(local_stack, message_uuid, 1)["status"] == "delivered"
    tampered = body.replace(b"delivered", b"rejected")
    assert local_stack.post("/vonage/messages/status", tampered, headers) == 401
    consumed = [e for e in local_stack.consume() if e["subject_id"] == message_uuid]
    assert [e["status"] for e in consumed] == ["delivered"]


def test_an_event_signed_by_twilios_own_validator_is_accepted_over_the_local_url(local_stack: LocalStack):
    challenge = "YC" + uuid.uuid4().hex
    params = {
        "uuid": str(uuid.uuid4()),
        "type": "challenge.approved",
        "account_sid": ACCOUNT_SID,
        "service_sid": "VA" + "1" * 32,
        "entity_identity": "ff483d1ff591898a9942916050d2ca3f",
        "factor_sid": "YF" + "2" * 32,
        "factor_type": "push",
        "challenge_sid": challenge,
        "challenge_details": json.dumps({"message": "Login", "fields": []}),
    }
    url = f"{local_stack.base_url}/twilio/verify-push"
    signature = RequestValidator(TOKENS[0]).compute_signature(url, params)
    headers = {"content-type": "application/x-www-form-urlencoded", "x-twilio-signature": signature}
    assert local_stack.post("/twilio/verify-push", urlencode(params).encode(), headers) == 200
    doc = _status_when_recorded(local_stack, challenge, 1)
    assert (doc["status"], doc["product"]) == ("approved", "verify_push")
    assert doc["history"][0]["data"]["challenge_details"] == {"message": "Login", "fields": []}
    forged = {**headers, "x-twilio-signature": RequestValidator("wrong-token").compute_signature(url, params)}
    assert local_stack.post("/twilio/verify-push", urlencode(params).encode(), forged) == 401


def test_cli_signs_every_sample_so_the_local_stack_accepts_it(local_stack: LocalStack):
    names = [line.split()[0] for line in local_stack.cli("samples").stdout.splitlines()[1:]]
    assert len(names) >= 50
    for name in names:
        done = local_stack.cli("send", name, check=False)
        assert done.returncode == 0 and " -> HTTP 2" in done.stdout, (name, done.stdout, done.stderr)
    local_stack.consume()  # leave the queue empty for the other tests


def test_redrive_moves_dead_letters_back_and_they_get_recorded(local_stack: LocalStack):
    state = local_stack.state
    sqs = local_stack.sqs()
    request_id = str(uuid.uuid4())
    event = {
        "schema_version": "1",
        "event_id": "evt_" + uuid.uuid4().hex,
        "provider": "vonage",
        "product": "verify",
        "type": "verify.event",
        "subject_id": request_id,
        "status": "expired",
        "occurred_at": "2026-01-01T00:00:00.000Z",
        "received_at": "2026-01-01T00:00:01.000Z",
        "account_id": API_KEY,
        "channel": "sms",
        "client_ref": None,
        "data": {},
    }
    sqs.send_message(QueueUrl=state["ingest_dlq_url"], MessageBody=json.dumps(event))
    moved = local_stack.cli("redrive", "--queue", "ingest")
    assert "moved 1 message(s)" in moved.stdout
    assert _status_when_recorded(local_stack, request_id, 1)["status"] == "expired"
    local_stack.consume()


def test_cli_errors_have_documented_exit_codes(local_stack: LocalStack, tmp_path: Any):
    unknown = local_stack.cli("send", "no/such-sample", check=False)
    assert unknown.returncode == 2 and "unknown sample" in unknown.stderr
    missing = local_stack.cli("status", str(uuid.uuid4()), check=False)
    assert missing.returncode == 1 and "not_found" in missing.stderr
    env = {**local_stack.env, "SWITCHBOARD_STATE_FILE": str(tmp_path / "none.json")}
    down = subprocess.run(
        [*CLI, "status", "x"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert down.returncode == 3 and "make run" in down.stderr


def test_a_second_stack_on_a_busy_port_says_so_plainly(local_stack: LocalStack):
    second = start(local_stack.port, {**local_stack.env, "SWITCHBOARD_STATE_FILE": "/nonexistent/state.json"})
    out, _ = second.communicate(timeout=60)
    assert second.returncode == 3
    assert f"port {local_stack.port}" in out and "already in use" in out


def test_ctrl_c_stops_the_stack_cleanly(tmp_path: Any):
    from tests.e2e.conftest import free_port

    env = {
        **os.environ,
        "SWITCHBOARD_STATE_FILE": str(tmp_path / "s.json"),
        "SWITCHBOARD_AWS_PORT": str(free_port()),
    }
    process = start(free_port(), env)
    assert _wait_for(lambda: (tmp_path / "s.json").exists(), 60)
    process.send_signal(signal.SIGINT)
    out, _ = process.communicate(timeout=30)
    assert process.returncode == 0
    assert "stopped." in out
    assert not (tmp_path / "s.json").exists()


def test_consume_keep_prints_events_without_taking_them_off_the_queue(local_stack: LocalStack):
    local_stack.consume(wait=1)  # start from an empty queue
    request_id = str(uuid.uuid4())
    local_stack.cli("send", "verify/event-expired", "--set", f"request_id={request_id}")
    _status_when_recorded(local_stack, request_id, 1)
    for _ in range(3):  # peeking again and again neither loses nor repeats it
        kept = local_stack.cli("consume", "--json", "--keep", "--wait", "2").stdout.splitlines()
        assert [json.loads(line)["subject_id"] for line in kept] == [request_id]
    taken = [e["subject_id"] for e in local_stack.consume(wait=2)]
    assert taken == [request_id]
    assert local_stack.consume(wait=1) == []


def test_send_translates_number_insight_statuses(local_stack: LocalStack):
    request_id = str(uuid.uuid4())
    local_stack.cli(
        "send", "number_insight/result-success", "--set", f"request_id={request_id}", "--status", "error_5"
    )
    assert _status_when_recorded(local_stack, request_id, 1)["status"] == "error_5"
    local_stack.consume(wait=1)


# --- rough edges a new user found (issue 12 §4) ----------------------------------------------------


def _stack_log(stack: LocalStack) -> str:
    return (Path(stack.env["SWITCHBOARD_STATE_FILE"]).parent / "local-stack.log").read_text()


def test_the_banner_prints_the_queue_urls_a_consumer_needs(local_stack: LocalStack):
    banner = _stack_log(local_stack)
    for field in ("events_queue_url", "events_dlq_url", "ingest_queue_url", "ingest_dlq_url", "request_log"):
        assert local_stack.state[field] in banner, field


def test_the_stack_logs_warnings_and_up_by_default_not_every_event(local_stack: LocalStack):
    local_stack.cli("send", "messages/status-delivered", "--set", f"message_uuid={uuid.uuid4()}")
    _wait_for(lambda: "batch recorded" in _stack_log(local_stack), 3)  # it must not appear
    log = _stack_log(local_stack)
    assert '"level":"INFO"' not in log and "webhook accepted" not in log


@pytest.mark.parametrize("name", ["PORT", "SWITCHBOARD_AWS_PORT"])
@pytest.mark.parametrize("value", ["abc", "0", "70000", "30 00"])
def test_a_port_that_is_not_a_port_is_a_usage_error_not_a_traceback(name: str, value: str, tmp_path: Any):
    env = {**os.environ, "SWITCHBOARD_STATE_FILE": str(tmp_path / "s.json"), name: value}
    env.pop("PORT" if name != "PORT" else "SWITCHBOARD_AWS_PORT", None)
    done = subprocess.run([*CLI, "run"], env=env, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2, done.stderr
    assert f"{name}={value!r} is not a port" in done.stderr and "Traceback" not in done.stderr


def test_send_to_a_closed_port_exits_3_with_the_reason(local_stack: LocalStack):
    from tests.e2e.conftest import free_port

    url = f"http://127.0.0.1:{free_port()}"
    done = local_stack.cli("send", "verify/event-completed", "--url", url, check=False)
    assert done.returncode == 3
    assert f"cannot reach {url}" in done.stderr and "refused" in done.stderr.lower()


def test_consume_into_a_pipe_closed_early_stops_quietly(local_stack: LocalStack):
    for status in ("delivered", "read"):
        local_stack.cli(
            "send", "messages/status-delivered", "--status", status, "--set", f"message_uuid={uuid.uuid4()}"
        )
    command = " ".join([*CLI, "consume", "--json", "--wait", "3"]) + " | head -n 1"
    done = subprocess.run(
        ["bash", "-c", command], env=local_stack.env, capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    assert len(done.stdout.splitlines()) == 1
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr
    local_stack.consume(wait=1)


def test_redrive_help_says_what_each_queue_is_and_the_default():
    done = subprocess.run([*CLI, "redrive", "--help"], capture_output=True, text=True, timeout=60, check=True)
    assert "(default: ingest)" in " ".join(done.stdout.split())


def test_a_poison_message_is_dead_lettered_at_once_logged_once_and_announced(local_stack: LocalStack):
    state = local_stack.state
    sqs = local_stack.sqs()
    marker = uuid.uuid4().hex
    sqs.send_message(QueueUrl=state["ingest_queue_url"], MessageBody=json.dumps({"event_id": marker}))
    assert _wait_for(lambda: "DEAD-LETTERED" in _stack_log(local_stack), 15), _stack_log(local_stack)[-2000:]
    log = _stack_log(local_stack)
    lines = [line for line in log.splitlines() if marker in line]
    assert len(lines) == 1 and "poison message" in lines[0], lines  # once, not once per receive
    assert "subject_id" in json.loads(lines[0])["missing"]
    assert "Traceback" not in log
    # Redriving it moves what the DLQ held once, and returns, though the recorder sends it straight back.
    moved = local_stack.cli("redrive", "--queue", "ingest")
    assert "moved 1 message(s)" in moved.stdout

    def back() -> list[Any]:
        got = sqs.receive_message(QueueUrl=state["ingest_dlq_url"], MaxNumberOfMessages=10)
        return got.get("Messages") or []

    dead = _wait_for(back, 15)
    assert [json.loads(m["Body"])["event_id"] for m in dead] == [marker]
    for m in dead:
        sqs.delete_message(QueueUrl=state["ingest_dlq_url"], ReceiptHandle=m["ReceiptHandle"])


@pytest.mark.parametrize("length", ["-1", "abc", "²", "99999999999999999999"])
def test_a_malformed_content_length_is_a_400_not_a_hung_or_dropped_connection(
    local_stack: LocalStack, length: str
):
    import socket

    with socket.create_connection(("127.0.0.1", local_stack.port), timeout=5) as s:
        request = f"POST /vonage/verify HTTP/1.1\r\nHost: x\r\nContent-Length: {length}\r\n\r\n"
        s.sendall(request.encode())
        answer = s.recv(4096).decode("latin-1")
    assert answer.startswith("HTTP/1.1 400"), answer
