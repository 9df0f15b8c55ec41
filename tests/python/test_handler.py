"""GIVEN SQS events WHEN the Lambda handler runs against moto (CloudFront, SQS, DynamoDB) THEN the changes
are accepted into the deploy inbox, and the invalidations exist once the flush ticks have run."""

from __future__ import annotations

import importlib
import json
import logging
import sys
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSPreparedRequest, AWSResponse, HTTPHeaders
from botocore.exceptions import ClientError

from cf_invalidator.aws.in_progress import InProgressCache
from cf_invalidator.aws.spend_guard import SpendGuard
from cf_invalidator.config import ConfigError
from cf_invalidator.pipeline.collaborators import NO_METRICS, UNLIMITED, as_configured
from cf_invalidator.pipeline.metrics import BatchMetrics
from support.cloudfront_model import CloudFrontModel
from support.deployment import create_distribution, invalidations
from support.inbox_handler import INBOX_ENVIRONMENT, Inbox, Ticks, create_inbox
from support.moto_server import FAKE_AWS_ENVIRONMENT
from support.sqs_events import eventbridge_body, failed_ids, fixture_body, s3_body, sqs_event


class Context:
    def get_remaining_time_in_millis(self) -> int:
        return 60_000


class ShortContext:
    def get_remaining_time_in_millis(self) -> int:
        return 2_000  # too little to back off inside the invocation


def invalidated_paths(cloudfront: Any, distribution_id: str) -> list[list[str]]:
    """The paths of each invalidation on the distribution, in the order moto lists them (oldest first)."""
    return [sorted(inv.paths) for inv in invalidations(cloudfront, distribution_id).values()]


@pytest.fixture
def aws(mocked_aws: None) -> Any:
    return boto3.client("cloudfront")


@pytest.fixture
def inbox(aws: Any) -> Inbox:
    return create_inbox()


@pytest.fixture
def distributions(aws: Any) -> dict[str, str]:
    return {label: create_distribution(aws, "example-site", comment=label) for label in ("www", "blog")}


def load_handler(
    monkeypatch: pytest.MonkeyPatch, distributions: dict[str, str], budget: int = 100
) -> ModuleType:
    """Import the handler as Lambda does at start-up, with the module's environment variables."""
    settings = {"www": {"id": distributions["www"], "origin_path": ""}}
    if "blog" in distributions:
        settings["blog"] = {"id": distributions["blog"], "origin_path": "/blog"}
    monkeypatch.setenv("DISTRIBUTIONS", json.dumps(settings))
    monkeypatch.setenv("MAX_PATHS_PER_INVALIDATION", str(budget))
    monkeypatch.setenv("INDEX_DOCUMENT", "index.html")
    for name, value in INBOX_ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    sys.modules.pop("cf_invalidator.handler", None)
    handler = importlib.import_module("cf_invalidator.handler")
    for cached in (handler.cloudfront, handler.sqs, handler.dynamodb, handler.in_progress, handler.s3):
        cached.cache_clear()
    return handler


