"""Vonage Dispatch API workflow callbacks (providers-more.md §2): closed to new users since
31 August 2025, still served to existing ones; Messages v0.1 shapes, signed with the Vonage JWT.

Two kinds, told apart by the body (README, "Dispatch"):

* ``message_status`` — one per message of the workflow and status (``message_uuid``, ``to``/``from``
  objects, ``_links.workflow.dispatch_uuid``). Its subject is the workflow, so a failover reads as
  one timeline (the message's uuid when a status carries no workflow link). Identity: the message,
  its status and its ``error.code``, never the timestamp (a retry keeps its id). Every message
  status ranks alike: the latest by time is the workflow's status until the final report.
* ``final_report`` — once per workflow (``dispatch_uuid`` and ``template``). Whatever its status
  (``completed`` or ``error``), it is terminal and outranks every message status.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.payload import Parts, parse_timestamp, required, scalar, status_of
from shared.providers.base import Lifecycle, Product, Route, end, step

FINAL_RANK = 100


def parse(kind: str | None, data: Mapping[str, Any]) -> Parts:
    occurred = parse_timestamp(scalar(data, "timestamp"))
    if "dispatch_uuid" in data and "template" in data:
        dispatch_uuid = required(data, "dispatch_uuid")
        status = status_of(data)
        return Parts("final_report", dispatch_uuid, status, occurred, None, (dispatch_uuid, "final_report"))
    message_uuid = required(data, "message_uuid")
    status = status_of(data)
    subject = _workflow_id(data) or message_uuid
    # Always three parts (the error code blank when absent): never the final report's two.
    key = (message_uuid, status, _error_code(data))
    return Parts("message_status", subject, status, occurred, _channel(data), key)


def _workflow_id(data: Mapping[str, Any]) -> str | None:
    links = data.get("_links")
    workflow = links.get("workflow") if isinstance(links, Mapping) else None
    dispatch_uuid = workflow.get("dispatch_uuid") if isinstance(workflow, Mapping) else None
    return dispatch_uuid if isinstance(dispatch_uuid, str) and dispatch_uuid else None


def _error_code(data: Mapping[str, Any]) -> str:
    """v0.1 errors are ``{code: integer, reason}``; a code as a string is the same code."""
    error = data.get("error")
    code = error.get("code") if isinstance(error, Mapping) else None
    if isinstance(code, int) and not isinstance(code, bool):
        return str(code)
    return code.strip() if isinstance(code, str) else ""


def _channel(data: Mapping[str, Any]) -> str | None:
    for side in ("to", "from"):
        party = data.get(side)
        channel = party.get("type") if isinstance(party, Mapping) else None
        if isinstance(channel, str) and channel:
            return channel
    return None


PRODUCT = Product(
    provider="vonage",
    name="dispatch",
    parse=parse,
    lifecycle=Lifecycle(unknown=step(50)),
    kind_lifecycles={"final_report": Lifecycle(unknown=end(FINAL_RANK))},
    routes=(Route("/vonage/dispatch/status", ("POST",), "vonage", "vonage_jwt", "dispatch"),),
    samples="dispatch",
    natural_key="message status: message_uuid + status + error.code; final report: dispatch_uuid",
)
