"""switchboard replay — publish recorded events to the events FIFO queue again, for a consumer that
lost them (a bug fixed, a database restored, a new consumer filled in).

What is published is what the recorder published: the stored event with the subject's ``current``
status (today's, not the one at the time), in the subject's time order (``occurred_at``, then
``received_at``: shared/history.time_order), with its original ``event_id``, in the recorder's
message group (``<provider>:<product>:<subject_id>``, shared/recorder.group_id), so it validates
against shared/queue-message.schema.json and a consumer idempotent on ``event_id`` ignores what it
already has. Two things differ, so consumers can tell and SQS does not drop it:

- the deduplication id is ``replay-<run id>-<event id>``, not the event id: the FIFO queue drops a
  message whose deduplication id it saw in the last 5 minutes, so a replay of an event published
  a minute ago would vanish silently. One run never publishes an event twice (a retried entry
  keeps its id); a second run publishes again.
- the message attribute ``switchboard-replay`` holds the run id (the body schema is unchanged).

Which events: ``--subject ID`` (every event of that subject; when several products share the id,
``--product`` picks one: a replay is a write, so it is never guessed), or ``--product P --since T
[--until T]`` (the table's ``by_product`` index, as `switchboard history` reads it). ``--dry-run``
counts per subject and publishes nothing.
"""

from __future__ import annotations

import argparse
import hashlib
import secrets
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from shared import history, safejson, storage
from shared.recorder import REQUIRED_FIELDS, fifo_entry
from shared.sqs_batch import MAX_BYTES, batches, sqs_size, valid_fifo_id
from switchboard.cli import EXIT_ERROR, EXIT_OK, EXIT_USAGE, UNBOUNDED, CliError, Target, target_from
from switchboard.terminal import printable
from switchboard.timeflags import time_bound

REPLAY_ATTRIBUTE = "switchboard-replay"
ATTEMPTS = 4  # a failed entry is sent up to this many times in all
BACKOFF_SECONDS = 0.2  # before the 2nd attempt; doubled before each next one
BATCH_GET_KEYS = 100  # BatchGetItem: at most 100 keys per call


@dataclass
class Subject:
    provider: str
    product: str
    subject_id: str
    current: dict[str, Any] | None = None
    events: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Failure:
    event_id: str
    reason: str


@dataclass
class Outgoing:
    """One event's SendMessageBatch entry."""

    event_id: str
    entry: dict[str, Any]


# --- reading -----------------------------------------------------------------------------------


def by_subject(db: Any, table: str, lookup: history.Lookup) -> tuple[list[Subject], list[Failure]]:
    """The subjects with this id (one per product that has events), each with every stored event."""
    subjects: list[Subject] = []
    unreadable: list[Failure] = []
    for pk in history.subject_keys(lookup):
        status_item, items, complete = history.read_partition(db, table, pk)
        if not complete:
            raise CliError(
                f"subject {printable(lookup.subject_id, 80)} has over {history.MAX_READ_ITEMS} stored events: "
                "replay it by time range (--product, --since, --until)"
            )
        if items:
            subject = Subject(*storage.parse_subject_pk(pk), current=history.readable_status(status_item))
            unreadable += _add_events(subject, items)
            subjects.append(subject)
    return subjects, unreadable


def by_product(
    db: Any, table: str, product: str, provider: str, since: str, until: str
) -> tuple[list[Subject], list[Failure]]:
    """Every event of one product that occurred in [since, until], grouped by subject."""
    rows = list(history.product_events(db, table, product, since, until, provider=provider))
    pks = list(dict.fromkeys(storage.subject_pk(r["provider"], r["product"], r["subject_id"]) for r in rows))
    keys = [storage.status_key(pk) for pk in pks] + [storage.history_key(row) for row in rows]
    found: dict[str, list[Mapping[str, Any]]] = {pk: [] for pk in pks}
    status: dict[str, Mapping[str, Any]] = {}
    for item in batch_get(db, table, keys):
        pk = history.attr(item, "pk")
        if history.attr(item, "sk") == storage.STATUS_SK:
            status[pk] = item
        else:
            found.setdefault(pk, []).append(item)
    subjects: list[Subject] = []
    unreadable: list[Failure] = []
    for pk in pks:
        subject = Subject(*storage.parse_subject_pk(pk), current=history.readable_status(status.get(pk)))
        unreadable += _add_events(subject, found[pk])
        subjects.append(subject)
    return subjects, unreadable


def _add_events(subject: Subject, items: Sequence[Mapping[str, Any]]) -> list[Failure]:
    """The items' events onto the subject, in time order; the unreadable ones as failures."""
    unreadable = []
    for item in items:
        try:
            subject.events.append(publishable(history.decode_stored_event(item)))
        except (storage.UnreadableItem, safejson.JsonRejected) as exc:
            event_id = history.attr(item, "sk").removeprefix(storage.HISTORY_PREFIX)
            unreadable.append(Failure(event_id, f"stored event unreadable ({exc.reason}): not replayed"))
    subject.events.sort(key=history.time_order)
    return unreadable


