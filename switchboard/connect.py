"""switchboard connect — point the providers' webhooks at a deployed stack, idempotently.

- `connect twilio`: creates or updates the Verify Service Webhook (Twilio Verify API v2,
  `/Services/{ServiceSid}/Webhooks`) so that it calls the stack's `/twilio/verify-push` route;
  `--list` shows the service's webhooks, `--remove` deletes ours.
- `connect twilio --event-streams`: finds or creates the account's Event Streams webhook sink for
  `/twilio/event-streams` and subscribes it to the Verify verification events (Events API v1,
  `/Sinks`, `/Subscriptions`).
- `connect vonage`: reads the application (Vonage Application API v2, `GET /v2/applications/{id}`)
  and writes it back (`PUT`) with only the Verify, Messages, Voice (answer, fallback, event) and RTC
  webhook URLs changed; prints what has to be set by hand in the dashboard (SMS API, Dispatch,
  US Short Codes, the Number Insight callback).

The URLs are the stack's outputs (`--stack NAME`; the `PublicBaseUrl` parameter when the stack has
one, since Twilio signs the URL it calls) or `--base-url URL` + the route path. `--dry-run` shows
the changes and the exact requests, and sends nothing that changes state. A second run finds
everything as wanted and sends no write. Only the standard library talks HTTP.
"""

from __future__ import annotations

import argparse
import base64
import copy
import json
import os
import re
import sys
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import quote, urlencode, urlsplit

from switchboard.cli import EXIT_ERROR, EXIT_OK, EXIT_USAGE, CliError

if TYPE_CHECKING:
    from shared.config import ProviderSecrets

TWILIO_API_ENV: Final = "SWITCHBOARD_TWILIO_VERIFY_API"
TWILIO_API_DEFAULT: Final = "https://verify.twilio.com/v2"
TWILIO_EVENTS_API_ENV: Final = "SWITCHBOARD_TWILIO_EVENTS_API"
TWILIO_EVENTS_API_DEFAULT: Final = "https://events.twilio.com/v1"
VONAGE_API_ENV: Final = "SWITCHBOARD_VONAGE_API"
VONAGE_API_DEFAULT: Final = "https://api.nexmo.com"

# The stack output that carries each route's public URL, and the route's path (shared/ingress.py).
ROUTE_OUTPUTS: Final[dict[str, str]] = {
    "VonageVerifyStatusUrl": "/vonage/verify",
    "VonageMessagesInboundUrl": "/vonage/messages/inbound",
    "VonageMessagesStatusUrl": "/vonage/messages/status",
    "VonageSmsInboundUrl": "/vonage/sms/inbound",
    "VonageSmsReceiptUrl": "/vonage/sms/receipt",
    "VonageVoiceAnswerUrl": "/vonage/voice/answer",
    "VonageVoiceEventUrl": "/vonage/voice/event",
    "VonageNumberInsightCallbackUrl": "/vonage/number-insight",
    "TwilioVerifyPushUrl": "/twilio/verify-push",
}
# The stack output that every webhook URL starts with (PublicBaseUrl when set).
BASE_OUTPUT: Final = "WebhookBaseUrl"
# Routes whose URL connect builds as the stack's WebhookBaseUrl + path: it does not depend on the
# name of each route's own output (the keys only name the URL inside connect).
BASE_ROUTES: Final[dict[str, str]] = {
    "VonageVoiceFallbackUrl": "/vonage/voice/fallback",
    "VonageRtcEventUrl": "/vonage/rtc/event",
    "VonageDispatchStatusUrl": "/vonage/dispatch/status",
    "VonageShortCodesReceiptUrl": "/vonage/short-codes/receipt",
    "VonageShortCodesInboundUrl": "/vonage/short-codes/inbound",
    "TwilioEventStreamsUrl": "/twilio/event-streams",
}

# Twilio Verify Push webhook event types (Verify API v2, Service Webhooks: event_types).
TWILIO_EVENT_TYPES: Final = (
    "*",
    "factor.created",
    "factor.verified",
    "factor.deleted",
    "challenge.approved",
    "challenge.denied",
)
# Twilio Verify "Verification Status" events (Verify Events, a Pilot; providers-more.md §7.4), the
# schema version of the samples Switchboard parses (AccountSecurity.VerifyEventStreamEvent/1).
VERIFY_EVENT_TYPES: Final = tuple(
    f"com.twilio.accountsecurity.verify.verification.{status}"
    for status in ("pending", "approved", "canceled", "expired", "max-attempts-reached")
)
VERIFY_SCHEMA_VERSION: Final = 1
SERVICE_SID: Final = re.compile(r"^VA[0-9a-fA-F]{32}$")
DEFAULT_FRIENDLY_NAME: Final = "switchboard"
MAX_PAGES: Final = 100
ABSENT: Final = "(absent)"


# --- HTTP ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ApiRequest:
    method: str
    url: str
    body: bytes = b""
    content_type: str | None = None

    def show(self) -> str:
        """The request as it would go on the wire, the credentials redacted."""
        lines = [f"{self.method} {self.url}", "  Authorization: Basic <redacted>"]
        if self.content_type:
            lines.append(f"  Content-Type: {self.content_type}")
        if self.body:
            lines.append("")
            lines.extend("  " + line for line in self.body.decode("utf-8").splitlines())
        return "\n".join(lines)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is answered as the error it is: the credentials never follow it to another host."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER: Final = urllib.request.build_opener(_NoRedirect)


