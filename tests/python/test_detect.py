"""GIVEN a versioned bucket (in-process moto) WHEN a batch reports created or deleted versions
THEN only keys whose bytes or served headers a viewer could see change are invalidated.

The notification records are built here with the version ids moto returned: moto's own records carry no
versionId, and moto sends no event for a delete marker.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from cf_invalidator.aws import detect, tree
from cf_invalidator.aws.distribution_config import DistributionConfigs, resolve
from cf_invalidator.config import Config, Distribution
from cf_invalidator.core.events import changes
from cf_invalidator.core.paths import BatchPaths
from cf_invalidator.pipeline.batch import process_batch
from cf_invalidator.pipeline.collaborators import Collaborators
from support.sqs_events import eventbridge_body, s3_body, sqs_event
from support.versioned_bucket import (
    BUCKET,
    CountingS3,
    RecordingCloudFront,
    TickingClock,
    put,
)

WWW = Distribution("www", "EWWW")


def created(key: str, version_id: str | None) -> str:
    return s3_body(key, bucket=BUCKET, version_id=version_id)


def deleted(key: str, version_id: str | None, event_name: str = "ObjectRemoved:DeleteMarkerCreated") -> str:
    return s3_body(key, bucket=BUCKET, version_id=version_id, event_name=event_name)


def invalidated(
    bodies: Iterable[str],
    s3: Any,
    *,
    invalidate_new_objects: bool = True,
    remaining_ms: int = 60_000,
) -> set[str]:
    """The paths the batch invalidates on one distribution serving the whole bucket. No eviction is
    allowed (evictions_per_path 0), so a wildcard shows only over directories holding nothing unchanged."""
    config = Config(
        distributions=(WWW,),
        max_paths=3000,
        skip_unchanged_objects=True,
        invalidate_new_objects=invalidate_new_objects,
        evictions_per_path=0,
    )
    cloudfront = RecordingCloudFront()
    response = process_batch(
        sqs_event(bodies), config, cloudfront, lambda: remaining_ms, Collaborators(s3=s3)
    )
    assert response == {"batchItemFailures": []}
    return cloudfront.paths


@pytest.fixture
def listing_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    """Change detection lists every directory itself: the tree's walk, made before it, has no listing
    call to make (its bound is spent), so it sees no key whole and hands detection no history."""
    monkeypatch.setattr(tree, "MAX_LIST_CALLS", 0)


def decisions(caplog: pytest.LogCaptureFixture) -> dict[str, dict[str, Any]]:
    """Each decision's line; a line's message is its decision, as operators search for it."""
    lines = {r.decision: vars(r) for r in caplog.records if hasattr(r, "decision")}
    assert all(line["msg"] == decision for decision, line in lines.items())
    return lines


def test_identical_reupload_invalidates_nothing(s3: CountingS3, caplog: pytest.LogCaptureFixture) -> None:
    put(s3.client, "docs/a.html")
    again = put(s3.client, "docs/a.html")
    with caplog.at_level(logging.INFO):
        assert invalidated([created("docs/a.html", again)], s3) == set()
    logged = decisions(caplog)["unchanged_skipped"]
    assert (logged["msg"], logged["key_count"], logged["example_key"]) == (
        "unchanged_skipped",
        1,
        "docs/a.html",
    )
    assert (logged["list_calls"], logged["head_calls"]) == (1, 2)


@pytest.mark.usefixtures("listing_alone")
def test_skipped_line_counts_the_listings_of_every_directory(
    s3: CountingS3, caplog: pytest.LogCaptureFixture
) -> None:
    """Nothing new in the batch: with invalidate_new_objects = false, no new_objects_skipped line either."""
    put(s3.client, "a.html")
    put(s3.client, "b/c.html")
    same = {key: put(s3.client, key) for key in ("a.html", "b/c.html")}
    with caplog.at_level(logging.INFO):
        bodies = [created(key, version) for key, version in same.items()]
        assert invalidated(bodies, s3, invalidate_new_objects=False) == set()
    logged = decisions(caplog)
    assert set(logged) == {"unchanged_skipped"}
    skipped = logged["unchanged_skipped"]
    assert (skipped["key_count"], skipped["list_calls"], skipped["keys_from_tree"]) == (2, 2, 0)
    assert logged["unchanged_skipped"]["lookup_ms"] >= 0


def test_one_byte_changed_invalidates_its_paths(s3: CountingS3) -> None:
    put(s3.client, "docs/other.html")
    put(s3.client, "docs/other.html")  # rewritten as it was: unchanged, so no wildcard over docs/
    put(s3.client, "docs/index.html", b"<p>hello</p>")
    changed = put(s3.client, "docs/index.html", b"<p>hellO</p>")
    assert invalidated([created("docs/index.html", changed)], s3) == {"/docs/", "/docs/index.html"}
    assert s3.calls["head_object"] == 0  # the listing's ETags differ: nothing more to ask


@pytest.mark.parametrize(
    "headers",
    [
        {"ContentType": "text/plain"},
        {"CacheControl": "max-age=60"},
        {"ContentEncoding": "gzip"},
        {"ContentDisposition": "attachment"},
        {"Metadata": {"cache-tag": "v2"}},
        {"WebsiteRedirectLocation": "/b.html"},
    ],
)
def test_same_bytes_with_another_served_header_invalidates(s3: CountingS3, headers: dict[str, Any]) -> None:
    put(s3.client, "a.html")
    changed = put(s3.client, "a.html", **headers)
    assert invalidated([created("a.html", changed)], s3) == {"/a.html"}


def test_delete_marker_invalidates(s3: CountingS3) -> None:
    put(s3.client, "a.html")
    marker = s3.client.delete_object(Bucket=BUCKET, Key="a.html")["VersionId"]
    assert invalidated([deleted("a.html", marker)], s3) == {"/a.html"}


@pytest.mark.parametrize("invalidate_new_objects", [True, False])
def test_reupload_after_a_delete_marker_is_new(s3: CountingS3, invalidate_new_objects: bool) -> None:
    """The key answered 404 in between: the same bytes are new to viewers."""
    put(s3.client, "a.html")
    s3.client.delete_object(Bucket=BUCKET, Key="a.html")
    back = put(s3.client, "a.html")
    expected = {"/a.html"} if invalidate_new_objects else set()
    assert (
        invalidated([created("a.html", back)], s3, invalidate_new_objects=invalidate_new_objects) == expected
    )


def test_new_object_invalidates_by_default(s3: CountingS3) -> None:
    first = put(s3.client, "new.html")
    assert invalidated([created("new.html", first)], s3) == {"/new.html"}


def test_new_object_is_skipped_when_told(s3: CountingS3, caplog: pytest.LogCaptureFixture) -> None:
    first = put(s3.client, "new.html")
    with caplog.at_level(logging.INFO):
        assert invalidated([created("new.html", first)], s3, invalidate_new_objects=False) == set()
    logged = decisions(caplog)["new_objects_skipped"]
    assert (logged["msg"], logged["key_count"], logged["example_key"]) == (
        "new_objects_skipped",
        1,
        "new.html",
    )


def test_predecessor_deleted_since_invalidates(s3: CountingS3) -> None:
    old = put(s3.client, "a.html")
    again = put(s3.client, "a.html")
    s3.client.delete_object(Bucket=BUCKET, Key="a.html", VersionId=old)  # as an expiration would
    assert invalidated([created("a.html", again)], s3) == {"/a.html"}


def test_version_deleted_since_invalidates(s3: CountingS3, caplog: pytest.LogCaptureFixture) -> None:
    put(s3.client, "a.html")
    again = put(s3.client, "a.html")
    s3.client.delete_object(Bucket=BUCKET, Key="a.html", VersionId=again)
    with caplog.at_level(logging.INFO):
        assert invalidated([created("a.html", again)], s3, invalidate_new_objects=False) == {"/a.html"}
    logged = decisions(caplog)["changes_unverified"]
    assert (logged["levelname"], logged["key_count"], logged["example_key"]) == ("INFO", 1, "a.html")
    assert (logged["reasons"], logged["errors"]) == ({"version_not_listed": 1}, {})


@pytest.mark.parametrize("operation", ["list_object_versions", "head_object"])
def test_lookup_error_invalidates_and_names_the_error(
    s3: CountingS3, operation: str, caplog: pytest.LogCaptureFixture
) -> None:
    put(s3.client, "a.html")
    again = put(s3.client, "a.html")
    failing = CountingS3(s3.client, failing=frozenset({operation}))
    with caplog.at_level(logging.INFO):
        assert invalidated([created("a.html", again)], failing, invalidate_new_objects=False) == {"/a.html"}
    logged = decisions(caplog)["changes_unverified"]
    assert logged["levelname"] == "WARNING"
    assert logged["reasons"] == {"lookup_error": 1}
    # one listing for the key; a HEAD of each of its two versions
    expected = (
        {"ListObjectVersions:AccessDenied": 1}
        if operation.startswith("list")
        else {"HeadObject:AccessDenied": 2}
    )
    assert logged["errors"] == expected


class BrokenConnection(CountingS3):
    """HEADs fail as botocore fails when no answer comes: not a ClientError, no error code."""

    def head_object(self, **kwargs: Any) -> Mapping[str, Any]:
        raise EndpointConnectionError(endpoint_url="https://s3.amazonaws.com")


@pytest.mark.parametrize(
    ("failing", "named"),
    [
        (BrokenConnection, "HeadObject:EndpointConnectionError"),
        (
            lambda client: CountingS3(client, failing=frozenset({"head_object"}), error_code=""),
            "HeadObject:ClientError",
        ),
    ],
)
def test_lookup_error_without_an_error_code_is_named_by_its_type(
    s3: CountingS3, caplog: pytest.LogCaptureFixture, failing: Any, named: str
) -> None:
    put(s3.client, "a.html")
    again = put(s3.client, "a.html")
    with caplog.at_level(logging.INFO):
        assert invalidated([created("a.html", again)], failing(s3.client)) == {"/a.html"}
    assert decisions(caplog)["changes_unverified"]["errors"] == {named: 2}


def test_version_removed_since_with_only_a_delete_marker_left_invalidates(
    s3: CountingS3, caplog: pytest.LogCaptureFixture
) -> None:
    """The listing then holds delete markers and no version: S3 leaves the Versions list out."""
    only = put(s3.client, "a.html")
    s3.client.delete_object(Bucket=BUCKET, Key="a.html", VersionId=only)
    s3.client.delete_object(Bucket=BUCKET, Key="a.html")
    assert "Versions" not in s3.client.list_object_versions(Bucket=BUCKET, Prefix="a.html")
    with caplog.at_level(logging.INFO):
        assert invalidated([created("a.html", only)], s3, invalidate_new_objects=False) == {"/a.html"}
    assert decisions(caplog)["changes_unverified"]["reasons"] == {"version_not_listed": 1}


def test_event_of_another_bucket_is_a_lookup_error(s3: CountingS3) -> None:
    body = s3_body("a.html", bucket="no-such-bucket", version_id="v1")
    assert invalidated([body], s3, invalidate_new_objects=False) == {"/a.html"}


def test_records_without_version_id_invalidate_with_one_line_and_no_call(
    s3: CountingS3, caplog: pytest.LogCaptureFixture
) -> None:
    """An unversioned bucket: as without change detection, and the log says why."""
    put(s3.client, "other.html")
    put(s3.client, "other.html")  # rewritten as it was: unchanged, so no wildcard over the root
    with caplog.at_level(logging.INFO):
        paths = invalidated(
            [created("a.html", None), created("b/c.html", "null")], s3, invalidate_new_objects=False
        )
    assert paths == {"/a.html", "/b/c.html"}
    lines = [r for r in caplog.records if getattr(r, "decision", "") == "changes_unverified"]
    assert len(lines) == 1
    assert vars(lines[0])["reasons"] == {"no_version_id": 2}
    assert s3.calls == {"list_object_versions": 1}  # the planner's one listing of the tree, no HEAD


def test_record_without_a_bucket_name_invalidates_and_says_why(
    s3: CountingS3, caplog: pytest.LogCaptureFixture
) -> None:
    record = json.loads(created("a.html", "v1"))
    del record["Records"][0]["s3"]["bucket"]
    with caplog.at_level(logging.INFO):
        assert invalidated([json.dumps(record)], s3, invalidate_new_objects=False) == {"/a.html"}
    assert decisions(caplog)["changes_unverified"]["reasons"] == {"no_bucket_name": 1}
    assert sum(s3.calls.values()) == 0


def test_key_that_is_a_prefix_of_another_is_compared_with_its_own_versions(s3: CountingS3) -> None:
    """A listing with Prefix=a.html also returns a.html.old: its version must not pass for a.html's."""
    put(s3.client, "a.html", b"A")
    put(s3.client, "a.html.old", b"B")
    changed = put(s3.client, "a.html", b"B")
    assert invalidated([created("a.html", changed)], s3) == {"/a.html"}


