"""Cold start: each built handler imported (and invoked once) in a fresh ``python -I -S -B``.

Each probe interpreter sees only the function's build folder, the built layer and the Lambda
runtime's SDK (boto3 and its dependencies, as ``switchboard.smoke`` sets it up) — no site-packages,
no repo. ``-B`` because Lambda's /var/task is read-only: nothing a probe compiles is kept. The AWS
endpoint is a stub on 127.0.0.1 (``bench.stub_aws``), so the first invocation builds the real
clients, reads the secret and sends to SQS over loopback HTTP, with no emulator cost in it.

Configurations, run round-robin (one warm-up round discarded):
- the typical-stack baseline (``bench/typical_stack.py``), the anchor. Its PyJWT is the built
  layer's (the layer ships it for VonageFunction); its probe also sees the X-Ray SDK, linked from
  this environment;
- VonageFunction, TwilioFunction, RecorderFunction, StatusFunction as built (hash-based bytecode);
- VonageFunction from a copy without ``__pycache__`` and with zip-like 1980 mtimes;
- the pieces of an import (``BREAKDOWN``), each alone, and ``MARGINAL``: a module imported after
  another (the timer starts once the first is in), i.e. what it adds on top of it.

Each probe reports which heavy packages ended up in ``sys.modules``, so the report states from the
measurement, not from the requirements, that VonageFunction imports PyJWT (at init) and that
TwilioFunction, RecorderFunction and StatusFunction never do (``JWT_EXPECTED``, checked in every run).
One ``python -X importtime`` run per ``IMPORTTIME`` entry says what PyJWT's import is made of.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import ACCOUNT, BUILD, EVENTS, FAKE_AWS_ENV, ROOT, Stat, signed_cases
from bench.stub_aws import stub_endpoint

ZIP_EPOCH = 315532800  # 1980-01-01T00:00:00Z, the earliest time a zip entry can hold
MARKER = "BENCH-RESULT "
_PROBE = r"""
import json, resource, sys, time
cfg = json.loads(sys.argv[1])
sys.path[:0] = cfg["path"]
for name in cfg.get("pre", []):  # imported before the timer: what the timed import is added to
    __import__(name)