@dataclass(frozen=True)
class Api:
    """One provider's REST API with HTTP Basic credentials. Never shows the credentials."""

    provider: str  # Twilio | Vonage
    username: str = field(repr=False)
    password: str = field(repr=False)

    def send(self, request: ApiRequest) -> tuple[int, Any]:
        token = base64.b64encode(f"{self.username}:{self.password}".encode()).decode("ascii")
        headers = {"Authorization": f"Basic {token}", "Accept": "application/json"}
        if request.content_type:
            headers["Content-Type"] = request.content_type
        http = urllib.request.Request(  # noqa: S310 - the providers' HTTPS APIs (or a test double)
            request.url, data=request.body or None, method=request.method, headers=headers
        )
        try:
            with _OPENER.open(http, timeout=30) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as exc:
            raise CliError(provider_error(self.provider, exc.code, exc.read())) from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            origin = "{0.scheme}://{0.netloc}".format(urlsplit(request.url))
            raise CliError(f"cannot reach {self.provider} at {origin}: {reason}") from None
        if not raw.strip():
            return status, None
        try:
            return status, json.loads(raw)
        except ValueError:
            raise CliError(
                f"{self.provider} answered HTTP {status} with a body that is not JSON: "
                f"{raw[:300].decode('utf-8', 'replace')}"
            ) from None


def provider_error(provider: str, status: int, raw: bytes) -> str:
    """The provider's own error, plainly: Twilio `message`/`code`/`more_info` (or RFC 9457
    `title`/`detail`), Vonage `title`/`detail`/`invalid_parameters`."""
    try:
        doc = json.loads(raw)
    except ValueError:
        doc = None
    if not isinstance(doc, dict):
        text = raw[:300].decode("utf-8", "replace").strip()
        return f"{provider} answered HTTP {status}" + (f": {text}" if text else "")
    code = doc.get("code")
    head = f"{provider} answered HTTP {status}" + (f" (error {code})" if code is not None else "")
    parts = [
        str(doc[k]) for k in ("message", "title", "detail") if isinstance(doc.get(k), str | int) and doc[k]
    ]
    lines = [f"{head}: {' — '.join(parts) or json.dumps(doc)[:300]}"]
    for problem in doc.get("invalid_parameters") or doc.get("errors") or []:
        if isinstance(problem, dict):
            name = problem.get("name") or problem.get("pointer") or problem.get("field") or "?"
            reason = problem.get("reason") or problem.get("detail") or problem.get("message") or ""
            lines.append(f"  {name}: {reason}")
    more = doc.get("more_info") or doc.get("type")
    if isinstance(more, str) and more:
        lines.append(f"  see {more}")
    return "\n".join(lines)


def _api_base(env_name: str, default: str) -> str:
    return (os.environ.get(env_name) or default).rstrip("/")


# --- where the stack is --------------------------------------------------------------------------


@dataclass
class Deployment:
    urls: dict[str, str]  # output name -> public URL
    source: str  # how the URLs were found, for the user
    read_secret: Callable[[], str] | None = None  # the stack's provider secrets document
    _secrets: ProviderSecrets | None = field(default=None, init=False, repr=False)

    def secrets(self) -> ProviderSecrets:
        """The stack's provider secrets, read once."""
        from shared.config import ProviderSecrets
        from shared.errors import ConfigError

        if self._secrets is None:
            if self.read_secret is None:
                raise CliError("no stack given (--stack NAME): no secret to read")
            try:
                self._secrets = ProviderSecrets.from_json(self.read_secret(), source="the stack's secret")
            except ConfigError as exc:
                raise CliError(str(exc)) from None
        return self._secrets


def check_base_url(value: str) -> str:
    parts = urlsplit(value.strip())
    try:
        port_ok = parts.port is None or parts.port > 0
    except ValueError:
        port_ok = False
    if parts.scheme not in ("http", "https") or not parts.hostname or not port_ok:
        raise CliError(f"--base-url must look like https://host[:port][/prefix], got {value!r}", EXIT_USAGE)
    if parts.username or parts.password:
        raise CliError("--base-url must not carry credentials (the providers drop them)", EXIT_USAGE)
    if parts.query or parts.fragment:
        raise CliError("--base-url must not have a query or fragment", EXIT_USAGE)
    return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"


def read_stack(
    name: str, *, region: str | None, profile: str | None
) -> tuple[dict[str, str], dict[str, str], Callable[[], str]]:
    """The stack's outputs, its parameters, and a reader of its provider secret (as cli.stack_target)."""
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        session = boto3.session.Session(region_name=region, profile_name=profile)
        stacks = session.client("cloudformation").describe_stacks(StackName=name)["Stacks"]
    except (ClientError, BotoCoreError) as exc:
        raise CliError(f"cannot read stack {name!r}: {exc}") from None
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}
    parameters = {p["ParameterKey"]: p.get("ParameterValue", "") for p in stacks[0].get("Parameters", [])}

    def read_secret() -> str:
        if "SecretArn" not in outputs:
            raise CliError(f"stack {name!r} has no SecretArn output")
        try:
            value: str = session.client("secretsmanager").get_secret_value(SecretId=outputs["SecretArn"])[
                "SecretString"
            ]
        except (ClientError, BotoCoreError) as exc:
            raise CliError(f"cannot read the stack's secret: {exc}") from None
        return value

    return outputs, parameters, read_secret


def _urls_on(base: str) -> dict[str, str]:
    return {name: base + path for name, path in {**ROUTE_OUTPUTS, **BASE_ROUTES}.items()}


