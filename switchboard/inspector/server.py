"""The inspector's HTTP side: a page and a JSON API under /inspector/ on the local stack's port.

Routes (GET unless said):

=========================================================  ==============================================
``/inspector/``                                            the page (static/index.html, app.js, style.css)
``/inspector/api/requests?after=SEQ``                      request log records newer than SEQ, oldest first
``/inspector/api/subjects``                                every subject, newest receipt first
``/inspector/api/subjects/<provider>/<product>/<id>``      one subject's marked timeline (id URL-encoded)
``/inspector/api/queues``                                  visible and in-flight counts of the four queues
POST ``/inspector/api/redrive`` ``{"queue": "ingest"}``    move a DLQ's messages back (ingest or events)
=========================================================  ==============================================

What the page shows is attacker-controlled (payload text, subject ids, paths, diagnostics). The page
renders it only as text (textContent, SVG built with createElementNS); every answer carries a strict
Content-Security-Policy (same-origin scripts and styles only, nothing inline) and nosniff.

Another website open in the same browser must not read nor change the stack:

* every request must name this server in ``Host`` (127.0.0.1 or localhost at our port): a
  DNS-rebinding page reaching 127.0.0.1 under its own name is refused;
* the redrive POST also needs ``X-Switchboard-Inspector: 1`` (a header a cross-origin form or
  ``fetch`` cannot send without a CORS preflight, which this server never grants) and, when the
  browser sends ``Origin``, this server's own origin.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from importlib import resources
from typing import Any
from urllib.parse import parse_qs, unquote

from shared.ingress import ROUTES
from switchboard.inspector import reads
from switchboard.inspector.timeline import delivery_counts
from switchboard.requestlog import RequestLog, RequestRecord

PREFIX = "/inspector"
CSRF_HEADER = "x-switchboard-inspector"
MAX_BODY = 1024
MAX_SEQ_DIGITS = 18  # a request sequence number fits in 18 digits (a 64-bit integer has 19)
SECURITY_HEADERS = {
    "content-security-policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
        "object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
    "cross-origin-resource-policy": "same-origin",
}
STATIC = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/app.js": ("app.js", "text/javascript; charset=utf-8"),
    "/style.css": ("style.css", "text/css; charset=utf-8"),
    "/favicon.svg": ("favicon.svg", "image/svg+xml"),
}


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes


def is_inspector_path(path: str) -> bool:
    return path == PREFIX or path.startswith(PREFIX + "/")


def _json(status: int, doc: Any) -> Reply:
    body = json.dumps(doc, default=str, separators=(",", ":")).encode()
    return Reply(status, {"content-type": "application/json", **SECURITY_HEADERS}, body)


def _error(status: int, code: str, message: str) -> Reply:
    return _json(status, {"error": code, "message": message})


class Inspector:
    """Answers the inspector's requests for one local stack."""

    def __init__(
        self,
        *,
        port: int,
        requests: RequestLog,
        clients: Callable[[str], Any],
        table: str,
        queues: Mapping[str, str],
    ) -> None:
        self.port = port
        self.requests = requests
        self.clients = clients
        self.table = table
        self.queues = dict(queues)
        self.hosts = {f"127.0.0.1:{port}", f"localhost:{port}"}

    def handle(self, method: str, path: str, query: str, headers: Mapping[str, str], body: bytes) -> Reply:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return self._route(method, path, query, headers, body)
        except (BotoCoreError, ClientError) as exc:  # the emulator stopping under a poll
            return _error(
                503, "emulator_unavailable", f"the AWS emulator did not answer: {type(exc).__name__}"
            )

    def _route(self, method: str, path: str, query: str, headers: Mapping[str, str], body: bytes) -> Reply:
        lower = {k.lower(): v for k, v in headers.items()}
        if lower.get("host", "").lower() not in self.hosts:
            return _error(403, "forbidden_host", "the inspector answers only at 127.0.0.1 or localhost")
        sub = path[len(PREFIX) :]
        if sub == "":
            return Reply(308, {"location": PREFIX + "/", **SECURITY_HEADERS}, b"")
        if method == "POST" and sub == "/api/redrive":
            return self._redrive(lower, body)
        if method not in ("GET", "HEAD"):
            return _error(
                405, "method_not_allowed", "the inspector's API is read-only except POST /api/redrive"
            )
        if sub in STATIC:
            return _static(*STATIC[sub])
        if sub == "/api/requests":
            return self._requests(query)
        if sub == "/api/subjects":
            return _json(200, {"subjects": reads.recent_subjects(self.clients("dynamodb"), self.table)})
        if sub.startswith("/api/subjects/"):
            return self._subject(sub.removeprefix("/api/subjects/"))
        if sub == "/api/queues":
            return _json(200, {"queues": reads.queue_depths(self.clients("sqs"), self.queues)})
        return _error(404, "not_found", "no such inspector page")

    def _requests(self, query: str) -> Reply:
        raw = parse_qs(query).get("after", ["0"])[0]
        # ASCII digits only, and few of them: str.isdigit() accepts "²", which int() refuses, and
        # int() refuses over 4300 digits; either raised out of the handler and dropped the connection
        if not (raw.isascii() and raw.isdigit() and len(raw) <= MAX_SEQ_DIGITS):
            return _error(400, "invalid_after", "after must be a request sequence number")
        records = self.requests.after(int(raw))
        return _json(200, {"requests": [request_json(r) for r in records]})

    def _subject(self, rest: str) -> Reply:
        parts = rest.split("/")
        if len(parts) != 3 or not all(parts):
            return _error(404, "not_found", "want /api/subjects/<provider>/<product>/<url-encoded id>")
        provider, product, subject_id = (unquote(p) for p in parts)
        deliveries = delivery_counts(self.requests.after(0))
        doc = reads.subject_timeline(
            self.clients("dynamodb"), self.table, provider, product, subject_id, deliveries
        )
        if doc is None:
            return _error(404, "not_found", "no events for this subject")
        return _json(200, doc)

    def _redrive(self, headers: Mapping[str, str], body: bytes) -> Reply:
        if headers.get(CSRF_HEADER) != "1":
            return _error(
                403, "forbidden", f"a redrive needs the {CSRF_HEADER}: 1 header (the page sends it)"
            )
        origin = headers.get("origin")
        if origin is not None and origin.lower() not in {f"http://{h}" for h in self.hosts}:
            return _error(403, "forbidden_origin", "a redrive is accepted from the inspector's own page only")
        try:
            doc = json.loads(body[:MAX_BODY]) if len(body) <= MAX_BODY else None
            queue = doc.get("queue") if isinstance(doc, dict) else None
        except ValueError:
            queue = None
        if queue not in reads.REDRIVABLE:
            return _error(400, "invalid_queue", 'want {"queue": "ingest"} or {"queue": "events"}')
        moved = reads.redrive(self.clients("sqs"), self.queues, queue)
        return _json(200, {"queue": queue, "moved": moved})


def request_json(record: RequestRecord) -> dict[str, Any]:
    """A request log record, with the provider and product its route belongs to (for the subject link)."""
    route = ROUTES.get(record.path)
    return {
        **asdict(record),
        "provider": route.provider if route is not None and record.route else "",
        "product": route.product if route is not None and record.route else "",
    }


def _static(name: str, content_type: str) -> Reply:
    data = resources.files("switchboard.inspector").joinpath("static", name).read_bytes()
    return Reply(200, {"content-type": content_type, **SECURITY_HEADERS}, data)
