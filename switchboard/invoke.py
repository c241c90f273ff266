"""switchboard invoke FUNCTION EVENT [--env-vars env.json] [--stack NAME]: `sam local invoke`, no Docker.

Runs the built handler of one function of template.yaml (`make build` output, .aws-sam/build) once
on an event file, in a clean interpreter that sees only the function's build folder, its layer and
the SDK Lambda's Python runtime provides (switchboard/builtrun.py, as `make smoke` runs it).

- FUNCTION: a logical id of template.yaml (VonageFunction, TwilioFunction, RecorderFunction,
  StatusFunction); EVENT: a JSON file (events/, or `switchboard events --out DIR` for events signed
  now: the ones in events/ are signed at a fixed past time and fail as stale), or - for stdin.
- The function's environment is the template's, resolved against the target's resources: the
  local stack's emulator (default; it must be running: `make run`), or a deployed stack's (--stack
  NAME: its resources and outputs, your AWS profile's credentials and region). As `sam local
  invoke` does, each variable the template declares takes its value from, in rising order: the
  template, your shell, env.json's "Parameters" object, env.json's object for the function
  (`{"VonageFunction": {"VAR": "value"}, "Parameters": {"VAR": "value"}}`); other names are ignored.
- Output: the response (or the runtime's error document: errorMessage, errorType, stackTrace) as one
  JSON line on stdout, what `aws lambda invoke` writes to its outfile; the handler's logs (its stdout
  and stderr, e.g. Powertools JSON lines) between START and END/REPORT lines on stderr.

Exit codes: 0 a response below 400, or a batch with no batchItemFailures · 1 a 4xx/5xx statusCode,
batch item failures, a raised exception or a timeout · 2 usage (unknown function, unreadable event
or env.json, no or stale build: run `make build`) · 3 the local stack is not running.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shared import safejson
from switchboard import terminal
from switchboard.builtrun import (
    BUILD,
    Built,
    Invocation,
    Outcome,
    built_function,
    run_built,
    runtime_environment,
)
from switchboard.cli import EXIT_ERROR, EXIT_OK, EXIT_USAGE, CliError, aws_session, describe_stack
from switchboard.template import (
    ROOT,
    TEMPLATE,
    Stack,
    function_environment,
    function_layers,
    function_setting,
    functions,
    load_template,
    resources,
)

MAX_EVENT_BYTES = 6 * 1024 * 1024  # Lambda's synchronous invocation payload limit
MAX_ENV_BYTES = 4 * 1024  # Lambda's limit for all of a function's environment variables together
# Variables the child gets from your shell with --stack: where AWS is and how to reach it.
PASS_THROUGH = re.compile(r"AWS_ENDPOINT_URL(_\w+)?|AWS_CA_BUNDLE|(HTTPS?|NO)_PROXY|(https?|no)_proxy")
# env.json values left as `switchboard events` writes them without --stack.
PLACEHOLDER = re.compile(r"<[^<>]+ output of your deployed stack>")


Targeted = Callable[[argparse.ArgumentParser], argparse.ArgumentParser]


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser], with_target: Targeted) -> None:
    """Register `switchboard invoke`."""
    p = with_target(
        sub.add_parser(
            "invoke",
            help="run one function's built handler on an event file, as `sam local invoke` does (no Docker)",
            description=__doc__,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
    )
    for action in p._actions:  # with_target's wording is about the CLI's own requests
        if action.dest == "stack":
            action.help = "a deployed stack: its queues, table and secret (default: the local stack's)"
    p.add_argument("function", metavar="FUNCTION", help="a function's logical id in template.yaml")
    p.add_argument("event", metavar="EVENT", help="the event: a JSON file, or - for stdin")
    p.add_argument(
        "--env-vars",
        "-n",
        metavar="ENV_JSON",
        help="variables to override, in `sam local invoke`'s env.json format",
    )
    p.set_defaults(func=cmd_invoke)


def cmd_invoke(args: argparse.Namespace) -> int:
    template = load_template()
    logical = function_id(template, args.function)
    event = read_event(args.event)
    overrides = read_env_vars(Path(args.env_vars)) if args.env_vars else {}
    built = built_function(template, logical)
    problem = stale_build(template, logical, built)
    if problem:
        raise CliError(f"{problem}: run `make build` first", EXIT_USAGE)
    target = (
        stack_target(template, args.stack, region=args.region, profile=args.profile)
        if args.stack
        else local_target(template)
    )
    declared = function_environment(template, logical, target.stack)
    variables = merge_env(declared, overrides, logical, os.environ)
    check_filled(variables)
    check_settable(variables)
    invocation = _invocation(logical, target)
    env = {**runtime_environment(built, invocation, target.stack.region), **target.aws_env, **variables}
    outcome = _run(built, event, env, invocation, target.label)
    _hint(args.event, outcome)
    return exit_code(outcome)


def _run(built: Built, event: Any, env: dict[str, str], invocation: Invocation, label: str) -> Outcome:
    rid = invocation.request_id
    print(
        f"Invoking {invocation.function_name} ({built.handler}, {built.runtime}) with {label}",
        file=sys.stderr,
    )
    print(f"START RequestId: {rid} Version: $LATEST", file=sys.stderr, flush=True)
    outcome = run_built(built, event, env, invocation, _log)
    print(f"END RequestId: {rid}", file=sys.stderr)
    print(report_line(rid, built, outcome), file=sys.stderr, flush=True)
    payload = outcome.error if outcome.error is not None else outcome.response
    print(json.dumps(payload))  # ASCII: a payload's text cannot drive the terminal
    return outcome


def _hint(event_path: str, outcome: Outcome) -> None:
    """A 401 for a file of events/: those are signed at a fixed past time, stale by now."""
    response = outcome.response
    if not isinstance(response, dict) or response.get("statusCode") != 401 or event_path == "-":
        return
    if Path(event_path).resolve().is_relative_to(ROOT / "events"):
        print(
            "note: events/ is signed at a fixed past time (the tests pin their clock to it), so most of its "
            "signatures are stale now; for events signed now: switchboard events --out DIR",
            file=sys.stderr,
        )


def _log(line: str) -> None:
    sys.stderr.write(printable(line))
    sys.stderr.flush()


def printable(line: str) -> str:
    """The line with control, format (bidi) and separator characters escaped (terminal.printable),
    tabs and a final newline kept."""
    end = "\n" if line.endswith("\n") else ""
    return terminal.printable(line.removesuffix("\n"), keep=" \t") + end


def report_line(request_id: str, built: Built, outcome: Outcome) -> str:
    """Lambda's REPORT line (no billed duration: nothing is billed here)."""
    return (
        f"REPORT RequestId: {request_id}\tDuration: {outcome.duration_ms:.2f} ms\t"
        f"Memory Size: {built.memory_mb} MB\tMax Memory Used: {outcome.max_memory_mb} MB\t"
        f"Init Duration: {outcome.init_ms:.2f} ms"
    )


