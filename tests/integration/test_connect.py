"""`switchboard connect` against fake Twilio Verify, Twilio Events and Vonage Application APIs on 127.0.0.1.

The fakes (tests/fakes_providers.py) answer as the providers document; the tests check the exact
requests sent: paths, HTTP Basic credentials, form and JSON bodies, and that nothing is written
when nothing has to change or on --dry-run.
"""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto import mock_aws

from shared.ingress import ROUTES
from switchboard import cli
from switchboard.connect import BASE_OUTPUT, BASE_ROUTES, ROUTE_OUTPUTS
from switchboard.template import load_template
from tests.fakes_providers import (
    FakeTwilio,
    FakeTwilioEvents,
    FakeVonage,
    serve,
    twilio_error,
    vonage_error,
)
from tests.integration.conftest import fake_aws_env

SID = "AC" + "1" * 32
TOKEN = "twilio-auth-token-SECRET-0001"
OTHER_SID = "AC" + "2" * 32
OTHER_TOKEN = "twilio-auth-token-SECRET-0002"
SERVICE = "VA" + "a" * 32
BASE = "https://hooks.example.com"
PUSH_URL = f"{BASE}/twilio/verify-push"
FORM = "application/x-www-form-urlencoded"

API_KEY = "abcd1234"
API_SECRET = "vonage-api-SECRET-9999"
APP_ID = "78d335fa-323d-0114-9c3d-d6f0d48968cf"
PUBLIC_KEY = "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCA\n-----END PUBLIC KEY-----\n"


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def squeezed(text: str) -> str:
    """The text with each run of spaces made one (diff columns are padded)."""
    return "\n".join(" ".join(line.split()) for line in text.splitlines())


@dataclass
class Run:
    code: int
    out: str
    err: str


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]) -> Any:
    def invoke(*argv: str) -> Run:
        code = cli.main(list(argv))
        captured = capsys.readouterr()
        result = Run(code, captured.out, captured.err)
        for secret in (TOKEN, OTHER_TOKEN, API_SECRET):  # never printed, in any form
            for shown in (secret, basic(SID, secret)[6:], basic(API_KEY, secret)[6:]):
                assert shown not in result.out + result.err
        return result

    return invoke


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "VONAGE_API_KEY", "VONAGE_API_SECRET"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def twilio(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeTwilio]:
    with serve(FakeTwilio(accounts={SID: TOKEN, OTHER_SID: OTHER_TOKEN})) as fake:
        assert isinstance(fake, FakeTwilio)
        fake.add_service(SERVICE)
        monkeypatch.setenv("SWITCHBOARD_TWILIO_VERIFY_API", fake.base_url + "/v2")
        monkeypatch.setenv("TWILIO_ACCOUNT_SID", SID)
        monkeypatch.setenv("TWILIO_AUTH_TOKEN", TOKEN)
        yield fake


def connect_twilio(*extra: str) -> list[str]:
    return ["connect", "twilio", "--service", SERVICE, "--base-url", BASE, *extra]


# --- Twilio --------------------------------------------------------------------------------------


def test_twilio_creates_the_verify_service_webhook_with_the_documented_form(run: Any, twilio: FakeTwilio):
    result = run(*connect_twilio())

    assert result.code == 0, result.err
    listing, create = twilio.requests
    assert (listing.method, listing.path) == ("GET", f"/v2/Services/{SERVICE}/Webhooks")
    assert (create.method, create.path) == ("POST", f"/v2/Services/{SERVICE}/Webhooks")
    for request in (listing, create):
        assert request.headers["authorization"] == basic(SID, TOKEN)
        assert request.headers["accept"] == "application/json"
    assert create.headers["content-type"] == FORM
    assert create.form == [
        ("FriendlyName", "switchboard"),
        ("EventTypes", "*"),
        ("WebhookUrl", PUSH_URL),
        ("Status", "enabled"),
        ("Version", "v2"),
    ]
    (hook,) = twilio.webhooks[SERVICE].values()
    assert hook["webhook_url"] == PUSH_URL
    assert f"created webhook {hook['sid']}" in result.out


def test_twilio_events_repeated_or_comma_separated_go_as_repeated_event_types(run: Any, twilio: FakeTwilio):
    result = run(
        *connect_twilio("--events", "factor.verified,challenge.approved", "--events", "challenge.denied")
    )

    assert result.code == 0, result.err
    assert [v for k, v in twilio.writes[0].form if k == "EventTypes"] == [
        "factor.verified",
        "challenge.approved",
        "challenge.denied",
    ]


def test_twilio_second_run_sends_no_write_and_says_already_connected(run: Any, twilio: FakeTwilio):
    assert run(*connect_twilio()).code == 0
    writes = len(twilio.writes)

    second = run(*connect_twilio())

    assert second.code == 0
    assert len(twilio.writes) == writes == 1
    assert "already connected" in second.out


def test_twilio_updates_the_webhook_found_by_name_sending_only_what_differs(run: Any, twilio: FakeTwilio):
    other = twilio.add_webhook(SERVICE, friendly_name="fraud team", webhook_url="https://fraud.example.com/")
    ours = twilio.add_webhook(
        SERVICE,
        friendly_name="switchboard",
        webhook_url="https://old-api.example.com/twilio/verify-push",
        event_types=["factor.created"],
        status="disabled",
    )
    before_other = copy.deepcopy(other)

    result = run(*connect_twilio())

    assert result.code == 0, result.err
    (update,) = twilio.writes
    assert (update.method, update.path) == ("POST", f"/v2/Services/{SERVICE}/Webhooks/{ours['sid']}")
    assert update.headers["content-type"] == FORM
    assert update.form == [("EventTypes", "*"), ("WebhookUrl", PUSH_URL), ("Status", "enabled")]
    assert twilio.webhooks[SERVICE][other["sid"]] == before_other
    assert "https://old-api.example.com/twilio/verify-push → " + PUSH_URL in result.out


