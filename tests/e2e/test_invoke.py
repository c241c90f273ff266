"""`switchboard invoke`: the built handlers (`make build` output) run in a clean interpreter on event
files, against the local stack's emulator (the events then flow through the running stack) and,
with --stack, against a deployed stack's resources (here: moto's server standing in for AWS, with a
CloudFormation stack whose outputs name them)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from switchboard import builtrun, invoke
from switchboard.builtrun import Built, Invocation
from switchboard.template import functions, load_template, provision
from tests.e2e.conftest import CLI, ROOT, LocalStack, free_port

pytestmark = pytest.mark.e2e

TEMPLATE = load_template()
DEV_SECRETS = ROOT / "switchboard" / "dev_secrets.json"


@pytest.fixture(scope="module", autouse=True)
def _built() -> None:
    """`make test` builds before pytest (make smoke); run alone, build here if the build is stale."""
    stale = [
        f
        for f in functions(TEMPLATE)
        if invoke.stale_build(TEMPLATE, f, builtrun.built_function(TEMPLATE, f))
    ]
    if not stale:
        return
    if sys.version_info[:2] != (3, 13):
        pytest.skip("sam build needs Python 3.13 (the Lambda runtime); make smoke skips the build too")
    subprocess.run(
        ["make", "--no-print-directory", "build"], cwd=ROOT, check=True, capture_output=True, timeout=300
    )


@pytest.fixture(scope="module")
def events(local_stack: LocalStack, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every sample event, signed now with the dev secrets (the local stack's secret)."""
    out = tmp_path_factory.mktemp("events")
    local_stack.cli("events", "--out", str(out))
    return out


def case(events: Path, file: str) -> dict[str, Any]:
    manifest = json.loads((events / "manifest.json").read_text())
    return next(c for c in manifest["cases"] if c["file"] == file)


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, "invoke", *args], env=env, capture_output=True, text=True, timeout=120, cwd=ROOT
    )


def response(done: subprocess.CompletedProcess[str]) -> Any:
    lines = done.stdout.splitlines()
    assert len(lines) == 1, f"stdout is one JSON document:\n{done.stdout}\n{done.stderr}"
    return json.loads(lines[0])


# --- against the local stack ------------------------------------------------------------------------


def test_a_freshly_signed_vonage_event_is_answered_200_and_flows_through_the_local_stack(
    local_stack: LocalStack, events: Path
):
    done = run(local_stack.env, "VonageFunction", str(events / "http/verify/event-completed.json"))

    assert done.returncode == 0, done.stderr
    answer = response(done)
    assert answer["statusCode"] == 200
    event_id = json.loads(answer["body"])["event_id"]
    assert event_id.startswith("evt_")
    assert "START RequestId: " in done.stderr and "REPORT RequestId: " in done.stderr
    assert '"message":"webhook accepted"' in done.stderr and event_id in done.stderr  # the handler's logs
    # It went to the local stack's ingest queue: the stack's recorder records it and publishes it.
    subject = case(events, "http/verify/event-completed.json")["subject_id"]
    consumed = [e for e in local_stack.consume(wait=5) if e["subject_id"] == subject]
    assert [e["event_id"] for e in consumed] == [event_id]
    assert [e["event_id"] for e in local_stack.status(subject)["history"]] == [event_id]


def test_a_tampered_event_exits_1_with_the_401_response(local_stack: LocalStack, events: Path):
    done = run(local_stack.env, "VonageFunction", str(events / "http/negative/verify-tampered-body.json"))

    assert done.returncode == 1, done.stderr
    answer = response(done)
    assert answer["statusCode"] == 401
    assert json.loads(answer["body"])["error"] == "payload_hash_mismatch"
    assert '"message":"webhook rejected"' in done.stderr


def test_the_stale_sample_events_are_refused_with_a_note_saying_how_to_sign_fresh_ones(
    local_stack: LocalStack,
):
    done = run(local_stack.env, "VonageFunction", "events/http/verify/event-completed.json")

    assert done.returncode == 1
    assert (
        response(done)["statusCode"] == 401
    )  # token_expired (token_from_future on a clock before 2026-11-23)
    assert "switchboard events --out DIR" in done.stderr