def deployment(args: argparse.Namespace) -> Deployment:
    stack = getattr(args, "stack", None)
    if args.base_url:
        base = check_base_url(args.base_url)
        read_secret = read_stack(stack, region=args.region, profile=args.profile)[2] if stack else None
        return Deployment(_urls_on(base), f"--base-url {base}", read_secret)
    if not stack:
        return Deployment({}, "", None)
    outputs, parameters, read_secret = read_stack(stack, region=args.region, profile=args.profile)
    public = parameters.get("PublicBaseUrl", "").strip()
    if public:
        # The functions verify Twilio's signature over PublicBaseUrl + path: that is the URL to give.
        base = check_base_url(public)
        return Deployment(_urls_on(base), f"stack {stack} (its PublicBaseUrl {base})", read_secret)
    missing = [output for output in (*ROUTE_OUTPUTS, BASE_OUTPUT) if output not in outputs]
    if missing:
        raise CliError(
            f"stack {stack!r} has no output {', '.join(missing)} (deployed from an older template?)"
        )
    base = check_base_url(outputs[BASE_OUTPUT])
    urls = {o: outputs[o] for o in ROUTE_OUTPUTS} | {n: base + p for n, p in BASE_ROUTES.items()}
    return Deployment(urls, f"stack {stack}", read_secret)


def _require_urls(dep: Deployment) -> None:
    if not dep.urls:
        raise CliError(
            "where should the provider call? Give --stack NAME (a deployed stack's outputs) or "
            "--base-url URL (a custom domain or a tunnel to the local stack)",
            EXIT_USAGE,
        )


# --- diffs ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    field: str
    before: Any
    after: Any


def _shown(value: Any) -> str:
    if value is ABSENT or value is None:
        return ABSENT
    if isinstance(value, str):
        return value
    if isinstance(value, list | tuple):
        return ",".join(str(v) for v in value)
    return json.dumps(value)


def print_changes(changes: Sequence[Change], indent: str = "  ") -> None:
    width = max(len(c.field) for c in changes)
    for c in changes:
        print(f"{indent}{c.field:{width}}  {_shown(c.before)} → {_shown(c.after)}")


# --- Twilio Verify Push --------------------------------------------------------------------------


def event_types(values: Iterable[str] | None) -> list[str]:
    """--events, repeatable or comma-separated; `*` alone when it is among them."""
    chosen: list[str] = []
    for value in values or ["*"]:
        for item in value.split(","):
            item = item.strip()
            if not item:
                continue
            if item not in TWILIO_EVENT_TYPES:
                raise CliError(
                    f"unknown Verify Push event type {item!r}; one of: {', '.join(TWILIO_EVENT_TYPES)}",
                    EXIT_USAGE,
                )
            if item not in chosen:
                chosen.append(item)
    if not chosen:
        raise CliError("--events is empty", EXIT_USAGE)
    return ["*"] if "*" in chosen else chosen


def twilio_credentials(args: argparse.Namespace, dep: Deployment) -> tuple[str, str]:
    """The account SID and auth token: flags, else env, else the stack's secret (first token)."""
    sid = args.account_sid or os.environ.get("TWILIO_ACCOUNT_SID") or None
    token = args.auth_token or os.environ.get("TWILIO_AUTH_TOKEN") or None
    if token:
        if not sid:
            raise CliError("an auth token needs its account: --account-sid or TWILIO_ACCOUNT_SID", EXIT_USAGE)
        return sid, token
    if dep.read_secret is None:
        raise CliError(
            "no Twilio credentials: --stack NAME reads them from the stack's secret (twilio.auth_tokens); "
            "or set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN (or --account-sid / --auth-token)",
            EXIT_USAGE,
        )
    tokens: dict[str, tuple[str, ...]] = dict(dep.secrets().twilio_auth_tokens)
    if not tokens:
        raise CliError("the stack's secret has no twilio.auth_tokens; give --account-sid and --auth-token")
    if sid:
        if sid not in tokens:
            raise CliError(f"the stack's secret has no twilio.auth_tokens entry for account {sid}")
        return sid, tokens[sid][0]
    if len(tokens) > 1:
        raise CliError(
            f"the stack's secret has {len(tokens)} Twilio accounts ({', '.join(tokens)}); "
            "choose one with --account-sid",
            EXIT_USAGE,
        )
    sid = next(iter(tokens))
    return sid, tokens[sid][0]


def twilio_pages(
    api: Api, collection: str, key: str, query: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    """Every item of a Twilio list, following meta.next_page_url (always on the configured host)."""
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(collection))
    url: str | None = f"{collection}?{urlencode({**(query or {}), 'PageSize': '100'})}"
    items: list[dict[str, Any]] = []
    for _ in range(MAX_PAGES):
        if url is None:
            return items
        _, page = api.send(ApiRequest("GET", url))
        if not isinstance(page, dict):
            raise CliError(f"Twilio answered the {key} list with something other than a JSON object")
        meta = page.get("meta") or {}
        items.extend(h for h in page.get(meta.get("key") or key) or [] if isinstance(h, dict))
        following = meta.get("next_page_url")
        if following:
            parts = urlsplit(following)
            url = f"{origin}{parts.path}" + (f"?{parts.query}" if parts.query else "")
        else:
            url = None
    raise CliError(f"Twilio's {key} list did not end after {MAX_PAGES} pages")


def twilio_webhooks(api: Api, collection: str) -> list[dict[str, Any]]:
    """Every webhook of the Verify service."""
    return twilio_pages(api, collection, "webhooks")


def _ours(hooks: list[dict[str, Any]], url: str | None, name: str) -> list[dict[str, Any]]:
    """Ours: the webhooks calling our URL; when none does, the ones with our friendly name."""
    by_url = [h for h in hooks if url and h.get("webhook_url") == url]
    return by_url or [h for h in hooks if h.get("friendly_name") == name]