def test_twilio_webhook_with_our_url_is_ours_whatever_its_name(run: Any, twilio: FakeTwilio):
    twilio.add_webhook(SERVICE, friendly_name="push events", webhook_url=PUSH_URL)

    result = run(*connect_twilio())

    assert result.code == 0
    assert twilio.writes == []
    assert "already connected" in result.out


def test_twilio_dry_run_prints_the_diff_and_the_request_and_writes_nothing(run: Any, twilio: FakeTwilio):
    hook = twilio.add_webhook(SERVICE, friendly_name="switchboard", webhook_url="https://old.example.com/x")
    before = copy.deepcopy(twilio.webhooks)

    result = run(*connect_twilio("--dry-run"))

    assert result.code == 0, result.err
    assert twilio.writes == []
    assert twilio.webhooks == before
    assert f"webhook_url https://old.example.com/x → {PUSH_URL}" in squeezed(result.out)
    assert f"POST {twilio.base_url}/v2/Services/{SERVICE}/Webhooks/{hook['sid']}" in result.out
    assert "Authorization: Basic <redacted>" in result.out
    assert "WebhookUrl=https%3A%2F%2Fhooks.example.com%2Ftwilio%2Fverify-push" in result.out
    assert "dry run: nothing was changed" in result.out


def test_twilio_list_follows_next_page_url_and_marks_ours(run: Any, twilio: FakeTwilio):
    twilio.max_page_size = 2
    hooks = [twilio.add_webhook(SERVICE, friendly_name=f"hook {i}") for i in range(4)]
    hooks.append(twilio.add_webhook(SERVICE, friendly_name="switchboard", webhook_url=PUSH_URL))

    result = run(*connect_twilio("--list"))

    assert result.code == 0, result.err
    assert [r.query.get("Page", ["0"])[0] for r in twilio.requests] == ["0", "1", "2"]
    assert all(r.method == "GET" for r in twilio.requests)
    for hook in hooks:
        assert hook["sid"] in result.out
    (ours_line,) = [line for line in result.out.splitlines() if hooks[-1]["sid"] in line]
    assert ours_line.startswith("*")


def test_twilio_remove_deletes_ours_and_nothing_else_then_has_nothing_to_remove(run: Any, twilio: FakeTwilio):
    other = twilio.add_webhook(SERVICE, friendly_name="fraud team")
    ours = twilio.add_webhook(SERVICE, friendly_name="x", webhook_url=PUSH_URL)

    first = run(*connect_twilio("--remove"))
    second = run(*connect_twilio("--remove"))

    assert (first.code, second.code) == (0, 0)
    (delete,) = twilio.writes
    assert (delete.method, delete.path) == ("DELETE", f"/v2/Services/{SERVICE}/Webhooks/{ours['sid']}")
    assert delete.headers["authorization"] == basic(SID, TOKEN)
    assert list(twilio.webhooks[SERVICE]) == [other["sid"]]
    assert "nothing to remove" in second.out


def test_twilio_remove_dry_run_deletes_nothing(run: Any, twilio: FakeTwilio):
    ours = twilio.add_webhook(SERVICE, friendly_name="switchboard")

    result = run(*connect_twilio("--remove", "--dry-run"))

    assert result.code == 0
    assert twilio.writes == []
    assert f"DELETE {twilio.base_url}/v2/Services/{SERVICE}/Webhooks/{ours['sid']}" in result.out


def test_twilio_a_different_webhook_method_is_reported_not_rewritten(run: Any, twilio: FakeTwilio):
    twilio.add_webhook(SERVICE, friendly_name="switchboard", webhook_url=PUSH_URL, webhook_method="GET")

    result = run(*connect_twilio())

    assert result.code == 0
    assert twilio.writes == []
    assert "calls this webhook with GET, not POST" in result.err


@pytest.mark.parametrize(
    ("setup", "expected"),
    [
        pytest.param(
            {"env": {"TWILIO_AUTH_TOKEN": "wrong-token"}},
            [
                "Twilio answered HTTP 401 (error 20003): Authenticate",
                "https://www.twilio.com/docs/errors/20003",
            ],
            id="bad-credentials",
        ),
        pytest.param(
            {"service": "VA" + "b" * 32},
            [
                f"Twilio answered HTTP 404 (error 20404): The requested resource /Services/VA{'b' * 32}/Webhooks"
            ],
            id="unknown-service",
        ),
        pytest.param(
            {"fail": ("POST", twilio_error(400, 60200, "Invalid parameter: WebhookUrl"))},
            [
                "Twilio answered HTTP 400 (error 60200): Invalid parameter: WebhookUrl",
                "https://www.twilio.com/docs/errors/60200",
            ],
            id="validation",
        ),
    ],
)
def test_twilio_errors_are_shown_with_twilios_own_message_and_exit_1(
    run: Any, twilio: FakeTwilio, monkeypatch: pytest.MonkeyPatch, setup: dict[str, Any], expected: list[str]
):
    for name, value in setup.get("env", {}).items():
        monkeypatch.setenv(name, value)
    if "fail" in setup:
        method, answer = setup["fail"]
        twilio.fail_next[method] = answer
    argv = ["connect", "twilio", "--service", setup.get("service", SERVICE), "--base-url", BASE]

    result = run(*argv)

    assert result.code == 1
    for text in expected:
        assert text in result.err
    assert "wrong-token" not in result.err + result.out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--service", "VA123"], "Verify Service SID"),
        (
            ["--service", SERVICE, "--base-url", BASE, "--events", "factor.approved"],
            "unknown Verify Push event",
        ),
        (["--service", SERVICE], "--stack NAME"),
        (["--service", SERVICE, "--base-url", "ftp://hooks.example.com"], "--base-url must look like"),
        (["--service", SERVICE, "--base-url", "https://u:p@hooks.example.com"], "must not carry credentials"),
    ],
)
def test_twilio_usage_errors_exit_2_before_any_request(
    run: Any, twilio: FakeTwilio, argv: list[str], message: str
):
    result = run("connect", "twilio", *argv)

    assert result.code == 2
    assert message in result.err
    assert twilio.requests == []