c0 = time.process_time(); t0 = time.perf_counter()
mod = __import__(cfg["module"])
t1 = time.perf_counter(); c1 = time.process_time()
out = {"import_ms": (t1 - t0) * 1e3, "import_cpu_ms": (c1 - c0) * 1e3,
       "import_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}
if cfg.get("event") is not None:
    class Ctx:
        function_name = cfg["function"]; aws_request_id = "bench"; memory_limit_in_mb = 256
        invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench"
        def get_remaining_time_in_millis(self): return 3000
    t2 = time.perf_counter(); c2 = time.process_time()
    first = mod.handler(cfg["event"], Ctx())
    t3 = time.perf_counter(); c3 = time.process_time()
    second = mod.handler(cfg["event"], Ctx())
    t4 = time.perf_counter()
    out.update(first_ms=(t3 - t2) * 1e3, first_cpu_ms=(c3 - c2) * 1e3, second_ms=(t4 - t3) * 1e3,
               result=first.get("statusCode", first), result2=second.get("statusCode", second))
out["rss_kb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
out["modules"] = len(sys.modules)
out["botocore_modules"] = sum(1 for m in sys.modules if m == "botocore" or m.startswith("botocore."))
out["heavy"] = sorted({m.split(".")[0] for m in sys.modules} & {"aws_xray_sdk", "pydantic", "cryptography", "requests", "urllib3", "moto", "jwt", "botocore", "boto3"})
sys.stdout.flush()
sys.stdout.write("\n" + "BENCH-RESULT " + json.dumps(out) + "\n")
"""

HANDLERS = ("VonageFunction", "TwilioFunction", "RecorderFunction", "StatusFunction")
# PyJWT in sys.modules after import and two invocations: only the function that verifies JWTs.
JWT_EXPECTED = {
    "VonageFunction": True,
    "TwilioFunction": False,
    "RecorderFunction": False,
    "StatusFunction": False,
}
PYJWT_PIECE = "PyJWT alone (`import jwt`, the built layer's)"
VERIFIER_PIECE = "shared.verify.vonage_jwt alone (with PyJWT)"
PYJWT_MARGINAL = (
    "shared.verify.vonage_jwt (with PyJWT) after TwilioFunction's app: what PyJWT adds to a handler"
)
# (module imported first, untimed; module timed) — in TwilioFunction's build folder, which has the
# same handler imports as VonageFunction's but for shared.verify.vonage_jwt.
MARGINAL = {PYJWT_MARGINAL: ("app", "shared.verify.vonage_jwt")}
# One `-X importtime` run each: (folder, module imported first or None, module looked at).
IMPORTTIME = {
    "import jwt, alone": (None, None, "jwt"),
    "shared.verify.vonage_jwt after TwilioFunction's app": (
        "TwilioFunction",
        "app",
        "shared.verify.vonage_jwt",
    ),
}
PROJECTED = "projected ingress import without botocore's clients (a stdlib HTTPS client instead)"
# What the cold start is made of: each piece alone in its own fresh interpreter (same paths).
BREAKDOWN = {
    "stdlib only (json, hashlib, hmac, base64, urllib.parse, datetime, logging, uuid)": (
        "import json, hashlib, hmac, base64, urllib.parse, datetime, dataclasses, re, logging, uuid"
    ),
    "stdlib only + an HTTPS client (http.client, ssl)": (
        "import json, hashlib, hmac, base64, urllib.parse, datetime, dataclasses, re, logging, uuid\n"
        "import http.client, ssl\nssl.create_default_context()"
    ),
    "botocore (session, config, exceptions)": "import botocore.session, botocore.config, botocore.exceptions",
    "boto3": "import boto3",
    "botocore + SQS and Secrets Manager clients created": (
        "import botocore.session\n"
        "s = botocore.session.get_session()\n"
        "s.create_client('sqs', region_name='us-east-1')\n"
        "s.create_client('secretsmanager', region_name='us-east-1')"
    ),
    "Powertools Logger() + Metrics()": (
        "from aws_lambda_powertools import Logger, Metrics\nLogger(service='x')\nMetrics(namespace='x', service='x')"
    ),
    PYJWT_PIECE: "import jwt",
    VERIFIER_PIECE: "import shared.verify.vonage_jwt",
    "shared.ingress (route + verify + normalise; imports the JWT verifier lazily, so no PyJWT)": "import shared.ingress",
    # What VonageFunction would import without botocore's clients (the remaining cold-start miss
    # in RESULTS.md): Powertools Logger + Metrics (whose user-agent hook imports the bare `botocore`
    # package, nothing more), every shared module the ingress path imports except shared.aws and
    # shared.webhook's botocore import — with the JWT verifier and PyJWT, as VonageFunction loads
    # them at init — and a stdlib HTTPS client in their place.
    PROJECTED: (
        "from aws_lambda_powertools.utilities.typing import LambdaContext\n"
        "import shared.observability, shared.ingress, shared.secrets, shared.config, shared.errors, shared.http\n"
        "import shared.verify.vonage_jwt\n"
        "import http.client, ssl\nssl.create_default_context()"
    ),
}
BASELINE = "typical stack (baseline)"
NO_BYTECODE = "VonageFunction without bytecode"
EXPECTED: dict[str, Any] = {
    "VonageFunction": 200,
    "TwilioFunction": 200,
    "RecorderFunction": {"batchItemFailures": []},
    "StatusFunction": 404,
    NO_BYTECODE: 200,
}


def _link_dir(names: tuple[str, ...], prefix: str) -> Path:
    """A folder of symlinks to these installed packages (pip install -r bench/requirements.txt)."""
    from switchboard.builtrun import link_dir

    return link_dir(names, prefix)


def _zip_like_copy(dst: Path) -> tuple[Path, Path]:
    """VonageFunction and the layer copied without bytecode, every mtime set to 1980 as in a zip."""
    fn = dst / "VonageFunction"
    layer = dst / "SharedLayer" / "python"
    ignore = shutil.ignore_patterns("__pycache__")
    shutil.copytree(BUILD / "VonageFunction", fn, ignore=ignore, symlinks=True)
    shutil.copytree(BUILD / "SharedLayer" / "python", layer, ignore=ignore, symlinks=True)
    for root, dirs, files in os.walk(dst):
        for name in [*files, *dirs]:
            os.utime(Path(root) / name, (ZIP_EPOCH, ZIP_EPOCH), follow_symlinks=False)
    return fn, layer


def _environment(logical: str, endpoint: str, secret_arn: str) -> dict[str, str]:
    from switchboard.template import Stack, function_environment, load_template

    template = load_template()
    stack = Stack.of(template, "us-east-1")
    stack.refs.update(
        IngestQueue=f"{endpoint}/{ACCOUNT}/switchboard-IngestQueue",
        EventsQueue=f"{endpoint}/{ACCOUNT}/switchboard-EventsQueue.fifo",
        HistoryTable="switchboard-HistoryTable",
        ProviderSecret=secret_arn,
    )
    env = function_environment(template, logical, stack) if logical in HANDLERS else {}
    return {
        "PATH": "/usr/bin:/bin",
        "LANG": "C.UTF-8",
        **env,
        **FAKE_AWS_ENV,
        "AWS_ENDPOINT_URL": endpoint,
        "POWERTOOLS_SERVICE_NAME": "switchboard",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
    }


def _events() -> dict[str, dict[str, Any]]:
    cases = {c.sample: c.event for c in signed_cases()}
    sqs = json.loads((EVENTS / "sqs" / "batch-message-lifecycle.json").read_text())
    status = json.loads((EVENTS / "http" / "status" / "get-known-subject.json").read_text())
    return {
        "VonageFunction": cases["verify/event-completed"],
        "TwilioFunction": cases["verify_push/challenge-approved"],
        "RecorderFunction": {"Records": sqs["Records"][:1]},
        "StatusFunction": status,
        NO_BYTECODE: cases["verify/event-completed"],
    }


def _probe(cfg: dict[str, Any], env: dict[str, str]) -> tuple[dict[str, Any], float]:
    t0 = time.perf_counter()
    proc = subprocess.run(  # noqa: S603 - our own interpreter and probe
        [sys.executable, "-I", "-S", "-B", "-c", _PROBE, json.dumps(cfg)],
        capture_output=True,
        text=True,
        cwd=tempfile.gettempdir(),
        env=env,
        timeout=60,
        check=False,
    )
    wall_ms = (time.perf_counter() - t0) * 1e3
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith(MARKER)]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"cold-start probe {cfg['function']} failed:\n{proc.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(lines[-1][len(MARKER) :])
    result["log_bytes"] = sum(len(ln) + 1 for ln in proc.stdout.splitlines() if not ln.startswith(MARKER))
    return result, wall_ms


Config = tuple[str, dict[str, Any], dict[str, str]]  # name, probe configuration, environment


def run(runs: int = 20) -> dict[str, Any]:
    from bench.common import dev_secrets_text
    from switchboard.builtrun import runtime_sdk_dir

    sdk = str(runtime_sdk_dir())
    layer = str(BUILD / "SharedLayer" / "python")
    xray = str(_link_dir(("aws_xray_sdk", "wrapt"), "bench-xray-"))
    baseline_dir = Path(tempfile.mkdtemp(prefix="bench-typical-"))
    shutil.copy(ROOT / "bench" / "typical_stack.py", baseline_dir / "typical_stack.py")
    parts_dir = Path(tempfile.mkdtemp(prefix="bench-parts-"))
    nobc_root = Path(tempfile.mkdtemp(prefix="bench-nobytecode-"))
    nobc_fn, nobc_layer = _zip_like_copy(nobc_root)
    dirs = {"layer": layer, "sdk": sdk, "xray": xray, "baseline": str(baseline_dir), "parts": str(parts_dir)}
    dirs.update(nobc_fn=str(nobc_fn), nobc_layer=str(nobc_layer))
    try:
        with stub_endpoint(dev_secrets_text()) as endpoint:
            samples, walls = _rounds(_configs(dirs, endpoint), runs)
        leftover = [p for p in nobc_root.rglob("__pycache__")]
        if leftover:
            raise RuntimeError(f"the no-bytecode copy grew bytecode: {leftover[:3]}")
        importtime = {name: _importtime(*spec, layer=layer, sdk=sdk) for name, spec in IMPORTTIME.items()}
    finally:
        for tmp in (nobc_root, baseline_dir, parts_dir, Path(sdk), Path(xray)):
            shutil.rmtree(tmp, ignore_errors=True)  # symlink folders: the links go, never their targets
    out = _summarise(samples, walls)
    out["layer_has_pyjwt"] = (BUILD / "SharedLayer" / "python" / "jwt").exists()
    # Per handler: did every run have `jwt` in sys.modules exactly as JWT_EXPECTED says?
    out["jwt_as_expected"] = {
        fn: all(("jwt" in r["heavy"]) == JWT_EXPECTED[fn] for r in samples[fn]) for fn in HANDLERS
    }
    out["importtime"] = importtime
    return out


def _configs(dirs: dict[str, str], endpoint: str) -> list[Config]:
    """Every probe of a round: the baseline, the handlers, the no-bytecode copy, the pieces."""
    layer, sdk = dirs["layer"], dirs["sdk"]
    events = _events()
    arn = f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:switchboard-ProviderSecret"
    baseline = {
        "function": BASELINE,
        "module": "typical_stack",
        "path": [dirs["baseline"], layer, dirs["xray"], sdk],
    }
    configs: list[Config] = [(BASELINE, baseline, _environment(BASELINE, endpoint, arn))]
    for logical in HANDLERS:
        path = [str(BUILD / logical), layer, sdk]
        cfg = {"function": logical, "module": "app", "path": path, "event": events[logical]}
        configs.append((logical, cfg, _environment(logical, endpoint, arn)))
    path = [dirs["nobc_fn"], dirs["nobc_layer"], sdk]
    cfg = {"function": NO_BYTECODE, "module": "app", "path": path, "event": events[NO_BYTECODE]}
    configs.append((NO_BYTECODE, cfg, _environment("VonageFunction", endpoint, arn)))
    parts = Path(dirs["parts"])
    for i, (name, code) in enumerate(BREAKDOWN.items()):
        (parts / f"bench_part_{i}.py").write_text(code + "\n")
        cfg = {"function": name, "module": f"bench_part_{i}", "path": [str(parts), layer, sdk]}
        configs.append((name, cfg, _environment(name, endpoint, arn)))
    for name, (first, timed) in MARGINAL.items():
        cfg = {
            "function": name,
            "module": timed,
            "pre": [first],
            "path": [str(BUILD / "TwilioFunction"), layer, sdk],
        }
        configs.append((name, cfg, _environment("TwilioFunction", endpoint, arn)))
    return configs


def _rounds(
    configs: list[Config], runs: int
) -> tuple[dict[str, list[dict[str, Any]]], dict[str, list[float]]]:
    """Round-robin probes; round 0 warms the page cache and is discarded."""
    samples: dict[str, list[dict[str, Any]]] = {}
    walls: dict[str, list[float]] = {}
    deadline = time.monotonic() + 150
    for round_no in range(runs + 1):
        for name, cfg, env in configs:
            result, wall = _probe(cfg, env)
            expected = EXPECTED.get(name)
            if expected is not None and result.get("result") != expected:
                raise RuntimeError(f"{name}: first invocation answered {result.get('result')!r}")
            if round_no:
                samples.setdefault(name, []).append(result)
                walls.setdefault(name, []).append(wall)
        if round_no >= 15 and time.monotonic() > deadline:
            break  # bounded in time; at least 15 runs each
    return samples, walls


def _summarise(samples: dict[str, list[dict[str, Any]]], walls: dict[str, list[float]]) -> dict[str, Any]:
    out: dict[str, Any] = {"configs": {}, "runs": len(samples[BASELINE])}
    for name, results in samples.items():
        doc: dict[str, Any] = {
            "import_ms": Stat.of([r["import_ms"] for r in results], "ms").to_json(),
            "import_cpu_ms": Stat.of([r["import_cpu_ms"] for r in results], "ms").to_json(),
            "process_ms": Stat.of(walls[name], "ms").to_json(),
            "rss_mb": Stat.of([r["rss_kb"] / 1024 for r in results], "MB").to_json(),
            "import_rss_mb": Stat.of([r["import_rss_kb"] / 1024 for r in results], "MB").to_json(),
            "modules": results[-1]["modules"],
            "botocore_modules": max(r["botocore_modules"] for r in results),
            "heavy": sorted(set().union(*(r["heavy"] for r in results))),
        }
        if "first_ms" in results[0]:
            doc["first_ms"] = Stat.of([r["first_ms"] for r in results], "ms").to_json()
            doc["first_cpu_ms"] = Stat.of([r["first_cpu_ms"] for r in results], "ms").to_json()
            doc["second_ms"] = Stat.of([r["second_ms"] for r in results], "ms").to_json()
            doc["import_plus_first_ms"] = Stat.of(
                [r["import_ms"] + r["first_ms"] for r in results], "ms"
            ).to_json()
            doc["log_bytes_two_invocations"] = results[-1]["log_bytes"]
        out["configs"][name] = doc
    return out


_IMPORTTIME_PROBE = r"""
import json, sys
cfg = json.loads(sys.argv[1])
sys.path[:0] = cfg["path"]
if cfg["pre"]:
    __import__(cfg["pre"])
sys.stderr.write("BENCH-MARK\n"); sys.stderr.flush()
__import__(cfg["module"])
"""


def _importtime(folder: str | None, pre: str | None, module: str, *, layer: str, sdk: str) -> dict[str, Any]:
    """One ``python -X importtime`` run: what importing ``module`` loads (after ``pre``, if given),
    its total, and the modules under it with the largest cumulative times."""
    path = [*([str(BUILD / folder)] if folder else []), layer, sdk]
    proc = subprocess.run(  # noqa: S603 - our own interpreter and probe
        [
            sys.executable,
            "-I",
            "-S",
            "-B",
            "-X",
            "importtime",
            "-c",
            _IMPORTTIME_PROBE,
            json.dumps({"path": path, "pre": pre, "module": module}),
        ],
        capture_output=True,
        text=True,
        cwd=tempfile.gettempdir(),
        env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", **FAKE_AWS_ENV},
        timeout=60,
        check=False,
    )
    if proc.returncode != 0 or "BENCH-MARK" not in proc.stderr:
        raise RuntimeError(f"importtime probe for {module} failed:\n{proc.stderr[-3000:]}")
    rows = []  # (name, depth, self µs, cumulative µs), in import order (children before parents)
    for line in proc.stderr.split("BENCH-MARK", 1)[1].splitlines():
        if not line.startswith("import time:") or "|" not in line or "self [us]" in line:
            continue
        self_us, cumulative, field = line.removeprefix("import time:").split("|")
        name = field[1:]  # one blank after the bar, then two per level of nesting
        depth = (len(name) - len(name.lstrip(" "))) // 2
        rows.append((name.strip(), depth, int(self_us), int(cumulative)))
    # Top level of what ran after the marker: the module itself, or (already imported) nothing.
    total = sum(r[3] for r in rows if r[1] == 0)
    heaviest = sorted((r for r in rows if r[0] != module), key=lambda r: -r[3])[:8]
    return {
        "total_ms": total / 1e3,
        "modules": len(rows),
        "heaviest": [
            {"module": n, "depth": d, "cumulative_ms": c / 1e3, "self_ms": s / 1e3} for n, d, s, c in heaviest
        ],
    }
