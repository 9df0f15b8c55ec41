"""What every applied deployment must show on moto, whatever its notification mode."""

from __future__ import annotations

import json

import pytest

from support.deployment import COMMITTED_ZIP, Deployment, distribution_environment
from support.lambda_runtime import base64_sha256

pytestmark = pytest.mark.e2e

DEPLOYMENTS = ["basic", "multi-distribution", "none"]


@pytest.fixture(params=DEPLOYMENTS)
def deployment(request: pytest.FixtureRequest, deployments: dict[str, Deployment]) -> Deployment:
    return deployments[request.param]


def test_plan_after_apply_shows_no_changes(deployment: Deployment) -> None:
    assert deployment.plan_exit_code == 0, deployment.plan_text


def test_deployed_function_runs_the_committed_zip(deployment: Deployment) -> None:
    configuration = deployment.server.client("lambda").get_function(
        FunctionName=deployment.outputs["function_name"]
    )
    assert configuration["Configuration"]["CodeSha256"] == base64_sha256(COMMITTED_ZIP)
    assert configuration["Configuration"]["Runtime"] == "python3.13"
    assert configuration["Configuration"]["Handler"] == "cf_invalidator.handler.lambda_handler"


def test_function_environment_names_every_distribution_with_its_origin_path(deployment: Deployment) -> None:
    environment = deployment.function.environment
    assert json.loads(environment["DISTRIBUTIONS"]) == distribution_environment(deployment.distributions)
    assert (environment["VERIFY_DISTRIBUTIONS"], environment["BUCKET_NAME"]) == ("true", deployment.bucket)
    assert deployment.function.environment["INDEX_DOCUMENT"] == "index.html"
    assert int(deployment.function.environment["MAX_PATHS_PER_INVALIDATION"]) >= 1


def test_event_source_mapping_batches_the_queue_and_reports_item_failures(deployment: Deployment) -> None:
    mapping = deployment.mapping
    assert mapping.event_source_arn == deployment.outputs["queue_arn"]
    assert mapping.function_arn == deployment.function.arn
    assert (mapping.batch_size, mapping.batching_window_seconds) == (1000, 1)
    assert mapping.function_response_types == ("ReportBatchItemFailures",)


def test_queue_redrives_to_the_dead_letter_queue_after_five_receives(deployment: Deployment) -> None:
    sqs = deployment.server.client("sqs")
    attributes = sqs.get_queue_attributes(QueueUrl=deployment.outputs["queue_url"], AttributeNames=["All"])
    redrive = json.loads(attributes["Attributes"]["RedrivePolicy"])
    dead_letter = sqs.get_queue_attributes(
        QueueUrl=deployment.outputs["dead_letter_queue_url"], AttributeNames=["QueueArn"]
    )
    assert redrive == {"deadLetterTargetArn": dead_letter["Attributes"]["QueueArn"], "maxReceiveCount": 5}
    assert int(attributes["Attributes"]["VisibilityTimeout"]) >= 6 * deployment.function.timeout + 1


def test_events_queued_by_the_apply_itself_are_handled_without_invalidations(deployment: Deployment) -> None:
    # S3 sends s3:TestEvent when a notification configuration is written; the handler ignores it.
    assert all(
        outcome.failed_ids == set() and outcome.error is None for outcome in deployment.settling_outcomes
    )
    assert all(created == [] for created in deployment.settling_invalidations.values())


def test_both_queues_keep_messages_14_days_whether_consumed_or_not(deployment: Deployment) -> None:
    sqs = deployment.server.client("sqs")
    for url in (deployment.outputs["queue_url"], deployment.outputs["dead_letter_queue_url"]):
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["MessageRetentionPeriod"])
        assert int(attributes["Attributes"]["MessageRetentionPeriod"]) == 14 * 24 * 3600, url


def test_alarms_watch_dead_letters_the_oldest_queued_change_and_function_errors(
    deployment: Deployment,
) -> None:
    name = deployment.outputs["function_name"]
    alarms = deployment.server.client("cloudwatch").describe_alarms(AlarmNamePrefix=f"{name}-")[
        "MetricAlarms"
    ]
    queue_name = deployment.outputs["queue_url"].rsplit("/", 1)[1]
    dead_letter_name = deployment.outputs["dead_letter_queue_url"].rsplit("/", 1)[1]
    watched = {
        alarm["AlarmName"]: (
            alarm["Namespace"],
            alarm["MetricName"],
            {d["Name"]: d["Value"] for d in alarm["Dimensions"]},
            alarm["ComparisonOperator"],
        )
        for alarm in alarms
    }
    assert watched == {
        f"{name}-dead-letters": (
            "AWS/SQS",
            "ApproximateNumberOfMessagesVisible",
            {"QueueName": dead_letter_name},
            "GreaterThanThreshold",
        ),
        f"{name}-queue-age": (
            "AWS/SQS",
            "ApproximateAgeOfOldestMessage",
            {"QueueName": queue_name},
            "GreaterThanThreshold",
        ),
        f"{name}-errors": ("AWS/Lambda", "Errors", {"FunctionName": name}, "GreaterThanThreshold"),
    }


def test_applied_state_holds_what_aws_reports(deployment: Deployment) -> None:
    # pytest-terraform's view of the state: resources by type and name, looked up with jmespath
    state = deployment.terraform.state()
    function = deployment.server.client("lambda").get_function(
        FunctionName=deployment.outputs["function_name"]
    )
    assert state["aws_lambda_function.this.arn"] == function["Configuration"]["FunctionArn"]
    assert state["aws_lambda_function.this.memory_size"] == function["Configuration"]["MemorySize"]
    assert state["aws_sqs_queue.this.url"] == deployment.outputs["queue_url"]
    assert state["aws_sqs_queue.dead_letter.url"] == deployment.outputs["dead_letter_queue_url"]
    assert state["aws_lambda_event_source_mapping.this.uuid"] == deployment.mapping.uuid