def test_twilio_without_any_credentials_says_where_they_come_from(
    run: Any, twilio: FakeTwilio, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.delenv("TWILIO_AUTH_TOKEN")

    result = run(*connect_twilio())

    assert result.code == 2
    assert "TWILIO_AUTH_TOKEN" in result.err
    assert twilio.requests == []


# --- Twilio Event Streams ------------------------------------------------------------------------

STREAM_URL = f"{BASE}/twilio/event-streams"
VERIFY_TYPES = [  # Twilio's Verify "Verification Status" event types, written out (providers-more.md §7.4)
    "com.twilio.accountsecurity.verify.verification.pending",
    "com.twilio.accountsecurity.verify.verification.approved",
    "com.twilio.accountsecurity.verify.verification.canceled",
    "com.twilio.accountsecurity.verify.verification.expired",
    "com.twilio.accountsecurity.verify.verification.max-attempts-reached",
]


@pytest.fixture
def events(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeTwilioEvents]:
    with serve(FakeTwilioEvents(accounts={SID: TOKEN, OTHER_SID: OTHER_TOKEN})) as fake:
        assert isinstance(fake, FakeTwilioEvents)
        monkeypatch.setenv("SWITCHBOARD_TWILIO_EVENTS_API", fake.base_url + "/v1")
        monkeypatch.setenv("TWILIO_ACCOUNT_SID", SID)
        monkeypatch.setenv("TWILIO_AUTH_TOKEN", TOKEN)
        yield fake


def connect_events(*extra: str) -> list[str]:
    return ["connect", "twilio", "--event-streams", "--base-url", BASE, *extra]


def calls(fake: FakeTwilioEvents) -> list[tuple[str, str]]:
    return [(r.method, r.path) for r in fake.requests]


def test_event_streams_first_run_creates_the_sink_and_subscribes_it_to_the_verify_types(
    run: Any, events: FakeTwilioEvents
):
    result = run(*connect_events())

    assert result.code == 0, result.err
    assert calls(events) == [("GET", "/v1/Sinks"), ("POST", "/v1/Sinks"), ("POST", "/v1/Subscriptions")]
    for request in events.requests:
        assert request.headers["authorization"] == basic(SID, TOKEN)
    create_sink, subscribe = events.writes
    assert create_sink.headers["content-type"] == FORM
    form = dict(create_sink.form)
    assert list(form) == ["Description", "SinkConfiguration", "SinkType"]
    assert json.loads(form["SinkConfiguration"]) == {"destination": STREAM_URL, "method": "POST"}
    assert form["SinkType"] == "webhook"
    (sink,) = events.sinks.values()
    assert [k for k, _ in subscribe.form[:2]] == ["Description", "SinkSid"]
    assert subscribe.form[1] == ("SinkSid", sink["sid"])
    assert [json.loads(v) for k, v in subscribe.form if k == "Types"] == [
        {"type": kind, "schema_version": 1} for kind in VERIFY_TYPES
    ]
    assert events.types_of(sink["sid"]) == dict.fromkeys(VERIFY_TYPES, 1)
    assert f"created sink {sink['sid']}" in result.out
    (subscription,) = events.subscriptions
    assert f"created subscription {subscription}" in result.out


def test_event_streams_second_run_sends_no_write_reading_every_page(run: Any, events: FakeTwilioEvents):
    assert run(*connect_events()).code == 0
    events.requests.clear()
    events.max_page_size = 2  # the five subscribed types now come in three pages
    for i in range(3):
        events.add_sink(f"https://other.example.com/{i}")

    second = run(*connect_events())

    assert second.code == 0, second.err
    assert events.writes == []
    (sink,) = [s for s in events.sinks.values() if s["sink_configuration"]["destination"] == STREAM_URL]
    (subscription,) = events.subscriptions
    assert [r.query.get("Page", ["0"])[0] for r in events.requests if r.path == "/v1/Sinks"] == ["0", "1"]
    (listing,) = [r for r in events.requests if r.path == "/v1/Subscriptions"]
    assert listing.query["SinkSid"] == [sink["sid"]]
    types_pages = [r for r in events.requests if r.path.endswith("/SubscribedEvents")]
    assert [r.path for r in types_pages] == [f"/v1/Subscriptions/{subscription}/SubscribedEvents"] * 3
    assert "already connected" in second.out


def test_event_streams_dry_run_sends_no_post_and_shows_both_requests(run: Any, events: FakeTwilioEvents):
    result = run(*connect_events("--dry-run"))

    assert result.code == 0, result.err
    assert events.writes == []
    assert events.sinks == {} and events.subscriptions == {}
    assert f"POST {events.base_url}/v1/Sinks\n" in result.out
    assert f"POST {events.base_url}/v1/Subscriptions\n" in result.out
    assert "Authorization: Basic <redacted>" in result.out
    assert "SinkType=webhook" in result.out
    for kind in VERIFY_TYPES:
        assert f"+ {kind}" in result.out
    assert "dry run: nothing was changed" in result.out


def test_event_streams_dry_run_on_a_partly_subscribed_sink_plans_only_the_missing_types(
    run: Any, events: FakeTwilioEvents
):
    sink = events.add_sink(STREAM_URL)
    events.add_subscription(sink["sid"], {VERIFY_TYPES[0]: 1, VERIFY_TYPES[1]: 1})

    result = run(*connect_events("--dry-run"))

    assert result.code == 0, result.err
    assert events.writes == []
    assert "would create a subscription" in result.out
    assert [kind for kind in VERIFY_TYPES if f"+ {kind} " in result.out] == VERIFY_TYPES[2:]
    assert "would create a webhook sink" not in result.out


def test_event_streams_existing_sink_gets_a_subscription_for_the_missing_types_only(
    run: Any, events: FakeTwilioEvents
):
    sink = events.add_sink(STREAM_URL, description="made by hand")
    events.add_subscription(
        sink["sid"], {VERIFY_TYPES[0]: 1, VERIFY_TYPES[3]: 1, "com.twilio.messaging.message.delivered": 1}
    )

    result = run(*connect_events())

    assert result.code == 0, result.err
    (subscribe,) = events.writes
    assert (subscribe.method, subscribe.path) == ("POST", "/v1/Subscriptions")
    assert ("SinkSid", sink["sid"]) in subscribe.form
    sent = [json.loads(v)["type"] for k, v in subscribe.form if k == "Types"]
    assert sent == [VERIFY_TYPES[1], VERIFY_TYPES[2], VERIFY_TYPES[4]]
    assert events.types_of(sink["sid"]) == {
        **dict.fromkeys(VERIFY_TYPES, 1),
        "com.twilio.messaging.message.delivered": 1,
    }
    assert run(*connect_events()).code == 0
    assert len(events.writes) == 1


def test_event_streams_a_sink_for_another_url_is_left_alone(run: Any, events: FakeTwilioEvents):
    other = events.add_sink("https://old-api.example.com/twilio/event-streams", description="switchboard")
    events.add_subscription(other["sid"], dict.fromkeys(VERIFY_TYPES, 1))
    before = copy.deepcopy((events.sinks, events.subscriptions, events.subscribed))

    result = run(*connect_events())

    assert result.code == 0, result.err
    create_sink, subscribe = events.writes
    assert create_sink.path == "/v1/Sinks"
    (ours,) = [s for s in events.sinks.values() if s["sid"] != other["sid"]]
    assert ("SinkSid", ours["sid"]) in subscribe.form
    assert {sid: events.sinks[sid] for sid in before[0]} == before[0]
    assert {sid: events.subscriptions[sid] for sid in before[1]} == before[1]
    assert {sid: events.subscribed[sid] for sid in before[2]} == before[2]


@pytest.mark.parametrize("status", ["initialized", "validating", "failed"])
def test_event_streams_an_inactive_sink_is_reported_with_how_to_validate_it(
    run: Any, events: FakeTwilioEvents, status: str
):
    sink = events.add_sink(STREAM_URL, status=status)

    result = run(*connect_events())

    assert result.code == 1
    assert events.writes == []
    assert f"is {status}, not active" in result.out
    assert f"POST {events.base_url}/v1/Sinks/{sink['sid']}/Test" in result.out
    assert f"POST {events.base_url}/v1/Sinks/{sink['sid']}/Validate" in result.out
    assert "TestId=<data.test_id of that event>" in result.out


def test_event_streams_prefers_an_active_sink_when_several_deliver_to_our_url(
    run: Any, events: FakeTwilioEvents
):
    events.add_sink(STREAM_URL, status="failed")
    active = events.add_sink(STREAM_URL)
    events.add_subscription(active["sid"], dict.fromkeys(VERIFY_TYPES, 1))

    result = run(*connect_events())

    assert result.code == 0, result.err
    assert events.writes == []
    assert f"already connected: sink {active['sid']}" in result.out
    assert "also delivers to" in result.err


def test_event_streams_a_get_sink_and_another_schema_version_are_reported_not_rewritten(
    run: Any, events: FakeTwilioEvents
):
    sink = events.add_sink(STREAM_URL, method="GET")
    events.add_subscription(sink["sid"], dict.fromkeys(VERIFY_TYPES, 3))

    result = run(*connect_events())

    assert result.code == 0, result.err
    assert events.writes == []
    assert "calls with GET, not POST" in result.err
    assert "schema version 3, not 1" in result.err


@pytest.mark.parametrize(
    ("setup", "expected"),
    [
        pytest.param(
            {"env": {"TWILIO_AUTH_TOKEN": "wrong-token"}},
            ["Twilio answered HTTP 401 (error 20003): Authenticate"],
            id="bad-credentials",
        ),
        pytest.param(
            {"fail": twilio_error(400, 20001, "Invalid parameter: SinkConfiguration")},
            [
                "Twilio answered HTTP 400 (error 20001): Invalid parameter: SinkConfiguration",
                "https://www.twilio.com/docs/errors/20001",
            ],
            id="sink-validation",
        ),
    ],
)
def test_event_streams_errors_are_shown_with_twilios_own_message_and_exit_1(
    run: Any,
    events: FakeTwilioEvents,
    monkeypatch: pytest.MonkeyPatch,
    setup: dict[str, Any],
    expected: list[str],
):
    for name, value in setup.get("env", {}).items():
        monkeypatch.setenv(name, value)
    if "fail" in setup:
        events.fail_next["POST"] = setup["fail"]

    result = run(*connect_events())

    assert result.code == 1
    for text in expected:
        assert text in result.err
    assert events.subscriptions == {}


def test_event_streams_a_refused_subscription_is_twilios_error(run: Any, events: FakeTwilioEvents):
    events.add_sink(STREAM_URL)
    events.fail_next["POST"] = twilio_error(400, 20001, "Invalid parameter: Types")

    result = run(*connect_events())

    assert result.code == 1
    assert "Twilio answered HTTP 400 (error 20001): Invalid parameter: Types" in result.err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--event-streams", "--base-url", BASE, "--service", SERVICE], "takes no --service"),
        (["--event-streams", "--base-url", BASE, "--events", "factor.verified"], "or --events"),
        (["--event-streams"], "--stack NAME"),
        (["--base-url", BASE], "--service VA… is required"),
    ],
)
def test_event_streams_usage_errors_exit_2_before_any_request(
    run: Any, events: FakeTwilioEvents, argv: list[str], message: str
):
    result = run("connect", "twilio", *argv)

    assert result.code == 2
    assert message in result.err
    assert events.requests == []