def test_key_prefix_of_another_in_a_directory_listing(s3: CountingS3) -> None:
    put(s3.client, "d/a.html", b"A")
    put(s3.client, "d/a.html.old", b"B")
    changed = put(s3.client, "d/a.html", b"B")
    same = put(s3.client, "d/a.html.old", b"B")
    assert invalidated([created("d/a.html", changed), created("d/a.html.old", same)], s3) == {"/d/a.html"}
    assert s3.calls["list_object_versions"] == 1


def test_two_versions_in_one_batch_first_changing_second_identical_invalidates(s3: CountingS3) -> None:
    put(s3.client, "a.html", b"A")
    first = put(s3.client, "a.html", b"B")
    second = put(s3.client, "a.html", b"B")
    assert invalidated([created("a.html", second), created("a.html", first)], s3) == {"/a.html"}


def test_a_b_a_in_one_batch_invalidates(s3: CountingS3) -> None:
    put(s3.client, "a.html", b"A")
    first = put(s3.client, "a.html", b"B")
    second = put(s3.client, "a.html", b"A")
    assert invalidated([created("a.html", first), created("a.html", second)], s3) == {"/a.html"}


def test_identical_versions_and_duplicate_events_in_one_batch_invalidate_nothing(s3: CountingS3) -> None:
    put(s3.client, "a.html")
    first = put(s3.client, "a.html")
    second = put(s3.client, "a.html")
    bodies = [created("a.html", first), created("a.html", second), created("a.html", second)]
    assert invalidated(bodies, s3) == set()
    assert s3.calls["head_object"] == 3  # each version once, the middle one serving both pairs


