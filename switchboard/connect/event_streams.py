"""`switchboard connect twilio --event-streams`: the account's Event Streams webhook sink for
`/twilio/event-streams`, subscribed to the Verify verification events (Twilio Events API v1,
`/Sinks`, `/Subscriptions`)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, Final
from urllib.parse import quote

from switchboard.cli import EXIT_ERROR, EXIT_OK, EXIT_USAGE, CliError
from switchboard.connect.common import ABSENT, Api, Change, api_base, deployment, print_changes, require_urls
from switchboard.connect.twilio_api import check_twilio_secret, form_request, twilio_credentials, twilio_pages

TWILIO_EVENTS_API_ENV: Final = "SWITCHBOARD_TWILIO_EVENTS_API"
TWILIO_EVENTS_API_DEFAULT: Final = "https://events.twilio.com/v1"
# Twilio Verify "Verification Status" events (Verify Events, a Pilot; providers-more.md §7.4), the
# schema version of the samples Switchboard parses (AccountSecurity.VerifyEventStreamEvent/1).
VERIFY_EVENT_TYPES: Final = tuple(
    f"com.twilio.accountsecurity.verify.verification.{status}"
    for status in ("pending", "approved", "canceled", "expired", "max-attempts-reached")
)
VERIFY_SCHEMA_VERSION: Final = 1

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
    require_urls(dep)
    url = dep.urls["TwilioEventStreamsUrl"]
    sid, token = twilio_credentials(args, dep)
    api = Api("Twilio", sid, token)
    base = api_base(TWILIO_EVENTS_API_ENV, TWILIO_EVENTS_API_DEFAULT)
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
    check_twilio_secret(dep, sid)
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


def _create_sink(api: Api, base: str, url: str, *, dry_run: bool) -> dict[str, Any]:
    """Our webhook sink, created (webhook sinks start active); on --dry-run the planned one."""
    config = json.dumps({"destination": url, "method": "POST"})
    wanted = {"description": SINK_DESCRIPTION, "sink_configuration": config, "sink_type": "webhook"}
    print(f"{'would create' if dry_run else 'creating'} a webhook sink:")
    print_changes([Change(k, ABSENT, v) for k, v in wanted.items()])
    request = form_request(
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
    request = form_request(f"{base}/Subscriptions", form)
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
