"""The local stack's request log: every HTTP request it served, with its verdict.

One record per request (time, route, HTTP status, verdict, the rejection's code, message and the
diagnostic the handler logged, the event ids it answered). Kept in memory for the inspector (the
newest ``keep``, each with a sequence number so a page can ask for what is new) and appended to a
JSON-lines file beside the state file, so `switchboard rejections` and people's own scripts can
read it while the stack runs. The file starts empty with each stack, as the emulator does.

On AWS the same facts are the handlers' "webhook accepted" / "webhook rejected" log lines in
CloudWatch Logs; this is the local stand-in for them.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

# The handlers' logger (shared.observability.SERVICE): its "webhook rejected" line holds the diagnostic.
HANDLER_LOGGER = "switchboard"
_EXTRA_KEYS = ("code", "reason", "diagnostic", "route")
MAX_FILE_BYTES = 20 * 1024 * 1024


@dataclass
class RequestRecord:
    at: str  # ISO 8601 UTC, milliseconds
    method: str
    path: str  # without the query string (it can hold tokens and phone numbers)
    route: str  # the template's route key, e.g. "POST /vonage/verify/status"; "" when none matched
    function: str
    status: int
    verdict: str  # accepted | rejected | error | not_found
    code: str = ""  # the rejection's stable error code
    message: str = ""  # what the caller was told
    diagnostic: dict[str, Any] = field(default_factory=dict)  # what the handler logged (never sent back)
    event_ids: list[str] = field(default_factory=list)
    subject_id: str = ""
    seq: int = 0


def verdict_of(status: int, matched: bool) -> str:
    if not matched:
        return "not_found"
    if status < 300:
        return "accepted"
    return "error" if status >= 500 else "rejected"


def now_iso() -> str:
    t = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t % 1 * 1000):03d}Z"


class _Capture(logging.Handler):
    """Collects the handler logger's records while an invocation runs (invocations are serialised)."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.local = threading.local()

    def emit(self, record: logging.LogRecord) -> None:
        sink = getattr(self.local, "sink", None)
        if sink is not None:
            sink.append(record)


class RequestLog:
    def __init__(self, path: Path | None, keep: int = 2000) -> None:
        self.path = path
        self._records: deque[RequestRecord] = deque(maxlen=keep)
        self._lock = threading.Lock()
        self._seq = 0
        self._capture = _Capture()
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("")

    def attach(self) -> None:
        logging.getLogger(HANDLER_LOGGER).addHandler(self._capture)

    def detach(self) -> None:
        logging.getLogger(HANDLER_LOGGER).removeHandler(self._capture)

    @contextlib.contextmanager
    def capturing(self) -> Iterator[list[logging.LogRecord]]:
        """The handler logger's records emitted in this thread inside the block."""
        sink: list[logging.LogRecord] = []
        self._capture.local.sink = sink
        try:
            yield sink
        finally:
            self._capture.local.sink = None

    def add(self, record: RequestRecord) -> RequestRecord:
        with self._lock:
            self._seq += 1
            record.seq = self._seq
            self._records.append(record)
            if self.path is not None:
                self._append(json.dumps(asdict(record), default=str, separators=(",", ":")) + "\n")
        return record

    def _append(self, line: str) -> None:
        """Past ``MAX_FILE_BYTES`` the file is rotated to ``<name>.1`` (one generation kept): a stack
        left running under a load test must not fill the disk."""
        assert self.path is not None
        with contextlib.suppress(OSError):
            if self.path.stat().st_size + len(line) > MAX_FILE_BYTES:
                self.path.replace(self.path.with_name(self.path.name + ".1"))
        with open(self.path, "a", encoding="utf-8") as fh:
            fh.write(line)

    def after(self, seq: int = 0) -> list[RequestRecord]:
        """Records newer than ``seq``, oldest first."""
        with self._lock:
            return [r for r in self._records if r.seq > seq]


def rejection_details(records: list[logging.LogRecord]) -> dict[str, Any]:
    """The "webhook rejected" line's code, reason and diagnostic, from the captured records."""
    for record in records:
        if record.getMessage() == "webhook rejected":
            return {k: getattr(record, k, None) for k in _EXTRA_KEYS}
    return {}


def read_file(path: Path) -> list[dict[str, Any]]:
    """The JSON-lines file, for readers outside the stack (a torn last line is skipped)."""
    out = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return []
    for line in lines:
        with contextlib.suppress(ValueError):
            out.append(json.loads(line))
    return out
