"""GIVEN CloudFront rejects a request as invalid (InvalidArgument) because of some of its paths WHEN the
handler invalidates THEN only the messages of the paths it rejects fail, each path logged, and every
other message's change is invalidated; out of time, the messages not yet tried are retried, never
dropped."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cf_invalidator.config import Config, Distribution
from cf_invalidator.core.plan import fitted
from cf_invalidator.pipeline.batch import process_batch
from cf_invalidator.pipeline.collaborators import NO_METRICS, UNLIMITED, Collaborators
from cf_invalidator.pipeline.isolate import Sender, invalidate_isolating
from cf_invalidator.pipeline.operations import Answered, operations_hooks
from support.cloudfront_model import CloudFrontModel
from support.sqs_events import failed_ids, s3_body, sqs_event

WWW = Distribution("www", "EWWW")
CONFIG = Config(distributions=(WWW,), max_paths=100)
GOOD = [f"docs/p{i:02}.html" for i in range(20)]


def decisions(caplog: pytest.LogCaptureFixture, decision: str) -> list[dict[str, Any]]:
    return [vars(r) for r in caplog.records if vars(r).get("decision") == decision]


def run(
    bodies: list[str],
    cloudfront: Any,
    model: CloudFrontModel,
    *,
    timeout_s: float = 60,
    config: Config = CONFIG,
) -> tuple[list[str], set[str]]:
    """The failed message ids, and those handed to `postpone` (retried later)."""
    postponed: set[str] = set()

    def postpone(records: Sequence[Mapping[str, Any]], delay_s: int | None = None) -> None:
        postponed.update(record["messageId"] for record in records)

    response = process_batch(
        sqs_event(bodies),
        config,
        cloudfront,
        model.clock.lambda_deadline(timeout_s),
        Collaborators(postpone=postpone),
    )
    return failed_ids(response), postponed


def test_one_rejected_key_among_twenty_good_ones_fails_only_its_message(
    caplog: pytest.LogCaptureFixture,
) -> None:
    keys = [*GOOD[:7], "docs/bad.html", *GOOD[7:]]
    model = CloudFrontModel([WWW.id])
    model.reject_paths("/docs/bad.html")

    with caplog.at_level(logging.INFO, logger="cf_invalidator"):
        failed, postponed = run([s3_body(key) for key in keys], model, model)

    assert failed == ["m7"]
    assert postponed == set()  # rejected: it reaches the dead-letter queue, no retry can help
    assert all(model.covers(WWW.id, f"/{key}") for key in GOOD)
    assert not model.covers(WWW.id, "/docs/bad.html")
    [line] = decisions(caplog, "path_rejected")
    assert (line["distribution_id"], line["path"], line["messages"]) == ("EWWW", "/docs/bad.html", 1)
    assert line["levelno"] == logging.ERROR


def test_a_crafted_key_too_long_for_cloudfront_fails_only_its_message() -> None:
    """A key no S3 holds (S3 keys end at 1,024 bytes), whose path exceeds CloudFront's 4,000 characters."""
    model = CloudFrontModel([WWW.id])
    failed, _ = run([s3_body(GOOD[0]), s3_body("docs/" + "x" * 4000), s3_body(GOOD[1])], model, model)

    assert failed == ["m1"]
    assert model.covers(WWW.id, f"/{GOOD[0]}") and model.covers(WWW.id, f"/{GOOD[1]}")


def test_a_message_fails_when_any_of_its_paths_is_rejected_and_its_good_keys_are_still_invalidated() -> None:
    model = CloudFrontModel([WWW.id])
    model.reject_paths("/docs/bad1.html", "/docs/bad2.html")
    bodies = [
        s3_body(GOOD[0], "docs/bad1.html"),
        *(s3_body(key) for key in GOOD[1:]),
        s3_body("docs/bad2.html"),
    ]

    failed, _ = run(bodies, model, model)

    assert failed == ["m0", "m20"]
    assert all(model.covers(WWW.id, f"/{key}") for key in GOOD)


def test_a_rejected_wildcard_fails_every_message_it_covers_and_the_other_paths_are_created(
    caplog: pytest.LogCaptureFixture,
) -> None:
    model = CloudFrontModel([WWW.id])
    model.reject_paths("/docs/*")
    config = Config(distributions=(WWW,), max_paths=2)  # 10 files of docs/ coalesce into /docs/*
    bodies = [s3_body(key) for key in GOOD[:10]] + [s3_body("other/x.html")]

    with caplog.at_level(logging.INFO, logger="cf_invalidator"):
        failed, _ = run(bodies, model, model, config=config)

    assert failed == [f"m{i}" for i in range(10)]
    assert [inv.paths for inv in model.invalidations(WWW.id)] == [("/other/x.html",)]
    [line] = decisions(caplog, "path_rejected")
    assert (line["path"], line["messages"]) == ("/docs/*", 10)