def _print_table(rows: Sequence[Sequence[str]]) -> None:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip())


def cmd_twilio(args: argparse.Namespace) -> int:
    if args.event_streams:
        return cmd_event_streams(args)
    if args.service is None:
        raise CliError(
            "--service VA… is required (the Verify Service whose Push webhook to set), "
            "unless --event-streams",
            EXIT_USAGE,
        )
    service = args.service.strip()
    if not SERVICE_SID.match(service):
        raise CliError(f"--service wants a Verify Service SID (VA + 32 hex), got {service!r}", EXIT_USAGE)
    events = event_types(args.events)
    dep = deployment(args)
    url = dep.urls.get("TwilioVerifyPushUrl")
    if not args.list and not args.remove:
        _require_urls(dep)
    name = args.friendly_name or DEFAULT_FRIENDLY_NAME
    sid, token = twilio_credentials(args, dep)
    api = Api("Twilio", sid, token)
    collection = (
        f"{_api_base(TWILIO_API_ENV, TWILIO_API_DEFAULT)}/Services/{quote(service, safe='')}/Webhooks"
    )
    hooks = twilio_webhooks(api, collection)
    ours = _ours(hooks, url, name)
    print(f"Twilio Verify service {service} (account {sid})" + (f", URL from {dep.source}" if url else ""))
    if args.list:
        return _twilio_list(hooks, ours)
    if args.remove:
        return _twilio_remove(api, collection, ours, dry_run=args.dry_run)
    assert url is not None
    code = _twilio_connect(api, collection, ours, url=url, name=name, events=events, args=args)
    _check_twilio_secret(dep, sid)
    return code


def _twilio_list(hooks: list[dict[str, Any]], ours: list[dict[str, Any]]) -> int:
    if not hooks:
        print("no webhooks")
        return EXIT_OK
    rows = [("", "SID", "NAME", "STATUS", "VERSION", "METHOD", "EVENTS", "URL")]
    for h in hooks:
        rows.append(
            (
                "*" if h in ours else "",
                str(h.get("sid", "")),
                str(h.get("friendly_name", "")),
                str(h.get("status", "")),
                str(h.get("version", "")),
                str(h.get("webhook_method", "")),
                _shown(h.get("event_types") or []),
                str(h.get("webhook_url", "")),
            )
        )
    _print_table(rows)
    if ours:
        print("(* = Switchboard's)")
    return EXIT_OK


def _twilio_remove(api: Api, collection: str, ours: list[dict[str, Any]], *, dry_run: bool) -> int:
    if not ours:
        print("no Switchboard webhook on this service: nothing to remove")
        return EXIT_OK
    for hook in ours:
        request = ApiRequest("DELETE", f"{collection}/{quote(str(hook.get('sid')), safe='')}")
        label = f'webhook {hook.get("sid")} "{hook.get("friendly_name")}" → {hook.get("webhook_url")}'
        if dry_run:
            print(f"would delete {label}:")
            print(request.show())
            continue
        status, _ = api.send(request)
        print(f"deleted {label} (HTTP {status})")
    if dry_run:
        print("dry run: nothing was changed")
    return EXIT_OK


def _twilio_connect(
    api: Api,
    collection: str,
    ours: list[dict[str, Any]],
    *,
    url: str,
    name: str,
    events: list[str],
    args: argparse.Namespace,
) -> int:
    wanted: dict[str, Any] = {  # in the SDK's parameter order
        "event_types": events,
        "webhook_url": url,
        "status": "enabled",
        "version": args.version,
    }
    params = {
        "webhook_url": "WebhookUrl",
        "event_types": "EventTypes",
        "status": "Status",
        "version": "Version",
    }
    if not ours:
        changes = [Change(k, ABSENT, v) for k, v in {"friendly_name": name, **wanted}.items()]
        form: list[tuple[str, str]] = [("FriendlyName", name)]
        request_url, verb = collection, "create"
    else:
        hook = ours[0]
        for other in ours[1:]:
            print(
                f"warning: another webhook also looks like ours, left as it is: {other.get('sid')}",
                file=sys.stderr,
            )
        changes = [
            Change(k, hook.get(k, ABSENT), v) for k, v in wanted.items() if not _same(k, hook.get(k), v)
        ]
        form = []
        request_url, verb = f"{collection}/{quote(str(hook.get('sid')), safe='')}", "update"
        _note_method(hook, args.method)
        if not changes:
            print(
                f'already connected: webhook {hook.get("sid")} "{hook.get("friendly_name")}" → {url} '
                f"(events {_shown(hook.get('event_types'))}, {hook.get('status')}, {hook.get('version')})"
            )
            return EXIT_OK
    for change in changes:
        if change.field == "friendly_name":
            continue
        values = change.after if isinstance(change.after, list) else [change.after]
        form.extend((params[change.field], str(v)) for v in values)
    target = (
        "new webhook"
        if verb == "create"
        else f'webhook {ours[0].get("sid")} "{ours[0].get("friendly_name")}"'
    )
    print(f"{'would ' + verb if args.dry_run else verb[:-1] + 'ing'} {target}:")
    print_changes(changes)
    request = ApiRequest("POST", request_url, urlencode(form).encode(), "application/x-www-form-urlencoded")
    if args.dry_run:
        print(request.show())
        print("dry run: nothing was changed")
        return EXIT_OK
    status, answer = api.send(request)
    answer = answer if isinstance(answer, dict) else {}
    print(f"{verb}d webhook {answer.get('sid', '')} → {answer.get('webhook_url', url)} (HTTP {status})")
    if verb == "create":
        _note_method(answer, args.method)
    return EXIT_OK


