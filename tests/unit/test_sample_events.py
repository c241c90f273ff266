"""The committed events/ are exactly what the generator makes: regenerate them and compare."""

from __future__ import annotations

import json
from pathlib import Path

from switchboard.samples import EVENTS, SIGNED_AT, generate


def test_committed_sample_events_match_a_fresh_generation_at_their_signing_time(tmp_path: Path):
    manifest = json.loads((EVENTS / "manifest.json").read_text())
    assert manifest["signed_at"] == SIGNED_AT
    generate(tmp_path, at=SIGNED_AT)
    fresh = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*.json"))
    committed = sorted(p.relative_to(EVENTS) for p in EVENTS.rglob("*.json") if "payloads" not in p.parts)
    assert fresh == committed, "run `make events` and commit events/"
    stale = [str(p) for p in fresh if (tmp_path / p).read_text() != (EVENTS / p).read_text()]
    assert stale == [], "run `make events` and commit events/"


def test_every_webhook_route_has_at_least_one_valid_sample():
    from shared.ingress import ROUTES

    manifest = json.loads((EVENTS / "manifest.json").read_text())
    routes_with_valid = {
        json.loads((EVENTS / c["file"]).read_text())["rawPath"]
        for c in manifest["cases"]
        if c["case"] == "valid"
    }
    assert routes_with_valid == set(ROUTES)
