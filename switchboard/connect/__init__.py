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
from collections.abc import Callable

from switchboard.connect.common import BASE_OUTPUT, BASE_ROUTES, ROUTE_OUTPUTS
from switchboard.connect.event_streams import cmd_event_streams
from switchboard.connect.verify_push import DEFAULT_FRIENDLY_NAME, TWILIO_EVENT_TYPES, cmd_verify_push
from switchboard.connect.vonage import cmd_vonage

__all__ = ["BASE_OUTPUT", "BASE_ROUTES", "ROUTE_OUTPUTS", "add_parser", "cmd_twilio", "cmd_vonage"]


def cmd_twilio(args: argparse.Namespace) -> int:
    """`connect twilio`: the Verify Push webhook, or with --event-streams the Event Streams sink."""
    if args.event_streams:
        return cmd_event_streams(args)
    return cmd_verify_push(args)


Targeted = Callable[[argparse.ArgumentParser], argparse.ArgumentParser]


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser], with_target: Targeted) -> None:
    """Register `switchboard connect {twilio,vonage}`."""
    p = sub.add_parser(
        "connect",
        help="point the Twilio and Vonage webhooks at a deployed stack (idempotent)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    providers = p.add_subparsers(dest="provider", required=True, metavar="PROVIDER")
    _add_twilio(providers, with_target)
    _add_vonage(providers, with_target)


def _with_common(q: argparse.ArgumentParser, with_target: Targeted) -> argparse.ArgumentParser:
    """The options of both providers: where the stack is, and --dry-run."""
    with_target(q)
    for action in q._actions:  # with_target's wording is for the commands that default to local
        if action.dest == "stack":
            action.help = "a deployed stack: the URLs from its outputs; its secret is read too"
    q.add_argument("--base-url", help="public base URL instead of the stack's (a custom domain, a tunnel)")
    q.add_argument("--dry-run", action="store_true", help="show the changes and the requests; change nothing")
    return q


def _add_twilio(
    providers: argparse._SubParsersAction[argparse.ArgumentParser], with_target: Targeted
) -> None:
    t = _with_common(
        providers.add_parser(
            "twilio",
            help="create or update the Verify Service webhook for /twilio/verify-push (or, with "
            "--event-streams, the Event Streams sink for /twilio/event-streams)",
            description="Create or update the Verify Push webhook of a Verify Service (Twilio Verify API v2); "
            "with --event-streams, find or create the account's Event Streams webhook sink and subscribe it "
            "to the Verify verification events (Twilio Events API v1).",
        ),
        with_target,
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


def _add_vonage(
    providers: argparse._SubParsersAction[argparse.ArgumentParser], with_target: Targeted
) -> None:
    v = _with_common(
        providers.add_parser(
            "vonage",
            help="set the application's Verify, Messages, Voice and RTC webhook URLs",
            description="Point a Vonage application's Verify, Messages, Voice and RTC webhooks at the stack "
            "(Application API v2), keeping every other setting; print what has to be set by hand.",
        ),
        with_target,
    )
    v.add_argument("--application", required=True, metavar="ID", help="the Vonage application ID")
    v.add_argument("--api-key", help="Vonage API key (default $VONAGE_API_KEY)")
    v.add_argument("--api-secret", help="Vonage API secret (prefer $VONAGE_API_SECRET: flags show in `ps`)")
    v.set_defaults(func=cmd_vonage)