def publishable(event: dict[str, Any]) -> dict[str, Any]:
    """The decoded event, when it is one the recorder could have published: its required fields
    are strings and its text is UTF-8 (a JSON ``\\ud800`` escape decodes to a lone surrogate, which
    no SQS body can carry). UnreadableItem otherwise: damaged or written by something else."""
    missing = [f for f in REQUIRED_FIELDS if not isinstance(event.get(f), str) or not event.get(f)]
    if missing:
        raise storage.UnreadableItem(f"no {', '.join(missing)}")
    if safejson.has_lone_surrogate(safejson.dumps_for_sqs(event)):
        raise storage.UnreadableItem("a lone surrogate: not UTF-8 text")
    return event


def batch_get(
    db: Any, table: str, keys: list[dict[str, Any]], *, sleep: Callable[[float], None] = time.sleep
) -> list[Mapping[str, Any]]:
    """BatchGetItem in calls of 100 keys, UnprocessedKeys asked again (with a backoff) until none."""
    items: list[Mapping[str, Any]] = []
    for start in range(0, len(keys), BATCH_GET_KEYS):
        request: dict[str, Any] = {table: {"Keys": keys[start : start + BATCH_GET_KEYS]}}
        for attempt in range(20):
            got = db.batch_get_item(RequestItems=request)
            items += got.get("Responses", {}).get(table, [])
            request = got.get("UnprocessedKeys") or {}
            if not request:
                break
            sleep(min(0.05 * 2**attempt, 2.0))
        else:
            raise CliError(f"the history table {table} kept refusing reads (throttled?): try again")
    return items


# --- publishing ------------------------------------------------------------------------------


def outgoing(subjects: Sequence[Subject], run_id: str) -> list[Outgoing]:
    """One SendMessageBatch entry per event, subject after subject, each in its time order: the
    recorder's own entry (shared.recorder.fifo_entry), with the replay's deduplication id and
    attribute."""
    out: list[Outgoing] = []
    for subject in subjects:
        for event in subject.events:
            entry = fifo_entry(len(out), {**event, "current": subject.current})
            entry["MessageDeduplicationId"] = dedup_id(run_id, str(event["event_id"]))
            entry["MessageAttributes"] = {REPLAY_ATTRIBUTE: {"DataType": "String", "StringValue": run_id}}
            out.append(Outgoing(str(event["event_id"]), entry))
    return out


def dedup_id(run_id: str, event_id: str) -> str:
    """``replay-<run>-<event id>``; the event id hashed when that would not be a valid deduplication
    id (shared.sqs_batch.valid_fifo_id)."""
    text = f"replay-{run_id}-{event_id}"
    if valid_fifo_id(text):
        return text
    return f"replay-{run_id}-sha256:{hashlib.sha256(event_id.encode('utf-8')).hexdigest()}"


def publish(
    sqs: Any,
    queue_url: str,
    pending: list[Outgoing],
    *,
    sleep: Callable[[float], None] = time.sleep,
    progress: Callable[[int, int], None] = lambda done, total: None,
) -> list[Failure]:
    """Send the entries in order, 10 (and 256 KiB) per call. An entry SQS refuses for a reason of
    its own (SenderFault: too large, bad characters) fails at once; any other failure (a throttled
    or failed call) is sent again, up to ATTEMPTS times in all, before the next batch, so the
    subject's events in later batches do not overtake it. (SQS answers per entry: a retried entry
    can land after a later event of its subject that the same call accepted. Every replayed message
    of a subject carries the same ``current``.) Returns what was not published."""
    from botocore.exceptions import BotoCoreError, ClientError

    failures: list[Failure] = []
    done = 0
    for batch in _batches(pending, failures):
        for attempt in range(ATTEMPTS):
            try:
                got = sqs.send_message_batch(QueueUrl=queue_url, Entries=[o.entry for o in batch])
                failed = {f["Id"]: f for f in got.get("Failed") or []}
            except (ClientError, BotoCoreError) as exc:
                failed = {
                    o.entry["Id"]: {"Code": type(exc).__name__, "Message": str(exc)[:200]} for o in batch
                }
            done += len(batch) - len(failed)
            for o in batch:
                problem = failed.get(o.entry["Id"])
                if problem and (problem.get("SenderFault") or attempt == ATTEMPTS - 1):
                    failures.append(Failure(o.event_id, f"{problem.get('Code')}: {problem.get('Message')}"))
            batch = [
                o for o in batch if o.entry["Id"] in failed and not failed[o.entry["Id"]].get("SenderFault")
            ]
            progress(done, len(pending))
            if not batch:
                break
            sleep(BACKOFF_SECONDS * 2**attempt)
    return failures


def _batches(pending: list[Outgoing], failures: list[Failure]) -> list[list[Outgoing]]:
    """SendMessageBatch calls (shared.sqs_batch: bodies and attributes counted, as SQS counts them;
    counting bodies alone let ten entries go over with the replay attribute, and SQS refused the
    whole call on every attempt); an entry over 256 KiB alone fails, before any call."""
    fitting = []
    for o in pending:
        size = sqs_size(o.entry)
        if size > MAX_BYTES:
            failures.append(Failure(o.event_id, f"{size} bytes: over the queue's 256 KiB message limit"))
        else:
            fitting.append(o)
    return batches(fitting, lambda o: sqs_size(o.entry))


