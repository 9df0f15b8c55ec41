"""GIVEN a deploy arriving in many batches (each over the path budget, spread over many directories)
WHEN the handler runs them against the CloudFront model on its virtual clock THEN, seeing what is in
progress, it never gets TooManyInvalidationsInProgress for wildcards, and every changed path ends
covered; without the view, the same storm does get it (the test tells the two apart).

Each batch is one invocation; a batch that failed is delivered again 60 virtual seconds later (the
queue's redelivery, simplified), until every change is invalidated."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from cf_invalidator.aws.in_progress import InProgressCache
from cf_invalidator.config import Config, Distribution
from cf_invalidator.core.paths import viewer_paths
from cf_invalidator.pipeline.batch import process_batch
from cf_invalidator.pipeline.collaborators import NO_QUOTA_VIEW, Collaborators, QuotaView
from support.cloudfront_model import CloudFrontModel, VirtualClock
from support.sqs_events import failed_ids, s3_body, sqs_event

WWW = Distribution("www", "EWWWSITE")
CONFIG = Config(distributions=(WWW,), max_paths=100)
BATCHES = 12
REDELIVERY_S = 60


def storm_batches() -> list[dict[str, Any]]:
    """12 batches of 150 pages in 10 directories each: every batch collapses into wildcards."""
    events = []
    for batch in range(BATCHES):
        keys = [f"b{batch}/d{d}/p{p}.html" for d in range(10) for p in range(15)]
        events.append(sqs_event([s3_body(key) for key in keys], id_prefix=f"b{batch}-"))
    return events


def run_storm(model: CloudFrontModel, cache: QuotaView) -> int:
    """Deliver every batch (and redeliver the failed ones) until none fails; the invocations made."""
    pending = storm_batches()
    invocations = 0
    while pending:
        retry = []
        for event in pending:
            invocations += 1
            deadline = model.clock.lambda_deadline(60)
            response = process_batch(
                event,
                CONFIG,
                model,
                deadline,
                Collaborators(sleep=model.clock.sleep, jitter=lambda: 1.0, in_progress=cache),
            )
            failed = set(failed_ids(response))
            if failed:
                retry.append({"Records": [r for r in event["Records"] if r["messageId"] in failed]})
        pending = retry
        model.clock.sleep(REDELIVERY_S)
        assert invocations < 500, "the storm never finished"
    return invocations


def changed_paths() -> list[str]:
    keys = [
        record["s3"]["object"]["key"]
        for event in storm_batches()
        for message in event["Records"]
        for record in json.loads(message["body"])["Records"]
    ]
    return [path for key in keys for path in viewer_paths(key, WWW, "index.html")]


@pytest.fixture
def model() -> CloudFrontModel:
    return CloudFrontModel([WWW.id], VirtualClock(), completion_seconds=300)


def test_storm_with_the_quota_in_view_never_hits_the_wildcard_quota(
    model: CloudFrontModel, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="cf_invalidator")
    cache = InProgressCache(model, clock=model.clock.now)

    run_storm(model, cache)

    assert model.outcomes()["TooManyInvalidationsInProgress"] == 0
    assert [p for p in changed_paths() if not model.covers(WWW.id, p)] == []
    decisions = {getattr(r, "decision", None) for r in caplog.records}
    assert "quota_exhausted" in decisions  # the storm did fill the quota, and then waited unsent
    assert max(inv.wildcard_count for inv in model.invalidations(WWW.id)) <= 5


def test_same_storm_without_the_view_hits_the_wildcard_quota(model: CloudFrontModel) -> None:
    run_storm(model, NO_QUOTA_VIEW)

    assert model.outcomes()["TooManyInvalidationsInProgress"] > 0
    assert [p for p in changed_paths() if not model.covers(WWW.id, p)] == []


def alternate(model: CloudFrontModel, first: InProgressCache, second: InProgressCache) -> list[Any]:
    """The storm's batches handled by two containers in turn, the failed ones again after the
    redelivery; what is left pending (nothing, unless the turns ran out)."""
    pending = storm_batches()
    for turn in range(400):
        if not pending:
            break
        event = pending.pop(0)
        response = process_batch(
            event,
            CONFIG,
            model,
            model.clock.lambda_deadline(60),
            Collaborators(sleep=model.clock.sleep, jitter=lambda: 1.0, in_progress=(first, second)[turn % 2]),
        )
        failed = set(failed_ids(response))
        if failed:
            pending.append({"Records": [r for r in event["Records"] if r["messageId"] in failed]})
            model.clock.sleep(REDELIVERY_S)
    return pending


def test_two_containers_taking_turns_never_hit_the_wildcard_quota(model: CloudFrontModel) -> None:
    """Each batch reads what is in progress again, so a container sees the wildcards the other made
    during its last batch, a second ago (its cache is 10 s): neither asks for more than are left."""
    first = InProgressCache(model, clock=model.clock.now)
    second = InProgressCache(model, clock=model.clock.now)

    assert alternate(model, first, second) == []

    assert model.outcomes()["TooManyInvalidationsInProgress"] == 0
    assert [p for p in changed_paths() if not model.covers(WWW.id, p)] == []


def test_two_containers_reading_at_once_still_cover_every_change(model: CloudFrontModel) -> None:
    """Two containers that read the quotas before either creates (a batch of each at the same moment)
    may together ask for more than is left: CloudFront's refusal makes the request fit again to a fresh
    reading, and nothing is lost."""
    first = InProgressCache(model, clock=model.clock.now)
    second = InProgressCache(model, clock=model.clock.now)
    first.new_batch = second.new_batch = lambda *_: None  # type: ignore[method-assign]  # each keeps its reading 10 s

    assert alternate(model, first, second) == []

    assert model.outcomes()["TooManyInvalidationsInProgress"] > 0
    assert [p for p in changed_paths() if not model.covers(WWW.id, p)] == []


def test_lookup_denied_falls_back_to_planning_without_the_view(
    model: CloudFrontModel, caplog: pytest.LogCaptureFixture
) -> None:
    class OldRole:
        """A role granted CreateInvalidation only, as before this release."""

        def create_invalidation(self, **kwargs: Any) -> dict[str, Any]:
            return model.create_invalidation(**kwargs)

        def list_invalidations(self, **kwargs: Any) -> dict[str, Any]:
            raise model._error("AccessDenied", "ListInvalidations")

        def get_invalidation(self, **kwargs: Any) -> dict[str, Any]:
            raise model._error("AccessDenied", "GetInvalidation")

    caplog.set_level(logging.INFO, logger="cf_invalidator")
    cache = InProgressCache(OldRole(), clock=model.clock.now)

    invocations = run_storm(model, cache)

    assert invocations > BATCHES  # some waited, as they did before the view existed
    assert model.outcomes()["TooManyInvalidationsInProgress"] > 0
    assert [p for p in changed_paths() if not model.covers(WWW.id, p)] == []
    failures = [r for r in caplog.records if getattr(r, "decision", None) == "quota_lookup_failed"]
    assert len([r for r in failures if r.levelno == logging.WARNING]) == 1
