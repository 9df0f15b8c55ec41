"""GIVEN messages that failed for a retryable reason WHEN the batch ends THEN they come back later."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from cf_invalidator import redelivery
from cf_invalidator.batch import process_batch
from cf_invalidator.collaborators import Collaborators
from cf_invalidator.config import Config, Distribution
from support.cloudfront_model import CloudFrontModel
from support.event_source import lambda_record
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


@pytest.fixture
def queue(mocked_aws: None) -> tuple[Any, str, str]:
    sqs = boto3.client("sqs")
    url = sqs.create_queue(QueueName="site-q", Attributes={"VisibilityTimeout": "0"})["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return sqs, url, arn


def received_records(sqs: Any, url: str, arn: str, count: int, hold_s: int = 0) -> list[dict[str, Any]]:
    """Messages sent, then received (invisible for `hold_s`) in the shape Lambda's event gives them."""
    for index in range(count):
        sqs.send_message(QueueUrl=url, MessageBody=f"body-{index}")
    messages = sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, MessageSystemAttributeNames=["All"], VisibilityTimeout=hold_s
    )
    return [lambda_record(message, arn) for message in messages["Messages"]]


def test_postponed_messages_stay_invisible_in_sqs(queue: tuple[Any, str, str]) -> None:
    sqs, url, arn = queue
    records = received_records(sqs, url, arn, 3)
    assert len(records) == 3
    redelivery.postpone(sqs, sqs.meta.endpoint_url, records, lambda: 60_000)
    # The queue's own timeout is 0: without the postponement all three would be received again at once.
    assert sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []) == []


def test_postpone_asks_sqs_for_the_delay_of_each_receive_count(queue: tuple[Any, str, str]) -> None:
    sqs, url, arn = queue
    records = received_records(sqs, url, arn, 1)
    records[0]["attributes"]["ApproximateReceiveCount"] = "3"
    calls: list[dict[str, Any]] = []

    class Recording:
        def change_message_visibility_batch(self, **kwargs: Any) -> Mapping[str, Any]:
            calls.append(kwargs)
            return dict(sqs.change_message_visibility_batch(**kwargs))

    redelivery.postpone(Recording(), sqs.meta.endpoint_url, records, lambda: 60_000)
    assert calls == [
        {
            "QueueUrl": url,
            "Entries": [{"Id": "0", "ReceiptHandle": records[0]["receiptHandle"], "VisibilityTimeout": 960}],
        }
    ]


def test_more_than_ten_messages_are_postponed_in_batches_of_ten(queue: tuple[Any, str, str]) -> None:
    sqs, url, arn = queue
    records = received_records(sqs, url, arn, 10, hold_s=60) + received_records(sqs, url, arn, 2, hold_s=60)
    sizes: list[int] = []

    class Counting:
        def change_message_visibility_batch(self, **kwargs: Any) -> Mapping[str, Any]:
            sizes.append(len(kwargs["Entries"]))
            return dict(sqs.change_message_visibility_batch(**kwargs))

    redelivery.postpone(Counting(), sqs.meta.endpoint_url, records, lambda: 60_000)
    assert sizes == [10, 2]


FAILED_RECORD = {
    "messageId": "m0",
    "receiptHandle": "h",
    "eventSourceARN": "arn:aws:sqs:us-east-1:1:q",
    "attributes": {"ApproximateReceiveCount": "1"},
}


def test_sqs_error_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    class Broken:
        def change_message_visibility_batch(self, **kwargs: Any) -> Mapping[str, Any]:
            raise ClientError(
                {"Error": {"Code": "AccessDenied", "Message": "no"}}, "ChangeMessageVisibilityBatch"
            )

    with caplog.at_level(logging.INFO):
        redelivery.postpone(Broken(), "https://sqs.us-east-1.amazonaws.com", [FAILED_RECORD], lambda: 60_000)
    [logged] = [r for r in caplog.records if getattr(r, "decision", None) == "redelivery_postponed"]
    assert logged.levelno == logging.WARNING
    assert vars(logged)["errors"] == ["AccessDenied"]


def test_no_sqs_call_when_the_invocation_is_out_of_time(caplog: pytest.LogCaptureFixture) -> None:
    class Unreachable:
        def change_message_visibility_batch(self, **kwargs: Any) -> Mapping[str, Any]:
            raise AssertionError("called without time left")

    with caplog.at_level(logging.INFO):
        redelivery.postpone(Unreachable(), "https://sqs", [FAILED_RECORD], lambda: 500)
    assert [getattr(r, "decision", None) for r in caplog.records] == ["redelivery_not_postponed"]
