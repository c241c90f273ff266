"""After `sam build`: import and call every built handler in a clean interpreter.

Each interpreter sees only the function's build folder, the built layer and the SDK that Lambda's
Python runtime provides (boto3 and its dependencies) — no site-packages, no repo, no PYTHONPATH.
This is the check that catches "tests green, Lambda ImportModuleError". It also checks that the
build carries hash-based bytecode for every module (a SAM zip's 1980 mtimes never validate
timestamp-based .pyc, so without it every cold start recompiles everything).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from switchboard.builtrun import (
    BUILD,
    Invocation,
    Outcome,
    built_function,
    run_built,
    runtime_environment,
)
from switchboard.template import (
    Stack,
    function_environment,
    functions,
    load_template,
    resources,
)

_FAKE_AWS = {
    "AWS_ACCESS_KEY_ID": "smoke",
    "AWS_SECRET_ACCESS_KEY": "smoke",
    "POWERTOOLS_METRICS_DISABLED": "true",
}
_EXPECT = {"VonageFunction": 404, "TwilioFunction": 404, "StatusFunction": 400}
_EVENTS = {
    "VonageFunction": {"version": "2.0", "rawPath": "/nope", "requestContext": {"http": {"method": "GET"}}},
    "TwilioFunction": {"version": "2.0", "rawPath": "/nope", "requestContext": {"http": {"method": "GET"}}},
    "RecorderFunction": {"Records": []},
    "StatusFunction": {"pathParameters": {"subject_id": ""}},
}


def check_bytecode(root: Path) -> list[str]:
    """Every .py under root has an unchecked-hash .pyc for this interpreter."""
    tag = sys.implementation.cache_tag
    missing = []
    for py in root.rglob("*.py"):
        pyc = py.parent / "__pycache__" / f"{py.stem}.{tag}.pyc"
        if not pyc.exists():
            missing.append(f"{py.relative_to(root)}: no {pyc.name}")
            continue
        flags = int.from_bytes(pyc.read_bytes()[4:8], "little")
        if flags != 0b01:  # hash-based, unchecked
            missing.append(f"{py.relative_to(root)}: {pyc.name} is not unchecked-hash (flags={flags})")
    return missing


def probe(template: dict[str, Any], logical: str, stack: Stack) -> tuple[bool, str]:
    """Invoke the built handler with its probe event: (as expected?, what happened)."""
    built = built_function(template, logical)
    invocation = Invocation(logical, "smoke", f"arn:aws:lambda:us-east-1:123456789012:function:{logical}")
    env = {
        **runtime_environment(built, invocation, stack.region),
        **_FAKE_AWS,
        **function_environment(template, logical, stack),
    }
    logs: list[str] = []
    outcome = run_built(built, _EVENTS.get(logical, {}), env, invocation, logs.append)
    problem = _problem(outcome, _EXPECT.get(logical))
    if problem:
        return False, f"{problem}\n{''.join(logs)[-2000:]}"
    return True, f"imported, and answered its probe event as expected: {json.dumps(outcome.response)[:300]}"


def _problem(outcome: Outcome, expected_status: int | None) -> str:
    if outcome.error is not None:
        return json.dumps(outcome.error)[-2000:]
    if outcome.dev_modules:
        return f"imported dev-only modules: {outcome.dev_modules}"
    result = outcome.response
    ok = (
        isinstance(result, dict) and result.get("statusCode") == expected_status
        if expected_status
        else result == {"batchItemFailures": []}
    )
    return "" if ok else f"unexpected response: {json.dumps(result)[:300]}"


def main() -> int:
    template = load_template()
    layers = list(resources(template, "AWS::Serverless::LayerVersion"))
    # The function's own environment from the template (resource ids are placeholders: no call
    # reaches AWS — the probe events are rejected or empty before any would).
    stack = Stack.of(template, "us-east-1")
    failures = 0
    for logical in functions(template):
        ok, what = probe(template, logical, stack)
        failures += not ok
        print(f"smoke {'ok  ' if ok else 'FAIL'} {logical}: {what}")
    for name in [*functions(template), *layers]:
        missing = check_bytecode(BUILD / name)
        failures += bool(missing)
        print(
            f"bytecode {'ok  ' if not missing else 'FAIL'} {name}" + (f": {missing[:5]}" if missing else "")
        )
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
