"""The examples' saved plans against moto, read as data (`terraform show -json`): what a reviewer would check.

Each example is planned once (both in parallel) against the session's moto server, with its bucket and
distributions created there first; nothing is applied.
"""

from __future__ import annotations

import json
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from support.deployment import (
    COMMITTED_ZIP,
    EXAMPLE_SITES,
    distribution_environment,
    example_variables,
    prepare_site,
)
from support.lambda_runtime import base64_sha256
from support.moto_server import MotoServer
from support.terraform import Terraform, stage_example

MODULE = "module.cloudfront_invalidation"
COMMON_RESOURCES = {
    "aws_sqs_queue": 2,
    "aws_sqs_queue_policy": 1,
    "aws_iam_role": 1,
    "aws_iam_role_policy": 1,
    "aws_cloudwatch_log_group": 1,
    "aws_lambda_function": 1,
    "aws_lambda_event_source_mapping": 1,
    "aws_cloudwatch_metric_alarm": 3,  # dead letters, queue age, function errors
    # the deploy inbox, and the spend guard's counts (max_paths_per_day, on by default)
    "aws_dynamodb_table": 2,
}


def saved_plan(server: MotoServer, root: Path, example: str) -> dict[str, Any]:
    bucket = f"plan-{example}"
    ids = prepare_site(server, bucket, EXAMPLE_SITES[example])
    terraform = Terraform(stage_example(root, example), server.endpoint_url)
    terraform.set_variables(example_variables(example, bucket, ids))
    terraform.init()
    plan = terraform.saved_plan()
    plan["test_inputs"] = {"bucket": bucket, "distributions": ids}
    return plan


