"""`switchboard rejections` end to end in-process: on a deployed stack (moto's CloudFormation for the
outputs; CloudWatch Logs through botocore's Stubber, which checks every request and canned answer
against the service's API model: moto's Logs Insights does not run filter/stats queries), and on
the local stack's request log file."""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber
from moto import mock_aws

from switchboard import cli, rejections
from switchboard.requestlog import RequestLog, RequestRecord
from tests.integration.conftest import fake_aws_env

GROUPS = {
    "VonageLogGroupName": "/aws/lambda/sb-VonageFunction-a1",
    "TwilioLogGroupName": "/aws/lambda/sb-Twilio-b2",
}
SAMPLE = {
    "level": "WARNING",
    "message": "webhook rejected",
    "code": "signature_invalid",
    "http_status": 401,
    "route": "/twilio/verify-push",
    "reason": "signature verification failed",
    "diagnostic": {
        "rule": "no URL variant matches",
        "tried": ["https://hooks.example.com/twilio/verify-push"],
    },
}


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    fake_aws_env(monkeypatch)
    with mock_aws():
        yield


def create_stack(outputs: dict[str, str]) -> None:
    template = {
        "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {k: {"Value": v} for k, v in outputs.items()},
    }
    boto3.client("cloudformation").create_stack(StackName="sb", TemplateBody=json.dumps(template))


def stubbed_logs(monkeypatch: pytest.MonkeyPatch, statuses: list[str], rows: list[Any]) -> Stubber:
    logs = boto3.client("logs")
    stub = Stubber(logs)
    stub.add_response(
        "start_query",
        {"queryId": "q-1"},
        {
            "logGroupNames": list(GROUPS.values()),
            "startTime": ANY,
            "endTime": ANY,
            "queryString": rejections.QUERY,
            "limit": rejections.MAX_GROUPS,
        },
    )
    for status in statuses:
        answer: dict[str, Any] = {"status": status, "results": rows if status == "Complete" else []}
        stub.add_response("get_query_results", answer, {"queryId": "q-1"})
    if statuses[-1] != "Complete":
        stub.add_response("stop_query", {"success": True}, {"queryId": "q-1"})
    stub.activate()
    monkeypatch.setattr(rejections, "logs_client", lambda args: logs)
    monkeypatch.setattr(rejections, "POLL_SECONDS", 0)
    return stub


def row(code: str, route: str, count: int, sample: dict[str, Any]) -> list[dict[str, str]]:
    return [
        {"field": "code", "value": code},
        {"field": "route", "value": route},
        {"field": "rejected", "value": str(count)},
        {"field": "last_seen", "value": "2026-11-30 11:58:01.123"},
        {"field": "sample", "value": json.dumps(sample)},
    ]


def test_on_a_stack_logs_insights_is_asked_over_both_webhook_log_groups_and_its_rows_printed(
    aws: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    create_stack(GROUPS)
    stub = stubbed_logs(
        monkeypatch,
        ["Scheduled", "Running", "Complete"],
        [row("signature_invalid", "/twilio/verify-push", 12, SAMPLE)],
    )

    code = cli.main(["rejections", "--stack", "sb", "--since", "2h"])
    out, err = capsys.readouterr()

    assert code == 0, err
    stub.assert_no_pending_responses()
    assert err.startswith("querying 2 log groups (Logs Insights) ..")
    assert "12 rejected request(s) in 1 group(s) since" in out
    lines = out.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("COUNT"))
    assert lines[header + 1].split() == [
        "12",
        "401",
        "signature_invalid",
        "/twilio/verify-push",
        "2026-11-30T11:58:01.123Z",
    ]
    assert "reason: signature verification failed" in lines[header + 2]
    assert '"tried":["https://hooks.example.com/twilio/verify-push"]' in lines[header + 3]


