"""notification_mode = "none" applied on moto: no bucket wiring, and outputs enough to wire it by hand."""

from __future__ import annotations

import pytest

from support.demo_site import unchanged_neighbours
from support.deployment import Deployment, required_paths_by_label

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def unwired(deployments: dict[str, Deployment]) -> Deployment:
    return deployments["none"]


def test_mode_none_leaves_the_bucket_notifications_and_eventbridge_alone(unwired: Deployment) -> None:
    configuration = unwired.server.client("s3").get_bucket_notification_configuration(Bucket=unwired.bucket)
    assert not configuration.get("QueueConfigurations")
    assert "EventBridgeConfiguration" not in configuration
    rules = unwired.server.client("events").list_rules(NamePrefix=unwired.outputs["function_name"])["Rules"]
    assert rules == []


def test_mode_none_outputs_the_queue_that_hand_wired_bucket_events_reach(unwired: Deployment) -> None:
    # GIVEN the bucket wired by hand to the queue the module outputs
    sqs = unwired.server.client("sqs")
    queue = sqs.get_queue_attributes(QueueUrl=unwired.outputs["queue_url"], AttributeNames=["QueueArn"])
    assert unwired.outputs["queue_arn"] == queue["Attributes"]["QueueArn"]
    s3 = unwired.server.client("s3")
    wiring = {
        "QueueArn": unwired.outputs["queue_arn"],
        "Events": ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"],
    }
    s3.put_bucket_notification_configuration(
        Bucket=unwired.bucket, NotificationConfiguration={"QueueConfigurations": [wiring]}
    )
    # (unchanged neighbours, so that the cheapest cover of the change is its exact paths: tree.py)
    unchanged_neighbours(s3, unwired.bucket, [f"docs/same-{n}.html" for n in range(10)])
    unwired.deliver().check({})
    # WHEN an object changes and the queue is delivered to the deployed function
    delivery = unwired.deliver(
        lambda: s3.put_object(Bucket=unwired.bucket, Key="docs/guide.html", Body=b"<p>guide</p>")
    )
    # THEN, the queue drained and nothing dead-lettered, exactly its paths are invalidated
    # (the deployment's other distributions, see test_e2e_viewer_urls.py: "pretty" also strips .html,
    # "other" is invalidated as configured, "auto" serves only pages/ and static/)
    expected = {
        **required_paths_by_label(["docs/guide.html"], {"site": "", "other": ""}),
        "pretty": {"/docs/guide.html", "/docs/guide"},
        "auto": set(),
    }
    delivery.check(required=expected, allowed=expected)
    # AND each distribution's flush logs why it was not compared: this bucket is not versioned
    unverified = [r for r in delivery.records if r.get("decision") == "changes_unverified"]
    assert unverified, delivery.records
    assert all((r["key_count"], r["reasons"]) == (1, {"no_version_id": 1}) for r in unverified), unverified
