"""switchboard rejections — why webhooks were refused lately: the rejections since a time, grouped
by error code and route, each group with its count, when it was last seen, and the reason and
diagnostic of its latest request (what the handler logged and never sent back: which rule failed,
which key or URL variants were tried).

- Locally (no --stack): the local stack's request log (JSON lines beside its state file,
  switchboard/requestlog.py), requests whose verdict is ``rejected`` (4xx) or ``error`` (5xx).
- On AWS (--stack NAME): CloudWatch Logs Insights over the webhook functions' log groups (stack
  outputs VonageLogGroupName, TwilioLogGroupName), on the handlers' "webhook rejected" lines
  (shared/webhook.py). A query scans the log groups' lines in the range: $0.005 per GB.

A route is the webhook path (``/vonage/verify``) in both cases. Diagnostics hold text the caller
sent (a claimed key id, the URL tried): printed with non-printable characters escaped.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from switchboard.cli import EXIT_OK, CliError
from switchboard.terminal import printable
from switchboard.timeflags import time_bound

REJECTED_MESSAGE = "webhook rejected"  # shared/webhook.py _rejected: the line the query filters on
LOCAL_VERDICTS = ("rejected", "error")
LOG_GROUP_OUTPUTS = ("VonageLogGroupName", "TwilioLogGroupName")
MAX_GROUPS = 100
POLL_SECONDS = 1.0  # between GetQueryResults calls
# One Logs Insights query: the rejected lines, counted per code and route, with the latest line whole
# (its reason, HTTP status and diagnostic are read from it: the diagnostic's keys vary by rule).
QUERY = (
    f'filter message = "{REJECTED_MESSAGE}"'
    " | stats count(*) as rejected, max(@timestamp) as last_seen, latest(@message) as sample"
    " by code, route"
    " | sort rejected desc"
    f" | limit {MAX_GROUPS}"
)


@dataclass
class Group:
    code: str
    route: str
    count: int = 0
    last_seen: str = ""  # ISO 8601 UTC
    http_status: int | None = None
    reason: str = ""
    diagnostic: Any = field(default_factory=dict)


# --- locally: the request log ------------------------------------------------------------------


def local_groups(records: Iterable[Mapping[str, Any]], since: str) -> list[Group]:
    """Rejected and failed requests at or after ``since`` (ISO text), grouped by code and route."""
    groups: dict[tuple[str, str], Group] = {}
    start = datetime.fromisoformat(since)
    for record in records:
        if record.get("verdict") not in LOCAL_VERDICTS or _when(record.get("at")) < start:
            continue
        route = str(record.get("route") or "").rpartition(" ")[2]  # "POST /vonage/verify" -> the path
        group = groups.setdefault(
            (str(record.get("code") or ""), route), Group(str(record.get("code") or ""), route)
        )
        group.count += 1
        if str(record.get("at")) >= group.last_seen:
            group.last_seen = str(record.get("at"))
            group.http_status = record.get("status") if isinstance(record.get("status"), int) else None
            group.reason = str(record.get("message") or "")
            group.diagnostic = record.get("diagnostic") or {}
    return sorted(groups.values(), key=lambda g: (-g.count, g.code, g.route))[:MAX_GROUPS]


def _when(value: Any) -> datetime:
    try:
        when = datetime.fromisoformat(str(value))
    except ValueError:
        return datetime.min.replace(tzinfo=UTC)
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def local_records() -> list[dict[str, Any]]:
    from switchboard.cli import running_state
    from switchboard.requestlog import read_file

    state = running_state(answering=False)  # the log is a file: nothing asks the stack itself
    if not state.request_log:
        raise CliError("this local stack keeps no request log (started by an older version?): restart it")
    return read_file(Path(state.request_log))


# --- on AWS: Logs Insights ---------------------------------------------------------------------


def query_groups(
    logs: Any,
    log_groups: list[str],
    since: str,
    until: str,
    *,
    timeout: float,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    progress: Callable[[str], None] = lambda _: None,
) -> list[Group]:
    """Run QUERY over ``log_groups`` between two ISO times; poll until complete or ``timeout``."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        query_id = logs.start_query(
            logGroupNames=log_groups,
            startTime=int(datetime.fromisoformat(since).timestamp()),
            endTime=int(datetime.fromisoformat(until).timestamp()) + 1,
            queryString=QUERY,
            limit=MAX_GROUPS,
        )["queryId"]
        deadline = clock() + timeout
        while True:
            got = logs.get_query_results(queryId=query_id)
            if got["status"] == "Complete":
                return [group_of(row) for row in got.get("results", [])]
            if got["status"] not in ("Scheduled", "Running"):
                raise CliError(f"the Logs Insights query ended {got['status']}")
            if clock() >= deadline:
                logs.stop_query(queryId=query_id)
                raise CliError(f"the Logs Insights query took over {timeout:g} s (--timeout); stopped it")
            progress(".")
            sleep(POLL_SECONDS)
    except (ClientError, BotoCoreError) as exc:
        raise CliError(f"Logs Insights failed: {exc}") from None


