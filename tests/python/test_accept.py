"""GIVEN the changes of an SQS batch WHEN they are cut into inbox chunks (accept.py, pure) THEN each
distribution gets the changes it may serve, written back as S3 bodies that read as the same changes."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from cf_invalidator.config import Distribution
from cf_invalidator.core.accept import CHUNK_BYTES, accepted
from cf_invalidator.core.events import Change, changes

WRITTEN = datetime(2026, 12, 6, 15, 0, 0, 123000, tzinfo=UTC)
SITE = Distribution("site", "E1", origin_path="/site")
ROOT = Distribution("root", "E2")
AUTO = Distribution("auto", "E3", origin_path="auto")


def test_chunk_body_reads_back_as_the_same_changes_created_removed_and_expired() -> None:
    batch = {
        "m1": [
            Change("site/a b+c.html", True, "bucket", "v1", WRITTEN),
            Change("site/café/~x[1].html", False, "bucket", None, None),
        ],
        "m2": [Change("site/old.html", False, "bucket", "v0", WRITTEN, lifecycle_removal=True)],
    }
    [chunk] = accepted(batch, [SITE], now=1.0).chunks["E1"]
    assert changes(chunk.body) == [*batch["m1"], *batch["m2"]]
    assert chunk.message_ids == ("m1", "m2")
    assert (chunk.oldest, chunk.newest) == (1.0, WRITTEN.timestamp())  # no event time: accepted at `now`


def test_each_distribution_gets_the_keys_it_may_serve_and_auto_gets_every_key() -> None:
    batch = {"m1": [Change("site/a.html", True), Change("other/b.html", True)]}
    chunks = accepted(batch, [SITE, AUTO], now=0.0).chunks
    assert [c.key for c in changes(chunks["E1"][0].body)] == ["site/a.html"]
    assert [c.key for c in changes(chunks["E3"][0].body)] == ["site/a.html", "other/b.html"]
    assert accepted(batch, [SITE], now=0.0).unserved == ["other/b.html"]
    assert accepted(batch, [SITE, ROOT], now=0.0).unserved == []


def test_same_batch_redelivered_writes_the_same_items_and_another_batch_other_ones() -> None:
    first = {"m1": [Change("a.html", True)], "m2": [Change("b.html", True)]}
    again = {"m2": [Change("b.html", True)], "m1": [Change("a.html", True)]}
    other = {"m1": [Change("a.html", True)], "m3": [Change("c.html", True)]}
    keys = [[c.sort_key for c in accepted(b, [ROOT], now=0.0).chunks["E2"]] for b in (first, again, other)]
    assert keys[0] == keys[1]
    assert not set(keys[0]) & set(keys[2])


def test_a_large_batch_is_cut_into_chunks_each_under_the_item_limit_keeping_every_change() -> None:
    long_keys = [f"docs/{'é' * 300}-{n}.html" for n in range(400)]
    batch = {f"m{n}": [Change(key, True, "bucket", "v" * 32, WRITTEN)] for n, key in enumerate(long_keys)}
    chunks = accepted(batch, [ROOT], now=0.0).chunks["E2"]
    assert len(chunks) > 1
    assert all(len(c.body.encode("utf-8")) <= CHUNK_BYTES for c in chunks)
    assert sorted(c.key for chunk in chunks for c in changes(chunk.body)) == sorted(long_keys)
    assert all(json.loads(c.body)["Records"] for c in chunks)
    assert len({c.sort_key for c in chunks}) == len(chunks)
