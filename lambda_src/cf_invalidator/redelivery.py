"""When CloudFront pushes back for longer than one invocation, retry the messages later, not sooner.

SQS redelivers a failed message when its visibility timeout ends, and moves it to the dead-letter queue
after maxReceiveCount receives. At a fixed timeout, a deploy that waits on CloudFront's quotas (15
wildcard paths in progress per distribution, invalidations taking up to ten minutes or more) can use up
its receives within half an hour. So messages that failed for a retryable reason get a visibility
timeout that grows with their receive count (ChangeMessageVisibility): 1, 4, 16, 64 minutes, which gives
them 85 minutes before the fifth receive, against about 25 at the module's default timeout. Messages
CloudFront refused, or that cannot be read, keep the queue's timeout and reach the dead-letter queue as
soon as the redrive policy says.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from .config import MAX_VISIBILITY_SECONDS
from .invalidate import classify

logger = logging.getLogger(__name__)

FIRST_DELAY_S = 60
GROWTH = 4
SQS_BATCH = 10  # entries per ChangeMessageVisibilityBatch
TIME_NEEDED_MS = 1000  # left for each call; below it the queue's own timeout applies


class Sqs(Protocol):
    def change_message_visibility_batch(self, **kwargs: Any) -> Mapping[str, Any]: ...


def redelivery_delay(receive_count: int) -> int:
    """Seconds before a message that failed on its `receive_count`-th receive is offered again."""
    exponent: int = max(receive_count, 1) - 1
    return min(MAX_VISIBILITY_SECONDS, FIRST_DELAY_S * int(GROWTH**exponent))


def visibility_timeout(receive_count: int, delay_s: int | None) -> int:
    """The seconds asked for a failed message: `delay_s` (at most SQS's longest) when given, else by its
    receive count (redelivery_delay)."""
    return redelivery_delay(receive_count) if delay_s is None else min(MAX_VISIBILITY_SECONDS, delay_s)


def queue_url(queue_arn: str, endpoint_url: str) -> str:
    """arn:aws:sqs:<region>:<account>:<name> -> <endpoint>/<account>/<name>."""
    *_, account, name = queue_arn.split(":")
    return f"{endpoint_url.rstrip('/')}/{account}/{name}"


def postpone(
    sqs: Sqs,
    endpoint_url: str,
    records: Sequence[Mapping[str, Any]],
    remaining_ms: Callable[[], int],
    delay_s: int | None = None,
) -> None:
    """Give each record a visibility timeout of `delay_s`, or (None) from its receive count; a failure here
    only logs, because the messages are reported as failed anyway and come back after the queue's own
    timeout."""
    for start in range(0, len(records), SQS_BATCH):
        if remaining_ms() < TIME_NEEDED_MS:
            logger.warning(
                "redelivery_not_postponed",
                extra={
                    "decision": "redelivery_not_postponed",
                    "messages": len(records) - start,
                    "reason": "no time left",
                },
            )
            return
        chunk = records[start : start + SQS_BATCH]
        _change_visibility(sqs, queue_url(chunk[0]["eventSourceARN"], endpoint_url), chunk, delay_s)


def _change_visibility(sqs: Sqs, url: str, records: Sequence[Mapping[str, Any]], delay_s: int | None) -> None:
    entries = [
        {
            "Id": str(index),
            "ReceiptHandle": record["receiptHandle"],
            "VisibilityTimeout": visibility_timeout(
                int(record["attributes"].get("ApproximateReceiveCount", 1)), delay_s
            ),
        }
        for index, record in enumerate(records)
    ]
    try:
        response = sqs.change_message_visibility_batch(QueueUrl=url, Entries=entries)
        failed = [entry.get("Code", "Unknown") for entry in response.get("Failed", [])]
    except (ClientError, BotoCoreError) as error:
        failed = [classify(error)[0]] * len(entries)
    log = logger.warning if failed else logger.info
    log(
        "redelivery_postponed",
        extra={
            "decision": "redelivery_postponed",
            "messages": len(entries) - len(failed),
            "delays_s": sorted({e["VisibilityTimeout"] for e in entries}),
            "errors": failed,
        },
    )
