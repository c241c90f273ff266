"""Text from webhooks (subject ids, diagnostics, reasons) is attacker-controlled: shown on a terminal,
a control character or escape sequence could rewrite the screen or hide a line. ``printable``
escapes every character that is not printable (Unicode categories C*, Z* other than a space: control,
format such as bidirectional overrides, separators, unassigned) as ``\\x..``/``\\u....``."""

from __future__ import annotations

import unicodedata


def printable(text: str, limit: int | None = None, *, keep: str = " ") -> str:
    """``text`` with its non-printable characters escaped (but those in ``keep``), cut to ``limit``
    characters (+ "…")."""
    shown = "".join(
        c
        if c in keep or unicodedata.category(c)[0] not in "CZ"
        else c.encode("unicode_escape").decode("ascii")
        for c in text
    )
    return shown if limit is None or len(shown) <= limit else shown[:limit] + "…"