def test_event_streams_is_not_combined_with_list_or_remove(
    events: FakeTwilioEvents, capsys: pytest.CaptureFixture[str]
):
    with pytest.raises(SystemExit) as exited:
        cli.main(connect_events("--remove"))

    assert exited.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err
    assert events.requests == []


# --- the stack: outputs, PublicBaseUrl, secret ---------------------------------------------------


EXECUTE_API = "https://abc123.execute-api.us-east-1.amazonaws.com"


def _create_stack(secret: dict[str, Any], public_base_url: str = "", without: tuple[str, ...] = ()) -> None:
    arn = boto3.client("secretsmanager").create_secret(Name="sb", SecretString=json.dumps(secret))["ARN"]
    outputs = {name: {"Value": EXECUTE_API + path} for name, path in ROUTE_OUTPUTS.items()}
    outputs[BASE_OUTPUT] = {"Value": public_base_url or EXECUTE_API}
    outputs["SecretArn"] = {"Value": arn}
    for name in without:
        del outputs[name]
    template = {
        "Parameters": {"PublicBaseUrl": {"Type": "String", "Default": ""}},
        "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
        "Outputs": outputs,
    }
    boto3.client("cloudformation").create_stack(
        StackName="switchboard",
        TemplateBody=json.dumps(template),
        Parameters=[{"ParameterKey": "PublicBaseUrl", "ParameterValue": public_base_url}],
    )


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    fake_aws_env(monkeypatch)
    with mock_aws():
        yield