def exit_code(outcome: Outcome) -> int:
    """0 for a response below 400 or a batch with no failures; 1 for an error or a failure."""
    if outcome.error is not None:
        return EXIT_ERROR
    response = outcome.response
    if isinstance(response, dict):
        status = response.get("statusCode")
        if isinstance(status, int) and status >= 400:
            return EXIT_ERROR
        if response.get("batchItemFailures"):
            return EXIT_ERROR
    return EXIT_OK


# --- the inputs ------------------------------------------------------------------------------------


def function_id(template: dict[str, Any], name: str) -> str:
    known = list(functions(template))
    if name not in known:
        raise CliError(
            f"unknown function {name!r}: template.yaml's functions are {', '.join(known)}", EXIT_USAGE
        )
    return name


def read_event(path: str) -> Any:
    """Any JSON value, as Lambda accepts; - reads stdin."""
    try:
        raw = sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
    except OSError as exc:
        raise CliError(f"cannot read the event file {path}: {exc.strerror}", EXIT_USAGE) from None
    if len(raw) > MAX_EVENT_BYTES:
        raise CliError(f"the event is {len(raw)} bytes; Lambda takes at most {MAX_EVENT_BYTES}", EXIT_USAGE)
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise CliError(f"the event file {path} is not JSON: {exc}", EXIT_USAGE) from None
    except RecursionError:  # the parser recurses once per level: [[[[… within 6 MB exhausts it
        raise CliError(f"the event file {path} is nested too deeply to parse", EXIT_USAGE) from None


