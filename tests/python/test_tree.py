"""GIVEN a bucket (in-process moto) and a batch WHEN its tree is listed THEN each wildcard's evictions are
counted by the rule, and whatever was not listed is unknown: the request falls back to blind coalescing
and never misses a change.

The rule (issue 13, tree.py): an object below a wildcard is an eviction unless this batch invalidates
it, or (versioned) its current version was written no earlier than 15 minutes before the batch's oldest
change and differs from the entry before it (another ETag, none, or a delete marker).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import boto3
import pytest

from cf_invalidator.aws import tree
from cf_invalidator.config import Config, Distribution
from cf_invalidator.core.coalesce import coalesce
from cf_invalidator.core.paths import BatchPaths
from cf_invalidator.pipeline.batch import process_batch
from cf_invalidator.pipeline.collaborators import Collaborators
from support.path_oracle import is_covered, required_paths
from support.sqs_events import s3_body, sqs_event
from support.versioned_bucket import (
    BUCKET,
    CountingS3,
    RecordingCloudFront,
    TickingClock,
    put,
)

WWW = Distribution("www", "EWWW")


def config(**fields: Any) -> Config:
    settings: dict[str, Any] = {"distributions": (WWW,), "max_paths": 1000, "skip_unchanged_objects": True}
    return Config(**(settings | fields))


def walked_trees(
    keys: list[str], s3: Any, settings: Config, remaining_ms: int = 60_000
) -> dict[str, tree.Tree]:
    """The trees of a batch of `keys` that change detection keeps whole: listed, then built."""
    walked = tree.walk(
        set(keys), settings, {BUCKET}, s3, lambda: remaining_ms, served=BatchPaths.of(keys, settings)
    )
    return tree.trees(walked, {"m1": keys}, settings)


def listed(keys: list[str], s3: Any, settings: Config, remaining_ms: int = 60_000) -> tree.Tree:
    return walked_trees(keys, s3, settings, remaining_ms)[WWW.id]


def planned(
    versions: Mapping[str, str | None], s3: Any, settings: Config, remaining_ms: int = 60_000
) -> set[str]:
    bodies = [s3_body(key, bucket=BUCKET, version_id=version) for key, version in versions.items()]
    event = sqs_event(bodies)
    cloudfront = RecordingCloudFront()
    response = process_batch(event, settings, cloudfront, lambda: remaining_ms, Collaborators(s3=s3))
    assert response == {"batchItemFailures": []}
    return cloudfront.paths


def test_versioned_tree_counts_what_this_deploy_did_not_change(s3: CountingS3, clock: TickingClock) -> None:
    put(s3.client, "old.html")
    for n in range(10):
        put(s3.client, f"docs/p{n}.html", b"v1")
    clock.now += timedelta(minutes=30)
    put(s3.client, "docs/p0.html", b"v2")  # changed by an earlier deploy, 30 minutes before: an eviction
    clock.now += timedelta(minutes=30)
    for n in range(1, 6):
        put(s3.client, f"docs/p{n}.html", b"v2")  # changed by this deploy a minute before: not evictions
    put(s3.client, "docs/p6.html", b"v1")  # rewritten as it was: an eviction
    clock.now += timedelta(minutes=1)
    batch = [f"docs/p{n}.html" for n in (7, 8, 9)]
    for key in batch:
        put(s3.client, key, b"v2")
    found = listed(batch, s3, config())
    assert found.evictions("/docs/") == 2  # p0 and p6
    assert found.evictions("/") == math.inf  # above the deepest directory of the changes: not listed
    assert planned({k: None for k in batch}, s3, config()) == {"/docs/*"}  # 1 + 2/3 < 3 paths
    assert planned({k: None for k in batch}, s3, config(evictions_per_path=0)) == {f"/{k}" for k in batch}


def test_root_wildcard_counts_every_unchanged_object_once(s3: CountingS3, clock: TickingClock) -> None:
    put(s3.client, "index.html")
    put(s3.client, "index.html")  # rewritten as it was: served at / and /index.html, one object
    put(s3.client, "a/x.html")
    clock.now += timedelta(hours=1)
    put(s3.client, "a/y.html", b"new")
    put(s3.client, "b/z.html", b"new")
    found = listed(["a/y.html", "b/z.html"], s3, config())
    assert (found.evictions("/"), found.evictions("/a/"), found.evictions("/b/")) == (2, 1, 0)


def test_new_objects_of_the_deploy_are_evictions_when_they_are_not_invalidated(
    s3: CountingS3, clock: TickingClock
) -> None:
    put(s3.client, "docs/new.html")  # no earlier version, written a second before the batch
    batch = ["docs/a.html", "docs/b.html"]
    for key in batch:
        put(s3.client, key)
    assert listed(batch, s3, config()).evictions("/docs/") == 0
    assert listed(batch, s3, config(invalidate_new_objects=False)).evictions("/docs/") == 1


def test_deleted_key_is_no_eviction_and_a_key_deleted_before_counts_as_new(
    s3: CountingS3, clock: TickingClock
) -> None:
    put(s3.client, "docs/gone.html")
    s3.client.delete_object(Bucket=BUCKET, Key="docs/gone.html")
    put(s3.client, "docs/back.html")
    s3.client.delete_object(Bucket=BUCKET, Key="docs/back.html")
    clock.now += timedelta(hours=1)
    put(s3.client, "docs/back.html")  # over a delete marker: new, needs invalidating
    batch = ["docs/a.html", "docs/b.html"]
    for key in batch:
        put(s3.client, key)
    assert listed(batch, s3, config()).evictions("/docs/") == 0


def test_unversioned_listing_counts_everything_but_the_batch(mocked_aws: None) -> None:
    client = boto3.client("s3")
    client.create_bucket(Bucket=BUCKET)
    s3 = CountingS3(client)
    for n in range(10):
        client.put_object(Bucket=BUCKET, Key=f"docs/p{n}.html", Body=b"page")
    batch = [f"docs/p{n}.html" for n in (7, 8, 9)]
    found = listed(batch, s3, config(skip_unchanged_objects=False))
    assert found.evictions("/docs/") == 7  # recent, but a plain listing cannot tell what else changed
    assert s3.calls == {"list_objects_v2": 1}


def test_prefix_inside_another_is_listed_once(mocked_aws: None) -> None:
    client = boto3.client("s3")
    client.create_bucket(Bucket=BUCKET)
    s3 = CountingS3(client)
    blog = Distribution("blog", "EBLOG", "/blog")
    for key in ("blog/a.html", "blog/b.html", "blog/c.html"):
        client.put_object(Bucket=BUCKET, Key=key, Body=b"page")
    settings = config(distributions=(WWW, blog), skip_unchanged_objects=False)
    found = walked_trees(["blog/a.html", "blog/b.html"], s3, settings)
    assert (found[WWW.id].evictions("/blog/"), found[blog.id].evictions("/")) == (1, 1)
    assert s3.calls == {"list_objects_v2": 1}


def test_one_changed_path_lists_nothing(s3: CountingS3) -> None:
    put(s3.client, "a.html")
    assert walked_trees(["a.html"], s3, config()) == {}
    assert s3.calls == {}


def test_listing_bound_leaves_the_rest_unknown_and_the_request_coalesced_blind(
    s3: CountingS3, clock: TickingClock, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(tree, "PAGE_SIZE", 4)
    monkeypatch.setattr(tree, "MAX_LIST_CALLS", 1)
    batch = [f"{d}/{n}.html" for d in ("a", "b") for n in range(3)] + ["c.html"]
    for key in batch:
        put(s3.client, key)
    put(s3.client, "b/unchanged.html")
    with caplog.at_level(logging.INFO):
        found = listed(batch, s3, config())
    assert (found.evictions("/a/"), found.evictions("/b/"), found.evictions("/")) == (0, math.inf, math.inf)
    line = next(r for r in caplog.records if getattr(r, "decision", "") == "tree_incomplete")
    assert (vars(line)["reason"], vars(line)["list_calls"]) == ("listing_bound", 1)
    paths = planned({k: None for k in batch}, s3, config(max_paths=3))
    assert all(is_covered(p, paths) for key in batch for p in required_paths(key))
    assert len(paths) <= 3


def test_listing_error_plans_exactly_as_blind_coalescing(
    s3: CountingS3, caplog: pytest.LogCaptureFixture
) -> None:
    batch = [f"docs/{n}.html" for n in range(8)] + ["a/b.html", "a/c.html"]
    versions = {key: put(s3.client, key) for key in batch}
    failing = CountingS3(s3.client, failing=frozenset({"list_object_versions"}))
    with caplog.at_level(logging.INFO):
        paths = planned(versions, failing, config(max_paths=4))
    changed = {p for key in batch for p in required_paths(key)}
    assert paths == set(coalesce(changed, 4))
    line = next(r for r in caplog.records if getattr(r, "decision", "") == "tree_incomplete")
    assert vars(line)["reason"] == "lookup_error"
    assert vars(line)["errors"] == {"list_object_versions:AccessDenied": 1}


def test_time_running_out_lists_nothing_and_plans_as_blind_coalescing(
    s3: CountingS3, caplog: pytest.LogCaptureFixture
) -> None:
    batch = [f"docs/{n}.html" for n in range(8)]
    for key in batch:
        put(s3.client, key)
    with caplog.at_level(logging.INFO):
        paths = planned(dict.fromkeys(batch), s3, config(max_paths=4), remaining_ms=4000)
    assert paths == set(coalesce({f"/{k}" for k in batch}, 4))
    assert s3.calls == {}
    line = next(r for r in caplog.records if getattr(r, "decision", "") == "tree_incomplete")
    assert (vars(line)["reason"], vars(line)["list_calls"]) == ("no_time", 0)


def test_cover_planned_line_says_what_the_cover_chose(
    s3: CountingS3, caplog: pytest.LogCaptureFixture
) -> None:
    batch = [f"guide/{n}.html" for n in range(5)] + ["about.html"]
    for key in ["about.html", *batch]:
        put(s3.client, key)
    with caplog.at_level(logging.INFO):
        assert planned(dict.fromkeys(batch), s3, config()) == {"/*"}  # everything there is changed
    line = vars(next(r for r in caplog.records if getattr(r, "decision", "") == "cover_planned"))
    assert (line["paths"], line["wildcards"], line["evictions"], line["changed_paths"]) == (1, 1, 0, 6)
    assert (line["distribution_id"], line["list_calls"]) == ("EWWW", 1)