def _same(key: str, current: Any, wanted: Any) -> bool:
    if key == "event_types":
        return isinstance(current, list) and set(current) == set(wanted)
    return bool(current == wanted)


def _note_method(hook: dict[str, Any], method: str) -> None:
    current = hook.get("webhook_method")
    if current and current != method:
        print(
            f"note: Twilio calls this webhook with {current}, not {method}; the Verify API has no parameter "
            "to change it (set it in the Console if you want). Switchboard accepts both.",
            file=sys.stderr,
        )


def _check_twilio_secret(dep: Deployment, sid: str) -> None:
    if dep.read_secret is None:
        return
    try:
        tokens = dep.secrets().twilio_auth_tokens
    except CliError as exc:
        print(f"note: could not check the stack's secret: {exc}", file=sys.stderr)
        return
    if sid not in tokens:
        print(
            f"warning: the stack's secret has no twilio.auth_tokens entry for {sid}: every webhook "
            "will be rejected (unknown_account). Add the account's auth token to the secret.",
            file=sys.stderr,
        )


# --- Twilio Event Streams (Verify verification events) -------------------------------------------

SINK_DESCRIPTION: Final = "switchboard"
SUBSCRIPTION_DESCRIPTION: Final = "switchboard: Verify verification events"
NEW_SINK: Final = "<the new sink's SID>"


def cmd_event_streams(args: argparse.Namespace) -> int:
    """Find or create our webhook sink, then subscribe it to the Verify types it does not get yet."""
    if args.service is not None or args.events:
        raise CliError(
            "--event-streams sets up the account's Event Streams: it takes no --service or --events "
            "(run `connect twilio --service VA…` for the Verify Push webhook)",
            EXIT_USAGE,
        )
    dep = deployment(args)
    _require_urls(dep)
    url = dep.urls["TwilioEventStreamsUrl"]
    sid, token = twilio_credentials(args, dep)
    api = Api("Twilio", sid, token)
    base = _api_base(TWILIO_EVENTS_API_ENV, TWILIO_EVENTS_API_DEFAULT)
    sinks = twilio_pages(api, f"{base}/Sinks", "sinks")
    print(f"Twilio Event Streams (account {sid}), URL from {dep.source}")
    sink = _our_sink(sinks, url)
    covered: dict[str, tuple[str, Any]] = {}
    if sink is None:
        sink = _create_sink(api, base, url, dry_run=args.dry_run)
    else:
        print(f'found sink {sink.get("sid")} "{sink.get("description", "")}" → {url} ({sink.get("status")})')
        _note_sink_method(sink)
        if sink.get("status") == "active":
            covered = _subscribed_types(api, base, str(sink.get("sid")))
    if sink.get("status") != "active":
        _print_validation(base, sink, url)
        code = EXIT_ERROR
    else:
        _subscribe(api, base, sink, covered, url=url, dry_run=args.dry_run)
        code = EXIT_OK
    _check_twilio_secret(dep, sid)
    return code


def _sink_config(sink: dict[str, Any]) -> dict[str, Any]:
    """The sink's configuration: an object in Twilio's answers (a JSON string is read too)."""
    config = sink.get("sink_configuration")
    if isinstance(config, str):
        try:
            config = json.loads(config)
        except ValueError:
            return {}
    return config if isinstance(config, dict) else {}


def _our_sink(sinks: list[dict[str, Any]], url: str) -> dict[str, Any] | None:
    """Ours: the sink delivering to our URL (a sink for any other URL is never touched)."""
    ours = [s for s in sinks if _sink_config(s).get("destination") == url]
    ours.sort(key=lambda s: s.get("status") != "active")  # an active one first
    for other in ours[1:]:
        print(f"warning: sink {other.get('sid')} also delivers to {url}; left as it is", file=sys.stderr)
    return ours[0] if ours else None


def _note_sink_method(sink: dict[str, Any]) -> None:
    method = str(_sink_config(sink).get("method") or "POST")
    if method.upper() != "POST":
        print(
            f"warning: sink {sink.get('sid')} calls with {method.upper()}, not POST; the Events API can "
            "only change a sink's description: delete the sink and run this command again",
            file=sys.stderr,
        )


def _form(url: str, form: list[tuple[str, str]]) -> ApiRequest:
    return ApiRequest("POST", url, urlencode(form).encode(), "application/x-www-form-urlencoded")


def _create_sink(api: Api, base: str, url: str, *, dry_run: bool) -> dict[str, Any]:
    """Our webhook sink, created (webhook sinks start active); on --dry-run the planned one."""
    config = json.dumps({"destination": url, "method": "POST"})
    wanted = {"description": SINK_DESCRIPTION, "sink_configuration": config, "sink_type": "webhook"}
    print(f"{'would create' if dry_run else 'creating'} a webhook sink:")
    print_changes([Change(k, ABSENT, v) for k, v in wanted.items()])
    request = _form(
        f"{base}/Sinks",
        [("Description", SINK_DESCRIPTION), ("SinkConfiguration", config), ("SinkType", "webhook")],
    )
    if dry_run:
        print(request.show())
        return {"sid": NEW_SINK, "status": "active"}
    status, answer = api.send(request)
    sink = answer if isinstance(answer, dict) else {}
    print(f"created sink {sink.get('sid', '')} → {url} ({sink.get('status')}, HTTP {status})")
    return sink


