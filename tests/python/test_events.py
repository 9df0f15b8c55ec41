"""GIVEN an SQS message body WHEN it is read THEN the changed keys come out decoded, or it is rejected."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from cf_invalidator.core.events import Change, MalformedMessageError, changed_keys, changes
from support.sqs_events import eventbridge_body, fixture_body, s3_body


def test_s3_notification_key_is_url_decoded_with_plus_as_space() -> None:
    assert changed_keys(fixture_body("s3_put.json")) == ["docs/café menu+extra.html"]


def test_encoded_slash_as_moto_sends_it_decodes_to_a_slash() -> None:
    body = s3_body("a/b.html").replace("a/b.html", "a%2Fb.html")
    assert changed_keys(body) == ["a/b.html"]


def test_delete_invalidates_like_create() -> None:
    assert changed_keys(fixture_body("s3_delete_index.json")) == ["site/blog/index.html"]


@pytest.mark.parametrize(
    "event_name",
    [
        "ObjectCreated:Put",
        "ObjectCreated:Copy",
        "ObjectCreated:CompleteMultipartUpload",
        "ObjectRemoved:Delete",
        "ObjectRemoved:DeleteMarkerCreated",
        "LifecycleExpiration:Delete",
    ],
)
def test_every_content_changing_event_reports_its_key(event_name: str) -> None:
    assert changed_keys(s3_body("a.html", event_name=event_name)) == ["a.html"]


@pytest.mark.parametrize(
    "event_name",
    [  # every S3 notification event type that leaves the object's bytes as they were
        "ObjectTagging:Put",
        "ObjectTagging:Delete",
        "ObjectAcl:Put",
        "ObjectRestore:Post",
        "ObjectRestore:Completed",
        "ObjectRestore:Delete",
        "LifecycleTransition",
        "IntelligentTiering",
        "Replication:OperationFailedReplication",
        "Replication:OperationMissedThreshold",
        "Replication:OperationReplicatedAfterThreshold",
        "Replication:OperationNotTracked",
    ],
)
def test_content_neutral_events_are_acknowledged_and_change_nothing(event_name: str) -> None:
    assert changed_keys(s3_body("a.html", event_name=event_name)) == []  # no MalformedMessageError: no DLQ


def test_test_event_is_ignored_not_failed() -> None:
    assert changed_keys(fixture_body("s3_test_event.json")) == []


def test_several_records_in_one_body_give_every_key() -> None:
    assert changed_keys(s3_body("a.html", "b/c d.html")) == ["a.html", "b/c d.html"]


def test_eventbridge_created_and_deleted_give_their_keys() -> None:
    assert changed_keys(fixture_body("eventbridge_created.json")) == ["assets/app.js"]
    assert changed_keys(fixture_body("eventbridge_deleted.json")) == ["old/page.html"]


def test_eventbridge_key_is_decoded_like_a_notification_key() -> None:
    assert changed_keys(eventbridge_body("a b+c.html")) == ["a b+c.html"]


def test_eventbridge_content_neutral_event_changes_nothing() -> None:
    assert changed_keys(eventbridge_body("a.html", detail_type="Object Tags Added")) == []


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("not json", "not JSON"),
        ("[1, 2]", "not a JSON object"),
        ('{"hello": "world"}', "neither an S3 notification nor an EventBridge"),
        ('{"Records": []}', "Records is not a non-empty list"),
        ('{"Records": [{"eventName": "ObjectCreated:Put"}]}', "missing field 's3'"),
        (s3_body("a.html", event_name="ObjectExploded:Boom"), "unknown S3 event name"),
        (eventbridge_body("a.html", detail_type="Object Teleported"), "unknown EventBridge detail-type"),
        (
            json.dumps({"Records": [{"eventName": "ObjectCreated:Put", "s3": {"object": {"key": ""}}}]}),
            "empty",
        ),
        (s3_body("x").replace('"x"', '"%FF%FE"'), "does not decode to UTF-8"),
        ("[" * 100_000 + "]" * 100_000, "not JSON"),
    ],
)
def test_malformed_body_is_rejected_with_a_reason(body: str, reason: str) -> None:
    with pytest.raises(MalformedMessageError, match=reason):
        changed_keys(body)


def test_versioned_notification_gives_bucket_version_and_created() -> None:
    body = s3_body("docs/a b.html", bucket="www-site", version_id="3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY")
    assert changes(body) == [
        Change(
            key="docs/a b.html",
            created=True,
            bucket="www-site",
            version_id="3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY",
        )
    ]


def test_versioned_eventbridge_event_gives_its_version_id() -> None:
    body = eventbridge_body("app.js", bucket="www-site", version_id="v2")
    assert changes(body) == [Change(key="app.js", created=True, bucket="www-site", version_id="v2")]


@pytest.mark.parametrize(
    "body",
    [
        s3_body("a.html", event_name="ObjectRemoved:DeleteMarkerCreated", version_id="dm1"),
        s3_body("a.html", event_name="LifecycleExpiration:Delete"),
        eventbridge_body("a.html", detail_type="Object Deleted", version_id="dm1"),
    ],
)
def test_removals_and_expiries_are_not_created(body: str) -> None:
    [change] = changes(body)
    assert not change.created


@pytest.mark.parametrize("version_id", [None, "null", ""])
def test_missing_or_null_version_id_is_none(version_id: str | None) -> None:
    body = json.loads(s3_body("a.html"))
    if version_id is not None:
        body["Records"][0]["s3"]["object"]["versionId"] = version_id
    [change] = changes(json.dumps(body))
    assert change.version_id is None


def test_fixture_without_version_names_its_bucket() -> None:
    assert changes(fixture_body("s3_put.json"))[0].bucket == "example-site"
    assert changes(fixture_body("eventbridge_created.json"))[0].bucket == "example-site"


def test_notification_event_time_is_read_to_the_millisecond() -> None:
    [change] = changes(fixture_body("s3_put.json"))
    assert change.event_time == datetime(2026, 11, 27, 7, 0, tzinfo=UTC)
    [change] = changes(s3_body("a.html", event_time="2026-11-27T07:00:01.234Z"))
    assert change.event_time == datetime(2026, 11, 27, 7, 0, 1, 234000, tzinfo=UTC)


def test_eventbridge_time_is_read() -> None:
    [change] = changes(fixture_body("eventbridge_created.json"))
    assert change.event_time == datetime(2026, 11, 27, 7, 0, tzinfo=UTC)
    [change] = changes(eventbridge_body("a.html", time="2026-11-27T07:00:59Z"))
    assert change.event_time == datetime(2026, 11, 27, 7, 0, 59, tzinfo=UTC)


@pytest.mark.parametrize(
    "raw", ["yesterday", "", "2026-13-01T00:00:00Z", "2026-11-27T07:00:00", 1795590000, None]
)
def test_malformed_or_zoneless_event_time_is_none_and_the_change_is_kept(raw: object) -> None:
    body = json.loads(s3_body("a.html"))
    body["Records"][0]["eventTime"] = raw
    [change] = changes(json.dumps(body))
    assert (change.key, change.event_time) == ("a.html", None)
    bridge = json.loads(eventbridge_body("b.html"))
    bridge["time"] = raw
    [change] = changes(json.dumps(bridge))
    assert (change.key, change.event_time) == ("b.html", None)


def test_missing_event_time_is_none() -> None:
    assert changes(s3_body("a.html"))[0].event_time is None
    assert changes(eventbridge_body("a.html"))[0].event_time is None