def test_delete_in_the_batch_invalidates_the_key_whatever_its_versions(s3: CountingS3) -> None:
    put(s3.client, "a.html")
    again = put(s3.client, "a.html")
    bodies = [created("a.html", again), deleted("a.html", "x", event_name="ObjectRemoved:Delete")]
    assert invalidated(bodies, s3) == {"/a.html"}


@pytest.mark.parametrize(("invalidate_new_objects", "expected"), [(True, {"/a.html"}), (False, set())])
def test_delete_marker_in_the_same_second_as_the_replaced_version_counts_as_new(
    s3: CountingS3, clock: TickingClock, invalidate_new_objects: bool, expected: set[str]
) -> None:
    """The marker may lie before or after v1: new after it, or unchanged after v1. Invalidated unless new
    objects are skipped (then both readings skip it)."""
    put(s3.client, "a.html")
    clock.step *= 0
    s3.client.delete_object(Bucket=BUCKET, Key="a.html")
    back = put(s3.client, "a.html")
    bodies = [created("a.html", back)]
    assert invalidated(bodies, s3, invalidate_new_objects=invalidate_new_objects) == expected


def test_eventbridge_version_id_is_compared_too(s3: CountingS3) -> None:
    put(s3.client, "app.js", b"1")
    again = put(s3.client, "app.js", b"1")
    changed = put(s3.client, "main.js", b"2")
    bodies = [
        eventbridge_body("app.js", bucket=BUCKET, version_id=again),
        eventbridge_body("main.js", bucket=BUCKET, version_id=changed),
    ]
    assert invalidated(bodies, s3) == {"/main.js"}


