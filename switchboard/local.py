"""The local stack: what `sam deploy` creates, on 127.0.0.1, with no Docker and no AWS account.

- an AWS emulator (moto's server, in this process) with the table, queues and secret created from
  template.yaml's own resource properties;
- an HTTP server serving template.yaml's HTTP API routes, turning each request into the real
  API Gateway payload-2.0 event (raw path, raw query string, headers, base64 body where API Gateway
  would use one) and invoking the real handler with it (IAM authorisation is skipped locally);
- the recorder, fed from the ingest queue as Lambda's event source mapping would feed it (batches,
  ReportBatchItemFailures, the queue's redrive policy sending a message to the DLQ after 5 receives).

State (ports, queue URLs) is written to a small JSON file so the CLI can find the running stack.
"""

from __future__ import annotations

import base64
import contextlib
import errno
import importlib
import json
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from switchboard.apigw import http_event
from switchboard.esm import LambdaContext, poll_once
from switchboard.inspector.server import Inspector, is_inspector_path
from switchboard.requestlog import RequestLog, RequestRecord, now_iso, rejection_details, verdict_of
from switchboard.template import (
    ROOT,
    function_environment,
    functions,
    handler_module,
    http_routes,
    load_template,
    provision,
    queue_sources,
)

DEFAULT_PORT = 3000
REGION = "us-east-1"
DEV_SECRETS = Path(__file__).resolve().parent / "dev_secrets.json"
STATE_FILE = ROOT / ".switchboard" / "local-stack.json"
# How soon a failed record comes back locally (AWS: the queue's VisibilityTimeout, 180 s).
RETRY_DELAY_S = int(os.environ.get("SWITCHBOARD_LOCAL_RETRY_DELAY") or 2)
DLQ_WATCH_S = 1.0


class PortInUse(Exception):
    pass


@dataclass
class LocalState:
    base_url: str
    aws_endpoint: str
    region: str
    table: str
    ingest_queue_url: str
    ingest_dlq_url: str
    events_queue_url: str
    events_dlq_url: str
    secret_id: str
    secrets_file: str
    pid: int
    request_log: str = ""  # JSON lines, one per request served (switchboard.requestlog)

    @property
    def queues(self) -> dict[str, str]:
        """The queue URLs by the CLI's names (cli.Target.queues)."""
        return {
            "ingest": self.ingest_queue_url,
            "ingest_dlq": self.ingest_dlq_url,
            "events": self.events_queue_url,
            "events_dlq": self.events_dlq_url,
        }


def state_file() -> Path:
    return Path(os.environ.get("SWITCHBOARD_STATE_FILE") or STATE_FILE)


def request_log_file() -> Path:
    """Beside the state file: .switchboard/local-stack.requests.jsonl."""
    path = state_file()
    return path.with_name(f"{path.stem}.requests.jsonl")


def read_state() -> LocalState | None:
    path = state_file()
    try:
        return LocalState(**json.loads(path.read_text()))
    except (OSError, ValueError, TypeError):
        return None