def test_the_recorder_records_an_sqs_batch_in_the_local_table_and_dead_letters_a_poison_record(
    local_stack: LocalStack, events: Path
):
    batch = events / "sqs/batch-message-lifecycle.json"
    subjects = {json.loads(r["body"])["subject_id"] for r in json.loads(batch.read_text())["Records"]}

    done = run(local_stack.env, "RecorderFunction", str(batch))
    poison = run(local_stack.env, "RecorderFunction", str(events / "sqs/poison-and-valid.json"))

    assert done.returncode == 0, done.stderr
    assert response(done) == {"batchItemFailures": []}
    for subject in subjects:
        assert local_stack.status(subject)["history"], subject
    # The poison record goes to the local stack's ingest DLQ at once (logged once): nothing to retry.
    assert poison.returncode == 0, poison.stderr
    assert response(poison) == {"batchItemFailures": []}
    assert poison.stderr.count("poison message sent to the ingest DLQ") == 1


def test_env_vars_override_as_sam_does_the_functions_object_over_parameters(
    local_stack: LocalStack, events: Path, tmp_path: Path
):
    fallback = str(events / "http/voice/fallback-answer.json")
    env_json = tmp_path / "env.json"
    env_json.write_text(
        json.dumps(
            {
                "Parameters": {
                    "POWERTOOLS_LOG_LEVEL": "ERROR",
                    "SWITCHBOARD_VOICE_FALLBACK_NCCO": '[{"action":"talk","text":"from Parameters"}]',
                },
                "VonageFunction": {
                    "SWITCHBOARD_VOICE_FALLBACK_NCCO": '[{"action":"talk","text":"from env.json"}]'
                },
            }
        )
    )

    plain = run(local_stack.env, "VonageFunction", fallback)
    overridden = run(local_stack.env, "VonageFunction", fallback, "--env-vars", str(env_json))

    assert plain.returncode == 0 and overridden.returncode == 0, plain.stderr + overridden.stderr
    assert json.loads(response(plain)["body"]) != json.loads(response(overridden)["body"])
    assert json.loads(response(overridden)["body"]) == [{"action": "talk", "text": "from env.json"}]
    assert '"level":"INFO"' in plain.stderr
    assert '"level":"INFO"' not in overridden.stderr  # POWERTOOLS_LOG_LEVEL from "Parameters"


def test_the_env_json_that_events_writes_without_a_stack_is_refused_for_its_placeholders(
    local_stack: LocalStack, events: Path
):
    done = run(
        local_stack.env,
        "VonageFunction",
        str(events / "http/verify/event-completed.json"),
        "--env-vars",
        str(events / "env.json"),
    )
    assert done.returncode == 2
    assert "output of your deployed stack" in done.stderr and done.stdout == ""


@pytest.mark.parametrize(
    ("value", "why"),
    [("a\u0000b", "NUL"), ("a\ud800b", "lone surrogate"), ("x" * 200_000, "4 KB")],
)
def test_an_env_json_value_no_process_environment_can_hold_is_a_usage_error_not_a_traceback(
    local_stack: LocalStack, events: Path, tmp_path: Path, value: str, why: str
):
    env_json = tmp_path / "env.json"
    env_json.write_text(json.dumps({"Parameters": {"POWERTOOLS_LOG_LEVEL": value}}))

    done = run(
        local_stack.env,
        "VonageFunction",
        str(events / "http/verify/event-completed.json"),
        "--env-vars",
        str(env_json),
    )

    assert done.returncode == 2, done.stderr
    assert "POWERTOOLS_LOG_LEVEL" in done.stderr and why in done.stderr
    assert "Traceback" not in done.stderr and "START" not in done.stderr and done.stdout == ""


def test_usage_errors_exit_2_and_list_the_functions(local_stack: LocalStack, events: Path, tmp_path: Path):
    bad = tmp_path / "bad.json"
    bad.write_text("{nope")

    unknown = run(local_stack.env, "VonageFunctio", str(events / "http/verify/event-completed.json"))
    not_json = run(local_stack.env, "VonageFunction", str(bad))
    absent = run(local_stack.env, "VonageFunction", str(tmp_path / "absent.json"))

    assert (unknown.returncode, not_json.returncode, absent.returncode) == (2, 2, 2)
    assert "VonageFunction, TwilioFunction, RecorderFunction, StatusFunction" in unknown.stderr
    assert "is not JSON" in not_json.stderr and "cannot read" in absent.stderr


