"""Twilio account plumbing shared by `connect twilio` and `connect twilio --event-streams`: the
credentials, paged lists, form-encoded writes and the check of the stack's secret."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any, Final
from urllib.parse import urlencode, urlsplit

from switchboard.cli import EXIT_USAGE, CliError
from switchboard.connect.common import Api, ApiRequest, Deployment

MAX_PAGES: Final = 100


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


def form_request(url: str, form: list[tuple[str, str]]) -> ApiRequest:
    return ApiRequest("POST", url, urlencode(form).encode(), "application/x-www-form-urlencoded")


def check_twilio_secret(dep: Deployment, sid: str) -> None:
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
