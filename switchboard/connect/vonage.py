"""`switchboard connect vonage`: read the application (Vonage Application API v2,
`GET /v2/applications/{id}`) and write it back (`PUT`) with only the Verify, Messages, Voice
(answer, fallback, event) and RTC webhook URLs changed; print what has to be set by hand in the
dashboard (SMS API, Dispatch, US Short Codes, the Number Insight callback)."""

from __future__ import annotations

import argparse
import copy
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import quote

from switchboard.cli import EXIT_OK, EXIT_USAGE, CliError
from switchboard.connect.common import (
    ABSENT,
    Api,
    ApiRequest,
    Change,
    Deployment,
    api_base,
    deployment,
    print_changes,
    print_table,
    require_urls,
    shown,
)

VONAGE_API_ENV: Final = "SWITCHBOARD_VONAGE_API"
VONAGE_API_DEFAULT: Final = "https://api.nexmo.com"


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
    require_urls(dep)
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
    url = f"{api_base(VONAGE_API_ENV, VONAGE_API_DEFAULT)}/v2/applications/{quote(app_id, safe='')}"
    _, app = api.send(ApiRequest("GET", url))
    if not isinstance(app, dict):
        raise CliError("Vonage answered the application read with something other than a JSON object")
    print(f'Vonage application {app_id} "{app.get("name", "")}", URLs from {dep.source}')
    body, changes = plan_vonage(app, dep.urls)
    if not changes:
        print("already connected: Verify, Messages, Voice and RTC webhooks point at Switchboard")
    else:
        _put_application(api, url, body, changes, dep.urls, dry_run=args.dry_run)
    method = _check_vonage_secret(dep, key, app_id)
    print_sms_settings(dep.urls, method)
    print_dispatch_settings(dep.urls)
    print_short_code_settings(dep.urls)
    print_number_insight_callback(dep.urls)
    return EXIT_OK


def _put_application(
    api: Api, url: str, body: dict[str, Any], changes: list[Change], urls: dict[str, str], *, dry_run: bool
) -> None:
    """Write the application back; warn about any change Vonage did not keep."""
    print(f"{'would change' if dry_run else 'changing'}:")
    print_changes(changes)
    request = ApiRequest(
        "PUT", url, json.dumps(body, indent=2, ensure_ascii=False).encode("utf-8"), "application/json"
    )
    if dry_run:
        print(request.show())
        print("dry run: nothing was changed")
        return
    status, answer = api.send(request)
    print(f"updated the application (HTTP {status})")
    if isinstance(answer, dict):
        _, left = plan_vonage(answer, urls)
        for change in left:
            print(
                f"warning: Vonage did not keep {change.field} = {shown(change.after)} "
                f"(it answered {shown(change.before)})",
                file=sys.stderr,
            )


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
    print_table(
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
    print_table(
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
    print_table(
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
