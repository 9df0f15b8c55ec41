"""GIVEN a versioned bucket (in-process moto) WHEN the tree's walk, made before change detection, has
listed some of the batch's keys whole THEN detection judges exactly as it does listing on its own, and
lists only the keys the walk did not see.

The oracle is change detection run alone (no walk, each directory listed by detection itself): that path
is tested against history.py's documented rules (test_detect.py, test_detect_properties.py). Here the
same batch is judged a second time from the walk's histories, and must get the same judgements and the
same HEADs (issue 13, "reuse what change detection already listed").
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from unittest import mock

import boto3
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cf_invalidator.aws import tree
from cf_invalidator.aws.detect import keys_to_invalidate
from cf_invalidator.config import Config, Distribution
from cf_invalidator.core.events import Change
from cf_invalidator.core.history import Judgement
from cf_invalidator.core.paths import BatchPaths
from cf_invalidator.pipeline.batch import process_batch
from cf_invalidator.pipeline.collaborators import Collaborators
from support.sqs_events import s3_body, sqs_event
from support.versioned_bucket import (
    BUCKET,
    CountingS3,
    RecordingCloudFront,
    TickingClock,
    put,
    versioned_bucket,
)

BUCKET_NUMBERS = itertools.count()
KEYS = ("a.html", "d/x.html", "d/x.html.old", "d/y.css", "d/e/z.html", "f/g.html")
DISTRIBUTIONS = {
    "whole bucket": (Distribution("www", "EWWW"),),
    # the batch's keys below f/ have their own distribution: with one changed path there, no tree
    # is wanted for it, and detection lists them itself
    "two folders": (Distribution("d", "ED", "/d"), Distribution("f", "EF", "/f")),
}
BODIES = (b"one", b"two")
HEADERS: tuple[dict[str, Any], ...] = ({"ContentType": "text/html"}, {"ContentType": "text/plain"})


@dataclass
class RecordingS3(CountingS3):
    """CountingS3 that also keeps what each call asked for."""

    asked: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def _call(self, operation: str, kwargs: Mapping[str, Any]) -> Mapping[str, Any]:
        with self.lock:
            self.asked.append((operation, dict(kwargs)))
        return super()._call(operation, kwargs)

    def heads(self) -> list[tuple[str, str]]:
        return sorted((k["Key"], k["VersionId"]) for op, k in self.asked if op == "head_object")

    def detection_prefixes(self) -> list[str]:
        """The Prefix of each of change detection's own listings (the walk's have no Delimiter)."""
        return [k["Prefix"] for op, k in self.asked if op == "list_object_versions" and "Delimiter" in k]


@dataclass(frozen=True)
class Write:
    key: str
    body: bytes | None  # None: a delete (a delete marker)
    headers: int = 0
    same_second: bool = False


writes = st.builds(
    Write,
    key=st.sampled_from(KEYS),
    body=st.one_of(st.none(), st.sampled_from(BODIES)),
    headers=st.integers(0, len(HEADERS) - 1),
    same_second=st.booleans(),
)


def apply(s3: Any, bucket: str, clock: TickingClock, write: Write) -> Change:
    """Perform the write; return the change its event reports."""
    clock.step = timedelta(seconds=0 if write.same_second else 1)
    if write.body is None:
        marker = s3.delete_object(Bucket=bucket, Key=write.key).get("VersionId")
        return Change(write.key, created=False, bucket=bucket, version_id=marker)
    headers = HEADERS[write.headers]
    version = s3.put_object(Bucket=bucket, Key=write.key, Body=write.body, **headers)["VersionId"]
    return Change(write.key, created=True, bucket=bucket, version_id=version)


def judged(
    changes: list[Change], config: Config, s3: Any, listed: Mapping[tuple[str, str], Any] | None
) -> tuple[dict[str, list[str]], dict[tuple[str | None, str], Judgement]]:
    """Change detection's kept keys and judgements, with `listed` as the walk's histories."""
    heard: dict[tuple[str | None, str], Judgement] = {}
    served = BatchPaths.of((c.key for c in changes), config)
    kept = keys_to_invalidate(
        {"m1": changes}, config, s3, lambda: 60_000, served=served, judged=heard.update, listed=listed
    )
    return kept, heard


@pytest.fixture
def client(mocked_aws: None) -> Any:
    """One moto and one client for every example (each example gets its own bucket)."""
    return boto3.client("s3")


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    before=st.lists(writes, max_size=8),
    batch=st.lists(writes, min_size=1, max_size=6),
    distributions=st.sampled_from(sorted(DISTRIBUTIONS)),
    page_size=st.sampled_from([1, 2, 3, 1000]),
    bound=st.sampled_from([0, 1, 2, 3, 200]),
)
def test_judgements_from_the_walk_are_those_of_detection_listing_alone(
    client: Any, *, before: list[Write], batch: list[Write], distributions: str, page_size: int, bound: int
) -> None:
    clock = TickingClock()
    bucket = f"site-{next(BUCKET_NUMBERS)}"
    config = Config(distributions=DISTRIBUTIONS[distributions], max_paths=100, skip_unchanged_objects=True)
    with (
        mock.patch("moto.s3.models.utcnow", clock),
        mock.patch.object(tree, "PAGE_SIZE", page_size),
        mock.patch.object(tree, "MAX_LIST_CALLS", bound),
    ):
        versioned_bucket(client, bucket)
        for write in before:
            apply(client, bucket, clock, write)
        changes = [apply(client, bucket, clock, write) for write in batch]
        alone = RecordingS3(client)
        expected = judged(changes, config, alone, None)
        reusing = RecordingS3(client)
        keys = {c.key for c in changes}
        served = BatchPaths.of(keys, config)
        walked = tree.walk(keys, config, {bucket}, reusing, lambda: 60_000, served=served)
        listed = {} if walked is None else walked.histories()
        assert judged(changes, config, reusing, listed) == expected
    assert reusing.heads() == alone.heads()
    not_listed = {c.key for c in changes if (bucket, c.key) not in listed}
    for prefix in reusing.detection_prefixes():  # each for a key the walk did not see whole
        assert any(key == prefix or key.rpartition("/")[0] + "/" == prefix for key in not_listed)
        assert prefix in alone.detection_prefixes() or prefix in not_listed


def invalidated(
    versions: Mapping[str, str], s3: Any, config: Config, caplog: pytest.LogCaptureFixture
) -> tuple[set[str], dict[str, dict[str, Any]]]:
    """The batch's paths, and its decision lines by decision."""
    event = sqs_event(s3_body(key, bucket=BUCKET, version_id=version) for key, version in versions.items())
    cloudfront = RecordingCloudFront()
    with caplog.at_level(logging.INFO):
        assert process_batch(event, config, cloudfront, lambda: 60_000, Collaborators(s3=s3)) == {
            "batchItemFailures": []
        }
    lines = {r.decision: vars(r) for r in caplog.records if hasattr(r, "decision")}
    return cloudfront.paths, lines


