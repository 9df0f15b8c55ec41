"""When CloudFront pushes back for longer than one invocation, retry later, not sooner; and queue URLs.

A flush whose changes failed for a retryable reason (throttling, quota in progress, 5xx) keeps them in
the deploy inbox and ticks again after a delay that grows with the flushes failed in a row
(flush.py): 1, 4, 16, 64 minutes, so that a deploy waiting on CloudFront's quotas (15 wildcard paths in
progress per distribution, invalidations taking up to ten minutes or more) is retried for 85 minutes
before the fifth attempt sends its changes to the dead-letter queue, not used up within minutes.
"""

from __future__ import annotations

from ..config import MAX_VISIBILITY_SECONDS

FIRST_DELAY_S = 60
GROWTH = 4


def redelivery_delay(receive_count: int) -> int:
    """Seconds before the `receive_count`-th failed attempt is retried (at most 12 hours)."""
    exponent: int = max(receive_count, 1) - 1
    return min(MAX_VISIBILITY_SECONDS, FIRST_DELAY_S * int(GROWTH**exponent))


def queue_url(queue_arn: str, endpoint_url: str) -> str:
    """arn:aws:sqs:<region>:<account>:<name> -> <endpoint>/<account>/<name>."""
    *_, account, name = queue_arn.split(":")
    return f"{endpoint_url.rstrip('/')}/{account}/{name}"