def _check_free(port: int, what: str) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        # As the real server does: a port left in TIME_WAIT by a stack just stopped is free.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise PortInUse(
                    f"port {port} ({what}) is already in use on 127.0.0.1 — is another `make run` running? "
                    f"Stop it, or use other ports: PORT={port + 10} SWITCHBOARD_AWS_PORT={port + 11} "
                    "SWITCHBOARD_STATE_FILE=/tmp/second-stack.json make run"
                ) from None
            raise


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class LocalStack:
    def __init__(self, *, port: int, aws_port: int, secrets_file: Path, quiet: bool = False) -> None:
        self.port = port
        self.aws_port = aws_port
        self.secrets_file = secrets_file
        self.quiet = quiet
        self.template = load_template()
        self.routes = http_routes(self.template)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._moto: Any = None
        self._http: ThreadingHTTPServer | None = None
        self.state: LocalState | None = None
        self._saved_env = dict(os.environ)
        self._invoke_lock = threading.Lock()
        self.requests = RequestLog(None)
        self._saved_level: int | None = None
        self.inspector: Inspector | None = None

    # --- lifecycle -----------------------------------------------------------------------------

    def start(self) -> LocalState:
        other = read_state()
        if other is not None and other.pid != os.getpid() and _alive(other.pid):
            raise PortInUse(
                f"another local stack (pid {other.pid}) is running at {other.base_url} and the CLI talks to it "
                f"through {state_file()}. Stop it first, or give this one its own state file: "
                "SWITCHBOARD_STATE_FILE=/tmp/second-stack.json PORT=3100 make run "
                "(and the same SWITCHBOARD_STATE_FILE for the CLI commands aimed at it)"
            )
        _check_free(self.port, "webhooks")
        _check_free(self.aws_port, "AWS emulator")
        secret_text = self.secrets_file.read_text(encoding="utf-8")
        from shared.config import ProviderSecrets

        ProviderSecrets.from_json(secret_text, source=str(self.secrets_file))  # fail fast, naming the key

        import logging

        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # the emulator's own access log

        self._moto = ThreadedMotoServer(ip_address="127.0.0.1", port=self.aws_port, verbose=False)
        self._moto.start()
        endpoint = f"http://127.0.0.1:{self.aws_port}"
        # moto keeps its state per process: a stack started again in the same process starts empty.
        import urllib.request

        reset = urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST")  # noqa: S310 - loopback
        urllib.request.urlopen(reset, timeout=10).close()  # noqa: S310 - our own emulator on loopback
        for key, value in {
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_DEFAULT_REGION": REGION,
            "AWS_REGION": REGION,
        }.items():
            os.environ[key] = value
        os.environ.pop("AWS_PROFILE", None)
        # shared.observability's Logger reads the level once, when first imported — and the
        # inspector imports it with this module: set the level on the logger itself too.
        os.environ["POWERTOOLS_LOG_LEVEL"] = os.environ.get("LOG_LEVEL", "WARNING")
        from shared.observability import logger

        self._saved_level = logger.log_level
        logger.setLevel(os.environ["POWERTOOLS_LOG_LEVEL"])
        _reset_caches()

        import boto3

        session = boto3.session.Session(region_name=REGION)
        stack = provision(lambda s: session.client(s, endpoint_url=endpoint), secret_string=secret_text)
        for logical in functions(self.template):
            for key, value in function_environment(self.template, logical, stack).items():
                os.environ[key] = value
        # Local differences from AWS: metrics (EMF lines) off, warnings and up only (a rejection's code
        # and diagnostic; LOG_LEVEL=INFO shows every event), and the secret re-read every 5 s.
        os.environ["POWERTOOLS_METRICS_DISABLED"] = "true"
        os.environ["POWERTOOLS_LOG_LEVEL"] = os.environ.get("LOG_LEVEL", "WARNING")
        os.environ["SWITCHBOARD_SECRETS_CACHE_SECONDS"] = "5"

        self.requests = RequestLog(request_log_file())
        self.requests.attach()
        self._http = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler_class())
        self._http.daemon_threads = True
        self._spawn(self._http.serve_forever, "http")
        for source in queue_sources(self.template):
            self._spawn(lambda s=source: self._poll(s, stack.refs[s.queue]), f"poller-{source.function}")

        self.state = LocalState(
            base_url=f"http://127.0.0.1:{self.port}",
            aws_endpoint=endpoint,
            region=REGION,
            table=stack.refs["HistoryTable"],
            ingest_queue_url=stack.refs["IngestQueue"],
            ingest_dlq_url=stack.refs["IngestDLQ"],
            events_queue_url=stack.refs["EventsQueue"],
            events_dlq_url=stack.refs["EventsDLQ"],
            secret_id=stack.refs["ProviderSecret"],
            secrets_file=str(self.secrets_file),
            pid=os.getpid(),
            request_log=str(request_log_file()),
        )
        self.inspector = inspector_for(self.state, self.port, self.requests)
        dlqs = (self.state.ingest_dlq_url, self.state.events_dlq_url)  # once the state exists
        self._spawn(lambda: self._watch_dlqs(*dlqs), "dlq-watch")
        path = state_file()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(asdict(self.state), indent=2))
        return self.state

    def stop(self) -> None:
        self._stop.set()
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()
        for t in self._threads:
            t.join(timeout=5)
        self.requests.detach()
        if self._moto is not None:
            self._moto.stop()
        # Leave the process environment as it was (the stack can run inside a test process).
        if self._saved_level is not None:
            from shared.observability import logger

            logger.setLevel(self._saved_level)
        os.environ.clear()
        os.environ.update(self._saved_env)
        _reset_caches()
        with contextlib.suppress(OSError):
            state = read_state()
            if state is not None and state.pid == os.getpid():
                state_file().unlink()

    def _spawn(self, target: Any, name: str) -> None:
        t = threading.Thread(target=target, name=name, daemon=True)
        t.start()
        self._threads.append(t)

    # --- the event source mapping ----------------------------------------------------------------

    def _poll(self, source: Any, queue_url: str) -> None:
        from shared import aws

        handler = self.invoker(source.function)
        while not self._stop.is_set():
            try:
                poll_once(
                    aws.client("sqs"),
                    queue_url,
                    handler,
                    function_name=source.function,
                    batch_size=source.batch_size,
                    wait_s=1,
                    report_batch_item_failures=source.report_batch_item_failures,
                    retry_delay_s=RETRY_DELAY_S,
                    region=REGION,
                )
            except Exception as exc:  # the emulator going away at shutdown, or a bug: keep polling
                if self._stop.is_set():
                    return
                self._log(f"poller {source.function}: {type(exc).__name__}: {exc}")
                time.sleep(1)

    def _watch_dlqs(self, ingest_dlq: str, events_dlq: str) -> None:
        """A line when a message lands in a DLQ (in AWS: the DLQ alarm). Polled: moto moves a message
        there itself, past the queue's maxReceiveCount, and the recorder sends a poison message there."""
        from shared import aws
        from switchboard.inspector.reads import queue_counts

        dlqs = {"ingest": ingest_dlq, "events": events_dlq}
        seen = dict.fromkeys(dlqs, 0)
        while not self._stop.wait(DLQ_WATCH_S):
            for name, url in dlqs.items():
                try:
                    depth = sum(queue_counts(aws.client("sqs"), url).values())
                except Exception:  # noqa: S112 - the emulator going away at shutdown: try again next tick
                    continue
                if depth > seen[name]:
                    self._log(
                        f"DEAD-LETTERED {depth - seen[name]} message(s) to the {name} DLQ (now {depth}); "
                        f"see why above, fix, then: .venv/bin/switchboard redrive --queue {name}"
                    )
                seen[name] = depth

    # --- HTTP ------------------------------------------------------------------------------------

    def invoker(self, logical: str) -> Any:
        """The function's real handler, run one invocation at a time, as in one Lambda execution
        environment: the handlers share one process here, and Powertools' logger keeps per-invocation
        keys (function name, request id) that concurrent threads would otherwise mix up."""
        handler = importlib.import_module(handler_module(self.template, logical)).handler

        def invoke(event: dict[str, Any], context: Any) -> Any:
            with self._invoke_lock:
                return handler(event, context)

        return invoke

    def match(self, method: str, path: str) -> tuple[str, str, dict[str, str]] | None:
        for route in self.routes:
            if route.method != method:
                continue
            params = _match_path(route.path, path)
            if params is not None:
                return route.function, f"{route.method} {route.path}", params
        return None

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        stack = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            server_version = "switchboard-local"
            # One buffered write per response: with headers and body in separate writes, Nagle and
            # delayed ACKs stall every keep-alive request ≈ 40 ms (measured in bench/).
            wbufsize = -1

            def _serve(self) -> None:
                raw_path, _, raw_query = self.path.partition("?")
                length = _content_length(self.headers.get("content-length"))
                if length is None:  # what API Gateway answers a malformed Content-Length
                    self._reply(400, {"content-type": "application/json"}, b'{"message":"Bad Request"}')
                    self.close_connection = True
                    return
                body = self.rfile.read(length) if length else b""
                if stack.inspector is not None and is_inspector_path(raw_path):  # not in the request log
                    reply = stack.inspector.handle(
                        self.command, raw_path, raw_query, dict(self.headers.items()), body
                    )
                    self._reply(reply.status, reply.headers, reply.body)
                    return
                matched = stack.match(self.command, raw_path)
                if matched is None:  # what API Gateway answers for a route it does not have
                    self._reply(404, {"content-type": "application/json"}, b'{"message":"Not Found"}')
                    stack._access(self.command, self.path, 404, "")
                    stack._record(self.command, raw_path, "", "", 404, {}, b"", [])
                    return
                function, route_key, params = matched
                headers = {k.lower(): v for k, v in self.headers.items()}
                headers["x-forwarded-proto"] = "http"
                headers["x-forwarded-port"] = str(stack.port)
                headers["x-forwarded-for"] = self.client_address[0]
                event = http_event(
                    self.command,
                    raw_path,
                    raw_query,
                    headers,
                    body,
                    host=headers.get("host", f"127.0.0.1:{stack.port}"),
                    route_key=route_key,
                    path_parameters=params or None,
                    source_ip=self.client_address[0],
                )
                with stack.requests.capturing() as logged:
                    try:
                        result = stack.invoker(function)(event, LambdaContext(function_name=function))
                    except Exception as exc:
                        stack._log(f"{function} raised {type(exc).__name__}: {exc}")
                        self._reply(
                            500, {"content-type": "application/json"}, b'{"message":"Internal Server Error"}'
                        )
                        stack._record(self.command, raw_path, route_key, function, 500, {}, b"", logged)
                        return
                status = int(result.get("statusCode", 200))
                out = result.get("body") or ""
                data = base64.b64decode(out) if result.get("isBase64Encoded") else str(out).encode()
                self._reply(status, result.get("headers") or {}, data)
                stack._access(
                    self.command, self.path, status, _summary(status, result.get("headers") or {}, data)
                )
                headers_out = result.get("headers") or {}
                stack._record(self.command, raw_path, route_key, function, status, headers_out, data, logged)

            def _reply(self, status: int, headers: dict[str, str], data: bytes) -> None:
                self.send_response(status)
                for k, v in headers.items():
                    if k.lower() not in ("content-length", "connection"):
                        self.send_header(k, v)
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                if data and self.command != "HEAD":
                    self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _serve

            def log_message(self, format: str, *args: Any) -> None:
                return  # access lines are printed by _access

        return Handler

    def _record(
        self,
        method: str,
        path: str,
        route_key: str,
        function: str,
        status: int,
        headers: dict[str, str],
        body: bytes,
        logged: list[Any],
    ) -> None:
        """One line of the request log (the inspector, `switchboard rejections`)."""
        lower = {k.lower(): v for k, v in headers.items()}
        answer = _json_object(body)
        ids = answer.get("event_ids") if isinstance(answer.get("event_ids"), list) else None
        event_id = lower.get("x-switchboard-event-id", "")
        details = rejection_details(logged) if status >= 300 else {}
        self.requests.add(
            RequestRecord(
                at=now_iso(),
                method=method,
                path=path[:300],
                route=route_key,
                function=function,
                status=status,
                verdict=verdict_of(status, bool(route_key)),
                code=_code(status, answer, details),
                message=str(answer.get("message") or details.get("reason") or "")[:500]
                if status >= 300
                else "",
                diagnostic=details.get("diagnostic") or {},
                event_ids=[str(i) for i in ids] if ids is not None else ([event_id] if event_id else []),
                subject_id=lower.get("x-switchboard-subject-id", ""),
            )
        )

    def _access(self, method: str, path: str, status: int, event_id: str) -> None:
        shown = path.split("?")[0] + ("?…" if "?" in path else "")  # query strings hold numbers and tokens
        self._log(f"{method:5} {shown:32} {status}  {event_id}")

    def _log(self, line: str) -> None:
        if not self.quiet:
            print(f"{time.strftime('%H:%M:%S')} {line}", flush=True)