def www(**fields: Any) -> Config:
    settings_: dict[str, Any] = {
        "distributions": (Distribution("www", "EWWW"),),
        "max_paths": 100,
        "skip_unchanged_objects": True,
        "evictions_per_path": 0,
    }
    return Config(**(settings_ | fields))


def test_batch_under_one_listed_prefix_makes_no_listing_of_its_own(
    s3: CountingS3, caplog: pytest.LogCaptureFixture
) -> None:
    keys = [f"docs/p{n}.html" for n in range(6)]
    for key in keys:
        put(s3.client, key)
    again = {key: put(s3.client, key) for key in keys[1:]}  # re-uploaded as they were
    again[keys[0]] = put(s3.client, keys[0], b"<p>changed</p>")
    paths, lines = invalidated(again, s3, www(), caplog)
    assert paths == {"/docs/p0.html"}
    # the walk's one page, the HEADs of the five pairs whose ETags agree, and nothing else
    assert s3.calls == {"list_object_versions": 1, "head_object": 10}
    skipped = lines["unchanged_skipped"]
    assert (skipped["key_count"], skipped["list_calls"], skipped["keys_from_tree"]) == (5, 0, 6)
    assert skipped["head_calls"] == 10


def test_keys_outside_the_walked_prefix_are_listed_by_detection(
    s3: CountingS3, caplog: pytest.LogCaptureFixture
) -> None:
    """docs/ has two changed paths (a tree); blog/'s one path wants none: detection lists that key."""
    docs, blog = Distribution("docs", "EDOCS", "/docs"), Distribution("blog", "EBLOG", "/blog")
    keys = ["docs/a.html", "docs/b.html", "blog/x.html"]
    for key in keys:
        put(s3.client, key)
    again = {key: put(s3.client, key) for key in keys}
    paths, lines = invalidated(again, s3, www(distributions=(docs, blog)), caplog)
    assert paths == set()
    assert s3.calls == {"list_object_versions": 2, "head_object": 6}
    skipped = lines["unchanged_skipped"]
    assert (skipped["key_count"], skipped["list_calls"], skipped["keys_from_tree"]) == (3, 1, 2)


