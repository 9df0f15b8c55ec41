"""GIVEN CloudFront answers WHEN the handler invalidates THEN it retries, gives up or reports as it must."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError
from botocore.stub import Stubber

from cf_invalidator.aws.invalidate import RESERVE_MS, Outcome, classify, invalidate
from cf_invalidator.config import Config, Distribution
from cf_invalidator.core.plan import Request, plan_requests

CONFIG = Config(distributions=(Distribution("www", "EWWW"),), max_paths=100)
REQUEST: Request = plan_requests({"m1": ["a.html"]}, CONFIG)[0]
CREATED = {"Location": "https://x", "Invalidation": {"Id": "I1", "Status": "InProgress"}}


def client_error(code: str, status: int) -> ClientError:
    response: Any = {"Error": {"Code": code, "Message": code}, "ResponseMetadata": {"HTTPStatusCode": status}}
    return ClientError(response, "CreateInvalidation")


class ScriptedCloudFront:
    """Answers create_invalidation from a script: an exception to raise, or a response to return."""

    def __init__(self, *answers: Exception | Mapping[str, Any]) -> None:
        self.answers = list(answers)
        self.calls: list[dict[str, Any]] = []

    def create_invalidation(self, **kwargs: Any) -> Mapping[str, Any]:
        self.calls.append(kwargs)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


class Clock:
    """A Lambda deadline that only moves when the handler sleeps."""

    def __init__(self, remaining_ms: int) -> None:
        self.remaining = remaining_ms
        self.sleeps: list[float] = []

    def remaining_ms(self) -> int:
        return self.remaining

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.remaining -= int(seconds * 1000)


def run(cloudfront: ScriptedCloudFront, clock: Clock, jitter: float = 1.0) -> Outcome:
    return invalidate(cloudfront, REQUEST, clock.remaining_ms, clock.sleep, lambda: jitter)


@pytest.mark.parametrize(
    "error",
    [
        client_error("Throttling", 400),
        client_error("TooManyInvalidationsInProgress", 400),
        client_error("ServiceUnavailable", 503),
        client_error("InternalError", 500),
        client_error("SomethingNew", 502),
        EndpointConnectionError(endpoint_url="https://cloudfront.amazonaws.com"),
        ReadTimeoutError(endpoint_url="https://cloudfront.amazonaws.com"),
    ],
)
def test_retryable_error_is_retried_with_the_same_request_until_it_succeeds(error: Exception) -> None:
    cloudfront = ScriptedCloudFront(error, error, CREATED)
    clock = Clock(60_000)
    assert run(cloudfront, clock) is Outcome.CREATED
    assert len(cloudfront.calls) == 3
    assert cloudfront.calls[0] == cloudfront.calls[2]  # same CallerReference: a retry is never billed twice
    assert clock.sleeps == [0.5, 1.0]


def test_backoff_is_jittered_and_capped() -> None:
    throttled = [client_error("Throttling", 400)] * 7
    clock = Clock(600_000)
    assert run(ScriptedCloudFront(*throttled, CREATED), clock, jitter=0.5) is Outcome.CREATED
    assert clock.sleeps == [0.25, 0.5, 1.0, 2.0, 4.0, 4.0, 4.0]


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("NoSuchDistribution", 404),
        ("AccessDenied", 403),
        ("BatchTooLarge", 413),
        ("InconsistentQuantities", 400),
        ("InvalidationBatchAlreadyExists", 400),
    ],
)
def test_non_retryable_error_gives_up_at_once_and_logs_the_distribution(
    code: str, status: int, caplog: pytest.LogCaptureFixture
) -> None:
    cloudfront = ScriptedCloudFront(client_error(code, status))
    clock = Clock(60_000)
    with caplog.at_level(logging.INFO):
        assert run(cloudfront, clock) is Outcome.REFUSED
    assert len(cloudfront.calls) == 1
    assert clock.sleeps == []
    [record] = [r for r in caplog.records if getattr(r, "decision", None) == "invalidation_abandoned"]
    assert record.levelno == logging.ERROR
    assert vars(record)["distribution_id"] == "EWWW"
    assert vars(record)["error_code"] == code


def test_invalid_argument_gives_up_at_once_as_rejected_for_the_caller_to_find_the_path() -> None:
    cloudfront = ScriptedCloudFront(client_error("InvalidArgument", 400))
    clock = Clock(60_000)
    assert run(cloudfront, clock) is Outcome.REJECTED
    assert len(cloudfront.calls) == 1
    assert clock.sleeps == []


def test_retries_stop_when_the_lambda_would_run_out_of_time() -> None:
    cloudfront = ScriptedCloudFront(*[client_error("Throttling", 400)] * 100)
    clock = Clock(RESERVE_MS + 2_000)
    assert run(cloudfront, clock) is Outcome.RETRY_LATER
    assert clock.remaining >= RESERVE_MS  # what was left is enough to answer Lambda
    assert 1 < len(cloudfront.calls) < 10


def test_no_attempt_to_wait_when_no_time_is_left() -> None:
    cloudfront = ScriptedCloudFront(client_error("Throttling", 400))
    clock = Clock(RESERVE_MS)
    assert run(cloudfront, clock) is Outcome.RETRY_LATER
    assert clock.sleeps == []


def test_created_invalidation_is_logged_with_id_and_path_count(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO):
        assert run(ScriptedCloudFront(CREATED), Clock(60_000)) is Outcome.CREATED
    [record] = [r for r in caplog.records if getattr(r, "decision", None) == "invalidation_created"]
    assert (vars(record)["invalidation_id"], vars(record)["path_count"]) == ("I1", 1)


def test_request_matches_botocore_service_model() -> None:
    """Stubber validates the parameters against CloudFront's real API shape."""
    client = boto3.client(
        "cloudfront", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    expected = {"DistributionId": "EWWW", "InvalidationBatch": REQUEST.invalidation_batch()}
    with Stubber(client) as stub:
        stub.add_client_error(
            "create_invalidation", "Throttling", http_status_code=400, expected_params=expected
        )
        full = {
            "Location": "https://cloudfront.amazonaws.com/2020-05-31/distribution/EWWW/invalidation/I1",
            "Invalidation": {
                "Id": "I1",
                "Status": "InProgress",
                "CreateTime": datetime(2026, 11, 27, tzinfo=UTC),
                "InvalidationBatch": REQUEST.invalidation_batch(),
            },
        }
        stub.add_response("create_invalidation", full, expected)
        assert invalidate(client, REQUEST, lambda: 60_000, lambda s: None, lambda: 0.0) is Outcome.CREATED
        stub.assert_no_pending_responses()


def test_classify_reads_code_and_status() -> None:
    assert classify(client_error("Throttling", 400)) == ("Throttling", True)
    assert classify(client_error("AccessDenied", 403)) == ("AccessDenied", False)
    assert classify(client_error("Whatever", 429)) == ("Whatever", True)
    connection = EndpointConnectionError(endpoint_url="https://cloudfront.amazonaws.com")
    assert classify(connection) == ("EndpointConnectionError", True)


def test_server_error_without_an_error_code_is_retryable() -> None:
    """A 500 whose body botocore could not parse has no Error.Code: its status alone makes it retryable."""
    for status in (500, 502):
        response: Any = {"Error": {}, "ResponseMetadata": {"HTTPStatusCode": status}}
        assert classify(ClientError(response, "CreateInvalidation")) == ("Unknown", True)
    assert classify(ClientError({"Error": {}}, "CreateInvalidation")) == ("Unknown", False)
