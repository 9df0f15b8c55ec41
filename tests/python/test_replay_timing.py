"""The deploy replay's interleaved uploads and its grading (bench/replay.py's SiteBucket, bench/grading.py).

GIVEN a site bucket and a deploy uploaded into it, WHEN its uploads are withheld and published as the
virtual clock passes them, THEN a listing at any moment holds exactly the entries uploaded by then.
GIVEN invalidations created at known times, WHEN a change is graded with the time it was written, THEN
only an invalidation created at or after the write covers it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from moto import mock_aws
from moto.s3.models import s3_backends

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from backend_s3 import BackendS3
from grading import lost_and_stale
from replay import Deploy, SiteBucket, upload

from cf_invalidator.config import Distribution
from support.cloudfront_model import CloudFrontModel, VirtualClock
from support.moto_server import ACCOUNT_ID, FAKE_AWS_ENVIRONMENT, REGION

START = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
BEFORE = ("a/index.html", "a/x.css", "b/old.html", "c.html")
DEPLOY = Deploy(
    START.isoformat(), frozenset({"a/new.html"}), frozenset({"a/x.css"}), frozenset({"b/old.html"})
)


@pytest.fixture
def s3() -> Iterator[Any]:
    with mock.patch.dict(os.environ, FAKE_AWS_ENVIRONMENT), mock_aws():
        import boto3  # noqa: PLC0415

        yield boto3.client("s3", region_name=REGION)


def entries(bucket: SiteBucket) -> set[tuple[str, str, bool]]:
    """(key, version id, is latest) of every version and delete marker, as a tree reader lists them."""
    direct = BackendS3(s3_backends[ACCOUNT_ID]["aws"])
    page = direct.list_object_versions(Bucket=bucket.name, MaxKeys=1000)
    return {
        (e["Key"], e["VersionId"], e["IsLatest"])
        for e in page.get("Versions", []) + page.get("DeleteMarkers", [])
    }


def test_withheld_uploads_appear_as_the_clock_passes_them(s3: Any) -> None:
    bucket = SiteBucket(s3, "site", BEFORE, START - timedelta(days=1))
    before = entries(bucket)
    tree = (frozenset(BEFORE) - DEPLOY.deleted) | DEPLOY.added
    changes = upload(bucket, DEPLOY, tree, "CI re-upload", START)
    after = entries(bucket)
    generation = bucket.generation
    bucket.withhold(changes)
    assert entries(bucket) == before
    assert bucket.generation > generation
    for published in range(1, len(changes) + 1):
        bucket.publish_until(changes[published - 1].at)
        made = {(c.key, c.version_id) for c in changes[:published]}
        expected = {
            (key, version, (key, version) in made or (latest and key not in {k for k, _ in made}))
            for key, version, latest in before | {e for e in after if (e[0], e[1]) in made}
        }
        assert entries(bucket) == expected, published
    assert entries(bucket) == after


def test_an_invalidation_created_before_a_write_does_not_cover_it() -> None:
    site = Distribution("site", "ESITE")
    model = CloudFrontModel([site.id], VirtualClock(100.0))
    batch = {"Paths": {"Quantity": 1, "Items": ["/a/*"]}, "CallerReference": "one"}
    model.create_invalidation(DistributionId=site.id, InvalidationBatch=batch)
    keys = ["a/x.css"]
    assert lost_and_stale(keys, (site,), "index.html", model) == (0, 0)
    assert lost_and_stale(keys, (site,), "index.html", model, {"a/x.css": 100.0}) == (0, 0)
    assert lost_and_stale(keys, (site,), "index.html", model, {"a/x.css": 100.5}) == (1, 0)
    model.clock.sleep(1.0)
    exact = {"Paths": {"Quantity": 1, "Items": ["/a/x.css"]}, "CallerReference": "two"}
    model.create_invalidation(DistributionId=site.id, InvalidationBatch=exact)
    assert lost_and_stale(keys, (site,), "index.html", model, {"a/x.css": 100.5}) == (0, 0)
    index = ["a/index.html"]  # neither /a/ nor /a/index.html is named by an invalidation after 100.5
    assert lost_and_stale(index, (site,), "index.html", model, {"a/index.html": 100.5}) == (1, 0)
