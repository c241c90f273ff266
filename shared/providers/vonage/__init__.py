"""Vonage: every product Switchboard receives, and the schemes that verify them. A new product is a
module here and one line in ``PRODUCTS``."""

from shared.providers.vonage import (
    dispatch,
    messages,
    number_insight,
    rtc,
    short_codes,
    sms,
    verify,
    voice,
)
from shared.providers.vonage.verifiers import SCHEMES

NAME = "vonage"
PRODUCTS = (
    verify.PRODUCT,
    messages.PRODUCT,
    sms.PRODUCT,
    voice.PRODUCT,
    number_insight.PRODUCT,
    rtc.PRODUCT,
    dispatch.PRODUCT,
    short_codes.PRODUCT,
)

__all__ = ["NAME", "PRODUCTS", "SCHEMES"]
