"""Twilio: every product Switchboard receives, and the scheme that verifies them. A new product is a
module here and one line in ``PRODUCTS``."""

from shared.providers.twilio import verify_push
from shared.providers.twilio.verifiers import SCHEMES

NAME = "twilio"
PRODUCTS = (verify_push.PRODUCT,)

__all__ = ["NAME", "PRODUCTS", "SCHEMES"]