def test_no_time_left_invalidates_without_a_call(s3: CountingS3, caplog: pytest.LogCaptureFixture) -> None:
    put(s3.client, "a.html")
    again = put(s3.client, "a.html")
    with caplog.at_level(logging.INFO):
        assert invalidated([created("a.html", again)], s3, remaining_ms=4000) == {"/a.html"}
    logged = decisions(caplog)["changes_unverified"]
    assert (logged["levelname"], logged["reasons"]) == ("WARNING", {"no_time": 1})
    assert sum(s3.calls.values()) == 0


def test_exactly_the_time_floor_left_still_looks(s3: CountingS3) -> None:
    """Looking stops when less than the floor (MIN_LEFT_MS here: half of what is left is below it) is left."""
    put(s3.client, "a.html")
    again = put(s3.client, "a.html")
    assert invalidated([created("a.html", again)], s3, remaining_ms=detect.MIN_LEFT_MS) == set()
    assert (s3.calls["list_object_versions"], s3.calls["head_object"]) == (1, 2)


@pytest.mark.usefixtures("listing_alone")
def test_directory_listing_pages_through_and_stays_within_one_call_per_key(
    s3: CountingS3, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(detect, "PAGE_SIZE", 3)
    keys = [f"docs/p{i:02}.html" for i in range(8)]
    for key in [*keys, "docs/sub/x.html", "docs/zz.html"]:
        put(s3.client, key)
    again = {key: put(s3.client, key) for key in keys}
    changed = put(s3.client, "docs/p03.html", b"other")
    bodies = [created(key, version) for key, version in again.items()] + [created("docs/p03.html", changed)]
    assert invalidated(bodies, s3) == {"/docs/p03.html"}
    assert s3.calls["list_object_versions"] <= len(keys)


@pytest.mark.usefixtures("listing_alone")
def test_keys_the_listing_budget_does_not_reach_are_invalidated(
    s3: CountingS3, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(detect, "PAGE_SIZE", 2)
    for i in range(6):
        put(s3.client, f"d/a{i}.html")
    late = {key: put(s3.client, key) for key in ("d/a0.html", "d/a5.html")}
    with caplog.at_level(logging.INFO):
        paths = invalidated([created(key, version) for key, version in late.items()], s3)
    assert paths == {"/d/a5.html"}
    assert decisions(caplog)["changes_unverified"]["reasons"] == {"listing_budget": 1}
    assert s3.calls["list_object_versions"] == 2


def test_one_changed_key_in_a_busy_directory_is_listed_by_its_own_name(
    s3: CountingS3, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Prefix = the key: its versions come first, whatever else the directory holds."""
    monkeypatch.setattr(detect, "PAGE_SIZE", 2)
    for i in range(6):
        put(s3.client, f"d/a{i}.html")
    again = put(s3.client, "d/a5.html")
    assert invalidated([created("d/a5.html", again)], s3) == set()
    assert s3.calls["list_object_versions"] == 1


@pytest.mark.usefixtures("listing_alone")
def test_a_subdirectory_is_one_entry_of_its_directory_listing(
    s3: CountingS3, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Delimiter "/": the many objects of d/m/ do not use up the pages the keys of d/ need."""
    monkeypatch.setattr(detect, "PAGE_SIZE", 3)
    for key in ["d/a.html", "d/z.html", *[f"d/m/{i}.html" for i in range(8)]]:
        put(s3.client, key)
    again = {key: put(s3.client, key) for key in ("d/a.html", "d/z.html")}
    assert invalidated([created(key, version) for key, version in again.items()], s3) == set()
    assert s3.calls["list_object_versions"] == 2


def test_unserved_keys_are_not_looked_up(s3: CountingS3) -> None:
    config = Config(
        distributions=(Distribution("www", "EWWW", "/site"),), max_paths=100, skip_unchanged_objects=True
    )
    version = put(s3.client, "other/a.html")
    cloudfront = RecordingCloudFront()
    process_batch(
        sqs_event([created("other/a.html", version)]),
        config,
        cloudfront,
        lambda: 60_000,
        Collaborators(s3=s3),
    )
    assert (cloudfront.paths, sum(s3.calls.values())) == (set(), 0)


def test_without_the_setting_nothing_is_looked_up(s3: CountingS3) -> None:
    put(s3.client, "a.html")
    again = put(s3.client, "a.html")
    cloudfront = RecordingCloudFront()
    config = Config(distributions=(WWW,), max_paths=100)
    process_batch(
        sqs_event([created("a.html", again)]), config, cloudfront, lambda: 60_000, Collaborators(s3=s3)
    )
    assert (cloudfront.paths, sum(s3.calls.values())) == ({"/a.html"}, 0)


class Context:
    def get_remaining_time_in_millis(self) -> int:
        return 60_000


def test_lambda_handler_skips_unchanged_objects_with_the_module_settings(
    s3: CountingS3, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The handler as Lambda starts it, with the environment the module writes, on moto's CloudFront."""
    import importlib  # noqa: PLC0415
    import sys  # noqa: PLC0415

    from support.deployment import create_distribution, invalidations  # noqa: PLC0415
    from support.inbox_handler import INBOX_ENVIRONMENT, Ticks, create_inbox  # noqa: PLC0415

    cloudfront = boto3.client("cloudfront")
    distribution_id = create_distribution(cloudfront, BUCKET)
    monkeypatch.setenv("DISTRIBUTIONS", json.dumps({"www": {"id": distribution_id, "origin_path": ""}}))
    monkeypatch.setenv("MAX_PATHS_PER_INVALIDATION", "100")
    monkeypatch.setenv("SKIP_UNCHANGED_OBJECTS", "true")
    monkeypatch.setenv("INVALIDATE_NEW_OBJECTS", "true")
    for name, value in INBOX_ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    inbox = create_inbox()
    sys.modules.pop("cf_invalidator.handler", None)
    handler = importlib.import_module("cf_invalidator.handler")
    put(s3.client, "a.html")
    put(s3.client, "b.html")
    same, changed = put(s3.client, "a.html"), put(s3.client, "b.html", b"changed")
    event = sqs_event([created("a.html", same), created("b.html", changed)])
    assert handler.lambda_handler(event, Context()) == {"batchItemFailures": []}
    assert Ticks(monkeypatch, handler, inbox).run(2, Context()) == 1
    assert [inv.paths for inv in invalidations(cloudfront, distribution_id).values()] == [("/b.html",)]


def test_time_running_low_midway_stops_looking_and_invalidates_the_rest(
    s3: CountingS3, caplog: pytest.LogCaptureFixture
) -> None:
    """Half the time left at the start is for looking: the tree's walk fits, and change detection takes
    both keys' histories from it; its HEADs find the time gone."""
    put(s3.client, "a.html")
    put(s3.client, "b/c.html")
    put(s3.client, "other.html")
    put(s3.client, "other.html")  # rewritten as it was: unchanged, so no wildcard over the root
    same = {key: put(s3.client, key) for key in ("a.html", "b/c.html")}
    readings = iter([60_000, 60_000, 60_000])  # the walk's start and its one page, detection's start

    def remaining() -> int:
        return next(readings, 20_000)

    config = Config(distributions=(WWW,), max_paths=100, skip_unchanged_objects=True, evictions_per_path=0)
    cloudfront = RecordingCloudFront()
    with caplog.at_level(logging.INFO):
        process_batch(
            sqs_event(created(k, v) for k, v in same.items()),
            config,
            cloudfront,
            remaining,
            Collaborators(s3=s3),
        )
    assert cloudfront.paths == {"/a.html", "/b/c.html"}
    unverified = decisions(caplog)["changes_unverified"]
    assert (unverified["list_calls"], unverified["keys_from_tree"]) == (0, 2)
    assert (s3.calls["list_object_versions"], s3.calls["head_object"]) == (1, 0)  # the walk's one page
    assert unverified["reasons"] == {"no_time": 2}


class ListedS3:
    """S3 answering ListObjectVersions with a hand-built page, as S3 orders it (moto orders a key's
    versions by LastModified and stamps a multipart upload at completion, so it cannot show the race),
    and HeadObject with the same served headers for every version."""

    def __init__(self, page: Mapping[str, Any]) -> None:
        self.page = page

    def list_object_versions(self, **kwargs: Any) -> Mapping[str, Any]:
        return self.page

    def head_object(self, **kwargs: Any) -> Mapping[str, Any]:
        return {"ETag": '"a"', "ContentType": "text/html"}


def listed_version(version_id: str, seconds_ago: int, etag: str, *, latest: bool = False) -> dict[str, Any]:
    written = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=seconds_ago)
    return {
        "Key": "big.bin",
        "VersionId": version_id,
        "LastModified": written,
        "ETag": etag,
        "IsLatest": latest,
    }


def test_multipart_upload_completed_after_a_racing_put_invalidates() -> None:
    """Issue 19: the multipart upload began before the racing PUT (so its LastModified is older) and
    completed after it, with the bytes of the version before the race. S3 lists it first: it replaced
    the PUT, whose bytes viewers may hold."""
    page = {
        "IsTruncated": False,
        "Versions": [
            listed_version("multipart", 60, '"a"', latest=True),
            listed_version("racing-put", 30, '"w"'),
            listed_version("v1", 600, '"a"'),
        ],
    }
    body = s3_body(
        "big.bin", bucket=BUCKET, version_id="multipart", event_name="ObjectCreated:CompleteMultipartUpload"
    )
    config = Config(distributions=(WWW,), max_paths=100, skip_unchanged_objects=True)
    found = changes(body)
    served = BatchPaths.of((c.key for c in found), config)
    kept = detect.keys_to_invalidate({"m0": found}, config, ListedS3(page), lambda: 60_000, served=served)
    assert kept == {"m0": ["big.bin"]}


class DistributionConfigOf:
    """GetDistributionConfig: one distribution whose default origin is the bucket under /site."""

    def get_distribution_config(self, **kwargs: Any) -> Mapping[str, Any]:
        origin = {"Id": "site", "DomainName": f"{BUCKET}.s3.amazonaws.com", "OriginPath": "/site"}
        return {
            "DistributionConfig": {
                "Origins": {"Quantity": 1, "Items": [origin]},
                "DefaultCacheBehavior": {"TargetOriginId": "site"},
            }
        }


class UnreadableDistributionConfig:
    def get_distribution_config(self, **kwargs: Any) -> Mapping[str, Any]:
        raise ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "GetDistributionConfig")


def auto_batch(bodies: Iterable[str], s3: Any, cloudfront_config: Any) -> tuple[set[str], list[str]]:
    """The paths invalidated and the messages failed, for one distribution with origin_path "auto"."""
    config = Config(
        distributions=(Distribution("auto", "EAUTO", "auto"),),
        max_paths=100,
        bucket_name=BUCKET,
        skip_unchanged_objects=True,
        evictions_per_path=0,
    )
    configs = DistributionConfigs(cloudfront_config, BUCKET)
    cloudfront = RecordingCloudFront()
    response = process_batch(
        sqs_event(bodies),
        config,
        cloudfront,
        lambda: 60_000,
        Collaborators(s3=s3, resolve=lambda c, deadline: resolve(c, configs, deadline)),
    )
    return cloudfront.paths, [item["itemIdentifier"] for item in response["batchItemFailures"]]


def test_auto_distribution_skips_an_identical_reupload(s3: CountingS3) -> None:
    """Issue 19: detection is handed the resolved routing (origin /site), not the origin path "auto"."""
    put(s3.client, "site/a.html")
    again = put(s3.client, "site/a.html")
    changed = put(s3.client, "site/b.html", b"new")
    assert auto_batch([created("site/a.html", again)], s3, DistributionConfigOf()) == (set(), [])
    assert auto_batch([created("site/b.html", changed)], s3, DistributionConfigOf()) == ({"/b.html"}, [])


def test_unresolved_auto_distribution_keeps_an_identical_reupload_for_a_retry(s3: CountingS3) -> None:
    """Which keys it serves is unknown until its configuration is read: nothing is skipped, the message
    is retried."""
    put(s3.client, "site/a.html")
    again = put(s3.client, "site/a.html")
    assert auto_batch([created("site/a.html", again)], s3, UnreadableDistributionConfig()) == (set(), ["m0"])


def expired(key: str, version_id: str | None) -> str:
    """S3 Lifecycle's permanent removal of a version (NoncurrentVersionExpiration), as S3 reports it."""
    return deleted(key, version_id, event_name="LifecycleExpiration:Delete")


def eventbridge_deleted(key: str, version_id: str, reason: str, deletion_type: str) -> str:
    body = json.loads(
        eventbridge_body(key, detail_type="Object Deleted", bucket=BUCKET, version_id=version_id)
    )
    body["detail"].update({"reason": reason, "deletion-type": deletion_type})
    return json.dumps(body)


def noncurrent_expired(s3: CountingS3, key: str) -> str:
    """Two versions of `key`, the older one then removed as a noncurrent-version expiration removes it;
    its version id."""
    old = put(s3.client, key, b"old")
    put(s3.client, key, b"current")
    s3.client.delete_object(Bucket=BUCKET, Key=key, VersionId=old)
    return old


def test_lifecycle_expiry_of_a_noncurrent_version_invalidates_nothing(
    s3: CountingS3, caplog: pytest.LogCaptureFixture
) -> None:
    """Issue 19: noncurrent versions expire a day on (the README's lifecycle rule); the current object,
    the one viewers get, is untouched."""
    old = noncurrent_expired(s3, "docs/a.html")
    with caplog.at_level(logging.INFO):
        assert invalidated([expired("docs/a.html", old)], s3) == set()
    logged = decisions(caplog)["noncurrent_removals_skipped"]
    assert (logged["levelname"], logged["key_count"], logged["example_key"]) == ("INFO", 1, "docs/a.html")


def test_lifecycle_expiry_of_a_noncurrent_version_is_left_out_with_change_detection_off(
    s3: CountingS3,
) -> None:
    """The event alone proves it: no S3 call is needed, and none is made."""
    old = noncurrent_expired(s3, "a.html")
    cloudfront = RecordingCloudFront()
    config = Config(distributions=(WWW,), max_paths=100)
    response = process_batch(
        sqs_event([expired("a.html", old)]), config, cloudfront, lambda: 60_000, Collaborators(s3=s3)
    )
    assert (response, cloudfront.paths, sum(s3.calls.values())) == ({"batchItemFailures": []}, set(), 0)


def test_eventbridge_lifecycle_removal_of_a_version_invalidates_nothing(s3: CountingS3) -> None:
    old = noncurrent_expired(s3, "a.html")
    body = eventbridge_deleted("a.html", old, "Lifecycle Expiration", "Permanently Deleted")
    assert invalidated([body], s3) == set()


@pytest.mark.parametrize(
    ("reason", "deletion_type"),
    [
        ("Lifecycle Expiration", "Delete Marker Created"),  # the current version expired
        ("DeleteObject", "Permanently Deleted"),  # a user's delete of a named version
    ],
)
def test_eventbridge_deletions_that_may_change_the_current_object_invalidate(
    s3: CountingS3, reason: str, deletion_type: str
) -> None:
    old = noncurrent_expired(s3, "a.html")
    assert invalidated([eventbridge_deleted("a.html", old, reason, deletion_type)], s3) == {"/a.html"}


def test_permanent_delete_of_the_current_version_invalidates(s3: CountingS3) -> None:
    """The version before it is served now."""
    put(s3.client, "a.html", b"old")
    current = put(s3.client, "a.html", b"current")
    s3.client.delete_object(Bucket=BUCKET, Key="a.html", VersionId=current)
    assert invalidated([deleted("a.html", current, event_name="ObjectRemoved:Delete")], s3) == {"/a.html"}


def test_permanent_delete_of_a_noncurrent_version_by_a_user_invalidates(s3: CountingS3) -> None:
    """Nothing proves the version was not the current one when it was deleted: the listing no longer
    holds it, and neither the listing nor the event places it among the key's versions."""
    old = noncurrent_expired(s3, "a.html")
    assert invalidated([deleted("a.html", old, event_name="ObjectRemoved:Delete")], s3) == {"/a.html"}


@pytest.mark.parametrize("version_id", [None, "null"])
def test_lifecycle_removal_without_a_version_id_invalidates(s3: CountingS3, version_id: str | None) -> None:
    """An unversioned bucket (or a null version): Lifecycle removed the object viewers get."""
    assert invalidated([expired("a.html", version_id)], s3) == {"/a.html"}


def test_lifecycle_delete_marker_invalidates(s3: CountingS3) -> None:
    """A versioned bucket's current version expires by a delete marker: the key answers 404 now."""
    put(s3.client, "a.html")
    marker = s3.client.delete_object(Bucket=BUCKET, Key="a.html")["VersionId"]
    body = deleted("a.html", marker, event_name="LifecycleExpiration:DeleteMarkerCreated")
    assert invalidated([body], s3) == {"/a.html"}


def test_noncurrent_expiry_beside_a_change_of_the_same_key_leaves_the_change(s3: CountingS3) -> None:
    old = noncurrent_expired(s3, "a.html")
    changed = put(s3.client, "a.html", b"changed")
    assert invalidated([expired("a.html", old), created("a.html", changed)], s3) == {"/a.html"}
