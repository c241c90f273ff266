"""The operator commands' time flags: ``--since``/``--until`` as a duration back from now (``90s``,
``15m``, ``1h``, ``2d``, ``1w``), a date (``2026-11-23``) or an ISO 8601 time (UTC unless it says),
turned into the ``occurred_at`` text the table's index sorts by (``shared.payload.format_timestamp``).
`switchboard history` takes the absolute forms only (``absolute_bound``)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from shared.payload import format_timestamp
from switchboard.cli import EXIT_USAGE, CliError

_RELATIVE = re.compile(r"(\d{1,7})([smhdw])")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def time_bound(value: str, *, now: datetime, end: bool = False, flag: str = "--since") -> str:
    """The bound as ``YYYY-MM-DDTHH:MM:SS.mmmZ``. A date alone is its first millisecond, or with
    ``end`` its last. A usage error (exit 2) names the flag and the accepted forms."""
    relative = _RELATIVE.fullmatch(value.strip())
    try:
        if relative:
            return format_timestamp(now - timedelta(seconds=int(relative[1]) * _SECONDS[relative[2]]))
        return absolute_bound(value.strip(), end=end)
    except (ValueError, OverflowError):  # overflow: before year 1 or past 9999 (e.g. 9999999d)
        raise CliError(
            f"{flag} wants a duration back from now (15m, 1h, 2d), a date (2026-11-23) or an ISO 8601 "
            f"time (UTC unless it says, e.g. 2026-11-23T09:30:00Z); got {value!r}",
            EXIT_USAGE,
        ) from None


def absolute_bound(value: str, *, end: bool = False) -> str:
    """A date or an ISO 8601 time as the index's ``occurred_at`` text (UTC): a date alone is that
    day's first millisecond, or with ``end`` its last. ValueError or OverflowError (in UTC before
    year 1 or after 9999) when it is neither."""
    if len(value) == len("2026-11-23"):
        start = datetime.combine(date.fromisoformat(value), datetime.min.time(), UTC)
        return format_timestamp(start + timedelta(days=1, milliseconds=-1) if end else start)
    return format_timestamp(datetime.fromisoformat(value))
