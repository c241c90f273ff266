"""StatusFunction: GET /status/{subject_id}[?product=&provider=] and GET /workflows/{workflow_id} (IAM-authorised)."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from shared.observability import logger
from shared.status_api import handle_status


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return handle_status(event, context=context)