def test_a_redelivered_batch_splits_into_the_same_parts_and_bills_nothing_twice() -> None:
    model = CloudFrontModel([WWW.id])
    model.reject_paths("/docs/bad.html")
    bodies = [s3_body(key) for key in [*GOOD[:3], "docs/bad.html", *GOOD[3:]]]
    run(bodies, model, model)
    created = model.invalidations(WWW.id)

    failed, _ = run(bodies, model, model)

    assert failed == ["m3"]
    assert model.invalidations(WWW.id) == created  # each part's CallerReference is the same again
    assert model.outcomes()["Deduplicated"] == len(created)


class SlowCloudFront:
    """The model, each CreateInvalidation taking `seconds` of the invocation's time."""

    def __init__(self, model: CloudFrontModel, seconds: float) -> None:
        self.model, self.seconds = model, seconds

    def create_invalidation(self, **kwargs: Any) -> dict[str, Any]:
        self.model.clock.sleep(self.seconds)
        return self.model.create_invalidation(**kwargs)


def test_out_of_time_mid_split_the_messages_not_tried_are_retried_and_none_dropped(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Four calls fit in the invocation; finding one bad path among 21 takes about ten."""
    model = CloudFrontModel([WWW.id])
    model.reject_paths("/docs/bad.html")
    keys = [*GOOD[:7], "docs/bad.html", *GOOD[7:]]
    bodies = [s3_body(key) for key in keys]

    with caplog.at_level(logging.INFO, logger="cf_invalidator"):
        failed, postponed = run(bodies, SlowCloudFront(model, 10), model, timeout_s=35)

    assert len(model.calls) == 4 and len(decisions(caplog, "split_interrupted")) == 1
    assert "m7" in failed
    for i, key in enumerate(keys):  # every change invalidated, or its message retried
        assert model.covers(WWW.id, f"/{key}") or f"m{i}" in postponed
    assert postponed <= set(failed) and postponed

    model.clock.sleep(60)  # the retried messages come back in a later invocation with time enough
    again = [body for i, body in enumerate(bodies) if f"m{i}" in failed]
    failed_again, _ = run(again, model, model)
    assert [again[int(m[1:])] for m in failed_again] == [s3_body("docs/bad.html")]
    assert all(model.covers(WWW.id, f"/{key}") for key in GOOD)


@settings(max_examples=60, deadline=None)
@given(
    keys_per_message=st.lists(
        st.lists(st.sampled_from(range(12)), min_size=1, max_size=3), min_size=1, max_size=12
    ),
    rejected=st.sets(st.sampled_from(range(12)), max_size=4),
)
def test_exactly_the_messages_holding_a_rejected_path_fail(
    keys_per_message: list[list[int]], rejected: set[int]
) -> None:
    """Oracle: a message fails iff one of its keys' paths is rejected; every other key is invalidated."""
    model = CloudFrontModel([WWW.id])
    model.reject_paths(*(f"/k{k}.html" for k in rejected))
    bodies = [s3_body(*(f"k{k}.html" for k in keys)) for keys in keys_per_message]

    failed, _ = run(bodies, model, model)

    assert failed == [f"m{i}" for i, keys in enumerate(keys_per_message) if rejected & set(keys)]
    wanted = {k for keys in keys_per_message for k in keys} - rejected
    assert all(model.covers(WWW.id, f"/k{k}.html") for k in wanted)


def test_a_request_that_does_not_say_whose_paths_it_carries_is_not_split(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Without the messages of each path, no part could be attributed: the request fails whole."""
    model = CloudFrontModel([WWW.id])
    model.reject_paths("/b.html")
    request = fitted(WWW, {"/a.html", "/b.html"}, frozenset({"m1", "m2"}), 100, None)
    sender = Sender(
        model,
        model.clock.lambda_deadline(60),
        operations_hooks(
            NO_METRICS, UNLIMITED, lambda stale: stale, lambda made, answer: None, Answered(model)
        ),
    )

    with caplog.at_level(logging.INFO, logger="cf_invalidator"):
        settled = invalidate_isolating(sender, request)

    assert (settled.failed, settled.retry_later) == (frozenset({"m1", "m2"}), frozenset())
    assert len(model.calls) == 1 and model.invalidations(WWW.id) == []
    assert decisions(caplog, "path_rejected") == []  # which path, CloudFront did not say