def _subscribed_types(api: Api, base: str, sink_sid: str) -> dict[str, tuple[str, Any]]:
    """Event type -> (subscription SID, schema version), over every subscription of the sink."""
    covered: dict[str, tuple[str, Any]] = {}
    subscriptions = twilio_pages(api, f"{base}/Subscriptions", "subscriptions", {"SinkSid": sink_sid})
    for subscription in subscriptions:
        if subscription.get("sink_sid", sink_sid) != sink_sid:
            continue  # the filter is Twilio's: never count another sink's subscription
        sub_sid = str(subscription.get("sid"))
        events = twilio_pages(
            api, f"{base}/Subscriptions/{quote(sub_sid, safe='')}/SubscribedEvents", "types"
        )
        for event in events:
            covered.setdefault(str(event.get("type")), (sub_sid, event.get("schema_version")))
    return covered


def _subscribe(
    api: Api,
    base: str,
    sink: dict[str, Any],
    covered: dict[str, tuple[str, Any]],
    *,
    url: str,
    dry_run: bool,
) -> None:
    """A subscription for the Verify types the sink does not get yet (none when it gets them all)."""
    sink_sid = str(sink.get("sid"))
    for kind, (sub_sid, version) in covered.items():
        if kind in VERIFY_EVENT_TYPES and version != VERIFY_SCHEMA_VERSION:
            print(
                f"note: subscription {sub_sid} gets {kind} in schema version {version}, not "
                f"{VERIFY_SCHEMA_VERSION}; left as it is",
                file=sys.stderr,
            )
    missing = [kind for kind in VERIFY_EVENT_TYPES if kind not in covered]
    if not missing:
        subscriptions = ", ".join(sorted({covered[kind][0] for kind in VERIFY_EVENT_TYPES}))
        print(
            f"already connected: sink {sink_sid} → {url} (active); subscription {subscriptions} "
            f"covers the {len(VERIFY_EVENT_TYPES)} Verify verification event types"
        )
        return
    form = [("Description", SUBSCRIPTION_DESCRIPTION), ("SinkSid", sink_sid)]
    form += [
        ("Types", json.dumps({"type": kind, "schema_version": VERIFY_SCHEMA_VERSION})) for kind in missing
    ]
    print(f"{'would create' if dry_run else 'creating'} a subscription for sink {sink_sid}, types:")
    for kind in missing:
        print(f"  + {kind} (schema version {VERIFY_SCHEMA_VERSION})")
    request = _form(f"{base}/Subscriptions", form)
    if dry_run:
        print(request.show())
        print("dry run: nothing was changed")
        return
    status, answer = api.send(request)
    answer = answer if isinstance(answer, dict) else {}
    print(f"created subscription {answer.get('sid', '')} → sink {sink_sid} (HTTP {status})")


def _print_validation(base: str, sink: dict[str, Any], url: str) -> None:
    """A sink that is not active gets no events, and Twilio refuses to subscribe it: how to validate."""
    sid = quote(str(sink.get("sid")), safe="")
    print(
        f"sink {sink.get('sid')} → {url} is {sink.get('status') or 'of unknown status'}, not active: "
        "Twilio sends it no events and creates no subscription for it until it is validated:"
    )
    print(f"  1. POST {base}/Sinks/{sid}/Test")
    print(f"     Twilio sends a test event (type com.twilio.eventstreams.test-event) to {url}")
    print(f"  2. POST {base}/Sinks/{sid}/Validate   with the form field TestId=<data.test_id of that event>")
    print("  then run this command again (same account credentials, HTTP Basic).")


# --- Vonage application --------------------------------------------------------------------------


@dataclass
class _Planner:
    body: dict[str, Any]
    changes: list[Change] = field(default_factory=list)

    def node(self, path: Sequence[str]) -> dict[str, Any]:
        node = self.body
        for key in path:
            child = node.get(key)
            if child is None:
                child = node[key] = {}
            if not isinstance(child, dict):
                raise CliError(
                    f"the application's {'.'.join(path)} is not an object; fix it in the dashboard"
                )
            node = child
        return node

    def get(self, path: Sequence[str]) -> Any:
        node: Any = self.body
        for key in path:
            if not isinstance(node, dict) or key not in node:
                return ABSENT
            node = node[key]
        return node

    def set(self, path: Sequence[str], value: Any) -> None:
        before = self.get(path)
        if before == value:
            return
        self.node(path[:-1])[path[-1]] = value
        self.changes.append(Change(".".join(path), before, value))


def plan_vonage(app: dict[str, Any], urls: dict[str, str]) -> tuple[dict[str, Any], list[Change]]:
    """The PUT body (the application as read, only our webhook fields changed) and the changes."""
    body = copy.deepcopy(app)
    for read_only in ("id", "_links"):  # the response's own fields (HAL), not part of a PUT
        body.pop(read_only, None)
    plan = _Planner(body)
    caps = ("capabilities",)
    plan.set((*caps, "verify", "webhooks", "status_url", "address"), urls["VonageVerifyStatusUrl"])
    plan.set((*caps, "verify", "webhooks", "status_url", "http_method"), "POST")
    if plan.get((*caps, "messages")) in (ABSENT, None):
        plan.set((*caps, "messages", "version"), "v1")  # the Messages webhook format the samples use
    for hook, output in (
        ("inbound_url", "VonageMessagesInboundUrl"),
        ("status_url", "VonageMessagesStatusUrl"),
    ):
        plan.set((*caps, "messages", "webhooks", hook, "address"), urls[output])
        plan.set((*caps, "messages", "webhooks", hook, "http_method"), "POST")
    # The answer and fallback URLs keep POST if the application uses it, else GET (Vonage's default).
    for hook, output in (
        ("answer_url", "VonageVoiceAnswerUrl"),
        ("fallback_answer_url", "VonageVoiceFallbackUrl"),
    ):
        ncco = (*caps, "voice", "webhooks", hook)
        plan.set((*ncco, "address"), urls[output])
        plan.set((*ncco, "http_method"), "POST" if plan.get((*ncco, "http_method")) == "POST" else "GET")
    plan.set((*caps, "voice", "webhooks", "event_url", "address"), urls["VonageVoiceEventUrl"])
    plan.set((*caps, "voice", "webhooks", "event_url", "http_method"), "POST")
    # The voice routes accept signed webhooks only (an unsigned answer request gets 503).
    plan.set((*caps, "voice", "signed_callbacks"), True)
    # RTC (Conversation) events: their own event_url, signed like Voice (providers-more.md §1.2-1.3).
    plan.set((*caps, "rtc", "webhooks", "event_url", "address"), urls["VonageRtcEventUrl"])
    plan.set((*caps, "rtc", "webhooks", "event_url", "http_method"), "POST")
    plan.set((*caps, "rtc", "signed_callbacks"), True)
    # Vonage's SDK: "Don't set the `version` field [of verify] when creating or updating an application."
    verify = body.get("capabilities", {}).get("verify")
    if isinstance(verify, dict):
        verify.pop("version", None)
    return body, plan.changes


