"""Fake Twilio Verify, Twilio Events and Vonage Application APIs on 127.0.0.1, as documented,
recording every request.

- Twilio Verify API v2, Service Webhooks (twilio-python twilio/rest/verify/v2/service/webhook.py and
  Twilio's "Verify Push Webhooks" page): `GET|POST /v2/Services/{VA}/Webhooks`,
  `GET|POST|DELETE /v2/Services/{VA}/Webhooks/{YW}`; HTTP Basic (account SID : auth token); form
  bodies with `EventTypes` repeated; JSON answers; pages linked by `meta.next_page_url`; errors
  `{"code", "message", "more_info", "status"}`.
- Twilio Events API v1 (twilio-python twilio/rest/events/v1/sink, subscription, subscribed_event;
  Twilio's "Webhook Quickstart" and Sink resource pages): `GET|POST /v1/Sinks`, `GET|POST
  /v1/Subscriptions` (`SinkSid` filter), `GET /v1/Subscriptions/{DF}/SubscribedEvents`; lists keyed
  `sinks`, `subscriptions`, `types`; webhook sinks are active when created; a subscription needs an
  active sink.
- Vonage Application API v2 (Nexmo/api-specification definitions/application.v2.yml, and
  vonage-python-sdk application/): `GET|PUT /v2/applications/{id}`; HTTP Basic (API key : secret);
  JSON; errors `{"type", "title", "detail", "instance"}` (+ `invalid_parameters` on 400).
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlencode, urlsplit

TWILIO_EVENT_TYPES = {
    "*",
    "factor.created",
    "factor.verified",
    "factor.deleted",
    "challenge.approved",
    "challenge.denied",
}


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names
    body: bytes

    @property
    def form(self) -> list[tuple[str, str]]:
        return parse_qsl(self.body.decode(), keep_blank_values=True)

    def json(self) -> Any:
        return json.loads(self.body)

    def basic_auth(self) -> tuple[str, str] | None:
        scheme, _, value = self.headers.get("authorization", "").partition(" ")
        if scheme != "Basic":
            return None
        user, _, password = base64.b64decode(value).decode().partition(":")
        return user, password


Answer = tuple[int, Any]


@dataclass
class FakeApi:
    requests: list[Recorded] = field(default_factory=list)
    base_url: str = ""
    # (status, body) answered to the next request of that method instead of the normal answer.
    fail_next: dict[str, Answer] = field(default_factory=dict)
    headers_next: dict[str, str] = field(default_factory=dict)  # added to the next answer only

    @property
    def writes(self) -> list[Recorded]:
        return [r for r in self.requests if r.method not in ("GET", "HEAD")]

    def answer(self, request: Recorded) -> Answer:
        if request.method in self.fail_next:
            return self.fail_next.pop(request.method)
        return self.handle(request)

    def handle(self, request: Recorded) -> Answer:
        raise NotImplementedError


@contextmanager
def serve(api: FakeApi) -> Iterator[FakeApi]:
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def _any(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            request = Recorded(
                method=self.command,
                path=parts.path,
                query=parse_qs(parts.query, keep_blank_values=True),
                headers={k.lower(): v for k, v in self.headers.items()},
                body=self.rfile.read(length) if length else b"",
            )
            with lock:
                api.requests.append(request)
                status, body = api.answer(request)
                extra, api.headers_next = api.headers_next, {}
            raw = b"" if body is None else json.dumps(body).encode()
            self.send_response(status)
            for name, value in extra.items():
                self.send_header(name, value)
            if raw:
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        do_GET = do_POST = do_PUT = do_DELETE = _any

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    api.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield api
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


# --- Twilio --------------------------------------------------------------------------------------


def twilio_error(status: int, code: int, message: str) -> Answer:
    return status, {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


def twilio_page(request: Recorded, items: list[Any], base: str, key: str, max_size: int) -> Answer:
    """One page of a Twilio list: `key` holds the items, `meta` links the pages (filters kept)."""
    size = min(int(request.query.get("PageSize", ["50"])[0]), max_size)
    page = int(request.query.get("Page", ["0"])[0])
    kept = [(k, v[0]) for k, v in sorted(request.query.items()) if k not in ("PageSize", "Page", "PageToken")]
    filters = f"&{urlencode(kept)}" if kept else ""
    chunk = items[page * size : (page + 1) * size]
    more = (page + 1) * size < len(items)
    return 200, {
        key: chunk,
        "meta": {
            "page": page,
            "page_size": size,
            "first_page_url": f"{base}?PageSize={size}&Page=0{filters}",
            "previous_page_url": f"{base}?PageSize={size}&Page={page - 1}{filters}" if page else None,
            "url": f"{base}?PageSize={size}&Page={page}{filters}",
            "next_page_url": f"{base}?PageSize={size}&Page={page + 1}&PageToken=PT{page + 1}{filters}"
            if more
            else None,
            "key": key,
        },
    }


@dataclass
class FakeTwilio(FakeApi):
    accounts: dict[str, str] = field(default_factory=dict)  # account SID -> auth token
    webhooks: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)  # VA -> YW -> resource
    max_page_size: int = 1000

    def add_service(self, service: str) -> None:
        self.webhooks.setdefault(service, {})

    def add_webhook(self, service: str, **fields: Any) -> dict[str, Any]:
        sid = fields.pop("sid", None) or "YW" + secrets.token_hex(16)
        hook = {
            "sid": sid,
            "service_sid": service,
            "account_sid": next(iter(self.accounts)),
            "friendly_name": "a webhook",
            "event_types": ["*"],
            "webhook_method": "POST",
            "webhook_url": "https://example.com/hook",
            "status": "enabled",
            "version": "v2",
            "date_created": "2026-01-01T00:00:00Z",
            "date_updated": "2026-01-01T00:00:00Z",
            **fields,
        }
        self.webhooks.setdefault(service, {})[sid] = hook
        return hook

    def _resource(self, service: str, hook: dict[str, Any]) -> dict[str, Any]:
        return {**hook, "url": f"{self.base_url}/v2/Services/{service}/Webhooks/{hook['sid']}"}

    def handle(self, request: Recorded) -> Answer:
        auth = request.basic_auth()
        if auth is None or self.accounts.get(auth[0]) != auth[1]:
            return twilio_error(401, 20003, "Authenticate")
        parts = request.path.strip("/").split("/")
        if len(parts) not in (4, 5) or parts[0] != "v2" or parts[1] != "Services" or parts[3] != "Webhooks":
            return twilio_error(404, 20404, f"The requested resource {request.path} was not found")
        service = parts[2]
        if service not in self.webhooks:
            return twilio_error(404, 20404, f"The requested resource {request.path[3:]} was not found")
        hooks = self.webhooks[service]
        if len(parts) == 4:
            if request.method == "GET":
                return self._list(service, request)
            if request.method == "POST":
                return self._create(service, request)
            return twilio_error(405, 20004, "Method not allowed")
        hook = hooks.get(parts[4])
        if hook is None:
            return twilio_error(404, 20404, f"The requested resource {request.path[3:]} was not found")
        if request.method == "GET":
            return 200, self._resource(service, hook)
        if request.method == "DELETE":
            del hooks[hook["sid"]]
            return 204, None
        if request.method == "POST":
            problem = self._apply(hook, request, required=())
            return problem or (200, self._resource(service, hook))
        return twilio_error(405, 20004, "Method not allowed")

    def _list(self, service: str, request: Recorded) -> Answer:
        hooks = [self._resource(service, h) for h in self.webhooks[service].values()]
        base = f"{self.base_url}/v2/Services/{service}/Webhooks"
        return twilio_page(request, hooks, base, "webhooks", self.max_page_size)

    def _create(self, service: str, request: Recorded) -> Answer:
        hook: dict[str, Any] = {"webhook_method": "POST", "status": "enabled", "version": "v2"}
        problem = self._apply(hook, request, required=("FriendlyName", "EventTypes", "WebhookUrl"))
        if problem:
            return problem
        created = self.add_webhook(service, **hook)
        return 201, self._resource(service, created)

    def _apply(self, hook: dict[str, Any], request: Recorded, required: tuple[str, ...]) -> Answer | None:
        if request.headers.get("content-type") != "application/x-www-form-urlencoded":
            return twilio_error(400, 20001, "Content-Type must be application/x-www-form-urlencoded")
        form: dict[str, list[str]] = {}
        for key, value in request.form:
            form.setdefault(key, []).append(value)
        for name in required:
            if name not in form:
                return twilio_error(400, 20001, f"Missing required parameter {name} in the post body")
        known = {"FriendlyName", "EventTypes", "WebhookUrl", "Status", "Version"}
        if set(form) - known:
            return twilio_error(400, 20001, f"Unknown parameters {sorted(set(form) - known)}")
        if "EventTypes" in form and not set(form["EventTypes"]) <= TWILIO_EVENT_TYPES:
            return twilio_error(400, 60200, "Invalid parameter: EventTypes")
        if form.get("Status", ["enabled"])[0] not in ("enabled", "disabled"):
            return twilio_error(400, 60200, "Invalid parameter: Status")
        if form.get("Version", ["v2"])[0] not in ("v1", "v2"):
            return twilio_error(400, 60200, "Invalid parameter: Version")
        single = {"FriendlyName": "friendly_name", "WebhookUrl": "webhook_url", "Status": "status"}
        for param, attr in single.items():
            if param in form:
                hook[attr] = form[param][0]
        if "Version" in form:
            hook["version"] = form["Version"][0]
        if "EventTypes" in form:
            hook["event_types"] = form["EventTypes"]
        return None


# --- Twilio Events API -----------------------------------------------------------------------------

# The event types this fake's catalogue knows (Twilio answers 400 to an unknown type).
EVENT_TYPES = {
    *(
        f"com.twilio.accountsecurity.verify.verification.{s}"
        for s in ("pending", "approved", "canceled", "expired", "max-attempts-reached")
    ),
    "com.twilio.messaging.message.delivered",
    "com.twilio.messaging.message.failed",
}
SINK_TYPES = {"kinesis", "webhook", "segment", "email"}


@dataclass
class FakeTwilioEvents(FakeApi):
    accounts: dict[str, str] = field(default_factory=dict)  # account SID -> auth token
    sinks: dict[str, dict[str, Any]] = field(default_factory=dict)  # DG -> resource
    subscriptions: dict[str, dict[str, Any]] = field(default_factory=dict)  # DF -> resource
    subscribed: dict[str, list[dict[str, Any]]] = field(
        default_factory=dict
    )  # DF -> [{type, schema_version}]
    max_page_size: int = 1000

    def add_sink(self, destination: str, method: str = "post", **fields: Any) -> dict[str, Any]:
        sid = fields.pop("sid", None) or "DG" + secrets.token_hex(16)
        self.sinks[sid] = {
            "sid": sid,
            "description": "a sink",
            # Twilio answers the configuration as an object, the method lower-case (as its CLI shows).
            "sink_configuration": {"destination": destination, "method": method.lower()},
            "sink_type": "webhook",
            "status": "active",
            "date_created": "2026-01-01T00:00:00Z",
            "date_updated": "2026-01-01T00:00:00Z",
            "url": f"{self.base_url}/v1/Sinks/{sid}",
            "links": {
                "sink_test": f"{self.base_url}/v1/Sinks/{sid}/Test",
                "sink_validate": f"{self.base_url}/v1/Sinks/{sid}/Validate",
            },
            **fields,
        }
        return self.sinks[sid]

    def add_subscription(self, sink_sid: str, types: dict[str, int], **fields: Any) -> dict[str, Any]:
        sid = fields.pop("sid", None) or "DF" + secrets.token_hex(16)
        self.subscriptions[sid] = {
            "account_sid": next(iter(self.accounts)),
            "sid": sid,
            "description": "a subscription",
            "sink_sid": sink_sid,
            "date_created": "2026-01-01T00:00:00Z",
            "date_updated": "2026-01-01T00:00:00Z",
            "url": f"{self.base_url}/v1/Subscriptions/{sid}",
            "links": {"subscribed_events": f"{self.base_url}/v1/Subscriptions/{sid}/SubscribedEvents"},
            **fields,
        }
        self.subscribed[sid] = [
            {
                "account_sid": next(iter(self.accounts)),
                "type": kind,
                "schema_version": version,
                "subscription_sid": sid,
                "url": f"{self.base_url}/v1/Subscriptions/{sid}/SubscribedEvents/{kind}",
            }
            for kind, version in types.items()
        ]
        return self.subscriptions[sid]

    def types_of(self, sink_sid: str) -> dict[str, int]:
        """Every event type the sink gets, over its subscriptions."""
        return {
            event["type"]: event["schema_version"]
            for sid, subscription in self.subscriptions.items()
            if subscription["sink_sid"] == sink_sid
            for event in self.subscribed[sid]
        }

    def handle(self, request: Recorded) -> Answer:
        auth = request.basic_auth()
        if auth is None or self.accounts.get(auth[0]) != auth[1]:
            return twilio_error(401, 20003, "Authenticate")
        parts = request.path.strip("/").split("/")
        route = (request.method, *parts[1:2], len(parts)) if parts[0] == "v1" else ()
        if route == ("GET", "Sinks", 2):
            items = [s for s in self.sinks.values() if _matches(s, request.query, {"Status": "status"})]
            return twilio_page(request, items, f"{self.base_url}/v1/Sinks", "sinks", self.max_page_size)
        if route == ("POST", "Sinks", 2):
            return self._create_sink(request)
        if route == ("GET", "Subscriptions", 2):
            items = [
                s for s in self.subscriptions.values() if _matches(s, request.query, {"SinkSid": "sink_sid"})
            ]
            base = f"{self.base_url}/v1/Subscriptions"
            return twilio_page(request, items, base, "subscriptions", self.max_page_size)
        if route == ("POST", "Subscriptions", 2):
            return self._create_subscription(request)
        if (
            route == ("GET", "Subscriptions", 4)
            and parts[3] == "SubscribedEvents"
            and parts[2] in self.subscribed
        ):
            base = f"{self.base_url}/v1/Subscriptions/{parts[2]}/SubscribedEvents"
            return twilio_page(request, self.subscribed[parts[2]], base, "types", self.max_page_size)
        return twilio_error(404, 20404, f"The requested resource {request.path} was not found")

    def _create_sink(self, request: Recorded) -> Answer:
        form, problem = _form(request, ("Description", "SinkConfiguration", "SinkType"))
        if problem:
            return problem
        if form["SinkType"][0] not in SINK_TYPES:
            return twilio_error(400, 20001, "Invalid parameter: SinkType")
        try:
            config = json.loads(form["SinkConfiguration"][0])
        except ValueError:
            config = None
        if form["SinkType"][0] == "webhook" and not (
            isinstance(config, dict)
            and isinstance(config.get("destination"), str)
            and str(config.get("method", "")).upper() in ("POST", "GET")
        ):
            return twilio_error(400, 20001, "Invalid parameter: SinkConfiguration")
        sink = self.add_sink(
            config["destination"],
            config["method"],
            description=form["Description"][0],
            sink_type=form["SinkType"][0],
            status="active" if form["SinkType"][0] == "webhook" else "initialized",
        )
        return 201, sink

    def _create_subscription(self, request: Recorded) -> Answer:
        form, problem = _form(request, ("Description", "SinkSid", "Types"))
        if problem:
            return problem
        sink = self.sinks.get(form["SinkSid"][0])
        if sink is None:
            return twilio_error(400, 20001, "Invalid parameter: SinkSid")
        if sink["status"] != "active":
            # "Sink must be active for the subscription to be created" (twilio-python); code: a guess.
            return twilio_error(400, 20001, f"Sink {sink['sid']} is not active")
        types: dict[str, int] = {}
        for raw in form["Types"]:
            try:
                item = json.loads(raw)
            except ValueError:
                item = None
            if not isinstance(item, dict) or item.get("type") not in EVENT_TYPES:
                return twilio_error(400, 20001, f"Invalid parameter: Types ({raw})")
            types[item["type"]] = int(item.get("schema_version", 1))
        created = self.add_subscription(sink["sid"], types, description=form["Description"][0])
        return 201, created


def _matches(resource: dict[str, Any], query: dict[str, list[str]], filters: dict[str, str]) -> bool:
    return all(resource.get(attr) == query[param][0] for param, attr in filters.items() if param in query)


def _form(request: Recorded, required: tuple[str, ...]) -> tuple[dict[str, list[str]], Answer | None]:
    if request.headers.get("content-type") != "application/x-www-form-urlencoded":
        return {}, twilio_error(400, 20001, "Content-Type must be application/x-www-form-urlencoded")
    form: dict[str, list[str]] = {}
    for key, value in request.form:
        form.setdefault(key, []).append(value)
    for name in required:
        if name not in form:
            return form, twilio_error(400, 20001, f"Missing required parameter {name} in the post body")
    unknown = set(form) - set(required)
    if unknown:
        return form, twilio_error(400, 20001, f"Unknown parameters {sorted(unknown)}")
    return form, None


# --- Vonage --------------------------------------------------------------------------------------


def vonage_error(status: int, kind: str, title: str, detail: str, **extra: Any) -> Answer:
    return status, {
        "type": f"https://developer.nexmo.com/api-errors#{kind}",
        "title": title,
        "detail": detail,
        "instance": "797a8f199c45014ab7b08bfe9cc1c12c",
        **extra,
    }


@dataclass
class FakeVonage(FakeApi):
    api_key: str = ""
    api_secret: str = ""
    applications: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> stored, without id/_links

    def _resource(self, app_id: str) -> dict[str, Any]:
        return {
            "id": app_id,
            **json.loads(json.dumps(self.applications[app_id])),
            "_links": {"self": {"href": f"/v2/applications/{app_id}"}},
        }

    def handle(self, request: Recorded) -> Answer:
        if request.basic_auth() != (self.api_key, self.api_secret):
            return vonage_error(
                401,
                "unauthorized",
                "Invalid credentials supplied",
                "You did not provide correct credentials.",
            )
        parts = request.path.strip("/").split("/")
        if len(parts) != 3 or parts[:2] != ["v2", "applications"]:
            return vonage_error(404, "not-found", "Not Found", f"{request.path} does not exist")
        app_id = parts[2]
        if app_id not in self.applications:
            return vonage_error(
                404, "not-found", "Not Found", f"ID '{app_id}' does not exist, or you do not have access"
            )
        if request.method == "GET":
            return 200, self._resource(app_id)
        if request.method == "PUT":
            if request.headers.get("content-type") != "application/json":
                return vonage_error(
                    415,
                    "content-type-header",
                    "Unsupported Content-Type header",
                    "Unsupported Content-Type header provided. Must be one of the following: 'application/json'",
                )
            body = request.json()
            invalid = _invalid_application(body)
            if invalid:
                return vonage_error(
                    400,
                    "payload-validation",
                    "Bad Request",
                    "The request failed due to validation errors",
                    invalid_parameters=invalid,
                )
            self.applications[app_id] = {k: v for k, v in body.items() if k not in ("id", "_links")}
            return 200, self._resource(app_id)
        return vonage_error(
            405,
            "wrong-verb",
            "Request method not allowed",
            f"Request method '{request.method}' not supported",
        )


def _invalid_application(body: Any) -> list[dict[str, str]]:
    if not isinstance(body, dict):
        return [{"name": "(body)", "reason": "must be a JSON object"}]
    problems = []
    if not isinstance(body.get("name"), str) or not body["name"]:
        problems.append({"name": "name", "reason": "must not be empty"})
    caps = body.get("capabilities") or {}
    allowed = {
        ("voice", "answer_url"): ("GET", "POST"),
        ("voice", "fallback_answer_url"): ("GET", "POST"),
        ("voice", "event_url"): ("GET", "POST"),
        ("rtc", "event_url"): ("GET", "POST"),
        ("messages", "inbound_url"): ("POST",),
        ("messages", "status_url"): ("POST",),
        ("verify", "status_url"): ("POST",),
    }
    for (capability, hook), methods in allowed.items():
        url = ((caps.get(capability) or {}).get("webhooks") or {}).get(hook)
        if url is None:
            continue
        if not isinstance(url.get("address"), str) or not url["address"]:
            problems.append(
                {"name": f"capabilities.{capability}.webhooks.{hook}.address", "reason": "required"}
            )
        if url.get("http_method") not in methods:
            problems.append(
                {
                    "name": f"capabilities.{capability}.webhooks.{hook}.http_method",
                    "reason": f"must be one of: {', '.join(methods)}",
                }
            )
    return problems
