"""`switchboard`: the command line of the local stack and of a deployed one."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

EXIT_OK = 0
EXIT_USAGE = 2


def cmd_events(args: argparse.Namespace) -> int:
    from switchboard.samples import generate

    at = int(args.at) if args.at else int(time.time())
    manifest = generate(Path(args.out), at=at)
    print(
        f"wrote {len(manifest)} events to {args.out} (signed at {at}); manifest.json says what each must produce"
    )
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="switchboard", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    ev = sub.add_parser("events", help="write the sample API Gateway/SQS events, freshly signed")
    ev.add_argument("--out", required=True, help="folder to write to")
    ev.add_argument("--at", help="signing time (unix seconds; default now)")
    ev.set_defaults(func=cmd_events)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
