"""GIVEN CloudFront answering slowly WHEN a batch reads what it needs to plan (GetDistributionConfig,
ListInvalidations, GetInvalidation) THEN the reads stop in time for every CreateInvalidation and the reply,
a read not made is planned around as a failed one, and a slow reading is kept as fresh as a quick one.

Time is virtual: each call of the fake advances the clock that `remaining_ms` reads; nothing sleeps."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import pytest

from cf_invalidator.aws.distribution_config import DistributionConfigs, resolve
from cf_invalidator.aws.in_progress import InProgressCache
from cf_invalidator.config import Config, Distribution
from cf_invalidator.core.deadline import REPLY_MS, NoTimeToReadError, ReadDeadline
from cf_invalidator.pipeline.batch import process_batch
from cf_invalidator.pipeline.collaborators import Collaborators
from support.cloudfront_model import EPOCH, VirtualClock
from support.sqs_events import s3_body, sqs_event

BUCKET = "site-bucket"
QUOTA_WILDCARDS = 15  # CloudFront: wildcard paths in progress per distribution
CALL_S = 0.25  # every CloudFront call of the fake
DISTRIBUTIONS = tuple(Distribution(f"d{n}", f"E{n}") for n in range(4))
WRITTEN = EPOCH  # the batch's writes; the invalidations listed were all created after them
LISTED_AT = EPOCH + timedelta(minutes=5)


class SlowCloudFront:
    """Each distribution has `running` invalidations in progress, none known to the handler; every call
    takes CALL_S of the virtual clock. Records the calls, and the time left when each creation ended."""

    def __init__(self, clock: VirtualClock, remaining_ms: Any, running: int = 40) -> None:
        self.clock, self.remaining_ms, self.running = clock, remaining_ms, running
        self.calls: list[str] = []
        self.created: list[tuple[str, int]] = []  # (distribution id, ms left when the call returned)
        self.paths: list[list[str]] = []  # of each creation

    def _call(self, operation: str) -> None:
        self.calls.append(operation)
        self.clock.sleep(CALL_S)

    def get_distribution_config(self, **kwargs: Any) -> dict[str, Any]:
        self._call("GetDistributionConfig")
        origin = {"Id": "s3", "DomainName": f"{BUCKET}.s3.amazonaws.com", "OriginPath": ""}
        config = {"Origins": {"Items": [origin]}, "DefaultCacheBehavior": {"TargetOriginId": "s3"}}
        return {"DistributionConfig": {**config, "DefaultRootObject": "index.html"}}

    def list_invalidations(self, **kwargs: Any) -> dict[str, Any]:
        self._call("ListInvalidations")
        items = [
            {"Id": f"{kwargs['DistributionId']}-{n}", "CreateTime": LISTED_AT, "Status": "InProgress"}
            for n in range(self.running)
        ]
        return {"InvalidationList": {"Items": items, "IsTruncated": False, "Quantity": len(items)}}

    def get_invalidation(self, **kwargs: Any) -> dict[str, Any]:
        self._call("GetInvalidation")
        batch = {
            "Paths": {"Quantity": 1, "Items": [f"/{kwargs['Id']}.html"]},
            "CallerReference": kwargs["Id"],
        }
        return {"Invalidation": {"Id": kwargs["Id"], "CreateTime": LISTED_AT, "InvalidationBatch": batch}}

    def create_invalidation(self, **kwargs: Any) -> dict[str, Any]:
        self._call("CreateInvalidation")
        self.created.append((kwargs["DistributionId"], self.remaining_ms()))
        self.paths.append(kwargs["InvalidationBatch"]["Paths"]["Items"])
        number = len(self.created)
        return {"Invalidation": {"Id": f"NEW{number}", "Status": "InProgress", "CreateTime": LISTED_AT}}


def slow_batch(seconds_left: float) -> tuple[SlowCloudFront, dict[str, list[dict[str, str]]], int]:
    """One batch of 8 directories' pages, served by 4 verified distributions, with `seconds_left`."""
    clock = VirtualClock()
    remaining_ms = clock.lambda_deadline(seconds_left)
    cloudfront = SlowCloudFront(clock, remaining_ms)
    config = Config(DISTRIBUTIONS, 100, bucket_name=BUCKET, verify_distributions=True)
    configs = DistributionConfigs(cloudfront, BUCKET, clock=clock.now)
    keys = [f"dir{d}/page{p}.html" for d in range(8) for p in range(20)]
    event = sqs_event([s3_body(*keys, bucket=BUCKET, event_time=WRITTEN.isoformat())])
    response = process_batch(
        event,
        config,
        cloudfront,
        remaining_ms,
        Collaborators(
            in_progress=InProgressCache(cloudfront, clock=clock.now),
            resolve=lambda c, d: resolve(c, configs, d),
        ),
    )
    return cloudfront, response, remaining_ms()


