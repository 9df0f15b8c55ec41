"""GIVEN a versioned bucket (in-process moto) and a batch planned while its upload may still run WHEN it
is handled THEN it is held once (its messages failed and postponed) or planned, by the documented rule,
and every change is invalidated after the redelivery.

The rule (settle.py): hold when every message with a key to invalidate is on its first receive (a record
without ApproximateReceiveCount is never held), and either one of the batch's changed keys was written
within the last 5 s and the planned request bills more than 20 paths or a directory wildcard, or one of
its wildcards covers changes of the deploy that are not the batch's and were written less than 60 s ago.
Held messages come back after 2 minutes.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from cf_invalidator.batch import process_batch
from cf_invalidator.collaborators import Collaborators, no_postpone
from cf_invalidator.config import Config, Distribution
from support.path_oracle import uncovered_paths
from support.sqs_events import s3_body, sqs_event
from support.versioned_bucket import (
    BUCKET,
    CountingS3,
    RecordingCloudFront,
    TickingClock,
    put,
    versioned_bucket,
)

WWW = Distribution("www", "EWWW")
UNCHANGED = [f"docs/old-{n}.html" for n in range(5)]  # 5 pages the deploy does not change
FIRST = [f"docs/a-{n:02}.html" for n in range(30)]  # the first batch of a regeneration
REST = [f"docs/b-{n:03}.html" for n in range(100)]  # uploaded after it


@pytest.fixture
def s3(clock: TickingClock) -> CountingS3:
    client = boto3.client("s3")
    versioned_bucket(client)
    for key in UNCHANGED + FIRST + REST:
        put(client, key, b"v1")
    clock.now = clock.now.replace(microsecond=0) + timedelta(days=1)  # listings show whole seconds
    return CountingS3(client)


def config(settle_s: int = 120) -> Config:
    return Config((WWW,), 1000, skip_unchanged_objects=True, upload_settle_seconds=settle_s)


def event(keys: Sequence[str], receives: str | None = "1", prefix: str = "m") -> dict[str, Any]:
    built = sqs_event([s3_body(key, bucket=BUCKET) for key in keys], id_prefix=prefix)
    for record in built["Records"]:
        if receives is None:
            del record["attributes"]["ApproximateReceiveCount"]
        else:
            record["attributes"]["ApproximateReceiveCount"] = receives
    return built


class Run:
    """One process_batch call: its response, the records handed to postpone, the paths invalidated."""

    def __init__(
        self,
        batch: dict[str, Any],
        s3: CountingS3,
        at: datetime,
        *,
        postponing: bool = True,
        settle_s: int = 120,
    ) -> None:
        self.cloudfront = RecordingCloudFront()
        self.postponed: list[Mapping[str, Any]] = []
        self.delays: set[int | None] = set()
        self.response = process_batch(
            batch,
            config(settle_s),
            self.cloudfront,
            lambda: 60_000,
            Collaborators(s3=s3, postpone=self.postpone if postponing else no_postpone, now=lambda: at),
        )
        self.failed = {item["itemIdentifier"] for item in self.response["batchItemFailures"]}

    def postpone(self, records: Sequence[Mapping[str, Any]], delay_s: int | None = None, /) -> None:
        self.postponed.extend(records)
        self.delays.add(delay_s)


def written(clock: TickingClock, seconds: float = 1) -> datetime:
    """A moment `seconds` after moto's last write (moto's clock is naive UTC)."""
    return (clock.now + timedelta(seconds=seconds)).replace(tzinfo=UTC)


def upload(s3: CountingS3, keys: Sequence[str]) -> None:
    for key in keys:
        put(s3.client, key, b"v2")


def ids(batch: Mapping[str, Any]) -> set[str]:
    return {record["messageId"] for record in batch["Records"]}


def held_lines(caplog: pytest.LogCaptureFixture) -> list[Mapping[str, Any]]:
    return [vars(r) for r in caplog.records if getattr(r, "decision", None) == "upload_in_progress"]


def test_held_on_first_receive_while_the_upload_still_writes(
    s3: CountingS3, clock: TickingClock, caplog: pytest.LogCaptureFixture
) -> None:
    upload(s3, FIRST)
    upload(s3, REST[:3])  # the upload goes on while the batch is handled
    batch = event(FIRST)
    caplog.set_level(logging.INFO, logger="cf_invalidator")

    run = Run(batch, s3, written(clock))

    assert run.failed == ids(batch)
    assert [r["messageId"] for r in run.postponed] == [r["messageId"] for r in batch["Records"]]
    assert run.cloudfront.paths == set()
    [line] = held_lines(caplog)
    assert (line["levelname"], line["keys_held"], line["messages_held"]) == ("INFO", 30, 30)
    assert line["recent_writes"] == 5  # written at most 5 s before now: a-28, a-29, b-000, b-001, b-002
    assert line["recent_changes"] == 2  # a-28 and a-29
    assert line["paths_planned"] == 30  # exact: /docs/* would evict the 105 pages not yet rewritten
    assert line["distributions"] == ["www"]
    assert line["outcome"] == "redelivered in 120 s, then planned with the settled tree"
    assert line["redelivery_delay_s"] == 120
    assert run.delays == {120}
    json.dumps({k: line[k] for k in ("distributions", "keys_held", "recent_writes", "paths_planned")})


def test_held_while_the_upload_writes_when_the_plan_bills_a_wildcard_however_few_paths(
    s3: CountingS3, clock: TickingClock, caplog: pytest.LogCaptureFixture
) -> None:
    # GIVEN a regeneration whose last writes are this batch's: /docs/* evicts only the 5 old pages
    upload(s3, FIRST + REST)
    batch = event(REST[-40:])
    caplog.set_level(logging.INFO, logger="cf_invalidator")

    run = Run(batch, s3, written(clock))

    # THEN one path is planned, yet the batch is held: the next batches of a running upload would
    # bill the same wildcard again
    assert run.failed == ids(batch)
    assert run.cloudfront.paths == set()
    [line] = held_lines(caplog)
    assert (line["paths_planned"], line["recent_changes"]) == (1, 5)
    assert run.delays == {120}


def test_held_when_other_batches_carry_changes_below_its_wildcard_written_within_the_margin(
    s3: CountingS3, clock: TickingClock, caplog: pytest.LogCaptureFixture
) -> None:
    # GIVEN the first 30 files of a finished regeneration, handled 10 s after its last write; the other
    # 100 were written one a second after them, so the last 50 or so are younger than the 60 s margin
    upload(s3, FIRST + REST)
    batch = event(FIRST)
    caplog.set_level(logging.INFO, logger="cf_invalidator")

    run = Run(batch, s3, written(clock, seconds=10))

    # THEN it is held: its /docs/* now would not cover them, and their batch would bill it again
    assert run.failed == ids(batch)
    [line] = held_lines(caplog)
    assert line["recent_changes"] == 0
    assert 40 <= line["young_changes"] <= 60
    assert line["paths_planned"] == 1


def test_not_held_when_the_other_changes_below_its_wildcard_are_older_than_the_margin(
    s3: CountingS3, clock: TickingClock
) -> None:
    # GIVEN the last 30 files of a finished regeneration, handled 10 s after their last write: the
    # deploy's other changes (the 100 before them) are all more than 60 s old
    upload(s3, REST)
    clock.now += timedelta(seconds=60)
    upload(s3, FIRST)

    run = Run(event(FIRST), s3, written(clock, seconds=10))

    # THEN it is planned now, one wildcard that covers the other batch's changes by the dedupe's rule
    assert run.failed == set()
    assert run.cloudfront.paths == {"/docs/*"}


def test_held_for_the_configured_time_and_never_when_it_is_zero(s3: CountingS3, clock: TickingClock) -> None:
    upload(s3, FIRST)
    upload(s3, REST[:3])

    later = Run(event(FIRST), s3, written(clock), settle_s=300)
    never = Run(event(FIRST, prefix="n"), s3, written(clock), settle_s=0)

    assert (later.failed, later.delays) == (ids(event(FIRST)), {300})
    assert (never.failed, never.postponed) == (set(), [])
    assert uncovered_paths(FIRST, never.cloudfront.paths) == set()


def test_not_held_on_the_second_receive(s3: CountingS3, clock: TickingClock) -> None:
    upload(s3, FIRST)
    upload(s3, REST[:3])

    run = Run(event(FIRST, receives="2"), s3, written(clock))

    assert run.failed == set()
    assert uncovered_paths(FIRST, run.cloudfront.paths) == set()


def test_not_held_when_nothing_was_written_in_the_last_seconds(s3: CountingS3, clock: TickingClock) -> None:
    upload(s3, FIRST)

    run = Run(event(FIRST), s3, written(clock, seconds=6))  # the newest write is 6 s old

    assert run.failed == set()
    assert run.postponed == []
    assert uncovered_paths(FIRST, run.cloudfront.paths) == set()


def test_not_held_when_only_other_keys_were_written_in_the_last_seconds(
    s3: CountingS3, clock: TickingClock
) -> None:
    upload(s3, FIRST)
    clock.now += timedelta(seconds=10)  # the batch's changes are 10 s old or more
    upload(s3, REST[:3])  # another upload's writes, or the end of this one, just now

    run = Run(event(FIRST), s3, written(clock))

    assert run.failed == set()
    assert uncovered_paths(FIRST, run.cloudfront.paths) == set()


def test_not_held_for_a_lone_change(s3: CountingS3, clock: TickingClock) -> None:
    upload(s3, ["docs/index.html"])
    upload(s3, REST[:3])

    run = Run(event(["docs/index.html"]), s3, written(clock))

    assert run.failed == set()
    assert run.cloudfront.paths == {"/docs/", "/docs/index.html"}


def test_not_held_for_a_small_batch_even_when_its_plan_is_a_wildcard(
    s3: CountingS3, clock: TickingClock
) -> None:
    # GIVEN a new folder holding only its index page: /docs/new/* (1 path, nothing evicted) beats its
    # two exact paths, and the upload goes on
    upload(s3, ["docs/new/index.html"])
    upload(s3, REST[:3])

    run = Run(event(["docs/new/index.html"]), s3, written(clock))

    # THEN it is planned at once: 2 changed paths are no upload worth waiting for
    assert run.failed == set()
    assert run.cloudfront.paths == {"/docs/new/*"}


def test_not_held_when_the_plan_bills_few_paths(s3: CountingS3, clock: TickingClock) -> None:
    upload(s3, FIRST[:20])  # 20 exact paths: no more than waiting could save
    upload(s3, REST[:3])

    run = Run(event(FIRST[:20]), s3, written(clock))

    assert run.failed == set()
    assert run.cloudfront.paths == {f"/{key}" for key in FIRST[:20]}


def test_not_held_when_a_message_was_received_before_or_has_no_receive_count(
    s3: CountingS3, clock: TickingClock
) -> None:
    upload(s3, FIRST)
    upload(s3, REST[:3])
    mixed = event(FIRST)
    mixed["Records"][0]["attributes"]["ApproximateReceiveCount"] = "2"

    runs = [Run(mixed, s3, written(clock)), Run(event(FIRST, receives=None), s3, written(clock))]

    for run in runs:
        assert run.failed == set()
        assert uncovered_paths(FIRST, run.cloudfront.paths) == set()


def test_held_messages_fail_without_postpone(s3: CountingS3, clock: TickingClock) -> None:
    upload(s3, FIRST)
    upload(s3, REST[:3])
    batch = event(FIRST)

    run = Run(batch, s3, written(clock), postponing=False)

    assert run.failed == ids(batch)  # back at the queue's visibility timeout
    assert run.cloudfront.paths == set()


def test_every_change_is_invalidated_after_the_redelivery_with_the_settled_tree(
    s3: CountingS3, clock: TickingClock
) -> None:
    # GIVEN the first batch held while the upload still wrote
    upload(s3, FIRST)
    upload(s3, REST[:3])
    first = event(FIRST)
    held = Run(first, s3, written(clock))
    assert held.failed == ids(first)
    # WHEN the upload ends, its last batch is handled, and the held batch comes back a minute later
    upload(s3, REST[3:])
    last = Run(event(REST, prefix="n"), s3, written(clock, seconds=20))
    redelivered = event(FIRST, receives="2")
    again = Run(redelivered, s3, written(clock, seconds=60))
    # THEN nothing fails, and every change of the deploy is covered
    assert last.failed == again.failed == set()
    paths = last.cloudfront.paths | again.cloudfront.paths
    assert uncovered_paths(FIRST + REST, paths) == set()
    # AND the held batch was planned with the settled tree: /docs/* evicts 5 pages now, 105 before
    assert again.cloudfront.paths == {"/docs/*"}
