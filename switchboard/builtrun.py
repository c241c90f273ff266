"""Run a built function's handler (`sam build` output) in a clean interpreter, as Lambda runs it.

The interpreter (``python -I -S``: no site-packages, no PYTHONPATH, no user site) sees only the
function's build folder, its built layers and the SDK that Lambda's Python runtime provides (boto3
and its dependencies), in Lambda's order: /var/task, /opt/python, the runtime's own packages. Its
environment is only what the caller gives. `make smoke` and `switchboard invoke` both run handlers
through here; switchboard/lambda_bootstrap.py is the child's side.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from switchboard.lambda_bootstrap import TIMED_OUT_SUFFIX, platform_error
from switchboard.template import ROOT, function_layers, function_setting

BUILD = ROOT / ".aws-sam" / "build"
BOOTSTRAP = Path(__file__).resolve().parent / "lambda_bootstrap.py"
# What the Lambda Python runtime has besides the standard library.
RUNTIME_SDK = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six")
# Importable here, never in Lambda: a handler that imports one works in tests and fails deployed.
DEV_ONLY = ("moto", "pytest", "switchboard", "tests")
INIT_LIMIT_S = 10  # Lambda's limit for the init phase (imports), before the function's Timeout starts


def link_into(out: Path, names: tuple[str, ...]) -> Path:
    """``out`` holding symlinks to these installed top-level packages/modules, and nothing else."""
    out.mkdir(parents=True, exist_ok=True)
    for name in names:
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None:
            raise SystemExit(f"{name} is not installed in this environment")
        origin = Path(spec.origin)
        src = origin.parent if origin.name == "__init__.py" else origin
        (out / src.name).symlink_to(src)
    return out


def link_dir(names: tuple[str, ...], prefix: str) -> Path:
    """A new temporary folder of symlinks to these installed packages (bench/ uses it)."""
    return link_into(Path(tempfile.mkdtemp(prefix=prefix)), names)


def runtime_sdk_dir() -> Path:
    """A new temporary folder holding only the SDK packages the Lambda runtime provides."""
    return link_dir(RUNTIME_SDK, "lambda-runtime-sdk-")


@dataclass(frozen=True)
class Built:
    """A function as `sam build` left it and as the template configures it."""

    function_dir: Path  # /var/task
    layer_dirs: tuple[Path, ...]  # /opt/python
    handler: str  # module.function, e.g. app.handler
    runtime: str = "python3.13"
    memory_mb: int = 128  # Lambda's defaults
    timeout_s: int = 3


def built_function(template: dict[str, Any], logical: str, build: Path = BUILD) -> Built:
    def setting(key: str, default: Any) -> Any:
        return function_setting(template, logical, key, default)

    return Built(
        function_dir=build / logical,
        layer_dirs=tuple(build / layer / "python" for layer in function_layers(template, logical)),
        handler=setting("Handler", "app.handler"),
        runtime=setting("Runtime", "python3.13"),
        memory_mb=int(setting("MemorySize", 128)),
        timeout_s=int(setting("Timeout", 3)),
    )


@dataclass(frozen=True)
class Invocation:
    """Who is invoked, and this invocation's request id."""

    function_name: str
    request_id: str
    arn: str
    log_stream: str = "$LATEST"


def context(built: Built, invocation: Invocation) -> dict[str, Any]:
    """The Lambda context object's fields (the bootstrap builds the object)."""
    return {
        "function_name": invocation.function_name,
        "aws_request_id": invocation.request_id,
        "memory_limit_in_mb": built.memory_mb,
        "timeout_s": built.timeout_s,
        "invoked_function_arn": invocation.arn,
        "log_group_name": f"/aws/lambda/{invocation.function_name}",
        "log_stream_name": invocation.log_stream,
    }


def runtime_environment(built: Built, invocation: Invocation, region: str) -> dict[str, str]:
    """The variables Lambda's runtime sets ("Defined runtime environment variables"), but the
    credentials; AWS_SAM_LOCAL as `sam local invoke` sets it (Powertools' Tracer reads it)."""
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        "LAMBDA_TASK_ROOT": str(built.function_dir),
        "_HANDLER": built.handler,
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{built.runtime}",
        "AWS_LAMBDA_FUNCTION_NAME": invocation.function_name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(built.memory_mb),
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{invocation.function_name}",
        "AWS_LAMBDA_LOG_STREAM_NAME": invocation.log_stream,
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_SAM_LOCAL": "true",
    }


@dataclass
class Outcome:
    """What the invocation returned (``response``) or the runtime's error document (``error``)."""

    response: Any = None
    error: dict[str, Any] | None = None
    init_ms: float = 0.0
    duration_ms: float = 0.0
    max_memory_mb: int = 0
    dev_modules: list[str] = field(default_factory=list)


def run_built(
    built: Built,
    event: Any,
    env: dict[str, str],
    invocation: Invocation,
    log: Callable[[str], None],
) -> Outcome:
    """Invoke the built handler once in a clean interpreter; each line it prints goes to ``log``."""
    with tempfile.TemporaryDirectory(prefix="switchboard-invoke-") as tmp:
        sdk = link_into(Path(tmp) / "sdk", RUNTIME_SDK)
        result = Path(tmp) / "result.json"
        cfg = {
            "path": [str(p) for p in (built.function_dir, *built.layer_dirs, sdk)],
            "handler": built.handler,
            "event": event,
            "context": context(built, invocation),
            "result": str(result),
            "dev_only": DEV_ONLY,
        }
        code, killed = _run_child(json.dumps(cfg).encode(), env, built, log)
        # the bootstrap stops a handler at its timeout (lambda_bootstrap.arm_timeout); the kill
        # past the init limit plus the timeout is for an init or a handler that never yields
        if killed or Path(str(result) + TIMED_OUT_SUFFIX).exists():
            return Outcome(error=platform_error("Sandbox.Timedout", _timeout_message(built, invocation)))
        if not result.exists():
            return Outcome(
                error=platform_error("Runtime.ExitError", f"Runtime exited with error: exit status {code}")
            )
        doc = json.loads(result.read_text(encoding="utf-8"))
    outcome = Outcome(**doc)
    if outcome.error is not None:
        outcome.error["requestId"] = invocation.request_id
    return outcome


def _run_child(cfg: bytes, env: dict[str, str], built: Built, log: Callable[[str], None]) -> tuple[int, bool]:
    """The bootstrap in ``python -I -S -B -u`` (-B: nothing written into the build, as Lambda's
    /var/task is read-only), its output relayed line by line, killed past the init limit plus the
    function's timeout. Returns (exit status, timed out)."""
    proc = subprocess.Popen(  # noqa: S603 - our own interpreter and bootstrap
        [sys.executable, "-I", "-S", "-B", "-u", str(BOOTSTRAP)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=env,
        cwd=built.function_dir,
    )
    fired = threading.Event()

    def kill() -> None:
        fired.set()
        proc.kill()

    timer = threading.Timer(INIT_LIMIT_S + built.timeout_s, kill)
    timer.start()
    try:
        assert proc.stdin is not None and proc.stdout is not None  # both are pipes
        try:
            proc.stdin.write(cfg)
            proc.stdin.close()
        except BrokenPipeError:  # the interpreter died before reading: its output says why
            pass
        for raw in proc.stdout:
            log(raw.decode("utf-8", "replace"))
        return proc.wait(), fired.is_set()
    finally:
        timer.cancel()


def _timeout_message(built: Built, invocation: Invocation) -> str:
    return f"{invocation.request_id} Task timed out after {built.timeout_s:.2f} seconds"
