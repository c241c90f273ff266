"""VonageFunction: Verify v2, Messages, SMS API, Voice and Number Insight webhooks."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

import shared.verify.vonage_jwt  # noqa: F401 - PyJWT loaded at init, not on the first request
from shared.observability import logger, metrics
from shared.webhook import default_deps, handle_webhook


@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return handle_webhook(event, "vonage", default_deps)
