"""switchboard — run the local stack, send correctly signed Vonage and Twilio events, query a status,
consume the events queue, redrive the DLQs.

With no target flag every command talks to the local stack started by `make run`. With
`--stack NAME` it talks to a deployed stack (AWS_PROFILE / AWS_REGION or --profile / --region).

Exit codes: 0 ok · 1 the target answered with an error (HTTP >= 400, or an AWS error) ·
2 usage error (unknown sample, bad flag) · 3 the local stack is not running, or the target URL
is not reachable (connection refused, no route, timeout).
"""

from __future__ import annotations

import argparse
import itertools
import json
import socket
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

if TYPE_CHECKING:
    from switchboard.local import LocalState

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_NOT_RUNNING = 0, 1, 2, 3


class CliError(Exception):
    def __init__(self, message: str, code: int = EXIT_ERROR) -> None:
        super().__init__(message)
        self.code = code


# --- targets -----------------------------------------------------------------------------------


@dataclass
class Target:
    name: str
    base_url: str
    clients: Callable[[str], Any]
    queues: dict[str, str]  # ingest, ingest_dlq, events, events_dlq
    secrets_text: Callable[[], str]
    status: Callable[[str, str], tuple[int, bytes]]  # (subject id, query string) -> (HTTP status, body)
    has_message_move_task: bool = True  # moto (the local emulator) does not implement it
    table: str = ""  # the history table, read directly by `switchboard history`
    # GET a path under the API root ("/workflows/<id>"), signed as the target needs -> (status, body)
    get: Callable[[str], tuple[int, bytes]] | None = None


def _http(
    method: str, url: str, body: bytes = b"", headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, data=body or None, method=method, headers=headers or {})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - URLs the user targets
            return response.status, dict(response.headers.items()), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers.items()), exc.read()


def running_state(*, answering: bool = True) -> LocalState:
    """The local stack's state file; with ``answering``, also that the stack answers on its port.
    Exit 3 (CliError) when it is not running."""
    from switchboard.local import read_state, state_file

    state = read_state()
    if state is None:
        raise CliError(
            f"the local stack is not running (no {state_file()}). Start it in another terminal: make run",
            EXIT_NOT_RUNNING,
        )
    if answering:
        try:
            host, port = state.base_url.rsplit("//", 1)[1].split(":")
            socket.create_connection((host, int(port)), timeout=2).close()
        except OSError:
            raise CliError(
                f"the local stack at {state.base_url} does not answer (stopped?). Start it: make run",
                EXIT_NOT_RUNNING,
            ) from None
    return state


def local_target() -> Target:
    state = running_state()
    import boto3

    # The emulator accepts any credentials; these are not secrets.
    session = boto3.session.Session(
        aws_access_key_id="local",
        aws_secret_access_key="local",  # noqa: S106
        region_name=state.region,
    )

    def get(path: str) -> tuple[int, bytes]:
        code, _, body = _http("GET", state.base_url + path)
        return code, body

    def status(subject: str, query: str = "") -> tuple[int, bytes]:
        return get(f"/status/{quote(subject, safe='')}" + (f"?{query}" if query else ""))

    return Target(
        name="local",
        base_url=state.base_url,
        clients=lambda s: session.client(s, endpoint_url=state.aws_endpoint),  # type: ignore[call-overload]
        queues=state.queues,
        secrets_text=lambda: Path(state.secrets_file).read_text(encoding="utf-8"),
        status=status,
        has_message_move_task=False,
        table=state.table,
        get=get,
    )


def aws_session(region: str | None, profile: str | None) -> Any:
    """A boto3 session for --stack; an unknown --profile is a usage error naming it."""
    import boto3
    from botocore.exceptions import ProfileNotFound

    try:
        return boto3.session.Session(region_name=region, profile_name=profile)
    except ProfileNotFound as exc:
        raise CliError(str(exc), EXIT_USAGE) from None


