"""Start the real local stack (`switchboard run`) in a subprocess on free ports, for the whole module."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-m", "switchboard.cli"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class LocalStack:
    process: subprocess.Popen[str]
    port: int
    env: dict[str, str]
    state: dict[str, Any]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [*CLI, *args], env=self.env, capture_output=True, text=True, timeout=60, cwd=ROOT
        )
        if check and done.returncode != 0:
            raise AssertionError(
                f"switchboard {' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
            )
        return done

    def sqs(self) -> Any:
        """A boto3 SQS client on the stack's emulator (any credentials work there)."""
        import boto3

        return boto3.client(
            "sqs",
            endpoint_url=self.state["aws_endpoint"],
            region_name=self.state["region"],
            aws_access_key_id="x",
            aws_secret_access_key="x",
        )

    def consume(self, *, wait: int = 3) -> list[dict[str, Any]]:
        out = self.cli("consume", "--json", "--wait", str(wait)).stdout
        return [json.loads(line) for line in out.splitlines() if line.strip()]

    def status(self, subject: str) -> dict[str, Any]:
        doc: dict[str, Any] = json.loads(self.cli("status", subject, "--json").stdout)
        return doc

    def post(self, path: str, body: bytes, headers: dict[str, str], method: str = "POST") -> int:
        request = urllib.request.Request(
            self.base_url + path, data=body or None, method=method, headers=headers
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return int(response.status)
        except urllib.error.HTTPError as exc:
            return int(exc.code)


def start(port: int, env: dict[str, str], log: Path | None = None) -> subprocess.Popen[str]:
    """Start `switchboard run`. Its output goes to ``log`` (a pipe nobody reads would fill up and
    block the stack), or to a pipe for short-lived runs whose output the test reads."""
    out: Any = open(log, "w") if log is not None else subprocess.PIPE  # noqa: SIM115 - closed with the process
    return subprocess.Popen(
        [*CLI, "run", "--port", str(port)],
        env=env,
        stdout=out,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=ROOT,
    )


@pytest.fixture(scope="module")
def local_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    port = free_port()
    state_file = tmp_path_factory.mktemp("state") / "local-stack.json"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SWITCHBOARD_"))},
        "SWITCHBOARD_STATE_FILE": str(state_file),
        "SWITCHBOARD_AWS_PORT": str(free_port()),
        "PYTHONUNBUFFERED": "1",
    }
    log = state_file.parent / "local-stack.log"
    process = start(port, env, log)
    deadline = time.monotonic() + 60
    while not state_file.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"the local stack did not start:\n{log.read_text()}")
        time.sleep(0.2)
    stack = LocalStack(process, port, env, json.loads(state_file.read_text()))
    yield stack
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        raise
