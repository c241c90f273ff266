"""StatusFunction's HTTP API: ``GET /status/{subject_id}`` and ``GET /workflows/{workflow_id}``.

Powertools' APIGatewayHttpResolver routes; the reads are ``shared.history`` (a subject, a product's
range) and ``shared.workflow`` (a Messages failover); typed errors map to HTTP answers here.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from botocore.exceptions import BotoCoreError, ClientError

from shared.config import require_env
from shared.errors import BadRequest, NotFound, RouteNotFound, StorageUnavailable, SwitchboardError, to_http
from shared.history import MAX_RESPONSE_BYTES, Lookup, fit_history, subject_status
from shared.observability import logger
from shared.workflow import MAX_WORKFLOW_ID, read_workflow

# --- HTTP: GET /status/{subject_id} ----------------------------------------------------------------

app = APIGatewayHttpResolver()
JSON_HEADERS = {"content-type": "application/json", "cache-control": "no-store"}


def handle_status(
    event: Mapping[str, Any], dynamodb: Any = None, table: str | None = None, context: Any = None
) -> dict[str, Any]:
    """API Gateway payload-2.0 event → response. ``dynamodb``/``table`` default to the function's
    client and ``SWITCHBOARD_TABLE_NAME``; tests inject theirs."""
    app.append_context(dynamodb=dynamodb, table=table)  # type: ignore[no-untyped-call]
    return app.resolve(as_http_api_event(event), context)


def as_http_api_event(event: Mapping[str, Any]) -> Mapping[str, Any]:
    """API Gateway's event as it is. A hand-made one with only ``pathParameters`` (tests, the
    build's smoke probe) gets the fields the resolver routes on, as API Gateway would set them."""
    params = event.get("pathParameters") or {}
    prefix, name = ("/workflows/", "workflow_id") if "workflow_id" in params else ("/status/", "subject_id")
    value = str(params.get(name) or "")
    if "rawPath" in event and "requestContext" in event:
        # API Gateway may pass rawPath decoded: an id with "#", '"', "\\" or "`" would then not
        # match the route. Route on the path parameter, re-encoded.
        if value and str(event["rawPath"]).startswith(prefix):
            return {**event, "rawPath": prefix + quote(value, safe="", errors="replace")}
        return event
    return {
        "version": "2.0",
        "rawPath": prefix + quote(value, safe="", errors="replace"),
        "rawQueryString": "",
        "requestContext": {"http": {"method": "GET"}, "stage": "$default"},
        **event,
    }


@app.get("/status/<subject_id>")
@app.get("/status/")  # an empty id (API Gateway never routes one here): the same 400 as a long one
def get_status(**_: str) -> Response[str]:
    request = app.current_event
    query = request.query_string_parameters or {}
    # API Gateway's decoded path parameter, not the raw path segment the route matched
    lookup = Lookup(
        request.path_parameters.get("subject_id", ""), query.get("product"), query.get("provider")
    )
    body = subject_status(
        _dynamodb(), app.context.get("table") or require_env("SWITCHBOARD_TABLE_NAME"), lookup
    )
    return Response(200, body=json.dumps(body, separators=(",", ":")), headers=JSON_HEADERS)


@app.get("/workflows/<workflow_id>")
def get_workflow(**_: str) -> Response[str]:
    """A Messages failover: every attempt's status and the workflow's state (shared.workflow)."""
    workflow_id = app.current_event.path_parameters.get("workflow_id", "")
    if not workflow_id or len(workflow_id) > MAX_WORKFLOW_ID:
        raise BadRequest("workflow_id must be 1 to 256 characters", length=len(workflow_id))
    table = app.context.get("table") or require_env("SWITCHBOARD_TABLE_NAME")
    body = read_workflow(_dynamodb(), table, workflow_id)
    if body is None:
        raise NotFound("no event of this workflow is recorded")
    fit_history(body, MAX_RESPONSE_BYTES)
    return Response(200, body=json.dumps(body, separators=(",", ":")), headers=JSON_HEADERS)


def _dynamodb() -> Any:
    if app.context.get("dynamodb") is not None:
        return app.context["dynamodb"]
    from shared import aws

    return aws.client("dynamodb")


def error_response(err: SwitchboardError) -> Response[str]:
    status, headers, text = to_http(err)
    if status >= 500:
        logger.warning("status lookup failed", extra={"code": err.code, **err.diagnostic})
    return Response(status, body=text, headers=headers)


def storage_error(exc: Exception) -> Response[str]:
    return error_response(StorageUnavailable("the history table is unavailable", reason=type(exc).__name__))


def no_route(_: NotFoundError) -> Response[str]:
    return error_response(RouteNotFound())


# The error map: typed errors through to_http, a failed table call as 503, an unknown route as 404.
app.exception_handler(SwitchboardError)(error_response)
app.exception_handler([ClientError, BotoCoreError])(storage_error)
app.not_found(no_route)
