"""examples/basic on moto (mode "s3"): real uploads, overwrites, copies and deletes end in invalidations."""

from __future__ import annotations

import dataclasses
import json
from urllib.parse import unquote_plus

import pytest

from support.demo_site import unchanged_neighbours
from support.deployment import EXAMPLE_SITES, Deployment, required_paths_by_label

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def basic(deployments: dict[str, Deployment]) -> Deployment:
    return deployments["basic"]


def test_bucket_notifies_the_queue_of_created_and_removed_objects(basic: Deployment) -> None:
    configuration = basic.server.client("s3").get_bucket_notification_configuration(Bucket=basic.bucket)
    [queue] = configuration["QueueConfigurations"]
    assert queue["QueueArn"] == basic.outputs["queue_arn"]
    assert {"s3:ObjectCreated:*", "s3:ObjectRemoved:*"} <= set(queue["Events"])


def test_site_changes_are_invalidated_at_exactly_their_viewer_paths(basic: Deployment) -> None:
    # GIVEN a site with keys holding a space, a "+", "~", "[" and non-ASCII characters
    s3 = basic.server.client("s3")
    for key in ("old.html", "docs/a b.html"):
        s3.put_object(Bucket=basic.bucket, Key=key, Body=b"v1")
    # AND unchanged pages beside them, so that no wildcard pays for its evictions
    unchanged_neighbours(s3, basic.bucket, [f"docs/same-{n}.html" for n in range(10)])
    unchanged_neighbours(s3, basic.bucket, [f"same-{n}.html" for n in range(25)])
    basic.deliver().check({})
    uploads = ["index.html", "docs/index.html", "docs/c+d.html", "café/menu.html", "~team/v[2].html"]

    # WHEN a deploy uploads, overwrites, copies and deletes
    def deploy() -> None:
        for key in uploads:
            s3.put_object(Bucket=basic.bucket, Key=key, Body=b"<p>new</p>")
        s3.put_object(Bucket=basic.bucket, Key="docs/a b.html", Body=b"v2")
        s3.copy_object(
            Bucket=basic.bucket,
            Key="copies/menu.html",
            CopySource={"Bucket": basic.bucket, "Key": "café/menu.html"},
        )
        s3.delete_object(Bucket=basic.bucket, Key="old.html")

    delivery = basic.deliver(deploy)
    # THEN once the queue is drained, nothing dead-lettered and exactly the viewer paths of the changes
    changed = [*uploads, "docs/a b.html", "copies/menu.html", "old.html"]
    expected = required_paths_by_label(changed, EXAMPLE_SITES["basic"])
    delivery.check(required=expected, allowed=expected)
    assert {"/", "/docs/a%20b.html", "/docs/c+d.html", "/caf%C3%A9/menu.html"} <= delivery.paths["site"]


def test_a_change_cloudfront_refuses_reaches_the_dead_letter_queue_as_its_s3_event(
    basic: Deployment,
) -> None:
    # GIVEN the deployed function configured with a distribution CloudFront does not know
    missing = json.dumps({"site": {"id": "E0000000000000", "origin_path": ""}})
    broken = dataclasses.replace(
        basic.function, environment={**basic.function.environment, "DISTRIBUTIONS": missing}
    )
    events = dataclasses.replace(basic.events, handler=broken, outcomes=[])
    watch = basic.watch()
    since = len(broken.logs)
    # WHEN an upload is delivered until the queue is empty
    basic.server.client("s3").put_object(Bucket=basic.bucket, Key="lost/page.html", Body=b"x")
    outcomes = events.drain()
    # THEN the change was accepted (its message acknowledged), its flush was refused (NoSuchDistribution:
    # no retry helps), and it rests in the DLQ as the S3 event a redrive feeds back
    assert outcomes and all(o.failed_ids == set() and o.error is None for o in outcomes), outcomes
    assert [r["distribution_id"] for r in broken.decisions("changes_dead_lettered", since)] == [
        "E0000000000000"
    ]
    sqs = basic.server.client("sqs")
    dead = sqs.receive_message(QueueUrl=basic.outputs["dead_letter_queue_url"], MaxNumberOfMessages=10)[
        "Messages"
    ]
    dead_keys = [
        unquote_plus(record["s3"]["object"]["key"])
        for m in dead
        for record in json.loads(m["Body"])["Records"]
    ]
    assert dead_keys == ["lost/page.html"]
    assert watch.new_paths() == {basic.distributions["site"]: set()}
    for message in dead:
        sqs.delete_message(
            QueueUrl=basic.outputs["dead_letter_queue_url"], ReceiptHandle=message["ReceiptHandle"]
        )
