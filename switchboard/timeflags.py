"""The operator commands' time flags: ``--since``/``--until`` as a duration back from now (``90s``,
``15m``, ``1h``, ``2d``, ``1w``), a date (``2026-11-23``) or an ISO 8601 time (UTC unless it says),
turned into the ``occurred_at`` text the table's index sorts by (``shared.payload.format_timestamp``).
Absolute values are ``cli._time_bound``'s, as `switchboard history` reads them."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from shared.payload import format_timestamp
from switchboard.cli import EXIT_USAGE, CliError, _time_bound

_RELATIVE = re.compile(r"(\d{1,7})([smhdw])")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def time_bound(value: str, *, now: datetime, end: bool = False, flag: str = "--since") -> str:
    """The bound as ``YYYY-MM-DDTHH:MM:SS.mmmZ``. A date alone is its first millisecond, or with
    ``end`` its last. A usage error (exit 2) names the flag and the accepted forms."""
    relative = _RELATIVE.fullmatch(value.strip())
    try:
        if relative:
            return format_timestamp(now - timedelta(seconds=int(relative[1]) * _SECONDS[relative[2]]))
        return _time_bound(value.strip(), end=end)
    except (CliError, OverflowError):  # overflow: before year 1 or past 9999 (e.g. 9999999d)
        raise CliError(
            f"{flag} wants a duration back from now (15m, 1h, 2d), a date (2026-11-23) or an ISO 8601 "
            f"time (UTC unless it says, e.g. 2026-11-23T09:30:00Z); got {value!r}",
            EXIT_USAGE,
        ) from None


def as_datetime(bound: str) -> datetime:
    """A ``time_bound`` text back as an aware datetime."""
    return datetime.fromisoformat(bound)
