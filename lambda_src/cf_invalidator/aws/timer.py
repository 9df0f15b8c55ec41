"""Timers as delayed messages on the module's own queue, and changes handed to the dead-letter queue.

A flush tick is a message `{"cf_invalidator": "flush", "distribution": "<id>"}` sent with DelaySeconds
(SQS: at most 900): the event source mapping hands it to the function like any message once the delay
ends. Each tick is a new message, so waiting never uses up a message's receives (maxReceiveCount);
only a tick whose handling fails is received again. A tick sent twice is harmless: the flush is
single (the lease) and a flush with nothing waiting does nothing.

Changes that cannot be invalidated go to the dead-letter queue as S3 event notification bodies (one
message per inbox chunk), so a redrive to the queue feeds them back as the bucket's own events would.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

logger = logging.getLogger(__name__)

TICK_KIND = "flush"
TICK_FIELD = "cf_invalidator"
MAX_DELAY_SECONDS = 900  # SQS: the longest DelaySeconds
SEND_BATCH = 10  # SQS: entries per SendMessageBatch
SEND_BATCH_BYTES = 262_144  # SQS: a SendMessageBatch's messages together (256 KiB; some queues allow more)


class SendsMessages(Protocol):
    def send_message(self, **kwargs: Any) -> Mapping[str, Any]: ...
    def send_message_batch(self, **kwargs: Any) -> Mapping[str, Any]: ...


def tick_body(distribution_id: str) -> str:
    return json.dumps({TICK_FIELD: TICK_KIND, "distribution": distribution_id}, separators=(",", ":"))


def tick_distribution(body: str) -> str | None:
    """The distribution id a tick's body names; None when the body is not a tick (an S3 event)."""
    try:
        message = json.loads(body)
    except (ValueError, RecursionError):
        return None
    if not isinstance(message, dict) or message.get(TICK_FIELD) != TICK_KIND:
        return None
    distribution = message.get("distribution")
    return distribution if isinstance(distribution, str) else None


def delay_seconds(wait_s: float) -> int:
    """A wait as SQS's DelaySeconds: whole seconds, rounded up, from 1 to 900 (a longer wait is taken
    in several ticks: the tick that comes early sees it is not due and sends the next)."""
    return min(MAX_DELAY_SECONDS, max(1, math.ceil(wait_s)))


class Timer:
    """Sends flush ticks to one queue."""

    def __init__(self, sqs: SendsMessages, queue_url: str) -> None:
        self._sqs, self._url = sqs, queue_url

    def send(self, distribution_id: str, wait_s: float) -> int:
        """Send a tick due in `wait_s`; the delay it was sent with."""
        delay = delay_seconds(wait_s)
        self._sqs.send_message(QueueUrl=self._url, MessageBody=tick_body(distribution_id), DelaySeconds=delay)
        return delay


class DeadLetters:
    """Sends bodies of changes to the dead-letter queue."""

    def __init__(self, sqs: SendsMessages, queue_url: str) -> None:
        self._sqs, self._url = sqs, queue_url

    def send(self, bodies: Sequence[str]) -> None:
        """Every body, or an error: a body not sent stays in the inbox (the caller deletes only after)."""
        for batch in _batches(bodies):
            entries = [{"Id": str(i), "MessageBody": body} for i, body in enumerate(batch)]
            failed = self._sqs.send_message_batch(QueueUrl=self._url, Entries=entries).get("Failed", [])
            if failed:
                raise DeadLetterError(f"{len(failed)} dead letters not sent: {failed[0].get('Code')}")


def _batches(bodies: Sequence[str]) -> list[list[str]]:
    """The bodies in order, cut so that a batch holds at most SEND_BATCH of them and SEND_BATCH_BYTES
    together (a chunk is at most accept.CHUNK_BYTES, so each fits alone)."""
    batches: list[list[str]] = []
    size = 0
    for body in bodies:
        length = len(body.encode("utf-8"))
        if not batches or len(batches[-1]) == SEND_BATCH or size + length > SEND_BATCH_BYTES:
            batches.append([])
            size = 0
        batches[-1].append(body)
        size += length
    return batches


class DeadLetterError(RuntimeError):
    """SQS refused some of the dead letters."""
