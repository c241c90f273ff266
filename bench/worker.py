"""One benchmark section in its own interpreter: ``python -m bench.worker SECTION OUT.json [RUNS]``.

The orchestrator (``python -m bench``) runs each section this way, with stdout discarded (the
handlers log to it, as in Lambda), and reads the section's results from OUT.json.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.common import write_json


def _sections(runs: int) -> dict[str, Callable[[], dict[str, Any]]]:
    from bench import coldstart, handler_cpu, local_http, recorder_moto, verify_cpu

    return {
        "coldstart": lambda: coldstart.run(runs=runs),
        "verify": verify_cpu.run,
        "handler": handler_cpu.run,
        "local": lambda: local_http.run(two_writes=False),
        "local_two_writes": lambda: local_http.run(two_writes=True),
        "recorder": recorder_moto.run,
    }


def main(argv: list[str]) -> int:
    if len(argv) not in (2, 3):
        print("usage: python -m bench.worker SECTION OUT.json [RUNS]", file=sys.stderr)
        return 2
    section, out = argv[0], Path(argv[1])
    runs = int(argv[2]) if len(argv) == 3 else 20
    sections = _sections(runs)
    if section not in sections:
        print(f"unknown section {section!r}; one of {', '.join(sections)}", file=sys.stderr)
        return 2
    write_json(out, sections[section]())
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