def _summary(status: int, headers: dict[str, str], body: bytes) -> str:
    """What an access line shows: the event id, or the error code of a rejection."""
    if status < 300:
        return headers.get("x-switchboard-event-id", "")
    try:
        return str(json.loads(body).get("error") or "")
    except (ValueError, AttributeError):
        return ""


def inspector_for(state: LocalState, port: int, requests: RequestLog) -> Inspector:
    """The inspector of this stack (switchboard/inspector): its request log, table and queues."""
    from shared import aws

    return Inspector(port=port, requests=requests, clients=aws.client, table=state.table, queues=state.queues)


def _content_length(value: str | None) -> int | None:
    """The body's length, or None when the header is not a plain number (a negative one would make
    ``rfile.read`` wait for the client to close)."""
    text = (value or "0").strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 12 else None


def _code(status: int, answer: dict[str, Any], details: dict[str, Any]) -> str:
    """A rejection's stable code; a handler that raised answered no code: ``internal_error``."""
    if status < 300:
        return ""
    return str(answer.get("error") or details.get("code") or ("internal_error" if status >= 500 else ""))


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        doc = json.loads(body)
    except ValueError:
        return {}
    return doc if isinstance(doc, dict) else {}


def _reset_caches() -> None:
    """Clients and dependencies are built once per process; rebuild them for this environment."""
    from shared import aws, recorder, recorder_batch, webhook

    aws.client.cache_clear()
    webhook.default_deps.cache_clear()
    recorder.default_recorder.cache_clear()
    recorder_batch.default_dead_letter.cache_clear()


