"""shared/safejson.py: depth counted outside strings, strict numbers, surrogates found and repaired."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared import safejson

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=5), c, max_size=3),
    max_leaves=20,
)


def reference_depth(value: object) -> int:
    if isinstance(value, dict):
        return 1 + max((reference_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((reference_depth(v) for v in value), default=0)
    return 0


@given(json_values)
def test_depth_of_any_json_text_is_the_nesting_of_its_value(value: object) -> None:
    assert safejson.depth(json.dumps(value)) == reference_depth(value)


def test_brackets_inside_strings_and_escaped_quotes_do_not_count() -> None:
    assert safejson.depth(json.dumps({"a": "[[[{{{", "b": 'x\\"[['})) == 1


def test_the_limit_is_inclusive() -> None:
    assert safejson.loads("[" * 64 + "]" * 64) is not None
    with pytest.raises(safejson.JsonRejected, match="deeper than 64"):
        safejson.loads("[" * 65 + "]" * 65)


@given(st.text(alphabet=st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), min_size=1, max_size=3))
def test_repair_replaces_every_lone_surrogate_and_names_its_pointer(bad: str) -> None:
    value = {"a/b": [{"~t": "x" + bad}], "ok": "fine"}
    fixed, pointers = safejson.repair_text(value, "/data")
    assert pointers == ["/data/a~1b/0/~0t"]
    json.dumps(fixed, ensure_ascii=False).encode("utf-8")
    assert fixed["ok"] == "fine" and set(fixed["a/b"][0]["~t"][1:]) == {"\ufffd"}


def test_a_surrogate_in_a_nested_key_is_found() -> None:
    assert safejson.has_lone_surrogate_key({"a": [{"b\udc00": 1}]})
    assert not safejson.has_lone_surrogate_key({"a": [{"b": "\udc00"}]})


def test_an_unterminated_string_ends_the_scan_instead_of_restarting_inside_it() -> None:
    # '"\"\"\"…' without a closing quote: every escaped quote would otherwise start a new scan.
    assert safejson.depth("[" * 65 + '"' + '\\"' * 1000) == 65
    assert safejson.depth('["a", "[[[' + "]") == 1
