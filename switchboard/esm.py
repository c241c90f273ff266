"""What Lambda's SQS event source mapping does, for the local stack and the integration tests.

Receive a batch (up to ``batch_size``), hand it to the handler as an SQS event, delete the records
that succeeded, and leave the failed ones (``batchItemFailures``, or all of them when the handler
raised) to come back after ``retry_delay_s`` — the queue's redrive policy moves a message that keeps
failing to its DLQ after ``maxReceiveCount`` receives, exactly as in AWS.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class LambdaContext:
    """Enough of Lambda's context object for Powertools' inject_lambda_context."""

    function_name: str
    aws_request_id: str = "00000000-0000-4000-8000-000000000000"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:local"
    log_group_name: str = "/aws/lambda/local"
    log_stream_name: str = "local"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


@dataclass(frozen=True)
class PollResult:
    received: int
    failed: int


def poll_once(
    sqs: Any,
    queue_url: str,
    handler: Callable[[dict[str, Any], Any], Any],
    *,
    function_name: str,
    batch_size: int = 10,
    wait_s: int = 0,
    report_batch_item_failures: bool = True,
    retry_delay_s: int = 0,
    region: str = "us-east-1",
) -> PollResult:
    got = sqs.receive_message(
        QueueUrl=queue_url,
        MaxNumberOfMessages=min(batch_size, 10),
        WaitTimeSeconds=wait_s,
        AttributeNames=["All"],
        MessageAttributeNames=["All"],
    )
    messages = got.get("Messages") or []
    if not messages:
        return PollResult(0, 0)
    queue_name = queue_url.rstrip("/").rsplit("/", 1)[-1]
    records = [
        {
            "messageId": m["MessageId"],
            "receiptHandle": m["ReceiptHandle"],
            "body": m["Body"],
            "attributes": m.get("Attributes", {}),
            "messageAttributes": {  # Lambda's shape, not the SQS API's
                name: {"stringValue": a.get("StringValue"), "dataType": a.get("DataType", "String")}
                for name, a in (m.get("MessageAttributes") or {}).items()
            },
            "md5OfBody": m.get("MD5OfBody")
            or hashlib.md5(m["Body"].encode(), usedforsecurity=False).hexdigest(),
            "eventSource": "aws:sqs",
            "eventSourceARN": f"arn:aws:sqs:{region}:123456789012:{queue_name}",
            "awsRegion": region,
        }
        for m in messages
    ]
    handles = {m["MessageId"]: m["ReceiptHandle"] for m in messages}
    try:
        result = handler({"Records": records}, LambdaContext(function_name=function_name))
        failed_ids = (
            {f["itemIdentifier"] for f in (result or {}).get("batchItemFailures", [])}
            if report_batch_item_failures
            else set()
        )
    except Exception:
        failed_ids = set(handles)  # the whole batch comes back
    for message_id, handle in handles.items():
        if message_id in failed_ids:
            sqs.change_message_visibility(
                QueueUrl=queue_url, ReceiptHandle=handle, VisibilityTimeout=retry_delay_s
            )
        else:
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=handle)
    return PollResult(len(messages), len(failed_ids))