def test_the_query_range_starts_at_since(
    aws: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    create_stack(GROUPS)
    logs = boto3.client("logs")
    seen: dict[str, Any] = {}

    def start_query(**kwargs: Any) -> dict[str, str]:
        seen.update(kwargs)
        return {"queryId": "q"}

    monkeypatch.setattr(logs, "start_query", start_query)
    monkeypatch.setattr(logs, "get_query_results", lambda **_: {"status": "Complete", "results": []})
    monkeypatch.setattr(rejections, "logs_client", lambda args: logs)

    assert cli.main(["rejections", "--stack", "sb", "--since", "2026-11-29T08:30:00Z", "--json"]) == 0
    assert seen["startTime"] == int(datetime(2026, 11, 29, 8, 30, tzinfo=UTC).timestamp())
    assert seen["endTime"] > seen["startTime"]
    assert capsys.readouterr().out == ""  # --json: one line per group, and there is none


def test_a_query_that_runs_past_the_timeout_is_stopped_and_an_error(
    aws: None, monkeypatch: pytest.MonkeyPatch
):
    stub = stubbed_logs(monkeypatch, ["Running", "Running"], [])
    ticks = iter([0.0, 5.0, 100.0])
    dots: list[str] = []

    with pytest.raises(cli.CliError, match=r"took over 10 s \(--timeout\); stopped it"):
        rejections.query_groups(
            rejections.logs_client(argparse.Namespace()),  # the stubbed client
            list(GROUPS.values()),
            "2026-11-30T11:00:00.000Z",
            "2026-11-30T12:00:00.000Z",
            timeout=10,
            sleep=lambda _: None,
            clock=lambda: next(ticks),
            progress=dots.append,
        )
    stub.assert_no_pending_responses()  # stop_query was called
    assert dots == ["."]


def test_a_stack_without_the_log_group_outputs_says_to_deploy_the_current_template(
    aws: None, capsys: pytest.CaptureFixture[str]
):
    create_stack({"TableName": "t"})
    assert cli.main(["rejections", "--stack", "sb"]) == cli.EXIT_ERROR
    assert "no output VonageLogGroupName, TwilioLogGroupName" in capsys.readouterr().err


# --- locally: the request log file ---------------------------------------------------------------


def local_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> RequestLog:
    log = RequestLog(tmp_path / "local-stack.requests.jsonl")
    state = {
        "base_url": "http://127.0.0.1:1",
        "aws_endpoint": "http://127.0.0.1:2",
        "region": "us-east-1",
        "table": "t",
        "ingest_queue_url": "q",
        "ingest_dlq_url": "q",
        "events_queue_url": "q",
        "events_dlq_url": "q",
        "secret_id": "s",
        "secrets_file": "f",
        "pid": 1,
        "request_log": str(log.path),
    }
    (tmp_path / "local-stack.json").write_text(json.dumps(state))
    monkeypatch.setenv("SWITCHBOARD_STATE_FILE", str(tmp_path / "local-stack.json"))
    return log


def test_locally_the_request_log_file_is_grouped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    log = local_state(tmp_path, monkeypatch)
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    for _ in range(2):
        log.add(
            RequestRecord(
                now,
                "POST",
                "/vonage/verify",
                "POST /vonage/verify",
                "VonageFunction",
                401,
                "rejected",
                "payload_hash_mismatch",
                "the body does not match",
                {"rule": "hash"},
            )
        )
    log.add(
        RequestRecord(now, "POST", "/vonage/verify", "POST /vonage/verify", "VonageFunction", 200, "accepted")
    )
    log.add(
        RequestRecord(
            "2020-01-01T00:00:00.000Z",
            "POST",
            "/x",
            "POST /vonage/verify",
            "VonageFunction",
            401,
            "rejected",
            "old_code",
        )
    )

    assert cli.main(["rejections", "--json"]) == 0
    groups = [json.loads(line) for line in capsys.readouterr().out.splitlines()]

    assert groups == [
        {
            "code": "payload_hash_mismatch",
            "route": "/vonage/verify",
            "count": 2,
            "last_seen": now,
            "http_status": 401,
            "reason": "the body does not match",
            "diagnostic": {"rule": "hash"},
        }
    ]


def test_locally_without_a_running_stack_exits_3(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("SWITCHBOARD_STATE_FILE", str(tmp_path / "none.json"))
    assert cli.main(["rejections"]) == cli.EXIT_NOT_RUNNING
