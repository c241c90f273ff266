"""The child side of switchboard.builtrun: what Lambda's Python runtime does for one invocation.

Run as a script under ``python -I -S -u`` (no site-packages, no PYTHONPATH, not even this file's
folder on sys.path), so it uses the standard library only. It reads one JSON document from stdin
(sys.path, handler, event, context, result file), imports the handler, calls it once, and writes
the outcome — the response, or the error document the Lambda runtime would return — to the result
file. Everything the handler prints goes to stdout/stderr, as into CloudWatch Logs.
"""

from __future__ import annotations

import decimal
import importlib
import json
import os
import resource
import sys
import threading
import time
import traceback
from typing import Any


class LambdaContext:
    """The attributes and method of the Lambda Python runtime's context object."""

    def __init__(self, spec: dict[str, Any], deadline: float) -> None:
        self.function_name: str = spec["function_name"]
        self.function_version = "$LATEST"
        self.invoked_function_arn: str = spec["invoked_function_arn"]
        self.memory_limit_in_mb: int = spec["memory_limit_in_mb"]
        self.aws_request_id: str = spec["aws_request_id"]
        self.log_group_name: str = spec["log_group_name"]
        self.log_stream_name: str = spec["log_stream_name"]
        self.identity = None
        self.client_context = None
        self.tenant_id = None
        self._deadline = deadline

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def error_document(exc: BaseException) -> dict[str, Any]:
    """The runtime's error payload (requestId is added by the caller). The stack trace starts in
    the handler: the first frame (this bootstrap's call) is dropped."""
    tb = exc.__traceback__.tb_next if exc.__traceback__ is not None else None
    return {
        "errorMessage": str(exc),
        "errorType": type(exc).__name__,
        "stackTrace": traceback.format_list(traceback.extract_tb(tb)),
    }


def platform_error(error_type: str, message: str) -> dict[str, Any]:
    """An error of the runtime itself (import, marshalling): no stack trace, as in Lambda."""
    return {"errorMessage": message, "errorType": error_type, "stackTrace": []}


def load_handler(name: str) -> Any:
    module, _, function = name.rpartition(".")
    return getattr(importlib.import_module(module), function)


TIMED_OUT_SUFFIX = ".timed-out"  # switchboard.builtrun reads this marker file


def arm_timeout(seconds: float, marker: str) -> threading.Timer:
    """As Lambda does, stop the process ``seconds`` after the handler was called (the init phase
    not counted), leaving ``marker`` so the parent reports Sandbox.Timedout. A daemon thread: a
    handler holding the GIL in C code defers it; the parent's kill timer is the backstop."""

    def expire() -> None:
        with open(marker, "w", encoding="utf-8"):
            pass
        os._exit(1)

    timer = threading.Timer(seconds, expire)
    timer.daemon = True
    timer.start()
    return timer


def invoke(cfg: dict[str, Any]) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        handler = load_handler(cfg["handler"])
    except Exception as exc:
        module = cfg["handler"].rpartition(".")[0]
        error = platform_error("Runtime.ImportModuleError", f"Unable to import module '{module}': {exc}")
        print(f"[ERROR] Runtime.ImportModuleError: {error['errorMessage']}", file=sys.stderr)
        return {"error": error, "init_ms": (time.perf_counter() - started) * 1e3}
    init_ms = (time.perf_counter() - started) * 1e3
    started = time.perf_counter()
    context = LambdaContext(cfg["context"], time.monotonic() + cfg["context"]["timeout_s"])
    deadline = arm_timeout(cfg["context"]["timeout_s"], cfg["result"] + TIMED_OUT_SUFFIX)
    try:
        doc: dict[str, Any] = {"response": marshal(handler(cfg["event"], context))}
    except _Unmarshallable as exc:
        doc = {"error": platform_error("Runtime.MarshalError", f"Unable to marshal response: {exc}")}
    except Exception as exc:
        doc = {"error": error_document(exc)}
        print(f"[ERROR] {type(exc).__name__}: {exc}", file=sys.stderr)
        traceback.print_exception(type(exc), exc, exc.__traceback__.tb_next if exc.__traceback__ else None)
    deadline.cancel()  # returned (or raised) in time
    doc.update(init_ms=init_ms, duration_ms=(time.perf_counter() - started) * 1e3)
    return doc


class _Unmarshallable(Exception):
    pass


def marshal(response: Any) -> Any:
    """The response as the runtime serialises it (Decimal as a number), or _Unmarshallable."""
    try:
        return json.loads(json.dumps(response, default=_decimal))
    except (TypeError, ValueError) as exc:
        raise _Unmarshallable(str(exc)) from None


def _decimal(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        return float(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def main() -> None:
    cfg = json.load(sys.stdin)
    sys.path[:0] = cfg["path"]
    doc = invoke(cfg)
    doc["max_memory_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    doc["dev_modules"] = sorted({m.split(".")[0] for m in sys.modules} & set(cfg["dev_only"]))
    with open(cfg["result"], "w", encoding="utf-8") as fh:
        json.dump(doc, fh)


if __name__ == "__main__":
    main()