def test_twilio_with_stack_uses_its_output_url_and_the_secrets_first_token(
    run: Any, twilio: FakeTwilio, monkeypatch: pytest.MonkeyPatch, aws: None
):
    monkeypatch.delenv("TWILIO_ACCOUNT_SID")
    monkeypatch.delenv("TWILIO_AUTH_TOKEN")
    _create_stack({"twilio": {"auth_tokens": {SID: [TOKEN, "older-token-SECRET"]}}})

    result = run("connect", "twilio", "--service", SERVICE, "--stack", "switchboard")

    assert result.code == 0, result.err
    assert {r.headers["authorization"] for r in twilio.requests} == {basic(SID, TOKEN)}
    assert ("WebhookUrl", f"{EXECUTE_API}/twilio/verify-push") in twilio.writes[0].form
    assert "older-token-SECRET" not in result.out + result.err


def test_twilio_with_several_accounts_in_the_secret_requires_account_sid(
    run: Any, twilio: FakeTwilio, monkeypatch: pytest.MonkeyPatch, aws: None
):
    monkeypatch.delenv("TWILIO_ACCOUNT_SID")
    monkeypatch.delenv("TWILIO_AUTH_TOKEN")
    _create_stack({"twilio": {"auth_tokens": {SID: [TOKEN], OTHER_SID: [OTHER_TOKEN]}}})
    argv = ["connect", "twilio", "--service", SERVICE, "--stack", "switchboard"]

    ambiguous = run(*argv)
    chosen = run(*argv, "--account-sid", OTHER_SID)

    assert ambiguous.code == 2
    assert "--account-sid" in ambiguous.err
    assert chosen.code == 0, chosen.err
    assert {r.headers["authorization"] for r in twilio.requests} == {basic(OTHER_SID, OTHER_TOKEN)}


def test_stack_public_base_url_is_the_url_given_since_twilio_signs_what_it_calls(
    run: Any, twilio: FakeTwilio, aws: None
):
    _create_stack({"twilio": {"auth_tokens": {SID: [TOKEN]}}}, public_base_url="https://hooks.acme.test/")

    result = run("connect", "twilio", "--service", SERVICE, "--stack", "switchboard")

    assert result.code == 0, result.err
    assert ("WebhookUrl", "https://hooks.acme.test/twilio/verify-push") in twilio.writes[0].form


def test_twilio_warns_when_the_stacks_secret_lacks_the_accounts_token(
    run: Any, twilio: FakeTwilio, aws: None
):
    _create_stack({"twilio": {"auth_tokens": {OTHER_SID: [OTHER_TOKEN]}}})

    result = run("connect", "twilio", "--service", SERVICE, "--stack", "switchboard", "--account-sid", SID)

    assert result.code == 0, result.err  # TWILIO_AUTH_TOKEN from the environment
    assert f"no twilio.auth_tokens entry for {SID}" in result.err


def test_event_streams_with_stack_point_the_sink_at_its_webhook_base_url(
    run: Any, events: FakeTwilioEvents, monkeypatch: pytest.MonkeyPatch, aws: None
):
    monkeypatch.delenv("TWILIO_ACCOUNT_SID")
    monkeypatch.delenv("TWILIO_AUTH_TOKEN")
    _create_stack({"twilio": {"auth_tokens": {SID: [TOKEN]}}})

    result = run("connect", "twilio", "--event-streams", "--stack", "switchboard")

    assert result.code == 0, result.err
    (sink,) = events.sinks.values()
    assert sink["sink_configuration"]["destination"] == f"{EXECUTE_API}/twilio/event-streams"
    assert {r.headers["authorization"] for r in events.requests} == {basic(SID, TOKEN)}


