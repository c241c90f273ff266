"""Switchboard's benchmark suite: `python -m bench` (or `make bench`) writes bench/RESULTS.md.

Every figure is the median of repeated runs with its min–max, and a ratio against an anchor
measured in the same run. Each section runs in its own interpreter (``python -m bench.worker``) so
that one section's imports (moto, twilio, vonage_jwt) cannot change another's timings.
"""