def test_without_a_local_stack_it_exits_3(local_stack: LocalStack, events: Path, tmp_path: Path):
    env = {**local_stack.env, "SWITCHBOARD_STATE_FILE": str(tmp_path / "none.json")}
    done = run(env, "VonageFunction", str(events / "http/verify/event-completed.json"))
    assert done.returncode == 3
    assert "make run" in done.stderr


# --- the clean interpreter ----------------------------------------------------------------------------

PROBE_APP = """
import importlib, sys, time

def handler(event, context):
    if event == "raise":
        raise ValueError("raised by the handler")
    if event == "sleep":  # a handler the bootstrap's own timer cannot stop: only the parent's kill can
        import threading
        for timer in threading.enumerate():
            if isinstance(timer, threading.Timer):
                timer.cancel()
        time.sleep(30)
    if isinstance(event, dict) and "sleep" in event:
        time.sleep(event["sleep"])
        return {"slept": event["sleep"]}
    if event == "exit":
        sys.exit(4)
    found = {}
    for name in ("switchboard", "moto", "pytest", "tests", "yaml", "boto3", "shared_probe_layer"):
        try:
            importlib.import_module(name)
            found[name] = True
        except ImportError:
            found[name] = False
    print("a log line from the handler")
    return {
        "imports": found,
        "flags": [sys.flags.isolated, sys.flags.no_site],
        "remaining_ms": context.get_remaining_time_in_millis(),
        "memory": context.memory_limit_in_mb,
        "request_id": context.aws_request_id,
    }
"""


@pytest.fixture
def probe(tmp_path: Path) -> Built:
    function = tmp_path / "ProbeFunction"
    function.mkdir()
    (function / "app.py").write_text(PROBE_APP)
    layer = tmp_path / "ProbeLayer" / "python"
    layer.mkdir(parents=True)
    (layer / "shared_probe_layer.py").write_text("")
    return Built(function, (layer,), "app.handler", memory_mb=512, timeout_s=2)


def _invoke(probe: Built, event: Any) -> tuple[builtrun.Outcome, str]:
    logs: list[str] = []
    invocation = Invocation(
        "ProbeFunction", "req-1", "arn:aws:lambda:us-east-1:123456789012:function:ProbeFunction"
    )
    env = builtrun.runtime_environment(probe, invocation, "us-east-1")
    return builtrun.run_built(probe, event, env, invocation, logs.append), "".join(logs)


def test_the_handler_runs_in_an_interpreter_that_sees_only_its_function_its_layer_and_the_sdk(probe: Built):
    outcome, logs = _invoke(probe, {})

    assert outcome.error is None, outcome.error
    assert outcome.response["imports"] == {
        "switchboard": False,
        "moto": False,
        "pytest": False,
        "tests": False,
        "yaml": False,  # installed here, not in Lambda
        "boto3": True,  # the runtime's SDK
        "shared_probe_layer": True,  # the layer
    }
    assert outcome.response["flags"] == [1, 1]
    assert 0 < outcome.response["remaining_ms"] <= 2000
    assert (outcome.response["memory"], outcome.response["request_id"]) == (512, "req-1")
    assert outcome.dev_modules == []
    assert "a log line from the handler" in logs


def test_a_raised_exception_is_lambdas_error_document_starting_in_the_handler(probe: Built):
    outcome, logs = _invoke(probe, "raise")

    assert outcome.error is not None
    assert outcome.error["errorType"] == "ValueError"
    assert outcome.error["errorMessage"] == "raised by the handler"
    assert outcome.error["requestId"] == "req-1"
    assert "app.py" in outcome.error["stackTrace"][0]
    assert "[ERROR] ValueError: raised by the handler" in logs
    assert invoke.exit_code(outcome) == 1


