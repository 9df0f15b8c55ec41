"""CreateInvalidation with backoff, and the CloudFront calls the handler makes (the `CloudFront` protocol).

Retryable answers (throttling, quota in progress, 5xx, connection trouble) are retried with full-jitter
exponential backoff while the Lambda has time left; the CallerReference makes every retry safe, even
after a timeout on a call CloudFront did carry out. Anything else is final for this delivery.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from enum import Enum
from typing import Any, Protocol

from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

from ..core.plan import Request

logger = logging.getLogger(__name__)

QUOTA_IN_PROGRESS = "TooManyInvalidationsInProgress"
INVALID_PATHS = "InvalidArgument"  # CloudFront's answer to a request holding an invalid path
QUOTA_FULL = "QuotaFullInProgress"  # not from CloudFront: its quotas, as last read, leave no room
RETRYABLE_CODES = frozenset(
    {
        QUOTA_FULL,
        "Throttling",
        "ThrottlingException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        QUOTA_IN_PROGRESS,
        "ServiceUnavailable",
        "InternalError",
        "InternalFailure",
    }
)
CONNECTION_ERRORS = (EndpointConnectionError, ConnectTimeoutError, ReadTimeoutError, ConnectionClosedError)
BASE_DELAY_S = 0.5
MAX_DELAY_S = 8.0
RESERVE_MS = 3000  # kept back for one more call and the reply to Lambda


class Outcome(Enum):
    CREATED = "created"
    RETRY_LATER = "retry_later"  # retryable, but this invocation ran out of time for it
    REFUSED = "refused"  # CloudFront said no (missing distribution, access denied, bad request)
    REJECTED = "rejected"  # CloudFront found a path invalid (InvalidArgument), without saying which


class CreatesInvalidations(Protocol):
    def create_invalidation(self, **kwargs: Any) -> Mapping[str, Any]: ...


class CloudFront(CreatesInvalidations, Protocol):
    """The calls the handler makes: create, and read what is in progress (see in_progress.py)."""

    def get_invalidation(self, **kwargs: Any) -> Mapping[str, Any]: ...
    def list_invalidations(self, **kwargs: Any) -> Mapping[str, Any]: ...


def invalidate(
    cloudfront: CreatesInvalidations,
    request: Request,
    remaining_ms: Callable[[], int],
    sleep: Callable[[float], None],
    jitter: Callable[[], float],
    *,
    replan: Callable[[Request], Request] | None = None,
    created: Callable[[Request, Mapping[str, Any]], None] | None = None,
    retrying: Callable[[Request, str], None] | None = None,
) -> Outcome:
    """Create the invalidation, or say why this delivery gives up (its messages must be retried).

    After TooManyInvalidationsInProgress (nothing was created), or when the request does not fit what is
    in progress (`request.fits` False: not sent), `replan` may fit the same changes into what is in
    progress after the backoff; `created` hears of the invalidation made (request, and CloudFront's
    `Invalidation`: Id, Status, CreateTime, InvalidationBatch);
    `retrying` of each backoff (request, error code)."""
    attempt = 0
    while True:
        attempt += 1
        try:
            response = _create(cloudfront, request)
        except (ClientError, *CONNECTION_ERRORS) as error:
            code, retryable = classify(error)
            delay = jitter() * min(MAX_DELAY_S, BASE_DELAY_S * 2 ** (attempt - 1))
            if not retryable or remaining_ms() - delay * 1000 < RESERVE_MS:
                _log_given_up(request, code, retryable, attempt)
                return _given_up(code, retryable)
            _log(
                logging.WARNING,
                "invalidation_retrying",
                request,
                error_code=code,
                attempt=attempt,
                delay_s=round(delay, 3),
            )
            if retrying is not None:
                retrying(request, code)
            sleep(delay)
            if code in {QUOTA_IN_PROGRESS, QUOTA_FULL} and replan is not None:
                request = _replanned(request, replan(request))
            continue
        invalidation = response["Invalidation"]
        _log(
            logging.INFO,
            "invalidation_created",
            request,
            invalidation_id=invalidation["Id"],
            status=invalidation.get("Status"),
            attempts=attempt,
        )
        if created is not None:
            created(request, invalidation)
        return Outcome.CREATED


def _create(cloudfront: CreatesInvalidations, request: Request) -> Mapping[str, Any]:
    """CreateInvalidation, unless what is in progress leaves no room: then wait as if CloudFront said
    so, without a call that would be refused."""
    if not request.fits:
        message = "no room left in the quotas in progress, as last read"
        raise ClientError({"Error": {"Code": QUOTA_FULL, "Message": message}}, "CreateInvalidation")
    return cloudfront.create_invalidation(
        DistributionId=request.distribution.id, InvalidationBatch=request.invalidation_batch()
    )


def _given_up(code: str, retryable: bool) -> Outcome:
    if retryable:
        return Outcome.RETRY_LATER
    return Outcome.REJECTED if code == INVALID_PATHS else Outcome.REFUSED


def _replanned(request: Request, replanned: Request) -> Request:
    if replanned.paths != request.paths:
        _log(logging.INFO, "invalidation_replanned", replanned, previous_path_count=len(request.paths))
    return replanned


def classify(error: Exception) -> tuple[str, bool]:
    """The error code, and whether trying again later can succeed."""
    if isinstance(error, ClientError):
        code = str(error.response.get("Error", {}).get("Code", "Unknown"))
        status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))
        return code, code in RETRYABLE_CODES or status >= 500 or status == 429
    return type(error).__name__, True


def _log_given_up(request: Request, code: str, retryable: bool, attempts: int) -> None:
    level = logging.WARNING if retryable else logging.ERROR
    outcome = "reaches the dead-letter queue unless it recovers"
    if retryable:
        outcome = "redelivered with backoff"
    elif code == INVALID_PATHS and len(request.paths) > 1:
        outcome = "split to find the paths CloudFront rejects (isolate.py)"
    _log(
        level,
        "invalidation_abandoned",
        request,
        error_code=code,
        retryable=retryable,
        attempts=attempts,
        outcome=outcome,
    )


def _log(level: int, decision: str, request: Request, **fields: object) -> None:
    in_progress = request.in_progress
    logger.log(
        level,
        decision,
        extra={
            "decision": decision,
            "distribution": request.distribution.label,
            "distribution_id": request.distribution.id,
            "path_count": len(request.paths),
            "changed_paths": request.changed_paths,
            "messages": len(request.message_ids),
            "caller_reference": request.caller_reference,
            "wildcards_in_progress": None if in_progress is None else in_progress.wildcards,
            "files_in_progress": None if in_progress is None else in_progress.files,
            **fields,
        },
    )
