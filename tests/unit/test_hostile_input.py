"""Inputs a reviewer used to get a 500 or a lost event: each now has a stable 4xx or a safe path."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError

from shared.errors import InvalidField, InvalidJson
from shared.http import HttpRequest
from shared.normalise import MAX_KEY_LENGTH, normalise, parse_timestamp
from shared.recorder import group_id
from shared.status_api import handle_status

NOW = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    "body",
    [b'{"a": ' + b"1" * 5000 + b"}", b"[" * 20000 + b"]" * 20000],
    ids=["5000-digit-number", "20000-nested-lists"],
)
def test_json_that_python_refuses_to_parse_is_invalid_json_not_a_500(body: bytes) -> None:
    request = HttpRequest("POST", "/vonage/verify", headers={"content-type": "application/json"}, body=body)
    with pytest.raises(InvalidJson) as caught:
        request.json_object()
    assert (caught.value.code, caught.value.status) == ("invalid_json", 400)


def test_a_huge_digit_timestamp_is_not_a_timestamp() -> None:
    assert parse_timestamp("1" * 5000) is None


def test_a_huge_timestamp_in_a_payload_falls_back_to_received_at() -> None:
    event = normalise(
        "voice",
        "event",
        {"uuid": "u1", "status": "completed", "timestamp": "9" * 5000},
        account_id=None,
        received_at=NOW,
    )
    assert event["occurred_at"] == event["received_at"]


@pytest.mark.parametrize("field", ["uuid", "status"])
def test_a_subject_or_status_too_long_to_be_a_key_is_refused(field: str) -> None:
    data = {"uuid": "u1", "status": "completed", field: "x" * (MAX_KEY_LENGTH + 1)}
    with pytest.raises(InvalidField) as caught:
        normalise("voice", "event", data, account_id=None, received_at=NOW)
    assert caught.value.status == 400


@pytest.mark.parametrize("subject", ["has space", "tab\there", "ünïcode", "x" * 113])
def test_fifo_group_ids_are_hashed_when_sqs_would_refuse_them(subject: str) -> None:
    group = group_id("vonage", "messages", subject)
    assert group.startswith("sha256:") and len(group) <= 128
    assert all("!" <= c <= "~" for c in group)


def test_a_plain_subject_is_its_own_group_and_each_product_has_its_own() -> None:
    uuid = "c11236f4-00bf-4b89-84ba-88b25df97315"
    assert group_id("vonage", "verify", uuid) == f"vonage:verify:{uuid}"
    groups = {
        group_id(provider, product, uuid) for provider, product in [("vonage", "verify"), ("vonage", "sms")]
    }
    assert len(groups) == 2


@pytest.mark.parametrize(
    ("raw_path", "expected"),
    [("/sb/twilio/verify-push", "/twilio/verify-push"), ("/twilio/verify-push", "/twilio/verify-push")],
)
def test_routes_are_matched_without_the_custom_domain_prefix(raw_path: str, expected: str) -> None:
    request = HttpRequest("POST", raw_path, host="hooks.example.com")
    assert request.route_path("https://hooks.example.com/sb") == expected
    assert request.url("https://hooks.example.com/sb") == "https://hooks.example.com/sb/twilio/verify-push"


class _FailingTable:
    def get_item(self, **kwargs: Any) -> Any:
        raise ClientError(
            {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "x"}}, "GetItem"
        )

    query = get_item


def test_the_status_api_answers_503_when_the_table_fails() -> None:
    response = handle_status({"pathParameters": {"subject_id": "abc"}}, _FailingTable(), "t")
    assert response["statusCode"] == 503
    assert '"storage_unavailable"' in response["body"]