def test_keys_past_a_walk_stopped_by_the_bound_are_listed_by_detection(
    s3: CountingS3, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """One page of three entries: d/a.html's two versions and d/b.html's newest. Only d/a.html was seen
    whole (the next page would start inside d/b.html's versions)."""
    monkeypatch.setattr(tree, "PAGE_SIZE", 3)
    monkeypatch.setattr(tree, "MAX_LIST_CALLS", 1)
    keys = [f"d/{name}.html" for name in "abcde"]
    for key in keys:
        put(s3.client, key)
    again = {key: put(s3.client, key) for key in keys[:4]}
    again["d/e.html"] = put(s3.client, "d/e.html", b"<p>changed</p>")
    paths, lines = invalidated(again, s3, www(), caplog)
    assert paths == {"/d/e.html"}
    skipped = lines["unchanged_skipped"]
    assert (skipped["key_count"], skipped["list_calls"], skipped["keys_from_tree"]) == (4, 1, 1)
    assert s3.calls == {"list_object_versions": 2, "head_object": 8}


def test_tree_built_with_the_kept_keys_is_the_one_listed_for_them(
    s3: CountingS3, clock: TickingClock
) -> None:
    """The walk lists below all the batch's keys (docs/); detection keeps docs/a/'s: the tree is the one
    a listing below docs/a/ gives, docs/a/same.html (judged unchanged) one of its evictions."""
    put(s3.client, "docs/a/other.html")
    clock.now += timedelta(minutes=30)  # before the deploy: an eviction
    keys = ["docs/a/x.html", "docs/a/y.html", "docs/a/same.html", "docs/b/same.html"]
    for key in keys:
        put(s3.client, key)
    versions = {key: put(s3.client, key, b"new" if "same" not in key else b"<p>hello</p>") for key in keys}
    config = www()
    changes = [Change(k, created=True, bucket=BUCKET, version_id=v) for k, v in versions.items()]
    served = BatchPaths.of(keys, config)
    walked = tree.walk(set(keys), config, {BUCKET}, s3, lambda: 60_000, served=served)
    assert walked is not None
    assert {lst.prefix for lst in walked.listings} == {"docs/"}
    kept = keys_to_invalidate(
        {"m1": changes}, config, s3, lambda: 60_000, served=served, listed=walked.histories()
    )
    assert kept == {"m1": ["docs/a/x.html", "docs/a/y.html"]}
    found = tree.trees(walked, kept, config)["EWWW"]
    alone = BatchPaths.of(kept["m1"], config)
    direct = tree.trees(
        tree.walk(set(kept["m1"]), config, {BUCKET}, s3, lambda: 60_000, served=alone), kept, config
    )
    assert dataclasses.replace(found, list_calls=0) == dataclasses.replace(direct["EWWW"], list_calls=0)
    assert (found.prefix, found.evictions("/docs/a/"), found.evictions("/docs/")) == (
        "docs/a/",
        2,
        float("inf"),
    )
