"""Operating the local stack over real HTTP: `switchboard replay` publishes what was recorded again
(same ids, same order), and `switchboard rejections` explains what was refused."""

from __future__ import annotations

import json
import re
import time
import uuid
from typing import Any

import pytest

from tests.e2e.conftest import LocalStack

pytestmark = pytest.mark.e2e


def consume_subject(stack: LocalStack, subject: str, count: int, timeout: float = 15) -> list[dict[str, Any]]:
    """The events of ``subject`` from the events queue (deleted), waiting until ``count`` came."""
    got: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while len(got) < count and time.monotonic() < deadline:
        got += [e for e in stack.consume(wait=1) if e["subject_id"] == subject]
    return got


def test_replay_publishes_a_subjects_events_again_with_the_same_ids_in_order(local_stack: LocalStack):
    subject = str(uuid.uuid4())
    sent = local_stack.cli(
        "send",
        "messages/status-submitted",
        "--set",
        f"message_uuid={subject}",
        "--status",
        "submitted,delivered,read",
    )
    sent_ids = re.findall(r"evt_[0-9a-f]{32}", sent.stdout)
    first = consume_subject(local_stack, subject, 3)
    assert [e["event_id"] for e in first] == sent_ids

    dry = local_stack.cli("replay", "--subject", subject, "--dry-run")
    assert f"vonage/messages  {subject}  3 event(s)" in dry.stdout
    assert "3 event(s) of 1 subject(s) would be published again (--dry-run: nothing sent)" in dry.stdout
    assert consume_subject(local_stack, subject, 1, timeout=2) == []

    replayed = local_stack.cli("replay", "--subject", subject)
    assert re.search(r"replay \S+: published 3 of 3 event\(s\) of 1 subject\(s\)", replayed.stdout)
    assert "published 3/3" in replayed.stderr
    again = consume_subject(local_stack, subject, 3)
    assert [e["event_id"] for e in again] == sent_ids
    assert [e["status"] for e in again] == ["submitted", "delivered", "read"]
    assert {e["current"]["status"] for e in again} == {"read"}


def test_rejections_shows_the_code_and_route_of_refused_requests_with_their_count(local_stack: LocalStack):
    body = json.dumps({"message_uuid": str(uuid.uuid4()), "status": "delivered"}).encode()
    forged = {"content-type": "application/json", "authorization": "Bearer not-a-jwt"}
    for _ in range(3):
        assert local_stack.post("/vonage/messages/status", body, forged) == 401
    assert local_stack.post("/twilio/verify-push", b"a=b", {"x-twilio-signature": "AAAA"}) in (400, 401)

    table = local_stack.cli("rejections", "--since", "10m").stdout
    groups = [
        json.loads(line)
        for line in local_stack.cli("rejections", "--since", "10m", "--json").stdout.splitlines()
    ]

    unsigned = [g for g in groups if g["route"] == "/vonage/messages/status"]
    assert [(g["code"], g["count"], g["http_status"]) for g in unsigned] == [("token_malformed", 3, 401)]
    assert unsigned[0]["diagnostic"]["rule"]
    assert any(g["route"] == "/twilio/verify-push" for g in groups)
    row = next(line for line in table.splitlines() if "/vonage/messages/status" in line)
    assert row.split()[:4] == ["3", "401", "token_malformed", "/vonage/messages/status"]
    assert "reason: " in table and "sample: {" in table
