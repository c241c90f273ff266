"""The local stack's request log and its port parsing: what the inspector, `switchboard rejections`
and people's own scripts read, and what a new user mistypes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from switchboard import local, requestlog
from switchboard.requestlog import RequestLog, RequestRecord


def _record(n: int) -> RequestRecord:
    return RequestRecord(
        at="2026-11-30T00:00:00.000Z", method="POST", path=f"/p{n}", route="POST /p", function="F",
        status=401, verdict="rejected", code="signature_invalid",
    )  # fmt: skip


def test_records_get_increasing_seq_and_after_returns_only_newer(tmp_path: Path) -> None:
    log = RequestLog(tmp_path / "r.jsonl", keep=3)
    for n in range(5):
        log.add(_record(n))
    assert [r.seq for r in log.after(0)] == [3, 4, 5]  # the newest `keep` in memory
    assert [r.path for r in log.after(4)] == ["/p4"]
    on_disk = requestlog.read_file(tmp_path / "r.jsonl")
    assert [r["seq"] for r in on_disk] == [1, 2, 3, 4, 5]  # the file keeps every one


def test_the_file_is_rotated_past_its_size_limit_keeping_one_generation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(requestlog, "MAX_FILE_BYTES", 1000)
    path = tmp_path / "r.jsonl"
    log = RequestLog(path)
    for n in range(30):
        log.add(_record(n))
    assert path.stat().st_size <= 1000
    assert (tmp_path / "r.jsonl.1").stat().st_size <= 1000
    assert requestlog.read_file(path)[-1]["path"] == "/p29"


def test_a_torn_last_line_is_skipped_by_readers(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    path.write_text(json.dumps({"seq": 1}) + "\n" + '{"seq": 2, "pa')
    assert requestlog.read_file(path) == [{"seq": 1}]


@pytest.mark.parametrize(
    ("status", "answer", "code"),
    [
        (401, {"error": "signature_invalid"}, "signature_invalid"),
        (500, {}, "internal_error"),  # the handler raised: no body of ours
        (503, {"error": "unsigned_callback"}, "unsigned_callback"),
        (200, {"error": "ignored"}, ""),
    ],
)
def test_the_logged_code_of_a_response(status: int, answer: dict[str, str], code: str) -> None:
    assert local._code(status, answer, {}) == code


@pytest.mark.parametrize("value", ["abc", "²", "٣٠٠٠", "0", "65536", "-1", "3000.0", " 30 00"])
def test_a_port_variable_that_is_not_a_port_is_refused(value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORT", value)
    with pytest.raises(local.BadPort, match="PORT="):
        local.env_port("PORT", 3000)


def test_a_port_variable_unset_or_blank_is_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PORT", raising=False)
    assert local.env_port("PORT", 3000) == 3000
    monkeypatch.setenv("PORT", " 3100 ")
    assert local.env_port("PORT", 3000) == 3100
