"""`switchboard rejections`: the time flags, the grouping of the local request log, the Logs Insights
query and the shaping of its results (the AWS calls themselves: tests/integration/test_rejections.py)."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

import pytest

from shared import webhook
from shared.errors import PayloadHashMismatch
from shared.observability import metrics
from shared.providers import ROUTES
from switchboard import cli
from switchboard.rejections import QUERY, REJECTED_MESSAGE, Group, group_of, local_groups, print_groups
from switchboard.terminal import printable
from switchboard.timeflags import time_bound

NOW = datetime(2026, 11, 30, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "value,expected",
    [
        ("15m", "2026-11-30T11:45:00.000Z"),
        ("1h", "2026-11-30T11:00:00.000Z"),
        ("2d", "2026-11-28T12:00:00.000Z"),
        ("90s", "2026-11-30T11:58:30.000Z"),
        ("2026-11-29", "2026-11-29T00:00:00.000Z"),
        ("2026-11-29T08:30:00Z", "2026-11-29T08:30:00.000Z"),
        ("2026-11-29T10:30:00+02:00", "2026-11-29T08:30:00.000Z"),
        ("2026-11-29T08:30:00", "2026-11-29T08:30:00.000Z"),  # naive means UTC
    ],
)
def test_since_is_a_duration_back_from_now_a_date_or_an_iso_time(value: str, expected: str):
    assert time_bound(value, now=NOW) == expected


def test_until_a_date_means_to_its_last_millisecond():
    assert time_bound("2026-11-29", now=NOW, end=True, flag="--until") == "2026-11-29T23:59:59.999Z"


@pytest.mark.parametrize("value", ["1y", "yesterday", "15 m", "-1h", "2026-13-01", ""])
def test_a_time_flag_it_cannot_read_is_a_usage_error_naming_the_forms(value: str):
    with pytest.raises(cli.CliError) as raised:
        time_bound(value, now=NOW)
    assert raised.value.code == cli.EXIT_USAGE
    assert "15m, 1h, 2d" in str(raised.value)


@pytest.mark.parametrize(
    "value", ["9999999d", "9999999w", "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-05:00"]
)
def test_a_time_flag_past_the_calendars_ends_is_a_usage_error_not_a_traceback(value: str):
    with pytest.raises(cli.CliError) as raised:
        time_bound(value, now=NOW)
    assert raised.value.code == cli.EXIT_USAGE
    assert repr(value) in str(raised.value)


def record(at: str, code: str, route: str, verdict: str = "rejected", **more: Any) -> dict[str, Any]:
    return {"at": at, "code": code, "route": route, "verdict": verdict, "status": 401, **more}


def test_local_rejections_are_grouped_by_code_and_route_with_the_latest_details():
    records = [
        record("2026-11-30T11:10:00.000Z", "signature_invalid", "POST /vonage/verify", message="old"),
        record(
            "2026-11-30T11:20:00.000Z",
            "signature_invalid",
            "POST /vonage/verify",
            message="signature verification failed",
            diagnostic={"rule": "newest"},
        ),
        record(
            "2026-11-30T11:15:00.000Z", "signature_invalid", "POST /vonage/verify", diagnostic={"rule": "mid"}
        ),
        record("2026-11-30T11:30:00.000Z", "signature_missing", "GET /twilio/verify-push", status=401),
        record(
            "2026-11-30T11:40:00.000Z",
            "storage_unavailable",
            "POST /vonage/verify",
            verdict="error",
            status=503,
        ),
        record("2026-11-30T11:50:00.000Z", "", "POST /vonage/verify", verdict="accepted", status=200),
        record("2026-11-30T11:50:00.000Z", "", "", verdict="not_found", status=404),
        record("2026-11-30T10:59:59.999Z", "signature_invalid", "POST /vonage/verify"),  # before --since
    ]

    groups = local_groups(records, "2026-11-30T11:00:00.000Z")

    assert [(g.count, g.code, g.route) for g in groups] == [
        (3, "signature_invalid", "/vonage/verify"),
        (1, "signature_missing", "/twilio/verify-push"),
        (1, "storage_unavailable", "/vonage/verify"),
    ]
    top = groups[0]
    assert (top.last_seen, top.reason, top.diagnostic) == (
        "2026-11-30T11:20:00.000Z",
        "signature verification failed",
        {"rule": "newest"},
    )
    assert groups[2].http_status == 503


def test_a_local_record_with_a_torn_or_missing_time_is_not_counted():
    records = [record("not a time", "signature_invalid", "POST /vonage/verify"), {"verdict": "rejected"}]
    assert local_groups(records, "2026-11-30T11:00:00.000Z") == []


def test_the_query_filters_on_the_line_the_handler_logs_and_groups_by_code_and_route(
    caplog: pytest.LogCaptureFixture,
):
    with caplog.at_level(logging.WARNING, logger="switchboard"):
        webhook._rejected(PayloadHashMismatch(rule="r"), ROUTES["/vonage/verify"])
    metrics.clear_metrics()
    logged = [r for r in caplog.records if r.getMessage() == REJECTED_MESSAGE]
    assert len(logged) == 1
    assert {"code", "route", "reason", "http_status", "diagnostic"} <= set(vars(logged[0]))
    assert QUERY.startswith(f'filter message = "{REJECTED_MESSAGE}" | stats count(*) as rejected')
    assert "latest(@message) as sample by code, route" in QUERY
    assert "max(@timestamp) as last_seen" in QUERY


def test_a_result_row_becomes_a_group_with_the_sample_lines_details():
    sample = {
        "level": "WARNING",
        "message": "webhook rejected",
        "code": "payload_hash_mismatch",
        "http_status": 401,
        "route": "/vonage/verify",
        "reason": "the body does not match the signed hash",
        "diagnostic": {"rule": "payload_hash", "api_key": "devkey01"},
    }
    row = [
        {"field": "code", "value": "payload_hash_mismatch"},
        {"field": "route", "value": "/vonage/verify"},
        {"field": "rejected", "value": "7"},
        {"field": "last_seen", "value": "2026-11-30 11:58:01.123"},
        {"field": "sample", "value": json.dumps(sample)},
    ]
    assert group_of(row) == Group(
        code="payload_hash_mismatch",
        route="/vonage/verify",
        count=7,
        last_seen="2026-11-30T11:58:01.123Z",
        http_status=401,
        reason="the body does not match the signed hash",
        diagnostic={"rule": "payload_hash", "api_key": "devkey01"},
    )


def test_a_sample_that_is_not_json_is_kept_as_text():
    row = [
        {"field": "code", "value": "x"},
        {"field": "rejected", "value": "1"},
        {"field": "sample", "value": "oops"},
    ]
    assert group_of(row).diagnostic == "oops"


def test_attacker_text_in_a_diagnostic_or_reason_cannot_reach_the_terminal_raw(
    capsys: pytest.CaptureFixture[str],
):
    hostile = "key\x1b[2J\u202egnp.exe\r\nFAKE LINE"
    group = Group("signature_invalid", "/vonage/verify", 1, "t", 401, hostile, {"api_key": hostile})

    print_groups([group], since="s", target="the local stack", as_json=False)
    text = capsys.readouterr().out
    print_groups([group], since="s", target="the local stack", as_json=True)
    as_json = capsys.readouterr().out

    for out in (text, as_json):
        assert "\x1b" not in out and "\u202e" not in out and "\r" not in out
        assert "\nFAKE LINE" not in out
    assert printable(hostile) in text
    assert json.loads(as_json)["diagnostic"] == {"api_key": hostile}


@pytest.mark.parametrize(
    "argv",
    [
        ("rejections", "--stack", "sb", "--profile", "no-such-profile"),
        ("replay", "--stack", "sb", "--profile", "no-such-profile", "--subject", "s"),
        ("status", "s", "--stack", "sb", "--profile", "no-such-profile"),
    ],
)
def test_an_unknown_profile_is_a_usage_error_not_a_traceback(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any, capsys: pytest.CaptureFixture[str], argv: tuple[str, ...]
):
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    assert cli.main(list(argv)) == cli.EXIT_USAGE
    assert "no-such-profile" in capsys.readouterr().err


@pytest.mark.parametrize("value", ["nan", "inf", "0", "-5", "soon"])
def test_a_timeout_that_is_not_a_positive_number_of_seconds_is_a_usage_error(
    value: str, capsys: pytest.CaptureFixture[str]
):
    # nan compares false with every clock reading: the poll loop never reached its deadline
    with pytest.raises(SystemExit) as exited:
        cli.build_parser().parse_args(["rejections", "--stack", "sb", "--timeout", value])
    assert exited.value.code == cli.EXIT_USAGE
    assert "--timeout" in capsys.readouterr().err