def _match_path(template: str, path: str) -> dict[str, str] | None:
    t_parts, p_parts = template.strip("/").split("/"), path.strip("/").split("/")
    if len(t_parts) != len(p_parts):
        return None
    params = {}
    for t, p in zip(t_parts, p_parts, strict=True):
        if t.startswith("{") and t.endswith("}"):
            if not p:
                return None
            from urllib.parse import unquote

            params[t[1:-1]] = unquote(p)
        elif t != p:
            return None
    return params


def banner(state: LocalState, routes: list[Any]) -> str:
    lines = [
        "",
        "Switchboard local stack is running (Ctrl-C stops it).",
        "",
        "Webhook URLs (what you would paste into the dashboards):",
    ]
    seen = set()
    for r in routes:
        if r.path in seen:
            continue
        seen.add(r.path)
        methods = "/".join(x.method for x in routes if x.path == r.path)
        note = "  (IAM in AWS; open locally)" if r.auth else ""
        from shared.ingress import ROUTES

        registered = ROUTES.get(r.path)
        if registered is not None and registered.scheme == "url_token":
            note = f"?token=<{registered.product}_token>"
        lines.append(f"  {methods:8} {state.base_url}{r.path}{note}".rstrip())
    lines += [
        "",
        f"Provider secrets: {state.secrets_file}",
        "  (loaded into the local Secrets Manager secret; set SWITCHBOARD_SECRETS=path/to/file.json to use yours)",
        f"AWS emulator:     {state.aws_endpoint}  (moto, in memory: a restart starts empty; table {state.table})",
        "",
        "Queues (on the emulator; your consumer reads the events queue):",
        f"  events      {state.events_queue_url}",
        f"  events DLQ  {state.events_dlq_url}",
        f"  ingest      {state.ingest_queue_url}",
        f"  ingest DLQ  {state.ingest_dlq_url}",
        f"State file:       {state_file()}  (these URLs and ports, as JSON; README: The local state file)",
        f"Request log:      {state.request_log}",
        f"Inspector:        {state.base_url}/inspector/  (every request, every subject's timeline, the DLQs)",
        "",
        "Send a first event from another terminal:",
        "  .venv/bin/switchboard send verify/event-completed",
        "  .venv/bin/switchboard status c11236f4-00bf-4b89-84ba-88b25df97315",
        "  .venv/bin/switchboard consume",
        "",
    ]
    return "\n".join(lines)


