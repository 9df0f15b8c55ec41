"""The moto server's patches for versioned buckets: what S3 sends, as the Amazon S3 user guide documents it.

Sources: "Event message structure" (`s3.object.versionId` when the bucket is versioning-enabled),
"Event notification types" (`ObjectRemoved:DeleteMarkerCreated` when a delete creates a delete marker,
`ObjectRemoved:Delete` when a version is permanently deleted) and "EventBridge event message structure"
(`detail.object.version-id`, "Object Deleted" with `detail.deletion-type`). Each test wires a bucket of
its own to a queue of its own with boto3 (no Terraform) and reads what the queue received.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

import pytest

from support.deployment import create_bucket
from support.moto_server import MotoServer

pytestmark = pytest.mark.e2e


@dataclass(frozen=True)
class WiredBucket:
    """A bucket whose events reach a queue, and the clients to act on both."""

    name: str
    s3: Any
    sqs: Any
    queue_url: str

    def received(self) -> list[dict[str, Any]]:
        """Every message body the queue holds now (deleted from it), oldest first as moto keeps them."""
        bodies: list[dict[str, Any]] = []
        while messages := self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10).get(
            "Messages", []
        ):
            for message in messages:
                bodies.append(json.loads(message["Body"]))
                self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
        return bodies

    def records(self) -> list[dict[str, Any]]:
        """The S3 notification records the queue holds now (the s3:TestEvent has none)."""
        return [record for body in self.received() for record in body.get("Records", [])]

    def object_events(self) -> dict[str, dict[str, Any]]:
        """The EventBridge events about objects that the queue holds now, by detail-type and deletion-type."""
        return {
            " / ".join(filter(None, (e["detail-type"], e["detail"].get("deletion-type")))): e
            for e in self.received()
            if e["detail-type"] in ("Object Created", "Object Deleted")
        }


def unique_name(prefix: str) -> str:
    """A bucket or queue name no other test on the shared server uses."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def queue(sqs: Any) -> tuple[str, str]:
    """A new queue: its URL and ARN."""
    url: str = sqs.create_queue(QueueName=unique_name("patches"))["QueueUrl"]
    arn: str = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn


