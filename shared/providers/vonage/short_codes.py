"""Vonage US Short Codes delivery receipts and inbound (STOP) messages (providers-more.md §5).

A subset of the SMS API: the SMS parser, natural keys and ranks serve both (``shared.providers.
vonage.sms``), and the channel stays ``sms``; events are filed under ``short_codes`` so that a
short-code message never moves an SMS API subject. Vonage signs neither (no short-code page
mentions ``sig``): the routes carry their own secret URL token, ``short_codes_token``, distinct
from Number Insight's. Vonage documents GET for receipts (a POST JSON example exists too), so GET
is the default; POST form and POST JSON are accepted.
"""

from __future__ import annotations

from shared.providers.base import Product, Route
from shared.providers.vonage import sms

PRODUCT = Product(
    provider="vonage",
    name="short_codes",
    parse=sms.parse,
    lifecycle=sms.LIFECYCLE,
    kinds=("inbound", "receipt"),
    routes=(
        Route(
            "/vonage/short-codes/receipt",
            ("GET", "POST"),
            "vonage",
            "url_token",
            "short_codes",
            "receipt",
            default_method="GET",
            samples="receipt",
        ),
        Route(
            "/vonage/short-codes/inbound",
            ("GET", "POST"),
            "vonage",
            "url_token",
            "short_codes",
            "inbound",
            default_method="GET",
            samples="inbound",
        ),
    ),
    samples="short_codes",
    natural_key=sms.NATURAL_KEY,
)