@contextlib.contextmanager
def running(
    *, port: int, aws_port: int | None = None, secrets_file: Path | None = None, quiet: bool = True
) -> Iterator[LocalStack]:
    stack = LocalStack(
        port=port, aws_port=aws_port or _free_port(), secrets_file=secrets_file or DEV_SECRETS, quiet=quiet
    )
    try:
        stack.start()
        yield stack
    finally:
        stack.stop()


class BadPort(ValueError):
    pass


def env_port(name: str, default: int) -> int:
    """A port from the environment (PORT, SWITCHBOARD_AWS_PORT): a number from 1 to 65535."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not (raw.isascii() and raw.isdigit()) or not 0 < int(raw) < 65536:  # '²'.isdigit() is True
        raise BadPort(f"{name}={raw!r} is not a port: give a number from 1 to 65535, e.g. {name}={default}")
    return int(raw)


def run(port: int | None = None, aws_port: int | None = None, secrets: str | None = None) -> int:
    try:
        port = port or env_port("PORT", DEFAULT_PORT)
        aws_port = aws_port or env_port("SWITCHBOARD_AWS_PORT", port + 1566 if port + 1566 < 65536 else 0)
    except BadPort as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not 0 < port < 65536:
        print(f"error: --port {port} is not a port: give a number from 1 to 65535", file=sys.stderr)
        return 2
    aws_port = aws_port or _free_port()
    secrets_file = Path(secrets or os.environ.get("SWITCHBOARD_SECRETS") or DEV_SECRETS)
    if not secrets_file.is_file():
        print(f"error: secrets file {secrets_file} does not exist (SWITCHBOARD_SECRETS)", file=sys.stderr)
        return 2
    stack = LocalStack(port=port, aws_port=aws_port, secrets_file=secrets_file)
    try:
        state = stack.start()
    except PortInUse as exc:
        print(f"error: {exc}", file=sys.stderr)
        stack.stop()
        return 3
    except Exception as exc:
        print(f"error: the local stack could not start: {exc}", file=sys.stderr)
        stack.stop()
        return 1
    print(banner(state, stack.routes), flush=True)
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    # A shell starting us in the background ignores SIGINT for us; take it back, so kill -INT works.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        while not stopped.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    print("\nstopping…", flush=True)
    stack.stop()
    print("stopped.", flush=True)
    return 0