def test_event_streams_with_stack_public_base_url_use_it(run: Any, events: FakeTwilioEvents, aws: None):
    _create_stack({"twilio": {"auth_tokens": {SID: [TOKEN]}}}, public_base_url="https://hooks.acme.test/")

    result = run("connect", "twilio", "--event-streams", "--stack", "switchboard")

    assert result.code == 0, result.err
    (sink,) = events.sinks.values()
    assert sink["sink_configuration"]["destination"] == "https://hooks.acme.test/twilio/event-streams"


def test_a_stack_without_the_webhook_base_url_output_is_an_older_template(
    run: Any, vonage: FakeVonage, aws: None
):
    _create_stack({}, without=(BASE_OUTPUT,))

    result = run("connect", "vonage", "--application", APP_ID, "--stack", "switchboard")

    assert result.code == 1
    assert f"has no output {BASE_OUTPUT}" in result.err
    assert vonage.requests == []


def test_route_paths_are_the_template_outputs():
    outputs = load_template()["Outputs"]
    for output, path in ROUTE_OUTPUTS.items():
        assert outputs[output]["Value"]["Fn::Join"][1][-1] == path, output
    assert BASE_OUTPUT in outputs  # the base of the BASE_ROUTES URLs


@pytest.mark.parametrize("path", sorted({*ROUTE_OUTPUTS.values(), *BASE_ROUTES.values()}))
def test_every_path_connect_gives_a_provider_is_a_receivers_route(path: str):
    assert path in ROUTES


# --- Vonage --------------------------------------------------------------------------------------


def rich_application() -> dict[str, Any]:
    """An application as GET returns it, with settings Switchboard must leave alone."""
    return {
        "name": "Acme production",
        "keys": {"public_key": PUBLIC_KEY},
        "privacy": {"improve_ai": False},
        "capabilities": {
            "voice": {
                "webhooks": {
                    "answer_url": {
                        "address": "https://old.example.com/answer",
                        "http_method": "GET",
                        "connect_timeout": 500,
                        "socket_timeout": 3000,
                    },
                    "fallback_answer_url": {
                        "address": "https://fallback.example.com/answer",
                        "http_method": "GET",
                    },
                    "event_url": {"address": "https://old.example.com/event", "http_method": "GET"},
                },
                "signed_callbacks": True,
                "conversations_ttl": 48,
                "leg_persistence_time": 7,
                "region": "eu-west",
            },
            "rtc": {
                "webhooks": {
                    "event_url": {"address": "https://rtc.example.com/event", "http_method": "POST"}
                },
                "signed_callbacks": True,
            },
            "messages": {
                "version": "v1",
                "authenticate_inbound_media": True,
                "webhooks": {
                    "inbound_url": {"address": "https://old.example.com/inbound", "http_method": "POST"},
                    "status_url": {"address": "https://old.example.com/status", "http_method": "POST"},
                },
            },
            "vbc": {},
            "network_apis": {
                "redirect_uri": "https://acme.example.com/cb",
                "network_application_id": "acme_1",
            },
        },
        "x_future_field": {"kept": ["as", "it", "was"]},
    }


@pytest.fixture
def vonage(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeVonage]:
    with serve(FakeVonage(api_key=API_KEY, api_secret=API_SECRET)) as fake:
        assert isinstance(fake, FakeVonage)
        fake.applications[APP_ID] = rich_application()
        monkeypatch.setenv("SWITCHBOARD_VONAGE_API", fake.base_url)
        monkeypatch.setenv("VONAGE_API_KEY", API_KEY)
        monkeypatch.setenv("VONAGE_API_SECRET", API_SECRET)
        yield fake


def connect_vonage(*extra: str) -> list[str]:
    return ["connect", "vonage", "--application", APP_ID, "--base-url", BASE, *extra]


def test_vonage_puts_back_the_application_with_only_the_webhooks_changed(run: Any, vonage: FakeVonage):
    result = run(*connect_vonage())

    assert result.code == 0, result.err
    read, write = vonage.requests
    assert (read.method, read.path) == ("GET", f"/v2/applications/{APP_ID}")
    assert (write.method, write.path) == ("PUT", f"/v2/applications/{APP_ID}")
    for request in (read, write):
        assert request.headers["authorization"] == basic(API_KEY, API_SECRET)
        assert request.headers["accept"] == "application/json"
    assert write.headers["content-type"] == "application/json"
    expected = rich_application()
    voice = expected["capabilities"]["voice"]["webhooks"]
    voice["answer_url"]["address"] = f"{BASE}/vonage/voice/answer"  # GET kept, timeouts kept
    voice["fallback_answer_url"]["address"] = f"{BASE}/vonage/voice/fallback"  # GET kept
    voice["event_url"] = {"address": f"{BASE}/vonage/voice/event", "http_method": "POST"}
    rtc = expected["capabilities"]["rtc"]["webhooks"]
    rtc["event_url"]["address"] = f"{BASE}/vonage/rtc/event"
    messages = expected["capabilities"]["messages"]["webhooks"]
    messages["inbound_url"]["address"] = f"{BASE}/vonage/messages/inbound"
    messages["status_url"]["address"] = f"{BASE}/vonage/messages/status"
    expected["capabilities"]["verify"] = {
        "webhooks": {"status_url": {"address": f"{BASE}/vonage/verify", "http_method": "POST"}}
    }
    assert write.json() == expected
    assert "updated the application" in result.out


def test_vonage_second_run_sends_no_put_and_says_already_connected(run: Any, vonage: FakeVonage):
    assert run(*connect_vonage()).code == 0

    second = run(*connect_vonage())

    assert second.code == 0
    assert [r.method for r in vonage.requests] == ["GET", "PUT", "GET"]
    assert "already connected" in second.out


