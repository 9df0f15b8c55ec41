"""GIVEN messages that failed for a retryable reason WHEN the planning stages end THEN only those are
handed to `postpone` (the flush retries them with backoff), and the backoff grows per attempt."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from cf_invalidator.config import Config, Distribution
from cf_invalidator.core import redelivery
from cf_invalidator.pipeline.batch import process_batch
from cf_invalidator.pipeline.collaborators import Collaborators
from support.cloudfront_model import CloudFrontModel
from support.sqs_events import failed_ids, s3_body, sqs_event

CONFIG = Config(
    distributions=(Distribution("www", "EWWW"), Distribution("blog", "EBLOG", "/blog")), max_paths=100
)


def test_delay_grows_with_each_receive_and_is_capped_at_twelve_hours() -> None:
    assert [redelivery.redelivery_delay(n) for n in range(1, 6)] == [60, 240, 960, 3840, 15360]
    assert redelivery.redelivery_delay(9) == 43_200
    assert redelivery.redelivery_delay(0) == 60


def test_queue_url_is_built_from_the_event_source_arn() -> None:
    url = redelivery.queue_url(
        "arn:aws:sqs:eu-west-1:123456789012:site-q", "https://sqs.eu-west-1.amazonaws.com/"
    )
    assert url == "https://sqs.eu-west-1.amazonaws.com/123456789012/site-q"


def run_batch(errors: Mapping[str, str], bodies: Sequence[str]) -> tuple[list[str], list[str]]:
    """The failed message ids, and the ids handed to postpone, when CloudFront answers the
    distributions in `errors` (id => error code) with that error and creates on the others."""
    cloudfront = CloudFrontModel(d.id for d in CONFIG.distributions)
    for distribution_id, code in errors.items():
        cloudfront.inject(code, distribution_id=distribution_id)
    postponed: list[str] = []
    response = process_batch(
        sqs_event(bodies),
        CONFIG,
        cloudfront,
        lambda: 2_000,  # too little time to back off inside the invocation
        Collaborators(
            sleep=lambda seconds: None,
            postpone=lambda records, delay_s=None: postponed.extend(
                record["messageId"] for record in records
            ),
        ),
    )
    return failed_ids(response), postponed


def test_only_messages_that_failed_for_a_retryable_reason_are_postponed() -> None:
    bodies = [s3_body("blog/a.html"), s3_body("about.html"), "not json"]
    failed, postponed = run_batch({"EBLOG": "TooManyInvalidationsInProgress"}, bodies)
    assert failed == ["m0", "m2"]
    assert postponed == ["m0"]


def test_refused_and_unreadable_messages_keep_the_queue_timeout() -> None:
    failed, postponed = run_batch({"EBLOG": "AccessDenied"}, [s3_body("blog/a.html"), "{}"])
    assert failed == ["m0", "m1"]
    assert postponed == []


def test_nothing_is_postponed_when_everything_is_invalidated() -> None:
    assert run_batch({}, [s3_body("blog/a.html")]) == ([], [])