def cmd_vonage(args: argparse.Namespace) -> int:
    dep = deployment(args)
    _require_urls(dep)
    key = args.api_key or os.environ.get("VONAGE_API_KEY") or ""
    secret = args.api_secret or os.environ.get("VONAGE_API_SECRET") or ""
    if not key or not secret:
        raise CliError(
            "no Vonage API credentials: set VONAGE_API_KEY and VONAGE_API_SECRET (or --api-key / --api-secret)",
            EXIT_USAGE,
        )
    app_id = args.application.strip()
    if not app_id:
        raise CliError("--application is empty", EXIT_USAGE)
    api = Api("Vonage", key, secret)
    url = f"{_api_base(VONAGE_API_ENV, VONAGE_API_DEFAULT)}/v2/applications/{quote(app_id, safe='')}"
    _, app = api.send(ApiRequest("GET", url))
    if not isinstance(app, dict):
        raise CliError("Vonage answered the application read with something other than a JSON object")
    print(f'Vonage application {app_id} "{app.get("name", "")}", URLs from {dep.source}')
    body, changes = plan_vonage(app, dep.urls)
    if not changes:
        print("already connected: Verify, Messages, Voice and RTC webhooks point at Switchboard")
    else:
        print(f"{'would change' if args.dry_run else 'changing'}:")
        print_changes(changes)
        request = ApiRequest(
            "PUT", url, json.dumps(body, indent=2, ensure_ascii=False).encode("utf-8"), "application/json"
        )
        if args.dry_run:
            print(request.show())
            print("dry run: nothing was changed")
        else:
            status, answer = api.send(request)
            print(f"updated the application (HTTP {status})")
            if isinstance(answer, dict):
                _, left = plan_vonage(answer, dep.urls)
                for change in left:
                    print(
                        f"warning: Vonage did not keep {change.field} = {_shown(change.after)} "
                        f"(it answered {_shown(change.before)})",
                        file=sys.stderr,
                    )
    method = _check_vonage_secret(dep, key, app_id)
    print_sms_settings(dep.urls, method)
    print_dispatch_settings(dep.urls)
    print_short_code_settings(dep.urls)
    print_number_insight_callback(dep.urls)
    return EXIT_OK


def _check_vonage_secret(dep: Deployment, api_key: str, app_id: str) -> str | None:
    """Warn when the stack's secret would reject this application's webhooks; the SMS method set."""
    if dep.read_secret is None:
        return None
    try:
        secrets = dep.secrets()
    except CliError as exc:
        print(f"note: could not check the stack's secret: {exc}", file=sys.stderr)
        return None
    if api_key not in secrets.vonage_signature_secrets:
        print(
            "warning: the stack's secret has no vonage.signature_secrets for the API key you used: "
            "every signed webhook will be rejected (unknown_api_key). Add the account's signature secret "
            "(Dashboard → Settings).",
            file=sys.stderr,
        )
    if secrets.vonage_application_ids and app_id not in secrets.vonage_application_ids:
        print(
            f"warning: vonage.application_ids in the stack's secret does not list {app_id}: its webhooks "
            "will be rejected (application_not_allowed). Add it to the list.",
            file=sys.stderr,
        )
    return secrets.sms_method(api_key)


def print_sms_settings(urls: dict[str, str], method: str | None) -> None:
    signature = (
        f"{method} (vonage.sms_signature_methods in the stack's secret; the two must match)"
        if method
        else "the one in vonage.sms_signature_methods of the stack's secret (default md5hash); the two must match"
    )
    print()
    print("Set by hand (the SMS API settings have no API): Dashboard → API settings → SMS settings")
    _print_table(
        [
            ("  Inbound SMS webhook URL", urls["VonageSmsInboundUrl"]),
            ("  Delivery receipts webhook URL", urls["VonageSmsReceiptUrl"]),
            ("  HTTP method", "GET, POST or POST-JSON (all work)"),
            ("  Signed messages", "ask Vonage support to enable them for your API key"),
            ("  Signature method", signature),
        ]
    )