# --- the command -------------------------------------------------------------------------------


def cmd_replay(args: argparse.Namespace) -> int:
    if args.subject is not None and (args.since or args.until):
        raise CliError(
            "--since/--until select by time range: use them with --product, not --subject", EXIT_USAGE
        )
    if args.subject is None and not (args.product and args.since):
        raise CliError("say what to replay: --subject ID, or --product P --since T [--until T]", EXIT_USAGE)
    target = target_from(args)
    subjects, unreadable = _read(args, target)
    total = sum(len(s.events) for s in subjects)
    if args.dry_run:
        _print_counts(subjects)
        print(
            f"{total} event(s) of {len(subjects)} subject(s) would be published again (--dry-run: nothing sent)"
        )
        return _report(unreadable)
    run_id = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()) + "-" + secrets.token_hex(3)
    pending = outgoing(subjects, run_id)
    failures = publish(target.clients("sqs"), target.queues["events"], pending, progress=_progress())
    print(
        f"replay {run_id}: published {len(pending) - len(failures)} of {total} event(s) of {len(subjects)} "
        f"subject(s) to the events queue (message attribute {REPLAY_ATTRIBUTE}={run_id}, "
        f"deduplication ids replay-{run_id}-<event id>)"
    )
    return _report(unreadable + failures)


def _read(args: argparse.Namespace, target: Target) -> tuple[list[Subject], list[Failure]]:
    from botocore.exceptions import BotoCoreError, ClientError

    if not target.table:
        raise CliError(f"{target.name} names no history table (stack output TableName)")
    db = target.clients("dynamodb")
    try:
        if args.subject is not None:
            lookup = history.Lookup(args.subject, args.product, args.provider)
            subjects, unreadable = by_subject(db, target.table, lookup)
            _check_one(subjects, args.subject)
            return subjects, unreadable
        provider = history.provider_of(args.product, args.provider)
        now = datetime.now(UTC)
        since = time_bound(args.since, now=now)
        until = time_bound(args.until, now=now, end=True, flag="--until") if args.until else UNBOUNDED
        if since > until:
            raise CliError("--since is after --until", EXIT_USAGE)
        return by_product(db, target.table, args.product, provider, since, until)
    except (ClientError, BotoCoreError) as exc:
        raise CliError(f"cannot read the history table {target.table}: {exc}") from None


def _check_one(subjects: list[Subject], subject_id: str) -> None:
    if not subjects:
        raise CliError(f"no recorded events for subject {printable(subject_id, 80)}")
    if len(subjects) > 1:
        products = ", ".join(sorted(f"{s.provider}/{s.product}" for s in subjects))
        raise CliError(
            f"{len(subjects)} subjects share this id ({products}): --product (and --provider) picks one",
            EXIT_USAGE,
        )


def _print_counts(subjects: Sequence[Subject]) -> None:
    for s in subjects:
        first, last = (s.events[0]["occurred_at"], s.events[-1]["occurred_at"]) if s.events else ("", "")
        print(
            f"{s.provider}/{s.product}  {printable(s.subject_id, 120)}  {len(s.events)} event(s)  "
            f"{printable(str(first))} … {printable(str(last))}"
        )


def _progress() -> Callable[[int, int], None]:
    """``published N/M`` on stderr: rewritten in place on a terminal, a line a second otherwise."""
    last = [0.0]
    tty = sys.stderr.isatty()

    def show(done: int, total: int) -> None:
        if tty:
            print(
                f"\rpublished {done}/{total}", end="\n" if done >= total else "", file=sys.stderr, flush=True
            )
        elif done >= total or time.monotonic() - last[0] >= 1:
            last[0] = time.monotonic()
            print(f"published {done}/{total}", file=sys.stderr, flush=True)

    return show


def _report(failures: Sequence[Failure]) -> int:
    for f in failures:
        print(f"not published: {printable(f.event_id, 140)}: {printable(f.reason, 300)}", file=sys.stderr)
    return EXIT_ERROR if failures else EXIT_OK


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser], with_target: Any) -> None:
    """Register `switchboard replay`."""
    from shared import providers

    p = with_target(
        sub.add_parser(
            "replay",
            help="publish recorded events to the events queue again (one subject, or a product's time range)",
            description=__doc__,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
    )
    p.add_argument(
        "--subject", help="every event of this subject (a request_id, message_uuid, call uuid, SID)"
    )
    p.add_argument("--product", help=f"the product: {', '.join(providers.PRODUCTS)}")
    p.add_argument("--provider", help=f"{' or '.join(providers.PROVIDERS)}, when the product name is both's")
    p.add_argument("--since", help="with --product: from this occurred_at (15m, 1h, 2d, a date, an ISO time)")
    p.add_argument("--until", help="with --product: up to this occurred_at, inclusive (default: none)")
    p.add_argument("--dry-run", action="store_true", help="count per subject; publish nothing")
    p.set_defaults(func=cmd_replay)
