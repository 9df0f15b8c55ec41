"""The deploy pipeline: each SQS batch accepted into the inbox, each distribution flushed once it is quiet.

One function, fed by the module's queue, sees two kinds of message (docs/deploy-flush.md):
- S3 events (or EventBridge's): *accepted*. Their changes are written into the inbox of every
  distribution that may serve them (accept.py, inbox.py), the distribution's state notes the newest
  write and the oldest change waiting, and when no flush tick is pending one is sent (timer.py), BEFORE
  the state records it: a crash in between only makes an extra tick. The messages are acknowledged only
  once all of that is written; until then SQS redelivers them and they are accepted again (the same
  batch writes the same items). A message that cannot be read fails alone, as in batch.py.
- Flush ticks: handed to the flush stage (flush.py).

A tick or an accept that fails on an AWS error fails its messages (redelivered by SQS); an unexpected
error fails the invocation, as a crash would: every step is safe to run again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from ..aws.inbox import DynamoDB, Inbox, InboxWriteError
from ..aws.timer import DeadLetterError, DeadLetters, SendsMessages, Timer, tick_distribution
from ..config import Config, Deploys, Distribution
from ..core.accept import accepted
from ..core.events import Change
from ..core.redelivery import queue_url
from .batch import log_unserved, read_messages
from .flush import Flusher, PlansChunks

logger = logging.getLogger(__name__)

# A tick due this long ago and not handled is taken as lost (its message failed until the DLQ took it):
# the next accept sends another. Shorter only sends extra ticks while a tick waits for a busy function.
TICK_GRACE_S = 60
AWS_ERRORS = (ClientError, BotoCoreError, InboxWriteError, DeadLetterError)


@dataclass(frozen=True)
class Accepter:
    """Writes a batch's changes into the inbox and makes sure a tick will come."""

    inbox: Inbox
    timer: Timer
    distributions: Sequence[Distribution]
    settings: Deploys
    clock: Callable[[], float]

    def accept(self, changes_by_message: Mapping[str, Sequence[Change]]) -> None:
        now = self.clock()
        batch = accepted(changes_by_message, self.distributions, now)
        log_unserved(batch.unserved)
        for distribution_id, chunks in batch.chunks.items():
            self.inbox.write(distribution_id, chunks)
            state = self.inbox.accepted(
                distribution_id, min(c.oldest for c in chunks), max(c.newest for c in chunks)
            )
            if state.tick_due is None or state.tick_due < now - TICK_GRACE_S:
                due = state.due(self.settings.quiet_seconds, self.settings.max_wait_seconds)
                delay = self.timer.send(distribution_id, (now if due is None else due) - now)
                self.inbox.tick_due(distribution_id, now + delay)


@dataclass(frozen=True)
class Pipeline:
    accepter: Accepter
    flusher: Flusher

    def handle(self, event: Mapping[str, Any]) -> dict[str, list[dict[str, str]]]:
        """Accept the batch's S3 messages, then handle its ticks; the messages to retry, in order."""
        records: Sequence[Mapping[str, Any]] = event["Records"]
        ticks = {r["messageId"]: d for r in records if (d := tick_distribution(r["body"])) is not None}
        changes_by_message, failed = read_messages([r for r in records if r["messageId"] not in ticks])
        try:
            self.accepter.accept(changes_by_message)
        except AWS_ERRORS as error:
            failed |= changes_by_message.keys()
            _log_failed("accept_failed", error, len(changes_by_message))
        for message_id, distribution_id in ticks.items():
            try:
                self.flusher.tick(distribution_id, message_id)
            except AWS_ERRORS as error:
                failed.add(message_id)
                _log_failed("tick_failed", error, 1, distribution_id)
        return {
            "batchItemFailures": [
                {"itemIdentifier": r["messageId"]} for r in records if r["messageId"] in failed
            ]
        }


@dataclass(frozen=True)
class Clients:
    sqs: SendsMessages
    dynamodb: DynamoDB
    endpoint_url: str  # SQS's: queue URLs are derived from ARNs (redelivery.queue_url)


def pipeline(
    config: Config,
    clients: Clients,
    queue_arn: str,
    plan: PlansChunks,
    *,
    clock: Callable[[], float],
    lease_s: int,
) -> Pipeline:
    """The deploy pipeline of `config` (its `deploys` set), ticking on the queue `queue_arn`."""
    settings = config.deploys
    if settings is None:
        raise ValueError("the deploy pipeline needs the inbox settings (INBOX_TABLE)")
    inbox = Inbox(clients.dynamodb, settings.table)
    timer = Timer(clients.sqs, queue_url(queue_arn, clients.endpoint_url))
    dead_letters = DeadLetters(clients.sqs, queue_url(settings.dead_letter_queue_arn, clients.endpoint_url))
    accepter = Accepter(inbox, timer, config.distributions, settings, clock)
    by_id = {d.id: d for d in config.distributions}
    flusher = Flusher(inbox, timer, dead_letters, plan, settings, by_id, clock, lease_s)
    return Pipeline(accepter, flusher)


def _log_failed(decision: str, error: Exception, messages: int, distribution_id: str | None = None) -> None:
    logger.warning(
        decision,
        extra={
            "decision": decision,
            "distribution_id": distribution_id,
            "messages": messages,
            "error": f"{type(error).__name__}: {error}",
            "outcome": "redelivered by SQS, then handled again",
        },
    )
