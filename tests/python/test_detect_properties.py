"""Property: for any puts (random bytes and headers) and deletes of a few keys on a versioned bucket, the
keys the handler invalidates cover every key whose viewable content changed during the batch.

The oracle is this test's own model of the bucket: per key, the sequence of what a viewer gets (bytes
and served headers, or 404), and the rule from the documentation: a key must be invalidated when any
write of the batch changed what it serves (so A -> B -> A counts: B may have been cached); with
invalidate_new_objects = false, a write to a key that answered 404 may be skipped. Which keys were
invalidated is read from the CloudFront paths through a hand-written table, not the handler's mapping.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from unittest import mock

import boto3
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cf_invalidator.config import Config, Distribution
from cf_invalidator.pipeline.batch import process_batch
from cf_invalidator.pipeline.collaborators import Collaborators
from support.path_oracle import is_covered
from support.sqs_events import s3_body, sqs_event
from support.versioned_bucket import RecordingCloudFront, TickingClock, versioned_bucket

BUCKET_NUMBERS = itertools.count()

# Each key and the viewer paths that serve it (index documents: directory and file).
KEY_PATHS = {
    "a.html": {"/a.html"},
    "a.html.x": {"/a.html.x"},
    "d/index.html": {"/d/", "/d/index.html"},
    "d/b.css": {"/d/b.css"},
}
BODIES = (b"one", b"two")
HEADERS: tuple[dict[str, Any], ...] = (
    {"ContentType": "text/html"},
    {"ContentType": "text/plain"},
    {"ContentType": "text/html", "CacheControl": "max-age=60"},
    {"ContentType": "text/html", "Metadata": {"tag": "1"}},
)


@dataclass(frozen=True)
class Write:
    key: str
    body: bytes | None  # None: a delete (a delete marker)
    headers: int = 0
    same_second: bool = False  # written at the same LastModified second as the write before it

    def viewed(self) -> tuple[bytes, int] | None:
        return None if self.body is None else (self.body, self.headers)


writes = st.builds(
    Write,
    key=st.sampled_from(sorted(KEY_PATHS)),
    body=st.one_of(st.none(), st.sampled_from(BODIES)),
    headers=st.integers(0, len(HEADERS) - 1),
    same_second=st.booleans() | st.just(False),
)


def must_invalidate(before: list[Write], batch: list[Write], invalidate_new_objects: bool) -> set[str]:
    """The oracle: keys whose served content some write of the batch changed."""
    state: dict[str, tuple[bytes, int] | None] = {key: None for key in KEY_PATHS}
    for write in before:
        state[write.key] = write.viewed()
    keys = set()
    for write in batch:
        previous, state[write.key] = state[write.key], write.viewed()
        if write.viewed() != previous and (previous is not None or invalidate_new_objects):
            keys.add(write.key)
    return keys


def apply(s3: Any, bucket: str, clock: TickingClock, write: Write) -> str:
    """Perform the write on the bucket; return the body of the event S3 sends for it. (AWS makes a delete
    marker for a key that has no current version too; moto makes none and returns no version id.)"""
    clock.step = timedelta(seconds=0 if write.same_second else 1)
    if write.body is None:
        marker = s3.delete_object(Bucket=bucket, Key=write.key).get("VersionId")
        return s3_body(
            write.key, bucket=bucket, version_id=marker, event_name="ObjectRemoved:DeleteMarkerCreated"
        )
    headers = HEADERS[write.headers]
    version = s3.put_object(Bucket=bucket, Key=write.key, Body=write.body, **headers)["VersionId"]
    return s3_body(write.key, bucket=bucket, version_id=version)


def invalidated_keys(s3: Any, bodies: list[str], invalidate_new_objects: bool) -> set[str]:
    config = Config(
        distributions=(Distribution("www", "EWWW"),),
        max_paths=3000,
        skip_unchanged_objects=True,
        invalidate_new_objects=invalidate_new_objects,
        evictions_per_path=0,  # a wildcard never covers an unchanged object: skipped keys stay visible
    )
    cloudfront = RecordingCloudFront()
    response = process_batch(sqs_event(bodies), config, cloudfront, lambda: 60_000, Collaborators(s3=s3))
    assert response == {"batchItemFailures": []}
    return {
        key for key, paths in KEY_PATHS.items() if all(is_covered(path, cloudfront.paths) for path in paths)
    }


@pytest.fixture
def s3(mocked_aws: None) -> Any:
    """One moto and one client for every example (each example gets its own bucket): fast enough to run
    many examples."""
    return boto3.client("s3")


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    before=st.lists(writes, max_size=6),
    batch=st.lists(writes, min_size=1, max_size=6),
    order=st.randoms(use_true_random=False),
    duplicates=st.lists(st.integers(0, 5), max_size=3),
    invalidate_new_objects=st.booleans(),
)
def test_every_change_of_the_batch_is_invalidated(
    s3: Any,
    *,
    before: list[Write],
    batch: list[Write],
    order: Any,
    duplicates: list[int],
    invalidate_new_objects: bool,
) -> None:
    clock = TickingClock()
    bucket = f"site-{next(BUCKET_NUMBERS)}"
    with mock.patch("moto.s3.models.utcnow", clock):
        versioned_bucket(s3, bucket)
        for write in before:
            apply(s3, bucket, clock, write)
        bodies = [apply(s3, bucket, clock, write) for write in batch]
        bodies += [bodies[i % len(bodies)] for i in duplicates]  # S3 delivers at least once
        order.shuffle(bodies)  # and in no particular order
        chosen = invalidated_keys(s3, bodies, invalidate_new_objects)
    expected = must_invalidate(before, batch, invalidate_new_objects)
    assert expected <= chosen, f"missed {expected - chosen}"
    if not any(w.same_second for w in before + batch) and not any(w.body is None for w in before + batch):
        # Without ties or delete markers every version is judged: an identical rewrite is skipped.
        unchanged_keys = {w.key for w in batch} - must_invalidate(before, batch, True)
        assert not (unchanged_keys & chosen) or not invalidate_new_objects, (
            "an identical rewrite was invalidated"
        )
