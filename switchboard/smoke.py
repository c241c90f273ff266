"""After `sam build`: import and call every built handler in a clean interpreter.

Each interpreter sees only the function's build folder, the built layer and the SDK that Lambda's
Python runtime provides (boto3 and its dependencies) — no site-packages, no repo, no PYTHONPATH.
This is the check that catches "tests green, Lambda ImportModuleError". It also checks that the
build carries hash-based bytecode for every module (a SAM zip's 1980 mtimes never validate
timestamp-based .pyc, so without it every cold start recompiles everything).
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from switchboard.template import (
    ROOT,
    Stack,
    default_parameters,
    function_environment,
    functions,
    load_template,
    resources,
)

BUILD = ROOT / ".aws-sam" / "build"
# What the Lambda Python runtime has besides the standard library.
RUNTIME_SDK = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six")
_PROBE = r"""
import json, sys
sys.path[:0] = json.loads(sys.argv[1])
import app
assert callable(app.handler), "app.handler is not callable"
class Ctx:
    function_name = sys.argv[2]; aws_request_id = "smoke"; memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:smoke"
    def get_remaining_time_in_millis(self): return 3000
event = json.loads(sys.argv[3])
result = app.handler(event, Ctx())
assert isinstance(result, dict), result
expected = json.loads(sys.argv[4])
assert result.get("statusCode") == expected if expected else result == {"batchItemFailures": []}, result
print(json.dumps(result)[:300])
bad = [m for m in sys.modules if m.split(".")[0] in ("moto", "pytest", "switchboard", "tests")]
assert not bad, f"imported dev-only modules: {bad}"
"""
_LAMBDA_ENV = {
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
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


def link_dir(names: tuple[str, ...], prefix: str) -> Path:
    """A folder of symlinks to these installed top-level packages/modules, and nothing else."""
    out = Path(tempfile.mkdtemp(prefix=prefix))
    for name in names:
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None:
            raise SystemExit(f"{name} is not installed in this environment")
        origin = Path(spec.origin)
        src = origin.parent if origin.name == "__init__.py" else origin
        (out / src.name).symlink_to(src)
    return out


def runtime_sdk_dir() -> Path:
    """A folder holding only the SDK packages the Lambda runtime provides."""
    return link_dir(RUNTIME_SDK, "lambda-runtime-sdk-")


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


def main() -> int:
    template = load_template()
    layers = list(resources(template, "AWS::Serverless::LayerVersion"))
    layer_dirs = [str(BUILD / name / "python") for name in layers]
    sdk = str(runtime_sdk_dir())
    # The function's own environment from the template (resource ids are placeholders: no call
    # reaches AWS — the probe events are rejected or empty before any would).
    stack = Stack(region="us-east-1", parameters=default_parameters(template))
    failures = 0
    for logical in functions(template):
        folder = BUILD / logical
        path = [str(folder), *layer_dirs, sdk]
        event = _EVENTS.get(logical, {})
        proc = subprocess.run(  # noqa: S603 - our own interpreter and probe
            [
                sys.executable,
                "-I",
                "-S",
                "-c",
                _PROBE,
                json.dumps(path),
                logical,
                json.dumps(event),
                json.dumps(_EXPECT.get(logical)),
            ],
            capture_output=True,
            text=True,
            cwd=tempfile.gettempdir(),
            env={**function_environment(template, logical, stack), **_LAMBDA_ENV},
            timeout=60,
        )
        ok = proc.returncode == 0
        failures += not ok
        last = (proc.stdout.strip().splitlines() or [""])[-1]
        what = (
            f"imported, and answered its probe event as expected: {last}"
            if ok
            else proc.stderr.strip()[-2000:]
        )
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
