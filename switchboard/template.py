"""Read template.yaml and provision its table, queues and secret on any AWS endpoint (moto).

The local stack and the integration tests build their resources from the template's own resource
properties, so they cannot drift from what ``sam deploy`` creates. The function environments, HTTP
routes and SQS event sources are read from the template too.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"


class _CfnLoader(yaml.SafeLoader):  # type: ignore[misc]
    """YAML loader that understands CloudFormation short forms (!Ref, !GetAtt, !Sub, …)."""


def _intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{suffix}": value}


_CfnLoader.add_multi_constructor("!", _intrinsic)


def load_template(path: Path = TEMPLATE) -> dict[str, Any]:
    with open(path, encoding="utf-8") as fh:
        doc = yaml.load(fh, Loader=_CfnLoader)  # noqa: S506 - a SafeLoader subclass
    if not isinstance(doc, dict):
        raise ValueError(f"{path} is not a template")
    return doc


@dataclass
class Stack:
    """Physical ids of the provisioned resources, by logical id."""

    region: str
    account: str = "123456789012"
    parameters: dict[str, str] = field(default_factory=dict)
    refs: dict[str, str] = field(default_factory=dict)  # logical id -> Ref value (name / URL / ARN)
    arns: dict[str, str] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)
    conditions: dict[str, Any] = field(default_factory=dict)  # the template's Conditions

    @classmethod
    def of(
        cls,
        template: dict[str, Any],
        region: str,
        parameters: dict[str, str] | None = None,
        **fields: Any,
    ) -> Stack:
        """A stack of this template: its parameters' defaults (overridden by ``parameters``) and its
        Conditions, so resolving never reads template.yaml again."""
        return cls(
            region=region,
            parameters={**default_parameters(template), **(parameters or {})},
            conditions=template.get("Conditions", {}),
            **fields,
        )

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if not isinstance(value, dict):
            return value
        if "Ref" in value:
            ref = value["Ref"]
            if ref in self.parameters:
                return self.parameters[ref]
            if ref == "AWS::Region":
                return self.region
            if ref == "AWS::AccountId":
                return self.account
            if ref == "AWS::NoValue":
                return None
            return self.refs.get(ref, f"<unprovisioned:{ref}>")
        if "Fn::GetAtt" in value:
            logical, attr = value["Fn::GetAtt"]
            if attr == "Arn":
                return self.arns.get(logical, f"arn:aws:local:{self.region}:{self.account}:{logical}")
            if attr in ("QueueName", "Name"):
                return self.names.get(logical, logical)
            return f"<{logical}.{attr}>"
        if "Fn::Sub" in value:
            text = value["Fn::Sub"]
            return re.sub(r"\$\{([^}]+)\}", lambda m: str(self.resolve(_sub_ref(m.group(1)))), text)
        if "Fn::If" in value:
            cond, yes, no = value["Fn::If"]
            return self.resolve(yes if self.condition(cond) else no)
        if "Fn::Equals" in value:
            a, b = value["Fn::Equals"]
            return self.resolve(a) == self.resolve(b)
        if "Fn::Not" in value:
            return not self.resolve(value["Fn::Not"][0])
        return {k: self.resolve(v) for k, v in value.items()}

    def condition(self, name: str) -> bool:
        return bool(self.resolve(self.conditions[name]))


def _sub_ref(expr: str) -> dict[str, Any]:
    if "." in expr:
        logical, attr = expr.split(".", 1)
        return {"Fn::GetAtt": [logical, attr]}
    return {"Ref": expr}


def resources(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


def default_parameters(template: dict[str, Any]) -> dict[str, str]:
    return {k: str(v.get("Default", "")) for k, v in template.get("Parameters", {}).items()}


_QUEUE_ATTRIBUTES = (
    "FifoQueue",
    "ContentBasedDeduplication",
    "DeduplicationScope",
    "FifoThroughputLimit",
    "VisibilityTimeout",
    "MessageRetentionPeriod",
    "DelaySeconds",
    "ReceiveMessageWaitTimeSeconds",
    "SqsManagedSseEnabled",
)


def provision(
    clients: Any,
    *,
    prefix: str = "switchboard",
    region: str = "us-east-1",
    secret_string: str | None = None,
    parameters: dict[str, str] | None = None,
    template: dict[str, Any] | None = None,
) -> Stack:
    """Create the template's DynamoDB tables, SQS queues (DLQs first) and secret.

    ``clients`` is a callable returning a boto3 client for a service name.
    """
    template = template or load_template()
    stack = Stack.of(template, region, parameters)

    sqs = clients("sqs")
    queues = resources(template, "AWS::SQS::Queue")
    # Queues without a redrive policy (the DLQs) first, so their ARNs exist when referenced.
    for logical in sorted(queues, key=lambda q: "RedrivePolicy" in queues[q].get("Properties", {})):
        props = stack.resolve(queues[logical].get("Properties", {}))
        fifo = bool(props.get("FifoQueue"))
        name = f"{prefix}-{logical}" + (".fifo" if fifo else "")
        attributes = {k: _attr(props[k]) for k in _QUEUE_ATTRIBUTES if k in props}
        if "RedrivePolicy" in props:
            attributes["RedrivePolicy"] = json.dumps(props["RedrivePolicy"])
        url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        stack.refs[logical], stack.arns[logical], stack.names[logical] = url, arn, name

    dynamodb = clients("dynamodb")
    for logical, res in resources(template, "AWS::DynamoDB::Table").items():
        props = stack.resolve(res["Properties"])
        name = f"{prefix}-{logical}"
        kwargs: dict[str, Any] = {
            "TableName": name,
            "AttributeDefinitions": props["AttributeDefinitions"],
            "KeySchema": props["KeySchema"],
            "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
        }
        if props.get("GlobalSecondaryIndexes"):
            kwargs["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
        desc = dynamodb.create_table(**kwargs)["TableDescription"]
        ttl = props.get("TimeToLiveSpecification")
        if ttl and ttl.get("Enabled"):
            dynamodb.update_time_to_live(
                TableName=name,
                TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": True},
            )
        stack.refs[logical], stack.arns[logical], stack.names[logical] = name, desc["TableArn"], name

    secretsmanager = clients("secretsmanager")
    for logical, res in resources(template, "AWS::SecretsManager::Secret").items():
        props = res["Properties"]
        name = f"{prefix}-{logical}"
        created = secretsmanager.create_secret(
            Name=name,
            SecretString=secret_string if secret_string is not None else props.get("SecretString", "{}"),
        )
        stack.refs[logical], stack.arns[logical], stack.names[logical] = created["ARN"], created["ARN"], name
    return stack


def _attr(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@dataclass(frozen=True)
class HttpRoute:
    method: str
    path: str
    function: str
    auth: str | None


@dataclass(frozen=True)
class QueueSource:
    function: str
    queue: str  # logical id
    batch_size: int
    batching_window_s: int
    report_batch_item_failures: bool


def functions(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return resources(template, "AWS::Serverless::Function")


def http_routes(template: dict[str, Any]) -> list[HttpRoute]:
    out = []
    for logical, res in functions(template).items():
        for ev in (res["Properties"].get("Events") or {}).values():
            if ev["Type"] == "HttpApi":
                p = ev["Properties"]
                auth = (p.get("Auth") or {}).get("Authorizer")
                out.append(HttpRoute(p["Method"].upper(), p["Path"], logical, auth))
    return out


def queue_sources(template: dict[str, Any]) -> list[QueueSource]:
    out = []
    for logical, res in functions(template).items():
        for ev in (res["Properties"].get("Events") or {}).values():
            if ev["Type"] == "SQS":
                p = ev["Properties"]
                out.append(
                    QueueSource(
                        function=logical,
                        queue=p["Queue"]["Fn::GetAtt"][0],
                        batch_size=int(p.get("BatchSize", 10)),
                        batching_window_s=int(p.get("MaximumBatchingWindowInSeconds", 0)),
                        report_batch_item_failures="ReportBatchItemFailures"
                        in (p.get("FunctionResponseTypes") or []),
                    )
                )
    return out


def function_setting(template: dict[str, Any], logical: str, key: str, default: Any = None) -> Any:
    """A function property, or the template's Globals.Function one (what SAM applies)."""
    glob = (template.get("Globals") or {}).get("Function") or {}
    return functions(template)[logical]["Properties"].get(key, glob.get(key, default))


def function_layers(template: dict[str, Any], logical: str) -> list[str]:
    """The logical ids of the template's own layers the function uses."""
    return [layer["Ref"] for layer in function_setting(template, logical, "Layers") or [] if "Ref" in layer]


def function_environment(template: dict[str, Any], logical: str, stack: Stack) -> dict[str, str]:
    """The environment Lambda would give the function: Globals merged with its own, resolved."""
    glob = ((template.get("Globals") or {}).get("Function") or {}).get("Environment", {}).get("Variables", {})
    own = functions(template)[logical]["Properties"].get("Environment", {}).get("Variables", {})
    merged = {**glob, **own}
    return {k: str(v) for k, v in ((k, stack.resolve(v)) for k, v in merged.items()) if v is not None}


def handler_module(template: dict[str, Any], logical: str) -> str:
    """Dotted import path of a function's handler module as the tests import it."""
    props = functions(template)[logical]["Properties"]
    code = props["CodeUri"].strip("/").replace("/", ".")
    module = props["Handler"].rsplit(".", 1)[0]
    return f"{code}.{module}"