def notified_bucket(server: MotoServer, *, versioned: bool) -> WiredBucket:
    """A bucket whose S3 notification configuration sends every created and removed object to a queue."""
    s3, sqs = server.client("s3"), server.client("sqs")
    name = unique_name("patches")
    create_bucket(server, name, versioned=versioned)
    url, arn = queue(sqs)
    wiring = {"QueueArn": arn, "Events": ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"]}
    s3.put_bucket_notification_configuration(
        Bucket=name, NotificationConfiguration={"QueueConfigurations": [wiring]}
    )
    bucket = WiredBucket(name, s3, sqs, url)
    bucket.received()  # the s3:TestEvent that writing the configuration sends
    return bucket


def eventbridge_bucket(server: MotoServer, *, versioned: bool) -> WiredBucket:
    """A bucket that sends its events to EventBridge, and a rule (its bucket only) targeting a queue."""
    s3, sqs, events = server.client("s3"), server.client("sqs"), server.client("events")
    name = unique_name("patches")
    create_bucket(server, name, eventbridge=True, versioned=versioned)
    url, arn = queue(sqs)
    pattern = {"source": ["aws.s3"], "detail": {"bucket": {"name": [name]}}}
    events.put_rule(Name=name, EventPattern=json.dumps(pattern))
    events.put_targets(Rule=name, Targets=[{"Id": "queue", "Arn": arn}])
    return WiredBucket(name, s3, sqs, url)


@pytest.fixture
def versioned(moto_server: MotoServer) -> WiredBucket:
    return notified_bucket(moto_server, versioned=True)


@pytest.fixture
def unversioned(moto_server: MotoServer) -> WiredBucket:
    return notified_bucket(moto_server, versioned=False)


def test_versioned_put_record_carries_the_version_id_put_object_returned(versioned: WiredBucket) -> None:
    put = versioned.s3.put_object(Bucket=versioned.name, Key="a.html", Body=b"a")

    [record] = versioned.records()

    assert record["eventName"] == "ObjectCreated:Put"
    assert record["s3"]["object"]["key"] == "a.html"
    assert record["s3"]["object"]["versionId"] == put["VersionId"]


def test_versioned_delete_sends_delete_marker_created_with_the_marker_version(versioned: WiredBucket) -> None:
    versioned.s3.put_object(Bucket=versioned.name, Key="a.html", Body=b"a")
    versioned.records()

    deleted = versioned.s3.delete_object(Bucket=versioned.name, Key="a.html")

    assert deleted["DeleteMarker"] is True
    [record] = versioned.records()
    assert record["eventName"] == "ObjectRemoved:DeleteMarkerCreated"
    assert record["s3"]["object"] == {"key": "a.html", "versionId": deleted["VersionId"]}


def test_versioned_delete_objects_sends_delete_marker_created_per_key(versioned: WiredBucket) -> None:
    for key in ("a.html", "b.html"):
        versioned.s3.put_object(Bucket=versioned.name, Key=key, Body=b"x")
    versioned.records()

    deleted = versioned.s3.delete_objects(
        Bucket=versioned.name, Delete={"Objects": [{"Key": "a.html"}, {"Key": "b.html"}]}
    )["Deleted"]

    markers = {d["Key"]: d["DeleteMarkerVersionId"] for d in deleted}
    records = versioned.records()
    assert {r["eventName"] for r in records} == {"ObjectRemoved:DeleteMarkerCreated"}
    assert {r["s3"]["object"]["key"]: r["s3"]["object"]["versionId"] for r in records} == markers


def test_deleting_a_version_sends_object_removed_delete_with_that_version(versioned: WiredBucket) -> None:
    first = versioned.s3.put_object(Bucket=versioned.name, Key="a.html", Body=b"1")
    versioned.s3.put_object(Bucket=versioned.name, Key="a.html", Body=b"2")
    marker = versioned.s3.delete_object(Bucket=versioned.name, Key="a.html")
    versioned.records()

    versioned.s3.delete_object(Bucket=versioned.name, Key="a.html", VersionId=first["VersionId"])
    [old_version] = versioned.records()
    versioned.s3.delete_object(Bucket=versioned.name, Key="a.html", VersionId=marker["VersionId"])
    [undeleted] = versioned.records()

    assert old_version["eventName"] == "ObjectRemoved:Delete"
    assert old_version["s3"]["object"]["versionId"] == first["VersionId"]
    assert undeleted["eventName"] == "ObjectRemoved:Delete"
    assert undeleted["s3"]["object"] == {"key": "a.html", "versionId": marker["VersionId"]}


def test_unversioned_records_have_no_version_id_and_a_delete_is_object_removed_delete(
    unversioned: WiredBucket,
) -> None:
    unversioned.s3.put_object(Bucket=unversioned.name, Key="a.html", Body=b"a")
    unversioned.s3.delete_object(Bucket=unversioned.name, Key="a.html")

    records = unversioned.records()

    assert {r["eventName"]: set(r["s3"]["object"]) for r in records} == {
        "ObjectCreated:Put": {"key", "size", "eTag"},
        "ObjectRemoved:Delete": {"key", "size", "eTag"},
    }


def test_eventbridge_versioned_events_carry_version_id_and_deletion_type(moto_server: MotoServer) -> None:
    bucket = eventbridge_bucket(moto_server, versioned=True)
    put = bucket.s3.put_object(Bucket=bucket.name, Key="a.html", Body=b"a")
    marker = bucket.s3.delete_object(Bucket=bucket.name, Key="a.html")
    bucket.s3.delete_object(Bucket=bucket.name, Key="a.html", VersionId=put["VersionId"])

    events = bucket.object_events()

    assert {kind: e["detail"]["object"]["version-id"] for kind, e in events.items()} == {
        "Object Created": put["VersionId"],
        "Object Deleted / Delete Marker Created": marker["VersionId"],
        "Object Deleted / Permanently Deleted": put["VersionId"],
    }


def test_eventbridge_unversioned_delete_is_permanently_deleted(moto_server: MotoServer) -> None:
    bucket = eventbridge_bucket(moto_server, versioned=False)
    bucket.s3.put_object(Bucket=bucket.name, Key="a.html", Body=b"a")
    bucket.s3.delete_object(Bucket=bucket.name, Key="a.html")

    events = bucket.object_events()

    assert set(events) == {"Object Created", "Object Deleted / Permanently Deleted"}