def test_vonage_dry_run_prints_the_diff_and_the_put_and_writes_nothing(run: Any, vonage: FakeVonage):
    result = run(*connect_vonage("--dry-run"))

    assert result.code == 0, result.err
    assert [r.method for r in vonage.requests] == ["GET"]
    assert vonage.applications[APP_ID] == rich_application()
    assert (
        "capabilities.voice.webhooks.answer_url.address https://old.example.com/answer → "
        f"{BASE}/vonage/voice/answer" in squeezed(result.out)
    )
    assert f"capabilities.verify.webhooks.status_url.address (absent) → {BASE}/vonage/verify" in squeezed(
        result.out
    )
    assert f"PUT {vonage.base_url}/v2/applications/{APP_ID}" in result.out
    assert "Authorization: Basic <redacted>" in result.out
    assert '"x_future_field"' in result.out
    assert "dry run: nothing was changed" in result.out


def test_vonage_keeps_a_post_answer_method_and_creates_missing_capabilities(run: Any, vonage: FakeVonage):
    vonage.applications[APP_ID] = {
        "name": "bare",
        "keys": {"public_key": PUBLIC_KEY},
        "capabilities": {
            "voice": {
                "webhooks": {"answer_url": {"address": "https://x.example.com/a", "http_method": "POST"}}
            }
        },
    }

    result = run(*connect_vonage())

    assert result.code == 0, result.err
    assert vonage.writes[0].json() == {
        "name": "bare",
        "keys": {"public_key": PUBLIC_KEY},
        "capabilities": {
            "voice": {
                "webhooks": {
                    "answer_url": {"address": f"{BASE}/vonage/voice/answer", "http_method": "POST"},
                    "fallback_answer_url": {"address": f"{BASE}/vonage/voice/fallback", "http_method": "GET"},
                    "event_url": {"address": f"{BASE}/vonage/voice/event", "http_method": "POST"},
                },
                "signed_callbacks": True,
            },
            "verify": {
                "webhooks": {"status_url": {"address": f"{BASE}/vonage/verify", "http_method": "POST"}}
            },
            "messages": {
                "version": "v1",
                "webhooks": {
                    "inbound_url": {"address": f"{BASE}/vonage/messages/inbound", "http_method": "POST"},
                    "status_url": {"address": f"{BASE}/vonage/messages/status", "http_method": "POST"},
                },
            },
            "rtc": {
                "webhooks": {"event_url": {"address": f"{BASE}/vonage/rtc/event", "http_method": "POST"}},
                "signed_callbacks": True,
            },
        },
    }


def test_vonage_turns_on_signed_voice_callbacks_which_the_voice_routes_require(run: Any, vonage: FakeVonage):
    vonage.applications[APP_ID]["capabilities"]["voice"]["signed_callbacks"] = False

    result = run(*connect_vonage("--dry-run"))

    assert result.code == 0
    assert "capabilities.voice.signed_callbacks false → true" in squeezed(result.out)


def test_vonage_leaves_out_the_verify_version_its_sdk_says_not_to_set(run: Any, vonage: FakeVonage):
    vonage.applications[APP_ID]["capabilities"]["verify"] = {
        "version": "v2",
        "webhooks": {"status_url": {"address": "https://old.example.com/verify", "http_method": "POST"}},
    }

    result = run(*connect_vonage())

    assert result.code == 0, result.err
    assert vonage.writes[0].json()["capabilities"]["verify"] == {
        "webhooks": {"status_url": {"address": f"{BASE}/vonage/verify", "http_method": "POST"}}
    }


def test_vonage_sets_the_signed_rtc_event_url_and_keeps_a_post_fallback_method(run: Any, vonage: FakeVonage):
    caps = vonage.applications[APP_ID]["capabilities"]
    caps["rtc"] = {"webhooks": {"event_url": {"address": "https://x.example.com/rtc", "http_method": "GET"}}}
    caps["voice"]["webhooks"]["fallback_answer_url"]["http_method"] = "POST"

    result = run(*connect_vonage())

    assert result.code == 0, result.err
    written = vonage.writes[0].json()["capabilities"]
    assert written["rtc"] == {
        "webhooks": {"event_url": {"address": f"{BASE}/vonage/rtc/event", "http_method": "POST"}},
        "signed_callbacks": True,
    }
    assert written["voice"]["webhooks"]["fallback_answer_url"] == {
        "address": f"{BASE}/vonage/voice/fallback",
        "http_method": "POST",
    }
    out = squeezed(result.out)
    assert "capabilities.rtc.signed_callbacks (absent) → true" in out
    assert "capabilities.rtc.webhooks.event_url.http_method GET → POST" in out
    assert run(*connect_vonage()).code == 0
    assert [r.method for r in vonage.requests] == ["GET", "PUT", "GET"]


def test_vonage_dry_run_shows_the_rtc_and_fallback_changes(run: Any, vonage: FakeVonage):
    result = run(*connect_vonage("--dry-run"))

    assert result.code == 0, result.err
    assert vonage.writes == []
    out = squeezed(result.out)
    assert (
        f"capabilities.rtc.webhooks.event_url.address https://rtc.example.com/event → {BASE}/vonage/rtc/event"
        in out
    )
    assert (
        "capabilities.voice.webhooks.fallback_answer_url.address https://fallback.example.com/answer → "
        f"{BASE}/vonage/voice/fallback" in out
    )


