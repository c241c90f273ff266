"""`switchboard connect twilio --service VA…`: the Verify Push webhook of a Verify Service
(Twilio Verify API v2, `/Services/{ServiceSid}/Webhooks`): create or update it, list, remove."""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import quote

from switchboard.cli import EXIT_OK, EXIT_USAGE, CliError
from switchboard.connect.common import (
    ABSENT,
    Api,
    ApiRequest,
    Change,
    api_base,
    deployment,
    print_changes,
    print_table,
    require_urls,
    shown,
)
from switchboard.connect.twilio_api import check_twilio_secret, form_request, twilio_credentials, twilio_pages

TWILIO_API_ENV: Final = "SWITCHBOARD_TWILIO_VERIFY_API"
TWILIO_API_DEFAULT: Final = "https://verify.twilio.com/v2"

# Twilio Verify Push webhook event types (Verify API v2, Service Webhooks: event_types).
TWILIO_EVENT_TYPES: Final = (
    "*",
    "factor.created",
    "factor.verified",
    "factor.deleted",
    "challenge.approved",
    "challenge.denied",
)
SERVICE_SID: Final = re.compile(r"^VA[0-9a-fA-F]{32}$")
DEFAULT_FRIENDLY_NAME: Final = "switchboard"


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


def twilio_webhooks(api: Api, collection: str) -> list[dict[str, Any]]:
    """Every webhook of the Verify service."""
    return twilio_pages(api, collection, "webhooks")


def _ours(hooks: list[dict[str, Any]], url: str | None, name: str) -> list[dict[str, Any]]:
    """Ours: the webhooks calling our URL; when none does, the ones with our friendly name."""
    by_url = [h for h in hooks if url and h.get("webhook_url") == url]
    return by_url or [h for h in hooks if h.get("friendly_name") == name]


def cmd_verify_push(args: argparse.Namespace) -> int:
    """Create or update, list or remove Switchboard's Verify Push webhook on the service."""
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
        require_urls(dep)
    name = args.friendly_name or DEFAULT_FRIENDLY_NAME
    sid, token = twilio_credentials(args, dep)
    api = Api("Twilio", sid, token)
    collection = f"{api_base(TWILIO_API_ENV, TWILIO_API_DEFAULT)}/Services/{quote(service, safe='')}/Webhooks"
    hooks = twilio_webhooks(api, collection)
    ours = _ours(hooks, url, name)
    print(f"Twilio Verify service {service} (account {sid})" + (f", URL from {dep.source}" if url else ""))
    if args.list:
        return _twilio_list(hooks, ours)
    if args.remove:
        return _twilio_remove(api, collection, ours, dry_run=args.dry_run)
    assert url is not None
    code = _twilio_connect(api, collection, ours, url=url, name=name, events=events, args=args)
    check_twilio_secret(dep, sid)
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
                shown(h.get("event_types") or []),
                str(h.get("webhook_url", "")),
            )
        )
    print_table(rows)
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


# The form parameter of each webhook field (Verify API v2, Service Webhooks).
PARAMS: Final = {
    "webhook_url": "WebhookUrl",
    "event_types": "EventTypes",
    "status": "Status",
    "version": "Version",
}


@dataclass(frozen=True)
class _Write:
    """One planned webhook write: create (POST to the collection) or update (POST to the webhook)."""

    verb: str  # create | update
    target: str  # the webhook, for the user
    url: str
    changes: list[Change]
    form: list[tuple[str, str]]


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
    if not ours:
        write = _plan_create(collection, name, wanted)
    else:
        found = _plan_update(collection, ours, wanted, url=url, method=args.method)
        if found is None:
            return EXIT_OK
        write = found
    return _send_write(api, write, url=url, method=args.method, dry_run=args.dry_run)


def _plan_create(collection: str, name: str, wanted: dict[str, Any]) -> _Write:
    changes = [Change(k, ABSENT, v) for k, v in {"friendly_name": name, **wanted}.items()]
    return _Write("create", "new webhook", collection, changes, [("FriendlyName", name), *_form_of(changes)])


def _plan_update(
    collection: str, ours: list[dict[str, Any]], wanted: dict[str, Any], *, url: str, method: str
) -> _Write | None:
    """The update of our webhook (the first of ours); None, said so, when it is already as wanted."""
    hook = ours[0]
    for other in ours[1:]:
        print(
            f"warning: another webhook also looks like ours, left as it is: {other.get('sid')}",
            file=sys.stderr,
        )
    changes = [Change(k, hook.get(k, ABSENT), v) for k, v in wanted.items() if not _same(k, hook.get(k), v)]
    _note_method(hook, method)
    if not changes:
        print(
            f'already connected: webhook {hook.get("sid")} "{hook.get("friendly_name")}" → {url} '
            f"(events {shown(hook.get('event_types'))}, {hook.get('status')}, {hook.get('version')})"
        )
        return None
    target = f'webhook {hook.get("sid")} "{hook.get("friendly_name")}"'
    return _Write(
        "update", target, f"{collection}/{quote(str(hook.get('sid')), safe='')}", changes, _form_of(changes)
    )


def _form_of(changes: list[Change]) -> list[tuple[str, str]]:
    """The form fields of the changes (the friendly name, set on create only, aside)."""
    form: list[tuple[str, str]] = []
    for change in changes:
        if change.field == "friendly_name":
            continue
        values = change.after if isinstance(change.after, list) else [change.after]
        form.extend((PARAMS[change.field], str(v)) for v in values)
    return form


def _send_write(api: Api, write: _Write, *, url: str, method: str, dry_run: bool) -> int:
    print(f"{'would ' + write.verb if dry_run else write.verb[:-1] + 'ing'} {write.target}:")
    print_changes(write.changes)
    request = form_request(write.url, write.form)
    if dry_run:
        print(request.show())
        print("dry run: nothing was changed")
        return EXIT_OK
    status, answer = api.send(request)
    answer = answer if isinstance(answer, dict) else {}
    print(f"{write.verb}d webhook {answer.get('sid', '')} → {answer.get('webhook_url', url)} (HTTP {status})")
    if write.verb == "create":
        _note_method(answer, method)
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
