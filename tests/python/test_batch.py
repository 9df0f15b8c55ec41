"""GIVEN an SQS batch WHEN process_batch reads it THEN keys no distribution serves are acknowledged and
said so in the log, and content-neutral events are acknowledged without an invalidation."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from cf_invalidator.aws.in_progress import InProgressCache
from cf_invalidator.config import Config, Distribution
from cf_invalidator.pipeline.batch import process_batch
from cf_invalidator.pipeline.collaborators import Collaborators
from support.cloudfront_model import CloudFrontModel
from support.sqs_events import s3_body, sqs_event

BLOG = Distribution("blog", "EBLOG", "/blog")
DOCS = Distribution("docs", "EDOCS", "/docs")
CONFIG = Config(distributions=(BLOG, DOCS), max_paths=100)


def run(
    bodies: list[str], caplog: pytest.LogCaptureFixture
) -> tuple[dict[str, list[dict[str, str]]], CloudFrontModel]:
    model = CloudFrontModel([BLOG.id, DOCS.id])
    with caplog.at_level(logging.INFO, logger="cf_invalidator"):
        response = process_batch(sqs_event(bodies), CONFIG, model, lambda: 60_000)
    return response, model


def decisions(caplog: pytest.LogCaptureFixture, decision: str) -> list[dict[str, object]]:
    return [vars(r) for r in caplog.records if vars(r).get("decision") == decision]


def test_keys_outside_every_origin_path_are_logged_once_with_their_count_and_an_example(
    caplog: pytest.LogCaptureFixture,
) -> None:
    bodies = [s3_body("shop/cart.html"), s3_body("blog/a.html"), s3_body("shop/pay.html", "img/x.png")]

    response, model = run(bodies, caplog)

    assert response == {"batchItemFailures": []}  # nothing to invalidate is not a failure
    [unserved] = decisions(caplog, "keys_unserved")
    assert (unserved["key_count"], unserved["example_key"]) == (3, "shop/cart.html")
    assert unserved["levelno"] == logging.INFO
    assert [inv.paths for inv in model.invalidations(BLOG.id)] == [("/a.html",)]
    assert model.invalidations(DOCS.id) == []


def test_no_unserved_log_when_every_key_is_served(caplog: pytest.LogCaptureFixture) -> None:
    run([s3_body("blog/a.html"), s3_body("docs/b.html")], caplog)

    assert decisions(caplog, "keys_unserved") == []


def test_replication_and_other_content_neutral_events_are_acknowledged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    bodies = [
        s3_body("blog/a.html", event_name="Replication:OperationFailedReplication"),
        s3_body("blog/a.html", event_name="ObjectTagging:Put"),
    ]

    response, model = run(bodies, caplog)

    assert response == {"batchItemFailures": []}  # deleted from the queue, never sent to the DLQ
    assert model.calls == []
    assert decisions(caplog, "message_rejected") == []


class FasterContainer:
    """The model, where another container creates an invalidation of 14 wildcards just before this
    container's first request reaches CloudFront."""

    def __init__(self, model: CloudFrontModel, distribution_id: str) -> None:
        self.model, self.distribution_id, self.raced = model, distribution_id, False

    def create_invalidation(self, **kwargs: Any) -> dict[str, Any]:
        if not self.raced:
            self.raced = True
            paths = [f"/other{n}/*" for n in range(14)]
            batch = {"Paths": {"Quantity": len(paths), "Items": paths}, "CallerReference": "other"}
            self.model.create_invalidation(DistributionId=self.distribution_id, InvalidationBatch=batch)
        return self.model.create_invalidation(**kwargs)

    def list_invalidations(self, **kwargs: Any) -> dict[str, Any]:
        return self.model.list_invalidations(**kwargs)

    def get_invalidation(self, **kwargs: Any) -> dict[str, Any]:
        return self.model.get_invalidation(**kwargs)


def test_request_refused_for_the_quota_is_fitted_again_to_a_fresh_reading() -> None:
    """Five directory wildcards no longer fit after the other container's 14: the retry sends `/*`."""
    model = CloudFrontModel([BLOG.id])
    cloudfront = FasterContainer(model, BLOG.id)
    config = Config(distributions=(BLOG,), max_paths=100)
    keys = [f"blog/d{d}/p{p}.html" for d in range(8) for p in range(20)]

    response = process_batch(
        sqs_event([s3_body(*keys)]),
        config,
        cloudfront,
        model.clock.lambda_deadline(60),
        Collaborators(
            sleep=model.clock.sleep,
            jitter=lambda: 1.0,
            in_progress=InProgressCache(cloudfront, clock=model.clock.now),
        ),
    )

    assert response == {"batchItemFailures": []}
    assert [inv.paths for inv in model.invalidations(BLOG.id)][1:] == [("/*",)]