def test_vonage_prints_the_dispatch_short_code_and_number_insight_urls_to_set_by_hand(
    run: Any, vonage: FakeVonage
):
    result = run(*connect_vonage())

    assert result.code == 0, result.err
    dispatch = result.out[result.out.index("Vonage Dispatch") : result.out.index("US Short Codes")]
    assert f"{BASE}/vonage/messages/status" in dispatch  # where Dispatch callbacks go today
    assert f"Status URL {BASE}/vonage/dispatch/status" in squeezed(dispatch)
    assert "separate application" in dispatch
    short_codes = result.out[result.out.index("US Short Codes") : result.out.index("Number Insight")]
    assert f"{BASE}/vonage/short-codes/receipt?token=<short_codes_token>" in short_codes
    assert f"{BASE}/vonage/short-codes/inbound?token=<short_codes_token>" in short_codes
    assert f"callback={BASE}/vonage/sms/receipt" in short_codes
    assert f"{BASE}/vonage/number-insight?token=<number_insight_token" in result.out


def test_vonage_never_prints_the_url_tokens_of_the_stacks_secret(run: Any, vonage: FakeVonage, aws: None):
    _create_stack({"number_insight_token": "ni-token-SECRET-0123456789"})

    result = run("connect", "vonage", "--application", APP_ID, "--stack", "switchboard")

    assert result.code == 0, result.err
    assert "ni-token-SECRET" not in result.out + result.err
    assert f"{EXECUTE_API}/vonage/short-codes/receipt?token=<short_codes_token>" in result.out
    rtc = vonage.writes[0].json()["capabilities"]["rtc"]["webhooks"]["event_url"]
    assert rtc["address"] == f"{EXECUTE_API}/vonage/rtc/event"


def test_vonage_prints_the_sms_settings_to_set_by_hand(run: Any, vonage: FakeVonage):
    result = run(*connect_vonage())

    assert f"{BASE}/vonage/sms/inbound" in result.out
    assert f"{BASE}/vonage/sms/receipt" in result.out
    assert "GET, POST or POST-JSON" in result.out
    assert "ask Vonage support" in result.out
    assert "sms_signature_methods" in result.out


def test_vonage_with_stack_shows_the_secrets_sms_method_and_warns_about_what_it_would_reject(
    run: Any, vonage: FakeVonage, aws: None
):
    _create_stack(
        {
            "vonage": {
                "signature_secrets": {"otherkey": ["sig-secret-SECRET"]},
                "sms_signature_methods": {API_KEY: "sha256"},
                "application_ids": ["another-app"],
            }
        }
    )

    result = run("connect", "vonage", "--application", APP_ID, "--stack", "switchboard")

    assert result.code == 0, result.err
    assert vonage.writes[0].json()["capabilities"]["verify"]["webhooks"]["status_url"]["address"] == (
        f"{EXECUTE_API}/vonage/verify"
    )
    assert "sha256" in result.out
    assert "unknown_api_key" in result.err
    assert "application_not_allowed" in result.err
    assert "sig-secret-SECRET" not in result.out + result.err


@pytest.mark.parametrize(
    ("setup", "expected"),
    [
        pytest.param(
            {"env": {"VONAGE_API_SECRET": "wrong-secret"}},
            [
                "Vonage answered HTTP 401: Invalid credentials supplied — You did not provide correct credentials."
            ],
            id="bad-credentials",
        ),
        pytest.param(
            {"application": "00000000-0000-0000-0000-000000000000"},
            [
                "Vonage answered HTTP 404: Not Found — ID '00000000-0000-0000-0000-000000000000' does not exist",
                "https://developer.nexmo.com/api-errors#not-found",
            ],
            id="unknown-application",
        ),
        pytest.param(
            {
                "fail": vonage_error(
                    400,
                    "payload-validation",
                    "Bad Request",
                    "The request failed due to validation errors",
                    invalid_parameters=[
                        {
                            "name": "capabilities.voice.webhooks.answer_url.http_method",
                            "reason": "must be one of: GET, POST",
                        }
                    ],
                )
            },
            [
                "Vonage answered HTTP 400: Bad Request — The request failed due to validation errors",
                "  capabilities.voice.webhooks.answer_url.http_method: must be one of: GET, POST",
            ],
            id="validation",
        ),
    ],
)
def test_vonage_errors_are_shown_with_vonages_own_message_and_exit_1(
    run: Any, vonage: FakeVonage, monkeypatch: pytest.MonkeyPatch, setup: dict[str, Any], expected: list[str]
):
    for name, value in setup.get("env", {}).items():
        monkeypatch.setenv(name, value)
    if "fail" in setup:
        vonage.fail_next["PUT"] = setup["fail"]

    result = run("connect", "vonage", "--application", setup.get("application", APP_ID), "--base-url", BASE)

    assert result.code == 1
    for text in expected:
        assert text in result.err
    assert "wrong-secret" not in result.out + result.err


def test_vonage_without_api_credentials_is_a_usage_error(
    run: Any, vonage: FakeVonage, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.delenv("VONAGE_API_SECRET")

    result = run(*connect_vonage())

    assert result.code == 2
    assert "VONAGE_API_SECRET" in result.err
    assert vonage.requests == []


def test_an_unreachable_provider_is_an_error_not_a_crash(
    run: Any, vonage: FakeVonage, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("SWITCHBOARD_VONAGE_API", "http://127.0.0.1:9")

    result = run(*connect_vonage())

    assert result.code == 1
    assert "cannot reach Vonage at http://127.0.0.1:9" in result.err


def test_credentials_never_follow_a_redirect_to_another_host(
    run: Any, twilio: FakeTwilio, vonage: FakeVonage
):
    twilio.fail_next["GET"] = (302, None)
    twilio.headers_next = {"Location": f"{vonage.base_url}/v2/Services/{SERVICE}/Webhooks"}

    result = run(*connect_twilio())

    assert result.code == 1
    assert "Twilio answered HTTP 302" in result.err
    assert vonage.requests == []
