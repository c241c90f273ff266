"""The CloudWatch dashboard in template.yaml names real things: every widget's queue, function, API
and log group is a resource of the template, every metric name exists in its namespace (the HTTP
API's own names, the metrics the handlers emit), and every Logs Insights query filters on a message
the handlers log and groups by fields that line carries. A widget pointing at something missing
fails here instead of showing an empty graph after a deploy."""

from __future__ import annotations

import copy
import json
import logging
import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from shared import webhook
from shared.errors import SignatureInvalid
from shared.observability import SERVICE, metrics
from shared.providers import ROUTES
from switchboard import template as tpl

ROOT = Path(__file__).resolve().parents[2]
PSEUDO = {"AWS::Region": "us-east-1", "AWS::StackName": "sb-stack", "AWS::AccountId": "123456789012"}
# The metric names of each AWS namespace the dashboard may use. AWS/ApiGateway: the HTTP API's
# names (4xx, 5xx), not the REST API's (4XXError, 5XXError), which an HTTP API never emits.
AWS_METRICS = {
    "AWS/ApiGateway": {"4xx", "5xx", "Count", "IntegrationLatency", "Latency", "DataProcessed"},
    "AWS/Lambda": {"Duration", "Errors", "Throttles", "Invocations", "ConcurrentExecutions"},
    "AWS/SQS": {
        "ApproximateAgeOfOldestMessage",
        "ApproximateNumberOfMessagesVisible",
        "ApproximateNumberOfMessagesNotVisible",
        "NumberOfMessagesSent",
        "NumberOfMessagesReceived",
        "NumberOfMessagesDeleted",
    },
}
# namespace -> (the dimension that names the resource, how the body names it, its resource type)
DIMENSIONS = {
    "AWS/ApiGateway": ("ApiId", "ref", "AWS::Serverless::HttpApi"),
    "AWS/Lambda": ("FunctionName", "ref", "AWS::Serverless::Function"),
    "AWS/SQS": ("QueueName", "att:QueueName", "AWS::SQS::Queue"),
}
# Keys every Powertools JSON line has, besides the ones a call passes in ``extra``.
POWERTOOLS_KEYS = {"level", "location", "message", "timestamp"}


# --- the checker -----------------------------------------------------------------------------


