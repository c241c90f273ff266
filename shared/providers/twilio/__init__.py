"""Twilio: every product Switchboard receives, and the schemes that verify them. A new product is a
module here and one line in ``PRODUCTS``."""

from shared.providers.twilio import event_streams, verify_push
from shared.providers.twilio.verifiers import SCHEMES

NAME = "twilio"
# Verify events arrive on the Event Streams route (``event_streams.VERIFY`` has no route of its own).
PRODUCTS = (verify_push.PRODUCT, event_streams.EVENT_STREAMS, event_streams.VERIFY)

__all__ = ["NAME", "PRODUCTS", "SCHEMES"]
