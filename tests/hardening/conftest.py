"""Hardening tests: quick in `make test`, heavy under `make fuzz` (SWITCHBOARD_FUZZ=1)."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

HEAVY = os.environ.get("SWITCHBOARD_FUZZ") == "1"

settings.register_profile(
    "quick", max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)
settings.register_profile(
    "fuzz",
    max_examples=5000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
FUZZ_PROFILE = "fuzz" if HEAVY else "quick"