def read_env_vars(path: Path) -> dict[str, dict[str, Any]]:
    """env.json: an object whose values are all objects (SAM refuses anything else)."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CliError(f"cannot read --env-vars {path}: {exc.strerror}", EXIT_USAGE) from None
    except ValueError as exc:
        raise CliError(f"--env-vars {path} is not JSON: {exc}", EXIT_USAGE) from None
    except RecursionError:
        raise CliError(f"--env-vars {path} is nested too deeply to parse", EXIT_USAGE) from None
    if not isinstance(doc, dict):
        raise CliError(f"--env-vars {path}: want an object of objects, got {type(doc).__name__}", EXIT_USAGE)
    for key, value in doc.items():
        if not isinstance(value, dict):
            raise CliError(
                f"--env-vars {path}: {key!r} must be an object of variables (e.g. "
                '{"VonageFunction": {"VAR": "value"}, "Parameters": {"VAR": "value"}})',
                EXIT_USAGE,
            )
    return doc


def merge_env(
    declared: Mapping[str, str],
    overrides: Mapping[str, Mapping[str, Any]],
    logical: str,
    shell: Mapping[str, str],
) -> dict[str, str]:
    """`sam local invoke`'s rules: only the variables the template declares; each from, in rising
    order, the template, the shell, env.json's "Parameters", env.json's object for the function."""
    chosen = {**overrides.get("Parameters", {}), **overrides.get(logical, {})}
    return {name: _stringify(chosen.get(name, shell.get(name, value))) for name, value in declared.items()}


def _stringify(value: Any) -> str:
    """As SAM does: objects, arrays and null become "", booleans "true"/"false"."""
    if value is None or isinstance(value, dict | list):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def check_filled(variables: Mapping[str, str]) -> None:
    for name, value in variables.items():
        if PLACEHOLDER.fullmatch(value):
            raise CliError(
                f"{name} is {value!r} (an env.json written without --stack): leave the variable out, or "
                "write env.json with `switchboard events --out DIR --stack NAME`; switchboard invoke "
                "takes the queues, table and secret from the local stack or --stack",
                EXIT_USAGE,
            )


def check_settable(variables: Mapping[str, str]) -> None:
    """Values a process environment can hold (no NUL, UTF-8) within Lambda's 4 KB for all of a
    function's variables: env.json can say anything, and the child is started with these."""
    for name, value in variables.items():
        if "\x00" in value:
            raise CliError(f"{name}: an environment variable cannot hold a NUL character", EXIT_USAGE)
        if safejson.has_lone_surrogate(value):
            raise CliError(f"{name}: a lone surrogate (\\ud800-\\udfff) is not UTF-8 text", EXIT_USAGE)
    size = sum(len(name.encode()) + len(value.encode()) for name, value in variables.items())
    if size > MAX_ENV_BYTES:
        names = ", ".join(sorted(variables, key=lambda n: -len(variables[n]))[:3])
        raise CliError(
            f"the function's variables take {size} bytes; Lambda allows 4 KB in all (largest: {names})",
            EXIT_USAGE,
        )


def stale_build(template: dict[str, Any], logical: str, built: Built, build: Path = BUILD) -> str:
    """Why the build cannot be used ("" when it can): missing, or older than a source it is built from."""
    marker = build / "template.yaml"  # sam build writes it last, on every build
    if not built.function_dir.is_dir() or not marker.exists():
        return f"{logical} is not built ({built.function_dir} is missing)"
    built_at = marker.stat().st_mtime
    for source in _sources(template, logical):
        if source.stat().st_mtime > built_at:
            return f"{source.relative_to(ROOT)} changed after the last build"
    return ""


def _sources(template: dict[str, Any], logical: str) -> list[Path]:
    layers = resources(template, "AWS::Serverless::LayerVersion")
    code = ROOT / function_setting(template, logical, "CodeUri")
    roots = [
        code,
        *(ROOT / layers[name]["Properties"]["ContentUri"] for name in function_layers(template, logical)),
    ]
    files = [TEMPLATE]
    for root in roots:
        files += [
            f
            for f in root.rglob("*")
            if f.is_file()
            and not any(p.startswith(".") or p == "__pycache__" for p in f.relative_to(root).parts)
        ]
    return files


# --- the targets -----------------------------------------------------------------------------------


@dataclass
class Target:
    """The resources the function's environment names, and how its AWS clients reach them."""

    label: str
    stack: Stack
    aws_env: dict[str, str]
    function_names: dict[str, str] = field(default_factory=dict)  # logical id -> deployed name


