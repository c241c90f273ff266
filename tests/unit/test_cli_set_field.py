"""`switchboard send --set`: dotted paths into object samples and, by index, into array samples
(Event Streams deliveries are JSON arrays)."""

from __future__ import annotations

from typing import Any

import pytest

from switchboard import cli


def test_set_reaches_into_objects_and_array_items() -> None:
    payload: Any = [{"id": "a", "data": {"x": 1}}, {"id": "b"}]
    cli._set_field(payload, "1.id=c")
    cli._set_field(payload, "0.data.verification_sid=VE1")
    cli._set_field(payload, '0.data.obj={"k": 2}')
    assert payload == [{"id": "a", "data": {"x": 1, "verification_sid": "VE1", "obj": {"k": 2}}}, {"id": "c"}]
    obj: Any = {"a": {}}
    cli._set_field(obj, "a.b.c=d")
    assert obj == {"a": {"b": {"c": "d"}}}


@pytest.mark.parametrize("assignment", ["2.id=x", "x.id=y", "-1.id=z", "0.id.deeper=1", "novalue"])
def test_set_refuses_a_path_the_sample_does_not_have_with_a_usage_error(assignment: str) -> None:
    payload: Any = [{"id": "a"}]
    with pytest.raises(cli.CliError) as err:
        cli._set_field(payload, assignment)
    assert err.value.code == cli.EXIT_USAGE


def test_send_reports_every_event_id_of_a_delivery_that_held_several() -> None:
    assert cli._accepted("evt_1", "s", b'{"event_id":"evt_1"}') == "evt_1  subject s"
    assert cli._accepted("evt_1", "s", b'{"event_ids":["evt_1"]}') == "evt_1  subject s"
    assert cli._accepted("evt_1", "s", b'{"event_ids":["evt_1","evt_2"]}') == "2 events: evt_1, evt_2"
    assert cli._accepted("", "", b'{"event_ids":[]}') == "0 events"
    assert cli._accepted("evt_1", "s", b"") == "evt_1  subject s"  # a voice 204
