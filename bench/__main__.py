"""``python -m bench`` (``make bench``): run every section, write bench/RESULTS.md and print it.

Assumes ``make build`` has run (the cold-start section imports the handlers from .aws-sam/build) and
that bench/requirements.txt is installed. Each section runs in a fresh interpreter, one after the
other (2 cores: nothing runs alongside a measurement), each bounded in count and time; the whole
suite takes about 3–4 minutes. ``--only SECTION[,SECTION…]`` re-runs some sections and reuses the
others from the last run (bench/out/results.json).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import BUILD, ROOT, machine

SECTIONS = ("coldstart", "verify", "handler", "local", "local_two_writes", "recorder")
TIMEOUTS_S = {
    "coldstart": 240,
    "verify": 120,
    "handler": 120,
    "local": 150,
    "local_two_writes": 150,
    "recorder": 180,
}
RESULTS_MD = ROOT / "bench" / "RESULTS.md"
RAW = ROOT / "bench" / "out" / "results.json"  # raw figures (bench/out/ is git-ignored)


def _run_section(section: str, runs: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        out = Path(tmp) / "out.json"
        t0 = time.monotonic()
        print(f"[bench] {section} …", file=sys.stderr, flush=True)
        proc = subprocess.run(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "bench.worker", section, str(out), str(runs)],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            timeout=TIMEOUTS_S[section],
            check=False,
        )
        if proc.returncode != 0 or not out.exists():
            raise SystemExit(f"[bench] section {section} failed:\n{proc.stderr[-4000:]}")
        print(f"[bench] {section} done in {time.monotonic() - t0:.0f} s", file=sys.stderr, flush=True)
        result: dict[str, Any] = json.loads(out.read_text())
        return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20, help="cold-start runs per configuration (>= 15)")
    parser.add_argument(
        "--only", default="", help="comma-separated sections to re-run: " + ", ".join(SECTIONS)
    )
    parser.add_argument("--no-write", action="store_true", help="print the report without writing RESULTS.md")
    parser.add_argument(
        "--render-only", action="store_true", help="re-render the last run's figures, run nothing"
    )
    args = parser.parse_args(argv)
    if args.runs < 15:
        parser.error("--runs must be at least 15")
    if not (BUILD / "VonageFunction" / "app.py").exists():
        print("error: no .aws-sam/build — run `make build` first (make bench does)", file=sys.stderr)
        return 2
    only = [s for s in args.only.split(",") if s]
    unknown = [s for s in only if s not in SECTIONS]
    if unknown:
        parser.error(f"unknown section(s) {unknown}; choose from {', '.join(SECTIONS)}")

    if args.render_only:
        if not RAW.exists():
            print(f"error: no {RAW} to render; run `python -m bench` first", file=sys.stderr)
            return 2
        doc = json.loads(RAW.read_text())
    else:
        previous: dict[str, Any] = json.loads(RAW.read_text()) if only and RAW.exists() else {}
        results: dict[str, Any] = dict(previous.get("sections", {}))
        started = time.monotonic()
        for section in SECTIONS:
            if only and section in results and section not in only:
                continue
            results[section] = _run_section(section, args.runs)
        elapsed = time.monotonic() - started
        doc = {"sections": results, "machine": machine(), "elapsed_s": elapsed, "partial": bool(only)}
        RAW.parent.mkdir(parents=True, exist_ok=True)
        RAW.write_text(json.dumps(doc, indent=1, sort_keys=True))

    from bench.report import render

    text = render(doc)
    if not args.no_write:
        RESULTS_MD.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
