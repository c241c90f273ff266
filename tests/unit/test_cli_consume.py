"""`switchboard consume` stopped early (a closed pipe, Ctrl-C) leaves nothing in flight: what it
received and did not hand over is visible again at once, so its FIFO group is not held back."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

from switchboard import cli


class FakeSqs:
    def __init__(self, bodies: list[str]) -> None:
        self.messages = [
            {"MessageId": f"m{i}", "ReceiptHandle": f"h{i}", "Body": body} for i, body in enumerate(bodies)
        ]
        self.deleted: list[str] = []
        self.visible_again: list[str] = []

    def receive_message(self, **kwargs: Any) -> dict[str, Any]:
        got, self.messages = self.messages[: kwargs["MaxNumberOfMessages"]], self.messages[10:]
        return {"Messages": got}

    def delete_message(self, QueueUrl: str, ReceiptHandle: str) -> None:
        self.deleted.append(ReceiptHandle)

    def change_message_visibility(self, QueueUrl: str, ReceiptHandle: str, VisibilityTimeout: int) -> None:
        assert VisibilityTimeout == 0
        self.visible_again.append(ReceiptHandle)


def _event(n: int) -> str:
    keys = ("occurred_at", "type", "subject_id", "status", "event_id")
    return json.dumps({k: f"{k}-{n}" for k in keys})


class ClosedAfter(io.StringIO):
    """stdout whose reader leaves after ``lines`` lines."""

    def __init__(self, lines: int) -> None:
        super().__init__()
        self.left = lines

    def write(self, text: str) -> int:
        if self.left <= 0:
            raise BrokenPipeError(32, "Broken pipe")
        self.left -= text.count("\n")
        return super().write(text)


def _run(sqs: FakeSqs, monkeypatch: pytest.MonkeyPatch, *argv: str) -> int:
    # The command modules (replay, rejections, …) bind cli.target_from when first imported, which
    # build_parser does: import them before it is patched, or they keep the fake for later tests.
    cli.build_parser()
    target = cli.Target(
        "t", "http://x", lambda s: sqs, {"events": "q"}, lambda: "{}", lambda a, b: (200, b"")
    )
    monkeypatch.setattr(cli, "target_from", lambda args: target)
    monkeypatch.setattr(cli, "_silence_stdout", lambda: None)
    return cli.main(["consume", "--wait", "0", *argv])


def test_a_pipe_closed_after_one_event_leaves_the_rest_visible_again(monkeypatch: pytest.MonkeyPatch) -> None:
    sqs = FakeSqs([_event(1), _event(2), _event(3)])
    monkeypatch.setattr("sys.stdout", ClosedAfter(1))
    assert _run(sqs, monkeypatch, "--json") == cli.EXIT_OK
    assert sqs.deleted == ["h0"]
    assert sorted(sqs.visible_again) == ["h1", "h2"]


def test_keep_and_foreign_messages_are_made_visible_and_never_deleted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sqs = FakeSqs([_event(1), "not an event"])
    monkeypatch.setattr("sys.stdout", io.StringIO())
    assert _run(sqs, monkeypatch, "--keep") == cli.EXIT_ERROR  # a foreign message is reported
    assert sqs.deleted == [] and sorted(sqs.visible_again) == ["h0", "h1"]


def test_terminal_output_escapes_control_characters_from_the_webhook(monkeypatch: pytest.MonkeyPatch) -> None:
    body = json.loads(_event(1))
    body["subject_id"] = "abc\x1b[2Jdef"
    sqs, out = FakeSqs([json.dumps(body)]), io.StringIO()
    monkeypatch.setattr("sys.stdout", out)
    assert _run(sqs, monkeypatch) == cli.EXIT_OK
    assert "\x1b" not in out.getvalue() and "abc\\x1b[2Jdef" in out.getvalue()


def test_broken_aws_credentials_are_an_error_message_not_a_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from botocore.exceptions import CredentialRetrievalError

    def broken(args: Any) -> Any:
        raise CredentialRetrievalError(provider="custom-process", error_msg="credential_process exited 1")

    cli.build_parser()  # as in _run
    monkeypatch.setattr(cli, "target_from", broken)
    assert cli.main(["consume", "--stack", "s"]) == cli.EXIT_ERROR
    err = capsys.readouterr().err
    assert err.startswith("error: AWS: ") and "credential_process exited 1" in err