def print_dispatch_settings(urls: dict[str, str]) -> None:
    """Dispatch has no setting of its own: its callbacks go to the sending application's Messages
    status URL (providers-more.md §2.2), which connect points at the Messages route."""
    print()
    print("Vonage Dispatch (closed to new users since 31 August 2025; no setting of its own)")
    print(
        "  A workflow's callbacks (each message's status, then the final report) are POSTed to the Messages\n"
        "  Status URL of the application that sends it: for this one "
        f"{urls['VonageMessagesStatusUrl']},\n"
        "  the route for Messages API callbacks. Send Dispatch workflows from a separate application and\n"
        "  set in Dashboard → Applications → that application → Messages:"
    )
    _print_table(
        [
            ("    Status URL", urls["VonageDispatchStatusUrl"]),
            ("    Inbound URL", f"{urls['VonageMessagesInboundUrl']} (as here)"),
        ]
    )


def print_short_code_settings(urls: dict[str, str]) -> None:
    """US Short Codes have no webhook API and no signature: a secret URL token authenticates them
    (shown as a placeholder, like the Number Insight token: connect never prints a secret)."""
    query = "?token=<short_codes_token>"
    print()
    print("US Short Codes (set in the Dashboard; no API): append the short_codes_token of the stack's secret")
    _print_table(
        [
            ("  Delivery receipts URL", urls["VonageShortCodesReceiptUrl"] + query),
            ("  Inbound (STOP) URL", urls["VonageShortCodesInboundUrl"] + query),
        ]
    )
    print(
        "  Short-code receipts go to the account's default delivery-receipt webhook (Dashboard → API settings),\n"
        "  the one SMS API receipts use too unless a message sets its own `callback`: if this account also\n"
        f"  sends SMS, send them with callback={urls['VonageSmsReceiptUrl']} or use a separate\n"
        "  (sub-)account for short codes. STOP requests go to the inbound webhook set for the short code\n"
        "  (Dashboard → Numbers → Your numbers; else the account's default inbound SMS webhook)."
    )


def print_number_insight_callback(urls: dict[str, str]) -> None:
    print()
    print("Number Insight Advanced Async: the `callback` parameter of each request (not a setting)")
    print(f"  {urls['VonageNumberInsightCallbackUrl']}?token=<number_insight_token from the stack's secret>")


# --- parser --------------------------------------------------------------------------------------


def add_parser(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
    with_target: Callable[[argparse.ArgumentParser], argparse.ArgumentParser],
) -> None:
    """Register `switchboard connect {twilio,vonage}`."""
    p = sub.add_parser(
        "connect",
        help="point the Twilio and Vonage webhooks at a deployed stack (idempotent)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    providers = p.add_subparsers(dest="provider", required=True, metavar="PROVIDER")

    def common(q: argparse.ArgumentParser) -> argparse.ArgumentParser:
        with_target(q)
        for action in q._actions:  # with_target's wording is for the commands that default to local
            if action.dest == "stack":
                action.help = "a deployed stack: the URLs from its outputs; its secret is read too"
        q.add_argument(
            "--base-url", help="public base URL instead of the stack's (a custom domain, a tunnel)"
        )
        q.add_argument(
            "--dry-run", action="store_true", help="show the changes and the requests; change nothing"
        )
        return q

    t = common(
        providers.add_parser(
            "twilio",
            help="create or update the Verify Service webhook for /twilio/verify-push (or, with "
            "--event-streams, the Event Streams sink for /twilio/event-streams)",
            description="Create or update the Verify Push webhook of a Verify Service (Twilio Verify API v2); "
            "with --event-streams, find or create the account's Event Streams webhook sink and subscribe it "
            "to the Verify verification events (Twilio Events API v1).",
        )
    )
    t.add_argument(
        "--service", metavar="VA…", help="the Verify Service SID (required without --event-streams)"
    )
    t.add_argument(
        "--events",
        action="append",
        metavar="TYPE[,TYPE…]",
        help=f"event types, repeatable or comma-separated (default *): {', '.join(TWILIO_EVENT_TYPES[1:])}",
    )
    t.add_argument("--version", choices=["v1", "v2"], default="v2", help="webhook version (default v2)")
    t.add_argument(
        "--method",
        type=str.upper,
        choices=["GET", "POST"],
        default="POST",
        help="the method you expect Twilio to use (the API cannot set it; a difference is reported)",
    )
    t.add_argument(
        "--friendly-name",
        help=f"our webhook's name, used to find it when its URL changed (default {DEFAULT_FRIENDLY_NAME})",
    )
    t.add_argument(
        "--account-sid", help="Twilio account SID (default $TWILIO_ACCOUNT_SID or the stack's secret)"
    )
    t.add_argument("--auth-token", help="its auth token (prefer $TWILIO_AUTH_TOKEN: flags show in `ps`)")
    action = t.add_mutually_exclusive_group()
    action.add_argument("--list", action="store_true", help="list the service's webhooks")
    action.add_argument("--remove", action="store_true", help="delete Switchboard's webhook")
    action.add_argument(
        "--event-streams",
        action="store_true",
        help="instead: a webhook sink for /twilio/event-streams subscribed to the Verify verification "
        "events (account-wide: no --service)",
    )
    t.set_defaults(func=cmd_twilio)

    v = common(
        providers.add_parser(
            "vonage",
            help="set the application's Verify, Messages, Voice and RTC webhook URLs",
            description="Point a Vonage application's Verify, Messages, Voice and RTC webhooks at the stack "
            "(Application API v2), keeping every other setting; print what has to be set by hand.",
        )
    )
    v.add_argument("--application", required=True, metavar="ID", help="the Vonage application ID")
    v.add_argument("--api-key", help="Vonage API key (default $VONAGE_API_KEY)")
    v.add_argument("--api-secret", help="Vonage API secret (prefer $VONAGE_API_SECRET: flags show in `ps`)")
    v.set_defaults(func=cmd_vonage)