def group_of(row: Sequence[Mapping[str, str]]) -> Group:
    """One result row (``[{"field", "value"}, …]``) as a Group; the sample line gives the details."""
    values = {cell["field"]: cell.get("value", "") for cell in row}
    try:
        sample = json.loads(values.get("sample") or "{}")
    except ValueError:
        sample = {"unparsed": (values.get("sample") or "")[:300]}
    if not isinstance(sample, dict):
        sample = {}
    status = sample.get("http_status")
    return Group(
        code=values.get("code", ""),
        route=values.get("route", ""),
        count=int(values.get("rejected") or 0),
        last_seen=_insights_iso(values.get("last_seen", "")),
        http_status=status if isinstance(status, int) else None,
        reason=str(sample.get("reason") or ""),
        diagnostic=sample.get("diagnostic") or sample.get("unparsed") or {},
    )


def _insights_iso(value: str) -> str:
    """Logs Insights' ``2026-11-30 10:12:03.114`` (UTC) as ``2026-11-30T10:12:03.114Z``."""
    return value.replace(" ", "T") + "Z" if value and " " in value else value


def stack_log_groups(outputs: Mapping[str, str], stack: str) -> list[str]:
    missing = [name for name in LOG_GROUP_OUTPUTS if not outputs.get(name)]
    if missing:
        raise CliError(
            f"stack {stack} has no output {', '.join(missing)} (deployed before `switchboard rejections` "
            "existed?): sam deploy the current template"
        )
    return [outputs[name] for name in LOG_GROUP_OUTPUTS]


def logs_client(args: argparse.Namespace) -> Any:
    from switchboard.cli import aws_session

    return aws_session(args.region, args.profile).client("logs")


# --- the command ---------------------------------------------------------------------------------


def cmd_rejections(args: argparse.Namespace) -> int:
    from switchboard.cli import stack_outputs

    now = datetime.now(UTC)
    since = time_bound(args.since, now=now)
    until = time_bound("0s", now=now)
    if args.stack:
        log_groups = stack_log_groups(
            stack_outputs(args.stack, region=args.region, profile=args.profile), args.stack
        )
        print(f"querying {len(log_groups)} log groups (Logs Insights) ", end="", file=sys.stderr, flush=True)
        try:
            groups = query_groups(
                logs_client(args),
                log_groups,
                since,
                until,
                timeout=args.timeout,
                progress=lambda dot: print(dot, end="", file=sys.stderr, flush=True),
            )
        finally:
            print(file=sys.stderr)
    else:
        groups = local_groups(local_records(), since)
    print_groups(groups, since=since, target=args.stack or "the local stack", as_json=args.json)
    return EXIT_OK


def print_groups(groups: list[Group], *, since: str, target: str, as_json: bool) -> None:
    if as_json:
        for group in groups:
            print(json.dumps(asdict(group), separators=(",", ":"), ensure_ascii=True))
        return
    total = sum(g.count for g in groups)
    print(f"{total} rejected request(s) in {len(groups)} group(s) since {since} ({printable(target)})")
    if not groups:
        return
    print()
    rows = [("COUNT", "HTTP", "CODE", "ROUTE", "LAST SEEN")]
    rows += [
        (
            str(g.count),
            str(g.http_status or "-"),
            printable(g.code) or "-",
            printable(g.route) or "-",
            g.last_seen,
        )
        for g in groups
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    indent = " " * (widths[0] + widths[1] + 4)
    for i, row in enumerate(rows):
        print(
            "  ".join(
                cell.rjust(widths[j]) if j < 2 else cell.ljust(widths[j]) for j, cell in enumerate(row)
            ).rstrip()
        )
        if i:
            group = groups[i - 1]
            print(f"{indent}reason: {printable(group.reason, 200)}")
            sample = json.dumps(group.diagnostic, separators=(",", ":"), ensure_ascii=True, default=str)
            print(f"{indent}sample: {printable(sample, 300)}")


def seconds(text: str) -> float:
    """--timeout: a positive, finite number (nan never reaches a deadline; inf never ends)."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (0 < value < math.inf):
        raise argparse.ArgumentTypeError(f"want a positive number of seconds, got {text!r}")
    return value


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser], with_target: Any) -> None:
    """Register `switchboard rejections`."""
    p = with_target(
        sub.add_parser(
            "rejections",
            help="recent rejected webhooks grouped by code and route, with a sample diagnostic",
            description=__doc__,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
    )
    p.add_argument("--since", default="1h", help="15m, 1h, 2d, a date or an ISO 8601 time (default 1h)")
    p.add_argument("--timeout", type=seconds, default=60, help="--stack: seconds to wait for the query (60)")
    p.add_argument("--json", action="store_true", help="one JSON object per group")
    p.set_defaults(func=cmd_rejections)
