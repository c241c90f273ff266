"""RecorderFunction: the ingest queue's consumer (SQS event source, ReportBatchItemFailures)."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from shared.observability import logger
from shared.recorder import default_recorder
from shared.recorder_batch import default_dead_letter, handle_batch


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return handle_batch(event, default_recorder(), logger, default_dead_letter())