# Not pytest-terraform's @terraform fixture: it always applies (and destroys); these are saved plans.
@pytest.fixture(scope="module")
def plans(moto_server: MotoServer, tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    root = tmp_path_factory.mktemp("plans")
    with ThreadPoolExecutor(max_workers=len(EXAMPLE_SITES)) as pool:
        futures = {name: pool.submit(saved_plan, moto_server, root / name, name) for name in EXAMPLE_SITES}
        return {name: future.result() for name, future in futures.items()}


def created(plan: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """address => planned values of every resource the plan creates (and only creates)."""
    changes = plan["resource_changes"]
    assert all(c["change"]["actions"] in (["create"], ["read"]) for c in changes), "a first plan only creates"
    return {c["address"]: c["change"]["after"] for c in changes if c["change"]["actions"] == ["create"]}


def unknown(plan: dict[str, Any], address: str) -> dict[str, Any]:
    [change] = [c["change"] for c in plan["resource_changes"] if c["address"] == address]
    after_unknown: dict[str, Any] = change["after_unknown"]
    return after_unknown


def resource_counts(plan: dict[str, Any]) -> Counter[str]:
    return Counter(c["type"] for c in plan["resource_changes"] if c["change"]["actions"] == ["create"])


def test_basic_plan_creates_the_pipeline_and_an_s3_notification(plans: dict[str, dict[str, Any]]) -> None:
    assert resource_counts(plans["basic"]) == Counter({**COMMON_RESOURCES, "aws_s3_bucket_notification": 1})


def test_multi_distribution_plan_creates_the_pipeline_and_an_eventbridge_rule(
    plans: dict[str, dict[str, Any]],
) -> None:
    assert resource_counts(plans["multi-distribution"]) == Counter(
        {
            **COMMON_RESOURCES,
            "aws_cloudwatch_event_rule": 1,
            "aws_cloudwatch_event_target": 1,
            "aws_s3_bucket_notification": 1,  # only to turn the bucket's EventBridge delivery on
            "aws_sqs_queue_policy": 2,  # the dead-letter queue admits what the rule cannot deliver
        }
    )


@pytest.mark.parametrize("example", ["basic", "multi-distribution"])
def test_function_runs_the_committed_zip_on_python_3_13_with_its_settings(
    plans: dict[str, dict[str, Any]], example: str
) -> None:
    plan = plans[example]
    function = created(plan)[f"{MODULE}.aws_lambda_function.this"]
    assert (function["runtime"], function["handler"]) == (
        "python3.13",
        "cf_invalidator.handler.lambda_handler",
    )
    assert (function["memory_size"], function["timeout"]) == (512, 60)
    assert function["source_code_hash"] == base64_sha256(COMMITTED_ZIP)
    assert function["filename"].endswith("dist/cf_invalidator.zip")
    assert function["logging_config"] == [
        {
            "log_format": "JSON",
            "log_group": f"/aws/lambda/{function['function_name']}",
            "application_log_level": function["logging_config"][0]["application_log_level"],
            "system_log_level": function["logging_config"][0]["system_log_level"],
        }
    ]
    [environment] = function["environment"]
    variables = environment["variables"]
    distributions = plan["test_inputs"]["distributions"]
    assert json.loads(variables["DISTRIBUTIONS"]) == distribution_environment(distributions)
    assert (variables["VERIFY_DISTRIBUTIONS"], variables["BUCKET_NAME"]) == (
        "true",
        plan["test_inputs"]["bucket"],
    )
    assert variables["INDEX_DOCUMENT"] == "index.html"
    assert 1 <= int(variables["MAX_PATHS_PER_INVALIDATION"]) <= 3000
    assert variables["INBOX_TABLE"] == f"{function['function_name']}-deploys"  # known at plan time
    assert variables["DEAD_LETTER_QUEUE_ARN"].endswith(f":{function['function_name']}-dlq")


@pytest.mark.parametrize("example", ["basic", "multi-distribution"])
def test_mapping_batches_a_deploy_and_reports_batch_item_failures(
    plans: dict[str, dict[str, Any]], example: str
) -> None:
    mapping = created(plans[example])[f"{MODULE}.aws_lambda_event_source_mapping.this"]
    assert mapping["batch_size"] == 1000
    assert mapping["maximum_batching_window_in_seconds"] == 1
    assert mapping["function_response_types"] == ["ReportBatchItemFailures"]
    assert mapping["scaling_config"] == [{"maximum_concurrency": 2}]
    assert (
        unknown(plans[example], f"{MODULE}.aws_lambda_event_source_mapping.this")["event_source_arn"] is True
    )


@pytest.mark.parametrize("example", ["basic", "multi-distribution"])
def test_queue_outlasts_retries_and_its_dead_letter_queue_keeps_failures_14_days(
    plans: dict[str, dict[str, Any]], example: str
) -> None:
    resources = created(plans[example])
    queue = resources[f"{MODULE}.aws_sqs_queue.this"]
    dead_letter = resources[f"{MODULE}.aws_sqs_queue.dead_letter"]
    assert queue["visibility_timeout_seconds"] >= 6 * 60 + 1
    assert queue["sqs_managed_sse_enabled"] is True
    assert dead_letter["sqs_managed_sse_enabled"] is True
    assert queue["message_retention_seconds"] == dead_letter["message_retention_seconds"] == 14 * 24 * 3600
    # the redrive policy names the DLQ's ARN, known only after apply (the e2e tests read it back)
    assert unknown(plans[example], f"{MODULE}.aws_sqs_queue.this")["redrive_policy"] is True
    alarm = resources[f'{MODULE}.aws_cloudwatch_metric_alarm.this["dead-letters"]']
    assert (alarm["namespace"], alarm["metric_name"]) == ("AWS/SQS", "ApproximateNumberOfMessagesVisible")
    assert alarm["dimensions"] == {"QueueName": dead_letter["name"]}


def test_basic_bucket_notifies_the_queue_of_created_and_removed_objects(
    plans: dict[str, dict[str, Any]],
) -> None:
    plan = plans["basic"]
    notification = created(plan)[f"{MODULE}.aws_s3_bucket_notification.this[0]"]
    assert notification["bucket"] == plan["test_inputs"]["bucket"]
    assert notification["eventbridge"] is False
    [queue] = notification["queue"]
    assert {"s3:ObjectCreated:*", "s3:ObjectRemoved:*"} <= set(queue["events"])


def test_multi_distribution_rule_sends_the_buckets_object_events_to_the_queue(
    plans: dict[str, dict[str, Any]],
) -> None:
    plan = plans["multi-distribution"]
    resources = created(plan)
    notification = resources[f"{MODULE}.aws_s3_bucket_notification.this[0]"]
    assert notification["eventbridge"] is True
    assert notification["queue"] == []
    pattern = json.loads(resources[f"{MODULE}.aws_cloudwatch_event_rule.this[0]"]["event_pattern"])
    assert pattern == {
        "source": ["aws.s3"],
        "detail-type": ["Object Created", "Object Deleted"],
        "detail": {"bucket": {"name": [plan["test_inputs"]["bucket"]]}},
    }
    assert unknown(plan, f"{MODULE}.aws_cloudwatch_event_target.this[0]")["arn"] is True
