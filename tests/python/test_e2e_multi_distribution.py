"""examples/multi-distribution on moto (mode "eventbridge"): one bucket, two distributions, one origin path.

Keys here read the same encoded or not (no space, "+" or "%"): AWS does not document whether EventBridge
S3 keys are URL-encoded, and moto delivers them raw.
"""

from __future__ import annotations

import json

import pytest

from support.demo_site import unchanged_neighbours
from support.deployment import EXAMPLE_SITES, Deployment, required_paths_by_label

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def multi(deployments: dict[str, Deployment]) -> Deployment:
    return deployments["multi-distribution"]


def test_bucket_sends_its_events_to_eventbridge_and_a_rule_targets_the_queue(multi: Deployment) -> None:
    configuration = multi.server.client("s3").get_bucket_notification_configuration(Bucket=multi.bucket)
    assert "EventBridgeConfiguration" in configuration
    assert not configuration.get("QueueConfigurations")
    events = multi.server.client("events")
    [rule] = events.list_rules(NamePrefix=multi.outputs["function_name"])["Rules"]
    pattern = json.loads(rule["EventPattern"])
    assert pattern["source"] == ["aws.s3"]
    assert pattern["detail"]["bucket"]["name"] == [multi.bucket]
    [target] = events.list_targets_by_rule(Rule=rule["Name"])["Targets"]
    assert target["Arn"] == multi.outputs["queue_arn"]


def test_each_distribution_invalidates_the_paths_it_serves(multi: Deployment) -> None:
    # GIVEN an old page under the docs/ prefix
    s3 = multi.server.client("s3")
    s3.put_object(Bucket=multi.bucket, Key="docs/old.html", Body=b"v1")
    # AND unchanged pages beside it, so that no wildcard pays for its evictions
    unchanged_neighbours(s3, multi.bucket, [f"docs/guide/same-{n}.html" for n in range(5)])
    unchanged_neighbours(s3, multi.bucket, [f"docs/same-{n}.html" for n in range(10)])
    unchanged_neighbours(s3, multi.bucket, [f"same-{n}.html" for n in range(10)])
    multi.deliver().check({})
    uploads = ["index.html", "about/team.html", "docs/index.html", "docs/guide/install.html"]

    # WHEN the site and the docs change: uploads, a copy and a delete
    def deploy() -> None:
        for key in uploads:
            s3.put_object(Bucket=multi.bucket, Key=key, Body=b"<p>new</p>")
        s3.copy_object(
            Bucket=multi.bucket, Key="docs/guide/setup.html", CopySource=f"{multi.bucket}/docs/index.html"
        )
        s3.delete_object(Bucket=multi.bucket, Key="docs/old.html")

    delivery = multi.deliver(deploy)
    # THEN once the queue is drained, nothing dead-lettered, and each distribution invalidated exactly
    # the paths its viewers use
    changed = [*uploads, "docs/guide/setup.html", "docs/old.html"]
    expected = required_paths_by_label(changed, EXAMPLE_SITES["multi-distribution"])
    delivery.check(required=expected, allowed=expected)
    assert expected["docs"] == {"/", "/index.html", "/guide/install.html", "/guide/setup.html", "/old.html"}


def test_rule_keeps_what_it_cannot_deliver_in_the_dead_letter_queue(multi: Deployment) -> None:
    events = multi.server.client("events")
    [rule] = events.list_rules(NamePrefix=multi.outputs["function_name"])["Rules"]
    [target] = events.list_targets_by_rule(Rule=rule["Name"])["Targets"]
    assert target["DeadLetterConfig"] == {"Arn": multi.outputs["dead_letter_queue_arn"]}
    assert target["RetryPolicy"] == {"MaximumRetryAttempts": 185, "MaximumEventAgeInSeconds": 86400}
    # The dead-letter queue admits the events service for that rule only.
    sqs = multi.server.client("sqs")
    policy = sqs.get_queue_attributes(
        QueueUrl=multi.outputs["dead_letter_queue_url"], AttributeNames=["Policy"]
    )
    [statement] = json.loads(policy["Attributes"]["Policy"])["Statement"]
    assert statement["Principal"] == {"Service": "events.amazonaws.com"}
    assert statement["Action"] == "sqs:SendMessage"
    assert statement["Resource"] == multi.outputs["dead_letter_queue_arn"]
    assert statement["Condition"] == {"ArnEquals": {"aws:SourceArn": rule["Arn"]}}