def test_a_handler_past_its_timeout_is_killed_and_reported_as_lambda_does(
    probe: Built, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(builtrun, "INIT_LIMIT_S", 0)
    outcome, _ = _invoke(probe, "sleep")
    assert outcome.error is not None
    assert outcome.error["errorType"] == "Sandbox.Timedout"
    assert "Task timed out after 2.00 seconds" in outcome.error["errorMessage"]


def test_a_handler_that_runs_past_its_timeout_is_timed_out_even_when_it_would_finish_soon_after(probe: Built):
    # Timeout 2 s: Lambda stops it at 2 s, whatever the init took. It would have answered at 4 s.
    outcome, _ = _invoke(probe, {"sleep": 4})
    assert outcome.response is None, outcome.response
    assert outcome.error is not None
    assert outcome.error["errorType"] == "Sandbox.Timedout"
    assert invoke.exit_code(outcome) == 1


def test_a_handler_that_exits_the_interpreter_is_a_runtime_exit_error(probe: Built):
    outcome, _ = _invoke(probe, "exit")
    assert outcome.error is not None
    assert outcome.error["errorType"] == "Runtime.ExitError"
    assert "exit status 4" in outcome.error["errorMessage"]


def test_a_handler_that_cannot_be_imported_is_an_import_module_error(probe: Built):
    (probe.function_dir / "app.py").write_text("import moto\n")
    outcome, _ = _invoke(probe, {})
    assert outcome.error is not None
    assert outcome.error["errorType"] == "Runtime.ImportModuleError"
    assert "No module named 'moto'" in outcome.error["errorMessage"]


# --- against a deployed stack (moto's server as AWS) -----------------------------------------------------


@pytest.fixture(scope="module")
def fake_aws() -> Iterator[tuple[str, dict[str, str]]]:
    """moto's server as AWS: the template's queues, table and secret, and a CloudFormation stack
    `sb-deployed` whose outputs name them and whose LogLevel parameter is WARNING."""
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    session = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="eu-west-1"
    )
    resources = provision(
        lambda s: session.client(s, endpoint_url=endpoint),
        prefix="deployed",
        region="eu-west-1",
        secret_string=DEV_SECRETS.read_text(),
    )
    outputs = {
        "IngestQueueUrl": resources.refs["IngestQueue"],
        "IngestDLQUrl": resources.refs["IngestDLQ"],
        "EventsQueueUrl": resources.refs["EventsQueue"],
        "EventsDLQUrl": resources.refs["EventsDLQ"],
        "TableName": resources.refs["HistoryTable"],
        "SecretArn": resources.refs["ProviderSecret"],
    }
    session.client("cloudformation", endpoint_url=endpoint).create_stack(
        StackName="sb-deployed",
        TemplateBody=json.dumps(
            {
                "Parameters": {"LogLevel": {"Type": "String", "Default": "INFO"}},
                "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
                "Outputs": {k: {"Value": v} for k, v in outputs.items()},
            }
        ),
        Parameters=[{"ParameterKey": "LogLevel", "ParameterValue": "WARNING"}],
    )
    yield endpoint, outputs
    server.stop()


def test_with_stack_the_message_lands_on_the_deployed_stacks_ingest_queue(
    fake_aws: tuple[str, dict[str, str]], tmp_path: Path
):
    endpoint, outputs = fake_aws
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SWITCHBOARD_"))},
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "SWITCHBOARD_STATE_FILE": str(tmp_path / "no-local-stack.json"),  # the local stack is not used
    }
    subprocess.run(
        [*CLI, "events", "--out", str(tmp_path / "ev")], env=env, check=True, capture_output=True, cwd=ROOT
    )

    done = run(
        env, "VonageFunction", str(tmp_path / "ev/http/verify/event-completed.json"), "--stack", "sb-deployed"
    )

    assert done.returncode == 0, done.stderr
    event_id = json.loads(response(done)["body"])["event_id"]
    assert "stack sb-deployed's resources (eu-west-1)" in done.stderr
    assert '"level":"INFO"' not in done.stderr  # POWERTOOLS_LOG_LEVEL: the stack's LogLevel, WARNING
    sqs = boto3.client(
        "sqs",
        endpoint_url=endpoint,
        region_name="eu-west-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    got = sqs.receive_message(QueueUrl=outputs["IngestQueueUrl"], MaxNumberOfMessages=10, WaitTimeSeconds=1)
    assert [json.loads(m["Body"])["event_id"] for m in got.get("Messages", [])] == [event_id]


def test_with_an_unknown_stack_it_exits_1_naming_it(fake_aws: tuple[str, dict[str, str]], tmp_path: Path):
    endpoint, _ = fake_aws
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SWITCHBOARD_"))},
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "eu-west-1",
    }
    done = run(env, "RecorderFunction", str(ROOT / "events/sqs/duplicate-in-batch.json"), "--stack", "nope")
    assert done.returncode == 1
    assert "cannot read stack 'nope'" in done.stderr