def local_target(template: dict[str, Any]) -> Target:
    from switchboard import cli

    state = cli.running_state()  # exits 3 when the local stack is not running or does not answer
    refs = {
        "IngestQueue": state.ingest_queue_url,
        "IngestDLQ": state.ingest_dlq_url,
        "EventsQueue": state.events_queue_url,
        "EventsDLQ": state.events_dlq_url,
        "HistoryTable": state.table,
        "ProviderSecret": state.secret_id,
    }
    stack = Stack.of(template, state.region, refs=refs)
    # The emulator accepts any credentials; these are not secrets.
    aws = {
        "AWS_ENDPOINT_URL": state.aws_endpoint,
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
    }
    return Target(f"the local stack's resources (emulator {state.aws_endpoint})", stack, aws)


def stack_target(template: dict[str, Any], name: str, *, region: str | None, profile: str | None) -> Target:
    session = _session(region, profile)
    described, physical = _describe(session.client("cloudformation"), name)
    given = {
        p["ParameterKey"]: p.get("ResolvedValue", p.get("ParameterValue", ""))
        for p in described.get("Parameters", [])
    }
    stack = Stack.of(
        template,
        session.region_name,
        given,
        account=described["StackId"].split(":")[4],
        refs={k: v for k, v in physical.items() if k in template["Resources"]},
    )
    outputs = {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}
    stack.refs.update(output_refs(template, outputs, stack.condition))
    names = {k: v for k, v in physical.items() if k in functions(template)}
    return Target(f"stack {name}'s resources ({session.region_name})", stack, _credentials(session), names)


def _session(region: str | None, profile: str | None) -> Any:
    session = aws_session(region, profile)
    if not session.region_name:
        raise CliError("no AWS region for --stack: --region, AWS_REGION or the profile's region", EXIT_USAGE)
    return session


def _describe(cfn: Any, name: str) -> tuple[dict[str, Any], dict[str, str]]:
    from botocore.exceptions import BotoCoreError, ClientError

    described = describe_stack(cfn, name)
    try:
        pages = cfn.get_paginator("list_stack_resources").paginate(StackName=name)
        physical = {
            r["LogicalResourceId"]: r["PhysicalResourceId"]
            for page in pages
            for r in page["StackResourceSummaries"]
            if r.get("PhysicalResourceId")
        }
    except (ClientError, BotoCoreError) as exc:
        raise CliError(f"cannot read stack {name!r}: {exc}") from None
    return described, physical


def output_refs(
    template: dict[str, Any], outputs: Mapping[str, str], condition: Callable[[str], bool]
) -> dict[str, str]:
    """The resources the stack's outputs name: an output whose value is `!Ref Resource` (or an
    `!If` choosing one) gives that resource's Ref (a queue URL, a table name, a secret ARN)."""
    refs: dict[str, str] = {}
    for key, spec in (template.get("Outputs") or {}).items():
        value = spec.get("Value")
        while isinstance(value, dict) and "Fn::If" in value:
            cond, yes, no = value["Fn::If"]
            value = yes if condition(cond) else no
        ref = value.get("Ref") if isinstance(value, dict) else None
        if key in outputs and isinstance(ref, str) and ref in template["Resources"]:
            refs[ref] = outputs[key]
    return refs


def _credentials(session: Any) -> dict[str, str]:
    """The profile's credentials, as Lambda hands the execution role's to the function; plus where
    AWS is, when your shell says (AWS_ENDPOINT_URL, a CA bundle, a proxy)."""
    credentials = session.get_credentials()
    if credentials is None:
        raise CliError("no AWS credentials for --stack (AWS_PROFILE, --profile, or the AWS_* variables)")
    frozen = credentials.get_frozen_credentials()
    env = {"AWS_ACCESS_KEY_ID": frozen.access_key, "AWS_SECRET_ACCESS_KEY": frozen.secret_key}
    if frozen.token:
        env["AWS_SESSION_TOKEN"] = frozen.token
    return {**env, **{k: v for k, v in os.environ.items() if PASS_THROUGH.fullmatch(k)}}


def _invocation(logical: str, target: Target) -> Invocation:
    name = target.function_names.get(logical, logical)
    stack = target.stack
    stream = f"{time.strftime('%Y/%m/%d', time.gmtime())}/[$LATEST]{uuid.uuid4().hex}"
    return Invocation(
        function_name=name,
        request_id=str(uuid.uuid4()),
        arn=f"arn:aws:lambda:{stack.region}:{stack.account}:function:{name}",
        log_stream=stream,
    )