def test_slow_reads_stop_in_time_for_every_invalidation_and_the_reply() -> None:
    # GIVEN 4 distributions, each with 40 invalidations in progress to read, at 0.25 s a call, 12 s left
    # WHEN the batch is handled
    cloudfront, response, left_ms = slow_batch(seconds_left=12)
    # THEN every distribution got its invalidation before the deadline, with time left for the reply
    assert sorted(distribution_id for distribution_id, _ in cloudfront.created) == ["E0", "E1", "E2", "E3"]
    assert min(ms_left for _, ms_left in cloudfront.created) >= REPLY_MS
    assert left_ms >= REPLY_MS
    assert response == {"batchItemFailures": []}
    # AND reading went on while it could: cut short, not skipped
    assert cloudfront.calls.count("GetDistributionConfig") == 4
    assert "GetInvalidation" in cloudfront.calls


def test_reads_cut_short_are_planned_without_the_view_and_said_once_per_distribution(
    caplog: pytest.LogCaptureFixture,
) -> None:
    cloudfront, _, _ = slow_batch(seconds_left=12)
    lines = [r for r in caplog.records if getattr(r, "decision", None) == "quota_lookup_failed"]
    skipped = {r.distribution_id for r in lines if r.reason == "NoTimeToReadError"}  # type: ignore[attr-defined]
    assert skipped and all(r.levelno == logging.WARNING for r in lines)
    # each request within the quota, which is what a request may hold without a view of what is in progress
    assert all(sum(p.endswith("*") for p in paths) <= QUOTA_WILDCARDS for paths in cloudfront.paths)


def test_with_time_to_spare_no_read_is_refused(caplog: pytest.LogCaptureFixture) -> None:
    cloudfront, response, _ = slow_batch(seconds_left=120)
    reasons = {getattr(r, "reason", None) for r in caplog.records}
    assert "NoTimeToReadError" not in reasons
    assert cloudfront.calls.count("GetDistributionConfig") == 4
    # per distribution: its listing, 20 reads for the quotas (then too many: no view)
    assert cloudfront.calls.count("GetInvalidation") >= 4 * 20
    assert cloudfront.calls.count("CreateInvalidation") == 4
    assert response == {"batchItemFailures": []}


def test_a_slow_reading_is_fresh_from_when_its_calls_ended() -> None:
    # GIVEN a reading that takes longer than the cache time (1 list + 4 reads at 0.25 s > 1 s)
    clock = VirtualClock()
    cloudfront = SlowCloudFront(clock, clock.lambda_deadline(60), running=4)
    cache = InProgressCache(cloudfront, ttl_s=1.0, clock=clock.now)
    first = cache.get("E0")
    calls = len(cloudfront.calls)
    # WHEN it is asked for again at once
    again = cache.get("E0")
    # THEN it is answered from the reading just made, without a call
    assert len(cloudfront.calls) == calls == 5
    assert again == first is not None


def test_a_read_that_cannot_end_before_the_reserve_is_not_started() -> None:
    # GIVEN 4 creations to keep time for, calls measured at 0.25 s
    clock = VirtualClock()
    remaining_ms = clock.lambda_deadline(10)
    deadline = ReadDeadline(remaining_ms, creates=4)
    calls: list[float] = []

    def call() -> dict[str, Any]:
        calls.append(clock.now())
        clock.sleep(CALL_S)
        return {}

    # WHEN reads are asked for until one is refused
    with pytest.raises(NoTimeToReadError):
        while True:
            deadline.read(call)
    # THEN the last read made ended with the reserve still left: one 0.25 s call per creation + the reply
    assert remaining_ms() >= REPLY_MS + 4 * CALL_S * 1000
    assert remaining_ms() - CALL_S * 1000 < REPLY_MS + 4 * CALL_S * 1000
    assert len(calls) > 1


def test_a_slower_call_keeps_more_time_back() -> None:
    clock = VirtualClock()
    remaining_ms = clock.lambda_deadline(20)
    deadline = ReadDeadline(remaining_ms, creates=4)

    def slow() -> dict[str, Any]:
        clock.sleep(2.0)
        return {}

    deadline.read(slow)  # 18 s left; each creation may now take 2 s too: 8 s + the reply are kept
    clock.sleep(6.5)
    deadline.read(slow)  # 11.5 s left: one more 2 s read still leaves the 8 s and the reply
    with pytest.raises(NoTimeToReadError):
        deadline.read(slow)  # 9.5 s left: it would not
    assert remaining_ms() == 9500


def test_an_unreadable_configuration_for_lack_of_time_is_logged_and_the_entry_kept(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = VirtualClock()
    remaining_ms = clock.lambda_deadline(1)
    cloudfront = SlowCloudFront(clock, remaining_ms)
    entry = Distribution("www", "E1", default_root_object="home.html")
    config = Config((entry,), 100, bucket_name=BUCKET, verify_distributions=True)
    configs = DistributionConfigs(cloudfront, BUCKET)
    resolved, unresolved = resolve(config, configs, ReadDeadline(remaining_ms, creates=1))
    assert cloudfront.calls == []
    assert (resolved, unresolved) == (config, ())
    [line] = [r for r in caplog.records if getattr(r, "decision", None) == "distribution_config_unreadable"]
    assert (line.levelno, line.reason) == (logging.WARNING, "NoTimeToReadError")  # type: ignore[attr-defined]
