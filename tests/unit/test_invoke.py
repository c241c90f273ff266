"""`switchboard invoke`'s pure parts: env.json as `sam local invoke` reads it, the exit code of a
response, the log relay's escaping, the stack outputs it reads, and the build freshness check."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import boto3  # noqa: F401 - imported here, sockets on: urllib3 opens one on import (its IPv6 probe)
import pytest

from switchboard import cli, invoke
from switchboard.builtrun import Outcome, built_function
from switchboard.template import load_template

TEMPLATE = load_template()
DECLARED = {"SWITCHBOARD_TABLE_NAME": "from-template", "POWERTOOLS_LOG_LEVEL": "INFO", "SWITCHBOARD_X": "t"}


def test_env_vars_rise_from_template_to_shell_to_parameters_to_the_functions_own_object() -> None:
    overrides = {
        "Parameters": {"SWITCHBOARD_TABLE_NAME": "from-parameters", "POWERTOOLS_LOG_LEVEL": "DEBUG"},
        "VonageFunction": {"SWITCHBOARD_TABLE_NAME": "from-function"},
        "TwilioFunction": {"SWITCHBOARD_X": "another function's"},
    }
    shell = {"POWERTOOLS_LOG_LEVEL": "ERROR", "SWITCHBOARD_X": "from-shell"}

    env = invoke.merge_env(DECLARED, overrides, "VonageFunction", shell)

    assert env == {
        "SWITCHBOARD_TABLE_NAME": "from-function",
        "POWERTOOLS_LOG_LEVEL": "DEBUG",
        "SWITCHBOARD_X": "from-shell",
    }


def test_env_vars_the_template_does_not_declare_are_ignored_as_sam_ignores_them() -> None:
    overrides = {"Parameters": {"NOT_DECLARED": "x"}, "VonageFunction": {"ALSO_NOT": "y"}}
    env = invoke.merge_env(DECLARED, overrides, "VonageFunction", {"UNRELATED": "z"})
    assert env == DECLARED


@pytest.mark.parametrize(
    ("value", "shown"),
    [(True, "true"), (False, "false"), (3, "3"), (None, ""), ({"Ref": "X"}, ""), (["a"], ""), ("s", "s")],
)
def test_env_var_values_are_stringified_as_sam_does(value: Any, shown: str) -> None:
    env = invoke.merge_env({"V": "t"}, {"Parameters": {"V": value}}, "VonageFunction", {})
    assert env == {"V": shown}


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("{not json", "is not JSON"),
        ("[1, 2]", "want an object of objects"),
        ('{"VonageFunction": "x"}', "'VonageFunction' must be an object"),
        ('{"Parameters": ["A"]}', "'Parameters' must be an object"),
    ],
)
def test_a_malformed_env_json_is_a_usage_error_that_says_why(tmp_path: Path, text: str, why: str) -> None:
    path = tmp_path / "env.json"
    path.write_text(text)
    with pytest.raises(cli.CliError) as err:
        invoke.read_env_vars(path)
    assert err.value.code == cli.EXIT_USAGE
    assert why in str(err.value)


def test_a_missing_env_json_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(cli.CliError) as err:
        invoke.read_env_vars(tmp_path / "absent.json")
    assert err.value.code == cli.EXIT_USAGE


def test_the_placeholders_of_an_env_json_written_without_a_stack_are_refused() -> None:
    with pytest.raises(cli.CliError) as err:
        invoke.check_filled({"SWITCHBOARD_TABLE_NAME": "<TableName output of your deployed stack>"})
    assert err.value.code == cli.EXIT_USAGE
    assert "SWITCHBOARD_TABLE_NAME" in str(err.value)
    invoke.check_filled({"SWITCHBOARD_VOICE_ANSWER_NCCO": '[{"action":"talk","text":"<b>hi</b>"}]'})


@pytest.mark.parametrize(
    ("outcome", "code"),
    [
        (Outcome(response={"statusCode": 200, "body": "{}"}), 0),
        (Outcome(response={"statusCode": 204}), 0),
        (Outcome(response={"statusCode": 401, "body": "{}"}), 1),
        (Outcome(response={"statusCode": 503}), 1),
        (Outcome(response={"batchItemFailures": []}), 0),
        (Outcome(response={"batchItemFailures": [{"itemIdentifier": "m1"}]}), 1),
        (Outcome(response=None), 0),
        (Outcome(error={"errorMessage": "boom", "errorType": "ValueError", "stackTrace": []}), 1),
    ],
)
def test_the_exit_code_follows_the_response(outcome: Outcome, code: int) -> None:
    assert invoke.exit_code(outcome) == code


def test_the_log_relay_escapes_control_and_bidi_characters_but_keeps_lines() -> None:
    line = '{"message":"a\x1b[31mred\x9b2J\u202egnp.exe\tok"}\n'
    shown = invoke.printable(line)
    assert shown == '{"message":"a\\x1b[31mred\\x9b2J\\u202egnp.exe\tok"}\n'
    assert invoke.printable("no newline") == "no newline"


def test_an_unknown_function_is_a_usage_error_listing_the_templates_functions() -> None:
    with pytest.raises(cli.CliError) as err:
        invoke.function_id(TEMPLATE, "VonageFunctio")
    assert err.value.code == cli.EXIT_USAGE
    for name in ("VonageFunction", "TwilioFunction", "RecorderFunction", "StatusFunction"):
        assert name in str(err.value)


def test_an_event_file_that_is_not_json_or_too_big_is_a_usage_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    big = tmp_path / "big.json"
    big.write_text(json.dumps("x" * invoke.MAX_EVENT_BYTES))
    for path in (bad, big, tmp_path / "absent.json"):
        with pytest.raises(cli.CliError) as err:
            invoke.read_event(str(path))
        assert err.value.code == cli.EXIT_USAGE
    scalar = tmp_path / "scalar.json"
    scalar.write_text('"any JSON value is an event"')
    assert invoke.read_event(str(scalar)) == "any JSON value is an event"


def test_stack_outputs_name_the_resources_their_values_refer_to() -> None:
    outputs = {
        "IngestQueueUrl": "https://sqs/ingest",
        "EventsQueueUrl": "https://sqs/events.fifo",
        "TableName": "sb-HistoryTable-1",
        "SecretArn": "arn:aws:secretsmanager:eu-west-1:1:secret:sb",
        "ApiBaseUrl": "https://api",  # a !Sub: names no resource
    }
    created = invoke.output_refs(TEMPLATE, outputs, lambda cond: cond == "CreateSecret")
    assert created == {
        "IngestQueue": "https://sqs/ingest",
        "EventsQueue": "https://sqs/events.fifo",
        "HistoryTable": "sb-HistoryTable-1",
        "ProviderSecret": "arn:aws:secretsmanager:eu-west-1:1:secret:sb",
    }
    # With ExistingSecretArn, SecretArn is that parameter, not a resource of the stack.
    existing = invoke.output_refs(TEMPLATE, outputs, lambda cond: False)
    assert "ProviderSecret" not in existing


def test_a_missing_or_older_build_is_refused_and_a_newer_one_is_used(tmp_path: Path) -> None:
    built = built_function(TEMPLATE, "VonageFunction", build=tmp_path)
    assert "is not built" in invoke.stale_build(TEMPLATE, "VonageFunction", built, build=tmp_path)

    built.function_dir.mkdir()
    marker = tmp_path / "template.yaml"
    marker.write_text("built")
    os.utime(marker, (0, 0))
    assert "changed after the last build" in invoke.stale_build(
        TEMPLATE, "VonageFunction", built, build=tmp_path
    )

    os.utime(marker, None)
    assert invoke.stale_build(TEMPLATE, "VonageFunction", built, build=tmp_path) == ""


def test_the_built_function_takes_memory_timeout_and_layer_from_the_template() -> None:
    built = built_function(TEMPLATE, "RecorderFunction", build=Path("/b"))
    assert (built.memory_mb, built.timeout_s, built.handler, built.runtime) == (
        256,
        30,
        "app.handler",
        "python3.13",
    )
    assert built.function_dir == Path("/b/RecorderFunction")
    assert built.layer_dirs == (Path("/b/SharedLayer/python"),)


def test_a_stack_without_a_region_or_with_an_unknown_profile_is_a_usage_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # no region from the instance metadata service
    for region, profile in ((None, None), ("eu-west-1", "no-such-profile")):
        with pytest.raises(cli.CliError) as err:
            invoke._session(region, profile)
        assert err.value.code == cli.EXIT_USAGE


def test_an_event_or_env_json_nested_too_deep_for_the_parser_is_a_usage_error(tmp_path: Path) -> None:
    deep = tmp_path / "deep file.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)  # 200 KB: well under the 6 MB limit
    with pytest.raises(cli.CliError) as err:
        invoke.read_event(str(deep))
    assert err.value.code == cli.EXIT_USAGE
    with pytest.raises(cli.CliError) as err:
        invoke.read_env_vars(deep)
    assert err.value.code == cli.EXIT_USAGE
