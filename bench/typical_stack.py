"""The "typical stack" cold-start baseline: what a Lambda webhook receiver usually imports at init.

boto3 with a DynamoDB and an SQS client created, Powertools Logger, Metrics and Tracer (Tracer
imports the X-Ray SDK), and PyJWT. The cold-start probe imports this module in a clean interpreter
that sees only the built layer (Powertools and PyJWT, the same ones the handlers load), the X-Ray
SDK (linked from this environment) and the Lambda runtime's SDK.
"""

from __future__ import annotations

import boto3
import jwt
from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger(service="typical")
metrics = Metrics(namespace="Typical", service="typical")
tracer = Tracer(service="typical")
dynamodb = boto3.client("dynamodb")
sqs = boto3.client("sqs")
JWT_VERSION = jwt.__version__
