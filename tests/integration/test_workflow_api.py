"""GET /workflows/{id}: a Messages failover's attempts and state, end to end — signed status
webhooks through the recorder into the sparse index ``by_workflow`` (template.yaml), read back by
StatusFunction under moto."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote, unquote

import pytest

from shared import storage
from switchboard import cli
from switchboard.apigw import http_event
from switchboard.samples import SAMPLE_HOST, SIGNED_AT, dev_secrets, sample, to_event
from switchboard.signing import sign
from tests.integration.conftest import Harness

WID = "3TcNjguHxr2vcCZ9Ddsnq6tw8yQUpZ9rMHv9QXSxLan5ibMxqSzLdx9"


def send(harness: Harness, name: str, **fields: Any) -> None:
    s = sample(name)
    request = sign(s.route, {**s.payload, **fields}, dev_secrets(), f"https://{SAMPLE_HOST}", now=SIGNED_AT)
    assert harness.invoke(s.function, to_event(request, at=SIGNED_AT))["statusCode"] == 200


def ask(harness: Harness, workflow_id: str) -> tuple[int, dict[str, Any]]:
    event = to_event_get(f"/workflows/{quote(workflow_id, safe='')}", workflow_id)
    response = harness.invoke("StatusFunction", event)
    return response["statusCode"], json.loads(response["body"])


def to_event_get(path: str, workflow_id: str) -> dict[str, Any]:
    return http_event(
        "GET",
        path,
        "",
        {},
        b"",
        host=SAMPLE_HOST,
        route_key="GET /workflows/{workflow_id}",
        path_parameters={"workflow_id": workflow_id},
        epoch_ms=SIGNED_AT * 1000,
    )


def test_a_failover_answers_every_attempt_and_the_workflows_state(harness: Harness) -> None:
    send(harness, "messages/status-rejected-failover-first")
    harness.drain()
    code, answer = ask(harness, WID)
    assert code == 200
    assert (answer["state"], answer["items_total"]) == ("in_progress", 2)
    send(harness, "messages/status-delivered-failover-second")
    send(harness, "messages/status-delivered-failover-second")  # a retry: the same event
    harness.drain()
    code, answer = ask(harness, WID)
    assert code == 200 and answer["state"] == "succeeded"
    assert [(a["item_number"], a["message_uuid"], a["status"]) for a in answer["attempts"]] == [
        (1, "aaaaaaaa-bbbb-4ccc-8ddd-0123456789ab", "rejected"),
        (2, "bbbbbbbb-cccc-4ddd-8eee-0123456789ab", "delivered"),
    ]
    assert [e["status"] for e in answer["history"]] == ["rejected", "delivered"]
    assert answer["truncated"] is False


def test_each_attempt_keeps_its_own_status_answer(harness: Harness) -> None:
    send(harness, "messages/status-delivered-failover-second")
    harness.drain()
    response = harness.invoke(
        "StatusFunction", {"pathParameters": {"subject_id": "bbbbbbbb-cccc-4ddd-8eee-0123456789ab"}}
    )
    assert json.loads(response["body"])["status"] == "delivered"


def test_only_failover_statuses_enter_the_workflow_index(harness: Harness) -> None:
    send(harness, "messages/status-delivered")  # no workflow object
    send(harness, "messages/status-rejected-failover-first")
    harness.drain()
    indexed = [i for i in harness.all_items() if "wpk" in i]
    assert len(indexed) == 1
    assert indexed[0]["wpk"]["S"] == storage.workflow_partition("vonage", "messages", WID)


def test_an_unknown_workflow_is_404_and_a_bad_id_400(harness: Harness) -> None:
    code, answer = ask(harness, "no-such-workflow")
    assert code == 404 and answer["error"] == "not_found"
    code, answer = ask(harness, "x" * 257)
    assert code == 400


def test_a_workflow_id_from_another_product_is_not_read(harness: Harness) -> None:
    """Only a Messages status joins a workflow: an inbound message or a Verify summary carrying a
    `workflow` field (the summary's is its channel list) never does."""
    flow = {"id": WID, "item_number": 1, "items_total": 2}
    send(harness, "messages/inbound-sms", workflow=flow)
    send(harness, "verify/summary-completed")
    harness.drain()
    assert not [i for i in harness.all_items() if "wpk" in i]
    code, _ = ask(harness, WID)
    assert code == 404


def test_the_workflow_command_prints_attempts_and_state(
    harness: Harness, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    send(harness, "messages/status-rejected-failover-first")
    send(harness, "messages/status-delivered-failover-second")
    harness.drain()

    def get(path: str) -> tuple[int, bytes]:
        workflow_id = unquote(path.removeprefix("/workflows/"))
        response = harness.invoke("StatusFunction", to_event_get(path, workflow_id))
        return response["statusCode"], response["body"].encode()

    def no_status(subject: str, query: str = "") -> tuple[int, bytes]:
        raise AssertionError("`switchboard workflow` asks GET /workflows/{id} only")

    target = cli.Target("moto", "", harness.client, {}, str, no_status, get=get)
    monkeypatch.setattr(cli, "target_from", lambda args: target)
    assert cli.main(["workflow", WID]) == cli.EXIT_OK
    out = capsys.readouterr().out
    assert f"workflow {WID}  vonage/messages  state: succeeded" in out
    rows = [line.split() for line in out.splitlines() if line.startswith(("1/2", "2/2"))]
    assert rows == [
        [
            "1/2",
            "aaaaaaaa-bbbb-4ccc-8ddd-0123456789ab",
            "rcs",
            "rejected",
            "(terminal)",
            "2025-05-07T12:00:00.000Z",
        ],
        ["2/2", "bbbbbbbb-cccc-4ddd-8eee-0123456789ab", "sms", "delivered", "2025-05-07T12:00:04.000Z"],
    ]
    assert cli.main(["workflow", WID, "--json"]) == cli.EXIT_OK
    assert json.loads(capsys.readouterr().out)["state"] == "succeeded"
    assert cli.main(["workflow", "unknown"]) == cli.EXIT_ERROR
    assert "HTTP 404: not_found" in capsys.readouterr().err
