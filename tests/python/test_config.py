"""GIVEN the handler's environment WHEN it starts THEN settings are read or the bad one is named."""

from __future__ import annotations

import json

import pytest

from cf_invalidator.config import ConfigError, Distribution, load_config

VALID = {
    "DISTRIBUTIONS": json.dumps(
        {"www": {"id": "E2QWRUHAPOMQZL", "origin_path": "/site"}, "cdn": {"id": "E1"}}
    ),
    "MAX_PATHS_PER_INVALIDATION": "200",
    "INDEX_DOCUMENT": "default.htm",
    "INBOX_TABLE": "site-deploys",
    "DEAD_LETTER_QUEUE_ARN": "arn:aws:sqs:eu-west-1:123456789012:site-invalidation-dlq",
}


def test_valid_environment_gives_every_distribution_with_its_origin_path() -> None:
    config = load_config(VALID)
    assert config.distributions == (
        Distribution(label="cdn", id="E1", origin_path=""),
        Distribution(label="www", id="E2QWRUHAPOMQZL", origin_path="/site"),
    )
    assert config.max_paths == 200
    assert config.index_document == "default.htm"


def test_index_document_defaults_to_index_html() -> None:
    environ = {k: v for k, v in VALID.items() if k != "INDEX_DOCUMENT"}
    assert load_config(environ).index_document == "index.html"


