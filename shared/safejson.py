"""JSON from strangers: bounded depth, strict numbers, and text that can always be stored.

Python's ``json`` has no depth limit (its C scanner recurses until a RecursionError, and what it
managed to parse may still be too deep for ``json.dumps`` or for a later read), accepts ``NaN`` and
``Infinity`` (not JSON; a consumer's parser refuses them) and turns a lone UTF-16 surrogate escape
(``"\\ud800"``) into a ``str`` that cannot be encoded as UTF-8 (so SQS, DynamoDB and every later
read fail). No maintained library bounds the depth of the standard parser, so this module does it by
hand with a linear pre-scan; parsing stays in the standard library's C code.
"""

from __future__ import annotations

import json
import math
import re
from itertools import accumulate
from typing import Any, Final

MAX_DEPTH: Final = 64  # the deepest real provider payload seen is 4; 64 leaves room and stays safe
# A string, or an unterminated one up to the end: the closing quote is optional so that a match
# never fails, and the scan never restarts inside a string (``"\\"\\"\\"…`` stays linear).
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"?', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_STEP: Final = {"[": 1, "{": 1, "]": -1, "}": -1}
_LONE_SURROGATE = re.compile(r"[\ud800-\udfff]")


class JsonRejected(ValueError):
    """The text is not JSON this service accepts; ``reason`` says why (no input echoed)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def depth(text: str) -> int:
    """The deepest nesting of arrays and objects in JSON ``text`` (strings ignored). Linear time."""
    if text.count("[") + text.count("{") == 0:
        return 0
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    return max(accumulate(_STEP[c] for c in brackets), default=0)


def loads(text: str, *, max_depth: int = MAX_DEPTH) -> Any:
    """``json.loads`` that refuses nesting deeper than ``max_depth``, NaN, Infinity and numbers that
    overflow a float or exceed Python's digit limit. Raises ``JsonRejected``."""
    # No container can be deeper than the number of its opening brackets: skip the scan for the
    # small payloads that make up nearly all traffic.
    if text.count("[") + text.count("{") > max_depth and depth(text) > max_depth:
        raise JsonRejected(f"nested deeper than {max_depth} levels")
    try:
        return _DECODER.decode(text)
    except JsonRejected:
        raise
    except json.JSONDecodeError as exc:
        raise JsonRejected(f"not valid JSON: {exc.msg} at position {exc.pos}") from None
    except (ValueError, RecursionError) as exc:  # e.g. an integer past sys.get_int_max_str_digits()
        raise JsonRejected(f"not acceptable JSON: {type(exc).__name__}") from None


def _refuse_constant(name: str) -> Any:
    raise JsonRejected(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise JsonRejected("a number is too large for a float")
    return value


# One decoder, built once: json.loads with hooks would build a new one on every call.
_DECODER = json.JSONDecoder(parse_constant=_refuse_constant, parse_float=_finite_float)


# --- lone surrogates -----------------------------------------------------------------------------


def has_lone_surrogate(value: str) -> bool:
    return _LONE_SURROGATE.search(value) is not None


def replace_lone_surrogates(value: str, replacement: str = "\ufffd") -> str:
    return _LONE_SURROGATE.sub(replacement, value)


def has_lone_surrogate_key(value: Any) -> bool:
    """Whether any object key, at any depth, holds a lone surrogate."""
    if isinstance(value, dict):
        return any(has_lone_surrogate(k) or has_lone_surrogate_key(v) for k, v in value.items())
    if isinstance(value, list):
        return any(has_lone_surrogate_key(v) for v in value)
    return False


def repair_text(value: Any, pointer: str = "") -> tuple[Any, list[str]]:
    """``value`` with every lone surrogate in a string replaced by U+FFFD, and the JSON Pointers of
    the strings that changed. Keys are left alone (callers refuse them: ``has_lone_surrogate_key``)."""
    if isinstance(value, str):
        if has_lone_surrogate(value):
            return replace_lone_surrogates(value), [pointer]
        return value, []
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        repaired: list[str] = []
        for key, child in value.items():
            out[key], found = repair_text(child, f"{pointer}/{escape_pointer(key)}")
            repaired += found
        return out, repaired
    if isinstance(value, list):
        items: list[Any] = []
        repaired = []
        for index, child in enumerate(value):
            fixed, found = repair_text(child, f"{pointer}/{index}")
            items.append(fixed)
            repaired += found
        return items, repaired
    return value, []


def escape_pointer(key: str) -> str:
    """One JSON Pointer reference token (RFC 6901 §3)."""
    return key.replace("~", "~0").replace("/", "~1")


# SQS carries only #x9 | #xA | #xD | #x20-#xD7FF | #xE000-#xFFFD | #x10000-#x10FFFF in a message
# body (SendMessage: InvalidMessageContents otherwise). JSON escapes the control characters; with
# ensure_ascii=False the noncharacters U+FFFE and U+FFFF stay raw — text any user can type into an
# SMS — so they are escaped here (they can only occur inside strings). Lone surrogates never reach
# this point: normalisation repairs or refuses them.


def dumps_for_sqs(value: Any) -> str:
    """Compact UTF-8 JSON text that SQS accepts as a message body, whatever the strings hold."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    if "\ufffe" in text or "\uffff" in text:
        text = text.replace("\ufffe", "\\ufffe").replace("\uffff", "\\uffff")
    return text