def test_changes_are_accepted_then_each_distribution_is_invalidated_once_with_its_own_paths(
    aws: Any, inbox: Inbox, distributions: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    handler = load_handler(monkeypatch, distributions)
    ticks = Ticks(monkeypatch, handler, inbox)
    event = sqs_event(
        [
            s3_body("blog/index.html"),
            s3_body("blog/post 1.html", event_name="ObjectRemoved:Delete"),
            s3_body("about.html"),
            eventbridge_body("css/site.css"),
        ]
    )
    assert handler.lambda_handler(event, Context()) == {"batchItemFailures": []}
    assert invalidated_paths(aws, distributions["www"]) == []  # waiting for the bucket to go quiet
    assert ticks.run(2, Context()) == 2  # one tick per distribution
    assert invalidated_paths(aws, distributions["www"]) == [
        ["/about.html", "/blog/", "/blog/index.html", "/blog/post%201.html", "/css/site.css"]
    ]
    assert invalidated_paths(aws, distributions["blog"]) == [["/", "/index.html", "/post%201.html"]]


def test_unparseable_message_is_reported_and_the_rest_still_invalidated(
    aws: Any, inbox: Inbox, distributions: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    handler = load_handler(monkeypatch, distributions)
    event = sqs_event(
        ["{broken", s3_body("a.html"), '{"Records": "nope"}', fixture_body("s3_test_event.json")]
    )
    assert failed_ids(handler.lambda_handler(event, Context())) == ["m0", "m2"]
    Ticks(monkeypatch, handler, inbox).run(2, Context())
    assert invalidated_paths(aws, distributions["www"]) == [["/a.html"]]


def test_test_event_alone_creates_nothing_and_fails_nothing(
    aws: Any, inbox: Inbox, distributions: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    handler = load_handler(monkeypatch, distributions)
    response = handler.lambda_handler(sqs_event([fixture_body("s3_test_event.json")]), Context())
    assert response == {"batchItemFailures": []}
    assert Ticks(monkeypatch, handler, inbox).run(2, Context()) == 0  # no tick was sent
    assert invalidated_paths(aws, distributions["www"]) == []


def test_missing_distribution_sends_only_the_changes_it_serves_to_the_dead_letter_queue(
    aws: Any, inbox: Inbox, distributions: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    handler = load_handler(monkeypatch, {"www": distributions["www"], "blog": "EDOESNOTEXIST"})
    event = sqs_event([s3_body("blog/a.html"), s3_body("about.html")])
    assert handler.lambda_handler(event, Context()) == {"batchItemFailures": []}
    Ticks(monkeypatch, handler, inbox).run(2, Context())
    assert invalidated_paths(aws, distributions["www"]) == [["/about.html", "/blog/a.html"]]
    assert inbox.dead_letter_keys() == ["blog/a.html"]


def test_large_batch_is_coalesced_into_one_call_within_budget(
    aws: Any, inbox: Inbox, distributions: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    handler = load_handler(monkeypatch, {"www": distributions["www"]}, budget=10)
    keys = [f"docs/page{i}.html" for i in range(50)] + ["index.html"]
    assert handler.lambda_handler(sqs_event([s3_body(k) for k in keys]), Context()) == {
        "batchItemFailures": []
    }
    Ticks(monkeypatch, handler, inbox).run(2, Context())
    assert invalidated_paths(aws, distributions["www"]) == [["/", "/docs/*", "/index.html"]]


@pytest.mark.parametrize("missing", ["DISTRIBUTIONS", "INBOX_TABLE", "DEAD_LETTER_QUEUE_ARN"])
def test_start_up_fails_naming_a_missing_setting(missing: str, monkeypatch: pytest.MonkeyPatch) -> None:
    environ = {"DISTRIBUTIONS": '{"www": {"id": "EWWW"}}', "MAX_PATHS_PER_INVALIDATION": "100"}
    for name, value in {**environ, **INBOX_ENVIRONMENT}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv(missing)
    sys.modules.pop("cf_invalidator.handler", None)
    with pytest.raises(ConfigError, match=f"{missing} is not set"):
        importlib.import_module("cf_invalidator.handler")


def test_client_is_created_once_per_container(
    aws: Any, distributions: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    handler = load_handler(monkeypatch, distributions)
    assert handler.cloudfront() is handler.cloudfront()


def test_throttled_flush_keeps_the_changes_and_ticks_again_after_the_first_backoff(
    aws: Any, inbox: Inbox, distributions: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN CloudFront throttling every call
    handler = load_handler(monkeypatch, {"www": distributions["www"]})
    throttled = CloudFrontModel([distributions["www"]])
    throttled.inject("Throttling")
    monkeypatch.setattr(handler, "cloudfront", lambda: throttled)
    ticks = Ticks(monkeypatch, handler, inbox)
    assert handler.lambda_handler(sqs_event([s3_body("about.html")]), Context()) == {"batchItemFailures": []}
    # WHEN the flush's tick comes, with too little time to back off inside the invocation
    assert ticks.run(2, ShortContext()) == 1
    # THEN nothing is created, the tick is acknowledged, and the next one comes after the first backoff
    # (60 s, docs/deploy-flush.md), not before
    assert [inv.paths for inv in throttled.invalidations(distributions["www"])] == []
    assert ticks.run(58, ShortContext()) == 0
    assert ticks.run(3, ShortContext()) == 1
    assert inbox.dead_letter_keys() == []


def test_lambda_handler_fits_its_request_into_what_is_in_progress(
    aws: Any, inbox: Inbox, distributions: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """One wildcard left on the distribution: the handler reads that and sends `/*`, which fits, rather
    than eight directory wildcards, which CloudFront would refuse."""
    handler = load_handler(monkeypatch, {"www": distributions["www"]})
    model = CloudFrontModel([distributions["www"]])
    busy = [f"/held{n}/*" for n in range(14)]
    batch = {"Paths": {"Quantity": 14, "Items": busy}, "CallerReference": "held"}
    model.create_invalidation(DistributionId=distributions["www"], InvalidationBatch=batch)
    monkeypatch.setattr(handler, "cloudfront", lambda: model)
    handler.in_progress.cache_clear()
    keys = [f"d{d}/p{p}.html" for d in range(8) for p in range(20)]

    response = handler.lambda_handler(sqs_event([s3_body(*keys)]), Context())
    Ticks(monkeypatch, handler, inbox).run(2, ShortContext())

    assert response == {"batchItemFailures": []}
    assert [inv.paths for inv in model.invalidations(distributions["www"])][1:] == [("/*",)]


class RawBody:
    """The raw HTTP body botocore reads an answer from."""

    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.body


THROTTLED = (
    b'<?xml version="1.0"?><ErrorResponse xmlns="http://cloudfront.amazonaws.com/doc/2020-05-31/">'
    b"<Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error>"
    b"<RequestId>r1</RequestId></ErrorResponse>"
)


def test_cloudfront_client_sends_a_throttled_call_once_leaving_retries_to_the_handler(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN the handler's CloudFront client, with CloudFront's HTTP answer replaced by a throttling error
    for name, value in FAKE_AWS_ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    handler = load_handler(monkeypatch, {"www": "EWWW"})
    client = handler.cloudfront()
    sent: list[str] = []

    def answer_throttled(request: AWSPreparedRequest, **_: Any) -> AWSResponse:
        sent.append(request.url)
        headers = HTTPHeaders()
        headers["Content-Type"] = "text/xml"
        return AWSResponse(request.url, 400, headers, RawBody(THROTTLED))

    client.meta.events.register_first("before-send.cloudfront.CreateInvalidation", answer_throttled)
    batch = {"Paths": {"Quantity": 1, "Items": ["/a.html"]}, "CallerReference": "ref"}
    # WHEN the call is throttled
    with pytest.raises(ClientError) as raised:
        client.create_invalidation(DistributionId="EWWW", InvalidationBatch=batch)
    # THEN botocore made one attempt and handed the error over (invalidate.py backs off within the deadline)
    assert raised.value.response["Error"]["Code"] == "Throttling"
    assert raised.value.response["ResponseMetadata"]["RetryAttempts"] == 0
    assert len(sent) == 1


def test_log_line_outside_lambda_is_one_json_object_with_the_extra_fields_as_keys(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    handler = load_handler(monkeypatch, {"www": "EWWW"})
    record = logging.makeLogRecord(
        {
            "name": "cf_invalidator.aws.invalidate",
            "levelno": logging.INFO,
            "levelname": "INFO",
            "msg": "invalidation_created",
            "distribution_id": "EWWW",
            "path_count": 3,
            "changed_paths": ["/a.html"],
        }
    )

    line = json.loads(handler.JsonLines().format(record))

    assert line == {
        "level": "INFO",
        "message": "invalidation_created",
        "logger": "cf_invalidator.aws.invalidate",
        "distribution_id": "EWWW",
        "path_count": 3,
        "changed_paths": ["/a.html"],
    }


def test_verification_reads_each_configuration_once_per_container_and_logs_the_mismatch(
    aws: Any,
    inbox: Inbox,
    distributions: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # GIVEN blog configured with origin path /blog while its only origin has none
    monkeypatch.setenv("VERIFY_DISTRIBUTIONS", "true")
    monkeypatch.setenv("BUCKET_NAME", "example-site")
    handler = load_handler(monkeypatch, distributions)
    handler.distribution_configs.cache_clear()
    ticks = Ticks(monkeypatch, handler, inbox)
    # WHEN two deploys are accepted and flushed by the same container
    for key in ("about.html", "blog/a.html"):
        assert handler.lambda_handler(sqs_event([s3_body(key)]), Context()) == {"batchItemFailures": []}
        ticks.run(2, Context())
    # THEN one distribution_mismatch for blog, and invalidation proceeded as configured
    mismatches = [r for r in caplog.records if getattr(r, "decision", None) == "distribution_mismatch"]
    assert [(r.distribution, r.cause) for r in mismatches] == [("blog", "origin_path_not_found")]  # type: ignore[attr-defined]
    assert invalidated_paths(aws, distributions["blog"]) == [["/a.html"]]


def test_without_verification_no_configuration_is_read(
    aws: Any,
    inbox: Inbox,
    distributions: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    handler = load_handler(monkeypatch, distributions)
    handler.distribution_configs.cache_clear()
    assert handler.lambda_handler(sqs_event([s3_body("blog/a.html")]), Context()) == {"batchItemFailures": []}
    assert Ticks(monkeypatch, handler, inbox).run(2, Context()) == 2
    assert invalidated_paths(aws, distributions["blog"]) == [["/a.html"]]
    assert not [r for r in caplog.records if getattr(r, "decision", "").startswith("distribution_")]
    assert handler.distribution_configs.cache_info().currsize == 0


def test_a_feature_left_off_plans_with_its_do_nothing_collaborator(
    aws: Any, distributions: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    handler = load_handler(monkeypatch, distributions)
    off = handler.planning_collaborators()
    assert (off.metrics, off.spend_guard, off.resolve) == (NO_METRICS, UNLIMITED, as_configured)
    assert isinstance(off.in_progress, InProgressCache) and off.s3 is handler.s3()


def test_a_feature_switched_on_plans_with_its_own_collaborator(
    aws: Any, distributions: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in {
        "ENABLE_METRICS": "true",
        "VERIFY_DISTRIBUTIONS": "true",
        "BUCKET_NAME": "example-site",
        "MAX_PATHS_PER_DAY": "1000",
        "SPEND_GUARD_TABLE": "site-invalidator-spend",
    }.items():
        monkeypatch.setenv(name, value)
    handler = load_handler(monkeypatch, distributions)
    on = handler.planning_collaborators()
    assert isinstance(on.metrics, BatchMetrics) and isinstance(on.spend_guard, SpendGuard)
    assert on.resolve is handler.resolved