def dashboard_body(template: dict[str, Any], logical: str) -> tuple[dict[str, Any], list[str]]:
    """The body with its ``${…}`` placeholders replaced textually (``<ref:X>``, ``<att:X.Attr>``,
    pseudo parameters by example values), parsed as JSON; and the placeholders naming nothing."""
    text = template["Resources"][logical]["Properties"]["DashboardBody"]["Fn::Sub"]
    missing: list[str] = []

    def placeholder(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in PSEUDO:
            return PSEUDO[name]
        resource, _, attribute = name.partition(".")
        if resource not in template["Resources"] and resource not in template.get("Parameters", {}):
            missing.append(name)
        return f"<att:{resource}.{attribute}>" if attribute else f"<ref:{resource}>"

    body: dict[str, Any] = json.loads(re.sub(r"\$\{([^}!]+)\}", placeholder, text))
    return body, missing


@cache
def emitted_metrics() -> frozenset[str]:
    """The metric names the shared package emits (``count("Name")``), read from its source."""
    names: set[str] = set()
    for path in (ROOT / "shared").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        names |= set(re.findall(r'\bcount\(\s*"(\w+)"', text))
        names |= set(re.findall(r'\bcount\(\s*"\w+"\s+if [^\n]*? else\s+"(\w+)"\)', text))
    return frozenset(names)


@cache
def logged_fields() -> dict[str, set[str]]:
    """The keys of the handlers' "webhook rejected" and "webhook accepted" lines, from real calls."""
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    route = next(iter(ROUTES.values()))
    event = {
        "event_id": "evt_1",
        "provider": route.provider,
        "product": route.product,
        "type": f"{route.product}.x",
        "subject_id": "s",
        "status": "ok",
        "data": {},
    }
    keep = Keep()
    handler_logger = logging.getLogger(SERVICE)
    handler_logger.addHandler(keep)
    try:
        webhook._rejected(SignatureInvalid(rule="test"), route)
        webhook._log_accepted(route, event)
    finally:
        handler_logger.removeHandler(keep)
        metrics.clear_metrics()
    plain = set(vars(logging.LogRecord("n", 0, "p", 0, "m", None, None)))
    return {r.getMessage(): (set(vars(r)) - plain) | POWERTOOLS_KEYS for r in records}


def ingress_log_groups(template: dict[str, Any]) -> set[str]:
    """The log groups (logical ids) named ``/aws/lambda/${F}`` for a function F that serves webhooks."""
    webhook_functions = {r.function for r in tpl.http_routes(template) if r.auth is None}
    groups = set()
    for logical, res in tpl.resources(template, "AWS::Logs::LogGroup").items():
        name = res["Properties"].get("LogGroupName")
        sub = name.get("Fn::Sub", "") if isinstance(name, dict) else ""
        found = re.fullmatch(r"/aws/lambda/\$\{(\w+)\}", sub)
        if found and found.group(1) in webhook_functions:
            groups.add(logical)
    return groups


def metric_problems(template: dict[str, Any], widget: dict[str, Any]) -> list[str]:
    problems = []
    emitted = emitted_metrics()
    for row in widget["properties"]["metrics"]:
        values = [v for v in row if not isinstance(v, dict)]
        namespace, name, dims = values[0], values[1], dict(zip(values[2::2], values[3::2], strict=True))
        if namespace == metrics.namespace:
            if name not in emitted or dims != {"service": SERVICE}:
                problems.append(f"{namespace} {name} {dims}: not a metric the handlers emit")
            continue
        if name not in AWS_METRICS.get(namespace, set()):
            problems.append(f"{namespace} has no metric {name}")
            continue
        dimension, form, kind = DIMENSIONS[namespace]
        value = dims.get(dimension, "")
        logical = re.fullmatch(r"<(?:ref|att):(\w+)(?:\.\w+)?>", value)
        expected = f"<{form}:{logical.group(1)}>" if logical and form == "ref" else None
        if logical and form.startswith("att:"):
            expected = f"<att:{logical.group(1)}.{form.removeprefix('att:')}>"
        resource = template["Resources"].get(logical.group(1) if logical else "", {})
        if value != expected or resource.get("Type") != kind or set(dims) != {dimension}:
            problems.append(f"{namespace} {name} {dims}: not a {kind} of the template by {dimension}")
    return problems


def log_problems(template: dict[str, Any], widget: dict[str, Any]) -> list[str]:
    query = widget["properties"]["query"]
    problems = []
    sources = re.findall(r"SOURCE '([^']*)'", query)
    groups = {re.sub(r"^<ref:(\w+)>$", r"\1", s) for s in sources}
    if not sources or groups != ingress_log_groups(template):
        problems.append(f"queries {sources}, not the webhook functions' log groups")
    fields = logged_fields()
    for message in re.findall(r'message = "([^"]+)"', query) or ["<no message filter>"]:
        if message not in fields:
            problems.append(f"filters on {message!r}, which the handlers never log")
            continue
        used = re.findall(r"\((\w[\w.]*)\)", query) + re.findall(r"\bby ([\w.]+(?:, [\w.]+)*)", query)
        for field in {f.split(".")[0] for item in used for f in item.split(", ")}:
            if field not in fields[message]:
                problems.append(f"uses {field!r}, which the {message!r} line does not carry")
    return problems


def problems(template: dict[str, Any]) -> list[str]:
    found: list[str] = []
    for logical in tpl.resources(template, "AWS::CloudWatch::Dashboard"):
        body, missing = dashboard_body(template, logical)
        found += [f"${{{name}}} names no resource or parameter" for name in missing]
        for widget in body["widgets"]:
            if widget["type"] == "metric":
                found += metric_problems(template, widget)
            elif widget["type"] == "log":
                found += log_problems(template, widget)
    return found


def named(body: dict[str, Any], namespace: str, metric: str) -> set[str]:
    """The resources (logical ids) a body graphs ``metric`` of."""
    out = set()
    for widget in body["widgets"]:
        for row in widget["properties"].get("metrics", []):
            if row[:2] == [namespace, metric]:
                out.add(re.sub(r"^<(?:ref|att):(\w+).*>$", r"\1", row[3]))
    return out


# --- the tests -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return tpl.load_template()


def test_every_widget_of_the_dashboard_names_a_real_resource_metric_and_log_line(template: dict[str, Any]):
    assert tpl.resources(template, "AWS::CloudWatch::Dashboard"), "template.yaml has no dashboard"
    assert problems(template) == []


def test_the_dashboard_shows_recorder_lag_both_dlqs_every_function_and_both_log_queries(
    template: dict[str, Any],
):
    body, _ = dashboard_body(template, "OpsDashboard")
    queues = tpl.resources(template, "AWS::SQS::Queue")
    dlqs = {
        q["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
        for q in queues.values()
        if "RedrivePolicy" in q["Properties"]
    }
    recorder_queue = {s.queue for s in tpl.queue_sources(template)}
    assert dlqs == {"IngestDLQ", "EventsDLQ"}
    assert dlqs <= named(body, "AWS/SQS", "ApproximateNumberOfMessagesVisible")
    assert recorder_queue <= named(body, "AWS/SQS", "ApproximateAgeOfOldestMessage")
    for metric in ("Errors", "Throttles", "Duration"):
        assert named(body, "AWS/Lambda", metric) == set(tpl.functions(template)), metric
    assert {"Latency", "IntegrationLatency", "4xx", "5xx"} <= {
        m for m in AWS_METRICS["AWS/ApiGateway"] if named(body, "AWS/ApiGateway", m)
    }
    queries = [w["properties"]["query"] for w in body["widgets"] if w["type"] == "log"]
    assert any('"webhook rejected"' in q and "by route, code" in q for q in queries)
    assert any('"webhook accepted"' in q and "by route" in q for q in queries)


# what a widget is broken with, and what the check's problem must then name
BROKEN = {
    "a queue that is not in the template": ("${IngestDLQ.QueueName}", "${GoneDLQ.QueueName}", "GoneDLQ"),
    "a queue named by its URL (Ref), not its name": (
        "${EventsDLQ.QueueName}",
        "${EventsDLQ}",
        "<ref:EventsDLQ>",
    ),
    "the REST API's metric name": ('"4xx", "ApiId"', '"4XXError", "ApiId"', "4XXError"),
    "a function that is not in the template": ("${StatusFunction}", "${OldFunction}", "OldFunction"),
    "a metric the handlers do not emit": ('"WebhookError"', '"WebhookFailed"', "WebhookFailed"),
    "the status function's log group": (
        "SOURCE '${TwilioLogGroup}'",
        "SOURCE '${StatusLogGroup}'",
        "StatusLogGroup",
    ),
    "a message nobody logs": ('\\"webhook accepted\\"', '\\"webhook received\\"', "webhook received"),
    "a field the line does not carry": ("by route, code", "by route, account", "'account'"),
}


@pytest.mark.parametrize("old,new,named", BROKEN.values(), ids=BROKEN.keys())
def test_the_check_fails_for_a_widget_that_points_at_a_missing_thing(
    template: dict[str, Any], old: str, new: str, named: str
):
    broken = copy.deepcopy(template)
    props = broken["Resources"]["OpsDashboard"]["Properties"]
    assert old in props["DashboardBody"]["Fn::Sub"], old
    props["DashboardBody"]["Fn::Sub"] = props["DashboardBody"]["Fn::Sub"].replace(old, new, 1)
    found = problems(broken)
    assert found != []
    assert any(named in problem for problem in found), found


def test_the_accepted_line_carries_the_route_like_the_rejected_one():
    fields = logged_fields()
    assert "route" in fields["webhook accepted"]
    assert "route" in fields["webhook rejected"]


def test_the_stack_outputs_the_dashboard_and_the_webhook_log_groups(template: dict[str, Any]):
    outputs = template["Outputs"]
    assert outputs["DashboardName"]["Value"] == {"Ref": "OpsDashboard"}
    assert "#dashboards/dashboard/${OpsDashboard}" in outputs["DashboardUrl"]["Value"]["Fn::Sub"]
    named_groups = {o["Value"]["Ref"] for k, o in outputs.items() if k.endswith("LogGroupName")}
    assert named_groups == ingress_log_groups(template)


def test_the_api_throttle_is_the_default_stages_route_settings_from_parameters(template: dict[str, Any]):
    api = template["Resources"]["HttpApi"]["Properties"]
    settings = api["DefaultRouteSettings"]
    params = template["Parameters"]
    assert settings == {
        "ThrottlingRateLimit": {"Ref": "ThrottlingRateLimit"},
        "ThrottlingBurstLimit": {"Ref": "ThrottlingBurstLimit"},
    }
    assert all(params[p]["Default"] >= params[p]["MinValue"] >= 1 for p in settings)