def stack_outputs(name: str, *, region: str | None, profile: str | None) -> dict[str, str]:
    session = aws_session(region, profile)
    described = describe_stack(session.client("cloudformation"), name)
    return {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}


def describe_stack(cfn: Any, name: str) -> dict[str, Any]:
    """DescribeStacks of one stack; CliError naming it when it cannot be read."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        described: dict[str, Any] = cfn.describe_stacks(StackName=name)["Stacks"][0]
    except (ClientError, BotoCoreError) as exc:
        raise CliError(f"cannot read stack {name!r}: {exc}") from None
    return described


def stack_target(name: str, *, region: str | None, profile: str | None) -> Target:
    session = aws_session(region, profile)
    outputs = stack_outputs(name, region=region, profile=profile)

    def secrets_text() -> str:
        value: str = session.client("secretsmanager").get_secret_value(SecretId=outputs["SecretArn"])[
            "SecretString"
        ]
        return value

    def get(path: str) -> tuple[int, bytes]:
        return signed_get(outputs["ApiBaseUrl"] + path)

    def status(subject: str, query: str = "") -> tuple[int, bytes]:
        return signed_get(
            f"{outputs['StatusApiUrl']}/{quote(subject, safe='')}" + (f"?{query}" if query else "")
        )

    def signed_get(url: str) -> tuple[int, bytes]:
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest

        request = AWSRequest(method="GET", url=url)
        credentials = session.get_credentials()
        if credentials is None:
            raise CliError("no AWS credentials to sign the status request (AWS_PROFILE?)")
        SigV4Auth(credentials, "execute-api", session.region_name).add_auth(request)
        code, _, body = _http("GET", url, headers=dict(request.headers.items()))
        return code, body

    return Target(
        name=name,
        base_url=outputs.get("WebhookBaseUrl") or outputs["ApiBaseUrl"],
        clients=lambda s: session.client(s),
        queues={
            "ingest": outputs["IngestQueueUrl"],
            "ingest_dlq": outputs["IngestDLQUrl"],
            "events": outputs["EventsQueueUrl"],
            "events_dlq": outputs["EventsDLQUrl"],
        },
        secrets_text=secrets_text,
        status=status,
        table=outputs.get("TableName", ""),
        get=get,
    )


def target_from(args: argparse.Namespace) -> Target:
    if getattr(args, "stack", None):
        return stack_target(args.stack, region=args.region, profile=args.profile)
    return local_target()


# --- commands ------------------------------------------------------------------------------------


def cmd_run(args: argparse.Namespace) -> int:
    from switchboard.local import run

    return run(port=args.port, secrets=args.secrets)


def cmd_samples(args: argparse.Namespace) -> int:
    from switchboard.samples import default_method, samples

    rows = [("SAMPLE", "METHOD", "ROUTE")] + [(s.name, default_method(s), s.route.path) for s in samples()]
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    for row in rows:
        print("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip())
    return EXIT_OK


def _set_field(payload: Any, assignment: str) -> None:
    """``--set a.b=value``; in an array sample (Event Streams) a number picks an item: ``0.data.x=…``."""
    if "=" not in assignment:
        raise CliError(f"--set wants field=value, got {assignment!r}", EXIT_USAGE)
    path, value = assignment.split("=", 1)
    keys = path.split(".")
    node = payload
    for key in keys[:-1]:
        node = _child(node, key, path)
    try:
        parsed: Any = json.loads(value) if value[:1] in "{[" else value
    except ValueError:
        parsed = value
    if isinstance(node, list):
        node[_index(node, keys[-1], path)] = parsed
    else:
        node[keys[-1]] = parsed


def _child(node: Any, key: str, path: str) -> Any:
    child = node[_index(node, key, path)] if isinstance(node, list) else node.setdefault(key, {})
    if not isinstance(child, dict | list):
        raise CliError(f"--set {path}: {key} is not an object", EXIT_USAGE)
    return child


def _index(node: list[Any], key: str, path: str) -> int:
    if not key.isdigit() or int(key) >= len(node):
        raise CliError(f"--set {path}: {key} is not an item of the array (0-{len(node) - 1})", EXIT_USAGE)
    return int(key)


def _with_status(sample: Any, payload: dict[str, Any], status: str) -> dict[str, Any]:
    from shared import providers

    payload = json.loads(json.dumps(payload))
    spec = providers.product(sample.route.product, sample.route.provider)
    if spec.with_status is not None:
        try:
            return spec.with_status(payload, status)
        except ValueError as exc:
            raise CliError(str(exc), EXIT_USAGE) from None
    if "status" in payload:
        payload["status"] = status
        return payload
    raise CliError(f"sample {sample.name} has no status field to change", EXIT_USAGE)


def cmd_send(args: argparse.Namespace) -> int:
    from shared.config import ProviderSecrets
    from switchboard.samples import default_method, sample
    from switchboard.signing import sign

    try:
        chosen = sample(args.sample)
    except KeyError:
        raise CliError(
            f"unknown sample {args.sample!r}; `switchboard samples` lists them", EXIT_USAGE
        ) from None
    if args.repeat < 1:
        raise CliError("--repeat must be at least 1", EXIT_USAGE)
    if args.encoding and chosen.route.scheme != "vonage_sms":
        raise CliError("--encoding applies to the SMS API samples only (sms/…)", EXIT_USAGE)
    implied = {"query": "GET", "form": "POST", "json": "POST"}.get(args.encoding or "")
    method = (args.method or implied or default_method(chosen)).upper()
    if (args.encoding == "query" and method != "GET") or (
        args.encoding in ("form", "json") and method != "POST"
    ):
        raise CliError(
            f"--encoding {args.encoding} needs --method {'GET' if args.encoding == 'query' else 'POST'}",
            EXIT_USAGE,
        )
    if args.encoding in ("form", "json") and not args.method:
        method = "POST"
    if method not in chosen.route.methods:
        raise CliError(
            f"{chosen.route.path} accepts {', '.join(chosen.route.methods)}, not {method}", EXIT_USAGE
        )
    statuses: list[str | None] = [None]
    if args.status is not None:
        statuses = [x.strip() for x in args.status.split(",")]
        if not all(statuses):
            raise CliError("--status wants one or more statuses, e.g. --status delivered,read", EXIT_USAGE)
    if args.url:
        if not args.url.startswith(("http://", "https://")):
            raise CliError(f"--url must start with http:// or https://, got {args.url!r}", EXIT_USAGE)
        base = args.url.rstrip("/")
        if args.secrets:
            secrets_text = _read(args.secrets)
        elif args.stack:
            secrets_text = target_from(args).secrets_text()
        else:
            from switchboard.local import DEV_SECRETS

            print(
                f"note: signing with the fake dev secrets ({DEV_SECRETS}); use --secrets or --stack",
                file=sys.stderr,
            )
            secrets_text = DEV_SECRETS.read_text(encoding="utf-8")
    else:
        target = target_from(args)
        base = target.base_url
        secrets_text = _read(args.secrets) if args.secrets else target.secrets_text()
    secrets = ProviderSecrets.from_json(secrets_text, source=args.secrets or "the target's secrets")
    payload: Any = json.loads(json.dumps(chosen.payload))
    for assignment in args.set or []:
        _set_field(payload, assignment)
    worst = EXIT_OK
    for status in statuses:
        body = _with_status(chosen, payload, status) if status else payload
        for _ in range(max(args.repeat, 1)):
            try:
                request = sign(
                    chosen.route,
                    body,
                    secrets,
                    base,
                    now=int(time.time()),
                    method=method,
                    encoding=args.encoding,
                )
            except LookupError as exc:  # e.g. a freshly deployed stack's secret is still empty
                raise CliError(
                    f"cannot sign {chosen.name}: {exc} (see README: Set the secret)", EXIT_USAGE
                ) from None
            try:
                code, headers, answer = _http(request.method, request.url, request.body, request.headers)
            except (urllib.error.URLError, OSError) as exc:  # refused, no route, DNS, timeout
                reason = getattr(exc, "reason", None) or exc
                raise CliError(f"cannot reach {base}: {reason}", EXIT_NOT_RUNNING) from None
            lower = {k.lower(): v for k, v in headers.items()}
            event_id, subject = (
                lower.get("x-switchboard-event-id", ""),
                lower.get("x-switchboard-subject-id", ""),
            )
            detail = (
                _accepted(event_id, subject, answer)
                if code < 300
                else answer.decode("utf-8", "replace")[:300]
            )
            print(f"{request.method} {chosen.route.path} -> HTTP {code} {detail}".rstrip())
            if code >= 400:
                worst = EXIT_ERROR
    return worst


def _accepted(event_id: str, subject: str, answer: bytes) -> str:
    """What a 2xx said: the event id and subject, or every id of a delivery that held several."""
    try:
        ids = json.loads(answer).get("event_ids")
    except (ValueError, AttributeError):
        ids = None
    if isinstance(ids, list) and len(ids) != 1:
        return f"{len(ids)} events: {', '.join(map(str, ids))}".rstrip(": ")
    return f"{event_id}  subject {subject}"


def _read(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror}", EXIT_USAGE) from None


def cmd_status(args: argparse.Namespace) -> int:
    if not args.subject_id.strip():
        raise CliError(
            "a subject id is required (a request_id, message_uuid, messageId, call uuid or SID)", EXIT_USAGE
        )
    query = urlencode({k: v for k, v in (("product", args.product), ("provider", args.provider)) if v})
    target = target_from(args)
    code, body = target.status(args.subject_id, query)
    if code >= 400:
        return _print_error(code, body, as_json=args.json)
    doc = json.loads(body)
    if args.json:
        print(json.dumps(doc, indent=2))
        return EXIT_OK
    subjects = doc.get("subjects") or [doc]
    if len(subjects) > 1:
        print(f"{len(subjects)} subjects share this id; --product picks one", file=sys.stderr)
    for i, subject in enumerate(subjects):
        if i:
            print()
        _print_subject(subject)
    return EXIT_OK


def cmd_workflow(args: argparse.Namespace) -> int:
    """A Messages failover: each attempt's status and the workflow's state (GET /workflows/{id})."""
    if not args.workflow_id.strip():
        raise CliError("a workflow id is required (the send response's workflow_id)", EXIT_USAGE)
    target = target_from(args)
    assert target.get is not None
    code, body = target.get(f"/workflows/{quote(args.workflow_id, safe='')}")
    if code >= 400:
        return _print_error(code, body, as_json=args.json)
    doc = json.loads(body)
    if args.json:
        print(json.dumps(doc, indent=2))
        return EXIT_OK
    total = doc.get("items_total") or "?"
    print(f"workflow {doc['workflow_id']}  {doc['provider']}/{doc['product']}  state: {doc['state']}")
    print()
    rows = [("ATTEMPT", "MESSAGE UUID", "CHANNEL", "STATUS", "OCCURRED AT")]
    rows += [
        (
            f"{a['item_number'] or '?'}/{total}",
            str(a["message_uuid"]),
            str(a["channel"] or ""),
            (a["status"] or "(none yet)") + (" (terminal)" if a["terminal"] else ""),
            str(a["occurred_at"] or ""),
        )
        for a in doc["attempts"]
    ]
    _print_columns(rows)
    print()
    timeline = [("OCCURRED AT", "ATTEMPT", "STATUS", "EVENT ID")]
    timeline += [
        (
            e["occurred_at"],
            str((e.get("workflow") or {}).get("item_number") or "?"),
            e["status"],
            e["event_id"],
        )
        for e in doc["history"]
    ]
    _print_columns(timeline)
    if doc.get("truncated"):
        print("(truncated: the latest events only)", file=sys.stderr)
    return EXIT_OK


def _print_error(code: int, body: bytes, *, as_json: bool) -> int:
    try:
        error = json.loads(body)
    except ValueError:
        error = {"error": "http_error", "message": body.decode("utf-8", "replace")[:300]}
    if as_json:
        print(json.dumps({"http_status": code, **error}))
    else:
        what = error.get("error") or "error"
        print(f"HTTP {code}: {what}: {error.get('message', '')}".rstrip(": "), file=sys.stderr)
    return EXIT_ERROR


def _print_subject(doc: dict[str, Any]) -> None:
    final = " (terminal)" if doc.get("terminal") else ""
    current = doc["status"] or "(none yet: only informational events)"
    print(
        f"{doc['subject_id']}  {doc['provider']}/{doc['product']}  status: {current}{final}  updated {doc['updated_at']}"
    )
    print()
    rows = [("OCCURRED AT", "TYPE", "STATUS", "EVENT ID", "RECEIVED AT")]
    rows += [
        (e["occurred_at"], e["type"], e["status"], e["event_id"], e["received_at"]) for e in doc["history"]
    ]
    _print_columns(rows)
    if doc.get("truncated"):
        print("(truncated: the latest events only)", file=sys.stderr)


def _print_columns(rows: Sequence[tuple[str, ...]]) -> None:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip())


UNBOUNDED = "9999-12-31T23:59:59.999Z"  # --until by default: no upper bound


def cmd_history(args: argparse.Namespace) -> int:
    from botocore.exceptions import BotoCoreError, ClientError

    from shared.history import product_events, provider_of

    provider = provider_of(args.product, args.provider)  # InvalidField: a usage error (main)
    since = _time_bound(args.since, end=False)
    until = _time_bound(args.until, end=True) if args.until else UNBOUNDED
    if since > until:
        raise CliError("--since is after --until", EXIT_USAGE)
    if args.limit < 1:
        raise CliError("--limit must be at least 1", EXIT_USAGE)
    target = target_from(args)
    if not target.table:
        raise CliError(f"{target.name} names no history table (stack output TableName)")
    db = target.clients("dynamodb")
    try:
        rows = product_events(
            db,
            target.table,
            args.product,
            since,
            until,
            provider=provider,
            status=args.status,
            page_size=args.limit + 1,
        )
        found = list(itertools.islice(rows, args.limit + 1))
    except (ClientError, BotoCoreError) as exc:
        raise CliError(f"cannot query the history table {target.table}: {exc}") from None
    _print_history(found[: args.limit], as_json=args.json)
    if len(found) > args.limit:
        print(f"more events in this range: raise --limit (now {args.limit}) or narrow it", file=sys.stderr)
    elif not args.json:
        print(f"{len(found)} event(s)", file=sys.stderr)
    return EXIT_OK


def _time_bound(value: str, *, end: bool) -> str:
    """--since/--until of `history`: a date or an ISO 8601 time (timeflags.absolute_bound)."""
    from switchboard.timeflags import absolute_bound

    try:
        return absolute_bound(value, end=end)
    except (ValueError, OverflowError):  # overflow: in UTC it is before year 1 or after 9999
        flag = "--until" if end else "--since"
        raise CliError(
            f"{flag} wants a date or an ISO 8601 time (UTC unless it says), e.g. 2026-11-23 or "
            f"2026-11-23T09:30:00Z; got {value!r}",
            EXIT_USAGE,
        ) from None


def _print_history(rows: list[dict[str, Any]], *, as_json: bool) -> None:
    if as_json:
        for row in rows:
            print(json.dumps(row, separators=(",", ":")), flush=True)
        return
    table = [("OCCURRED AT", "TYPE", "STATUS", "SUBJECT", "EVENT ID")]
    table += [(r["occurred_at"], r["type"], r["status"], r["subject_id"], r["event_id"]) for r in rows]
    _print_columns(table)


def cmd_consume(args: argparse.Namespace) -> int:
    if args.max < 1 or args.wait < 0:
        raise CliError("--max must be >= 1 and --wait >= 0", EXIT_USAGE)
    target = target_from(args)
    sqs, url = target.clients("sqs"), target.queues["events"]
    received = 0
    # Receipt handles to make visible again at the end: --keep, foreign messages, and any received
    # but not yet handed over when the run stops early (Ctrl-C, `| head` closing the pipe): left in
    # flight they would hold their FIFO group back for the 60 s visibility timeout.
    kept: list[str] = []
    in_flight: list[str] = []
    foreign = 0
    deadline = time.monotonic() + args.wait
    try:
        while received < args.max:
            remaining = max(0, int(deadline - time.monotonic()))
            got = sqs.receive_message(
                QueueUrl=url,
                MaxNumberOfMessages=min(10, args.max - received),
                WaitTimeSeconds=min(remaining, 20),
                VisibilityTimeout=60,  # long enough not to receive the same message twice in one run
            )
            messages = got.get("Messages") or []
            in_flight = [m["ReceiptHandle"] for m in messages]
            for m in messages:
                if _print_consumed(m, as_json=args.json):
                    received += 1
                    if not args.keep:
                        sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
                        in_flight.remove(m["ReceiptHandle"])
                else:
                    foreign += 1
            kept += in_flight
            in_flight = []
            if not messages and time.monotonic() >= deadline:
                break
    finally:
        for handle in kept + in_flight:  # back on the queue at once, for the real consumer
            sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=0)
    if not args.json:
        print(f"{received} event(s){' (kept on the queue)' if args.keep else ''}", file=sys.stderr)
    return EXIT_ERROR if foreign else EXIT_OK


def _print_consumed(m: dict[str, Any], *, as_json: bool) -> bool:
    """Print one events-queue message; False when it is not a Switchboard event (someone else's
    message?): said on stderr, and left on the queue."""
    from switchboard.terminal import printable

    try:
        event = json.loads(m["Body"])
        fields = [str(event[k]) for k in ("occurred_at", "type", "subject_id", "status", "event_id")]
    except (ValueError, KeyError, TypeError):
        print(
            f"not a Switchboard event (message {m['MessageId']}): {printable(repr(m['Body'][:200]))}",
            file=sys.stderr,
        )
        return False
    if as_json:
        print(json.dumps(event, separators=(",", ":")), flush=True)
        return True
    current = printable(str((event.get("current") or {}).get("status") or "-"))
    occurred, type_, subject, status, event_id = (printable(f) for f in fields)
    print(f"{occurred}  {type_:28} {subject:36}  {status:14} (current: {current:14}) {event_id}", flush=True)
    return True


def cmd_redrive(args: argparse.Namespace) -> int:
    from botocore.exceptions import ClientError

    target = target_from(args)
    sqs = target.clients("sqs")
    source, dlq = target.queues[args.queue], target.queues[f"{args.queue}_dlq"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    count = int(
        sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"][
            "ApproximateNumberOfMessages"
        ]
    )
    if target.has_message_move_task:
        try:
            task = sqs.start_message_move_task(SourceArn=dlq_arn)
        except ClientError as exc:
            raise CliError(f"StartMessageMoveTask failed: {exc}") from None
        print(
            f"redrive started (AWS message move task {task['TaskHandle'][:12]}…): "
            f"about {count} message(s) from the {args.queue} DLQ"
        )
        return EXIT_OK
    moved = _move_messages(sqs, dlq, source)
    print(f"moved {moved} message(s) from the {args.queue} DLQ back to the {args.queue} queue")
    return EXIT_OK


def _move_messages(sqs: Any, dlq: str, source: str) -> int:
    """What StartMessageMoveTask does, for emulators without it: receive, send back, delete — the
    messages the DLQ held when it started, as AWS does: a poison message the recorder dead-letters
    again at once must not bounce between the queues for ever."""
    fifo = source.endswith(".fifo")
    limit = int(
        sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"][
            "ApproximateNumberOfMessages"
        ]
    )
    moved = 0
    while moved < limit:
        got = sqs.receive_message(
            QueueUrl=dlq,
            MaxNumberOfMessages=min(10, limit - moved),
            AttributeNames=["All"],
            WaitTimeSeconds=0,
        )
        messages = got.get("Messages") or []
        if not messages:
            return moved
        for m in messages:
            kwargs: dict[str, Any] = {"QueueUrl": source, "MessageBody": m["Body"]}
            if fifo:
                attrs = m.get("Attributes", {})
                kwargs["MessageGroupId"] = attrs.get("MessageGroupId", "redrive")
                # A fresh deduplication id: the original one may still be inside SQS's 5-minute window.
                kwargs["MessageDeduplicationId"] = f"redrive-{m['MessageId']}-{int(time.time())}"[:128]
            sqs.send_message(**kwargs)
            sqs.delete_message(QueueUrl=dlq, ReceiptHandle=m["ReceiptHandle"])
            moved += 1
    return moved


def cmd_events(args: argparse.Namespace) -> int:
    from switchboard.samples import generate

    try:
        at = int(args.at) if args.at else int(time.time())
    except ValueError:
        raise CliError(f"--at wants unix seconds, got {args.at!r}", EXIT_USAGE) from None
    try:
        outputs = stack_outputs(args.stack, region=args.region, profile=args.profile) if args.stack else None
        manifest = generate(Path(args.out), at=at, outputs=outputs)
    except OSError as exc:
        raise CliError(f"cannot write to {args.out}: {exc.strerror}") from None
    print(
        f"wrote {len(manifest)} events to {args.out} (signed at {at}); manifest.json says what each must produce"
    )
    return EXIT_OK


# --- parser --------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    from shared import providers  # the product names, for help texts

    parser = argparse.ArgumentParser(
        prog="switchboard", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def with_target(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        p.add_argument("--stack", help="a deployed stack's name (default: the local stack)")
        p.add_argument("--region", help="AWS region of --stack")
        p.add_argument("--profile", help="AWS profile for --stack")
        return p

    p = sub.add_parser("run", help="run the local stack in the foreground (what `make run` does)")
    p.add_argument("--port", type=int, help="webhook port (default $PORT or 3000)")
    p.add_argument(
        "--secrets", help="provider secrets JSON (default $SWITCHBOARD_SECRETS or the fake dev file)"
    )
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("samples", help="list the sample events")
    p.set_defaults(func=cmd_samples)

    p = with_target(sub.add_parser("send", help="sign a sample as the provider would and send it"))
    p.add_argument("sample", help="a name from `switchboard samples`, e.g. verify/event-completed")
    p.add_argument("--url", help="base URL to send to, e.g. a deployed stage (default: the local stack)")
    p.add_argument(
        "--status", help="status to send; a comma-separated list sends one event per status, in order"
    )
    p.add_argument(
        "--set", action="append", metavar="FIELD=VALUE", help="override a payload field (dots for nesting)"
    )
    p.add_argument("--repeat", type=int, default=1, help="send each event N times (replays are one event)")
    p.add_argument("--method", help="GET or POST (default: the provider's default for the route)")
    p.add_argument("--encoding", choices=["query", "form", "json"], help="SMS API: how parameters travel")
    p.add_argument("--secrets", help="secrets JSON to sign with (default: the target's)")
    p.set_defaults(func=cmd_send)

    p = with_target(sub.add_parser("status", help="the current status and history of a subject"))
    p.add_argument("subject_id")
    p.add_argument("--product", help="the subject's product, when several share the id (e.g. sms)")
    p.add_argument("--provider", help="vonage or twilio")
    p.add_argument("--json", action="store_true", help="print the API's JSON")
    p.set_defaults(func=cmd_status)

    p = with_target(
        sub.add_parser(
            "workflow", help="a Messages failover: every attempt's status and the workflow's state"
        )
    )
    p.add_argument("workflow_id", help="the workflow_id of the Messages send response")
    p.add_argument("--json", action="store_true", help="print the API's JSON")
    p.set_defaults(func=cmd_workflow)

    p = with_target(
        sub.add_parser("history", help="one product's events in a time range (the table's by_product index)")
    )
    p.add_argument("--product", required=True, help=", ".join(providers.PRODUCTS))
    p.add_argument(
        "--provider",
        help=f"{' or '.join(providers.PROVIDERS)} (default: the product's first, e.g. vonage for verify)",
    )
    p.add_argument(
        "--since", required=True, help="from this occurred_at: a date (2026-11-23) or ISO 8601 time"
    )
    p.add_argument(
        "--until", help="up to this occurred_at, inclusive; a date means that whole day (default: none)"
    )
    p.add_argument("--status", help="only events with this status (a filter: the range is still read)")
    p.add_argument(
        "--limit", type=int, default=100, help="print at most N events, earliest first (default 100)"
    )
    p.add_argument("--json", action="store_true", help="one JSON row per line")
    p.set_defaults(func=cmd_history)

    p = with_target(sub.add_parser("consume", help="receive (and delete) events from the events queue"))
    p.add_argument("--max", type=int, default=100, help="stop after N events (default 100)")
    p.add_argument("--wait", type=int, default=2, help="seconds to wait for events (default 2)")
    p.add_argument("--json", action="store_true", help="one JSON event per line")
    p.add_argument("--keep", action="store_true", help="do not delete what was received")
    p.set_defaults(func=cmd_consume)

    p = with_target(sub.add_parser("redrive", help="move a DLQ's messages back to its queue"))
    p.add_argument(
        "--queue",
        choices=["ingest", "events"],
        default="ingest",
        help="which DLQ to empty back into its queue: ingest (webhooks not yet recorded; the recorder "
        "records them) or events (events your consumer's queue dead-lettered) (default: %(default)s)",
    )
    p.set_defaults(func=cmd_redrive)

    p = with_target(sub.add_parser("events", help="write the sample API Gateway/SQS events, freshly signed"))
    p.add_argument("--out", required=True, help="folder to write to")
    p.add_argument("--at", help="signing time (unix seconds; default now)")
    p.set_defaults(func=cmd_events)
    from switchboard import connect, invoke  # here: they import this module

    connect.add_parser(sub, with_target)
    invoke.add_parser(sub, with_target)
    from switchboard import rejections, replay  # here: they import this module

    rejections.add_parser(sub, with_target)
    replay.add_parser(sub, with_target)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from botocore.exceptions import BotoCoreError

    from shared.errors import SwitchboardError

    args = build_parser().parse_args(argv)
    try:
        code: int = args.func(args)
    except CliError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.code
    except SwitchboardError as exc:  # e.g. a malformed secrets document: the message names the key
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except BotoCoreError as exc:  # no or broken credentials (a failing credential_process), no endpoint
        print(f"error: AWS: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `switchboard consume --json | head`: the reader left; stop quietly
        _silence_stdout()
        return EXIT_OK
    return code


def _silence_stdout() -> None:
    """Python's documented recipe: point stdout at devnull so the exit flush raises no second error."""
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


if __name__ == "__main__":
    # `python -m switchboard.cli` runs a copy of this module as __main__: run the package's own main,
    # whose `except CliError` catches what the command modules raise (switchboard.cli.CliError).
    from switchboard.cli import main as package_main

    sys.exit(package_main())
