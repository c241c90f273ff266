"""Shared plumbing of `switchboard connect`: the providers' REST APIs, where the stack is, diffs."""

from __future__ import annotations

import argparse
import base64
import json
import os
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlsplit

from switchboard.cli import EXIT_USAGE, CliError

if TYPE_CHECKING:
    from shared.config import ProviderSecrets

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


def api_base(env_name: str, default: str) -> str:
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


def require_urls(dep: Deployment) -> None:
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


def shown(value: Any) -> str:
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
        print(f"{indent}{c.field:{width}}  {shown(c.before)} → {shown(c.after)}")


def print_table(rows: Sequence[Sequence[str]]) -> None:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip())