@pytest.mark.parametrize(
    "missing", ["DISTRIBUTIONS", "MAX_PATHS_PER_INVALIDATION", "INBOX_TABLE", "DEAD_LETTER_QUEUE_ARN"]
)
def test_missing_setting_is_named(missing: str) -> None:
    environ = {k: v for k, v in VALID.items() if k != missing}
    with pytest.raises(ConfigError, match=f"^{missing} is not set"):
        load_config(environ)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("DISTRIBUTIONS", "not json", "DISTRIBUTIONS is not JSON"),
        ("DISTRIBUTIONS", "{}", "DISTRIBUTIONS must be a non-empty JSON object"),
        ("DISTRIBUTIONS", "[]", "DISTRIBUTIONS must be a non-empty JSON object"),
        ("DISTRIBUTIONS", '{"www": "E1"}', r"DISTRIBUTIONS\['www'\] must be an object"),
        ("DISTRIBUTIONS", '{"www": {"id": "e-lower"}}', r"DISTRIBUTIONS\['www'\]\.id must be"),
        ("DISTRIBUTIONS", '{"www": {}}', r"DISTRIBUTIONS\['www'\]\.id must be"),
        ("DISTRIBUTIONS", '{"www": {"id": "E1", "origin_path": "site"}}', r"origin_path must be"),
        ("DISTRIBUTIONS", '{"www": {"id": "E1", "origin_path": "/site/"}}', r"origin_path must be"),
        ("MAX_PATHS_PER_INVALIDATION", "many", "MAX_PATHS_PER_INVALIDATION must be a whole number"),
        ("MAX_PATHS_PER_INVALIDATION", "0", "MAX_PATHS_PER_INVALIDATION must be between 1 and 3000"),
        ("MAX_PATHS_PER_INVALIDATION", "3001", "MAX_PATHS_PER_INVALIDATION must be between 1 and 3000"),
        ("EVICTIONS_PER_PATH", "-1", "EVICTIONS_PER_PATH must be a number >= 0"),
        ("EVICTIONS_PER_PATH", "three", "EVICTIONS_PER_PATH must be a number >= 0"),
        ("EVICTIONS_PER_PATH", "nan", "EVICTIONS_PER_PATH must be a number >= 0"),
        ("EVICTIONS_PER_PATH", "inf", "EVICTIONS_PER_PATH must be a number >= 0"),
        ("INDEX_DOCUMENT", "", "INDEX_DOCUMENT must be a file name"),
        ("INDEX_DOCUMENT", "docs/index.html", "INDEX_DOCUMENT must be a file name"),
    ],
)
def test_malformed_setting_is_named_with_what_is_expected(name: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_config({**VALID, name: value})


@pytest.mark.parametrize("budget", ["1", "3000"])
def test_budget_edges_are_accepted(budget: str) -> None:
    assert load_config({**VALID, "MAX_PATHS_PER_INVALIDATION": budget}).max_paths == int(budget)


def test_change_detection_settings_are_off_and_new_objects_invalidated_when_unset() -> None:
    config = load_config(VALID)
    assert (config.skip_unchanged_objects, config.invalidate_new_objects) == (False, True)


@pytest.mark.parametrize(("skip", "new"), [("true", "false"), ("false", "true"), ("true", "true")])
def test_change_detection_settings_are_read_as_terraform_writes_bools(skip: str, new: str) -> None:
    config = load_config({**VALID, "SKIP_UNCHANGED_OBJECTS": skip, "INVALIDATE_NEW_OBJECTS": new})
    assert (config.skip_unchanged_objects, config.invalidate_new_objects) == (skip == "true", new == "true")


@pytest.mark.parametrize("name", ["SKIP_UNCHANGED_OBJECTS", "INVALIDATE_NEW_OBJECTS"])
@pytest.mark.parametrize("value", ["True", "1", "yes", ""])
def test_change_detection_setting_other_than_true_or_false_is_named(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=f'^{name} must be "true" or "false"'):
        load_config({**VALID, name: value})


def test_rewrite_options_and_auto_are_read_per_distribution() -> None:
    distributions = {
        "www": {"id": "E1", "directory_without_slash": True, "strip_extensions": [".html", ".htm"]},
        "cdn": {"id": "E2", "origin_path": "auto", "directory_without_slash": False, "strip_extensions": []},
    }
    environ = {**VALID, "DISTRIBUTIONS": json.dumps(distributions), "BUCKET_NAME": "site-bucket"}
    config = load_config(environ)
    assert config.distributions == (
        Distribution(label="cdn", id="E2", origin_path="auto"),
        Distribution(label="www", id="E1", directory_without_slash=True, strip_extensions=(".html", ".htm")),
    )
    assert [d.auto for d in config.distributions] == [True, False]
    assert config.bucket_name == "site-bucket"


def test_verification_is_off_unless_set_and_read_as_terraform_writes_bools() -> None:
    assert load_config(VALID).verify_distributions is False
    on = load_config({**VALID, "VERIFY_DISTRIBUTIONS": "true", "BUCKET_NAME": "b"})
    assert (on.verify_distributions, on.bucket_name) == (True, "b")


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"VERIFY_DISTRIBUTIONS": "true"}, "BUCKET_NAME is not set"),
        ({"DISTRIBUTIONS": '{"www": {"id": "E1", "origin_path": "auto"}}'}, "BUCKET_NAME is not set"),
        (
            {"VERIFY_DISTRIBUTIONS": "yes", "BUCKET_NAME": "b"},
            'VERIFY_DISTRIBUTIONS must be "true" or "false"',
        ),
        ({"DISTRIBUTIONS": '{"w": {"id": "E1", "origin_path": "Auto"}}'}, "origin_path must be"),
        (
            {"DISTRIBUTIONS": '{"w": {"id": "E1", "directory_without_slash": "true"}}'},
            "must be true or false",
        ),
        ({"DISTRIBUTIONS": '{"w": {"id": "E1", "strip_extensions": ["html"]}}'}, "strip_extensions must be"),
        ({"DISTRIBUTIONS": '{"w": {"id": "E1", "strip_extensions": [".a/b"]}}'}, "strip_extensions must be"),
        ({"DISTRIBUTIONS": '{"w": {"id": "E1", "strip_extensions": ["."]}}'}, "strip_extensions must be"),
        ({"DISTRIBUTIONS": '{"w": {"id": "E1", "strip_extensions": ".html"}}'}, "strip_extensions must be"),
        (
            {"DISTRIBUTIONS": '{"w": {"id": "E1", "default_root_object": "/a.html"}}'},
            "default_root_object must",
        ),
        (
            {"DISTRIBUTIONS": '{"w": {"id": "E1", "default_root_object": "docs/"}}'},
            "default_root_object must",
        ),
        ({"DISTRIBUTIONS": '{"w": {"id": "E1", "default_root_object": 1}}'}, "default_root_object must"),
    ],
)
def test_malformed_viewer_url_setting_is_named(environ: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_config({**VALID, **environ})


def test_evictions_per_path_defaults_to_three_when_unset() -> None:
    assert load_config(VALID).evictions_per_path == 3.0


@pytest.mark.parametrize(("raw", "value"), [("0", 0.0), ("0.5", 0.5), ("3", 3.0), ("100", 100.0)])
def test_evictions_per_path_is_read_as_terraform_writes_a_number(raw: str, value: float) -> None:
    assert load_config({**VALID, "EVICTIONS_PER_PATH": raw}).evictions_per_path == value


def test_default_root_object_is_read_per_distribution_and_none_when_unset_or_null() -> None:
    distributions = {
        "a": {"id": "E1", "default_root_object": "home.html"},
        "b": {"id": "E2", "default_root_object": "app/start.html"},
        "c": {"id": "E3", "default_root_object": None},
        "d": {"id": "E4"},
    }
    config = load_config({**VALID, "DISTRIBUTIONS": json.dumps(distributions)})
    assert [d.default_root_object for d in config.distributions] == ["home.html", "app/start.html", "", ""]


DEAD_LETTERS = "arn:aws:sqs:eu-west-1:123456789012:site-invalidation-dlq"


def test_deploy_inbox_waits_five_quiet_seconds_and_at_most_five_minutes_by_default() -> None:
    deploys = load_config(VALID).deploys
    assert deploys is not None
    assert (deploys.table, deploys.dead_letter_queue_arn) == ("site-deploys", DEAD_LETTERS)
    assert (deploys.quiet_seconds, deploys.max_wait_seconds) == (5, 300)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"DEAD_LETTER_QUEUE_ARN": ""}, "DEAD_LETTER_QUEUE_ARN must be an SQS queue ARN"),
        ({"QUIET_SECONDS": "0"}, "QUIET_SECONDS must be from 1 to 60"),
        ({"QUIET_SECONDS": "61"}, "QUIET_SECONDS must be from 1 to 60"),
        ({"QUIET_SECONDS": "2.5"}, "QUIET_SECONDS must be a whole number of seconds"),
        ({"QUIET_SECONDS": "30", "MAX_WAIT_SECONDS": "20"}, "MAX_WAIT_SECONDS must be from 30 to 300"),
        ({"MAX_WAIT_SECONDS": "301"}, "MAX_WAIT_SECONDS must be from 5 to 300"),
        ({"INBOX_TABLE": "a b"}, "INBOX_TABLE must be a DynamoDB table name"),
    ],
)
def test_malformed_deploy_inbox_setting_is_named(extra: dict[str, str], message: str) -> None:
    environ = {**VALID, **extra}
    with pytest.raises(ConfigError, match=message):
        load_config(environ)
