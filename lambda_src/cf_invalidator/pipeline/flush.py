"""Flushing: a distribution's waiting changes planned as one cover, once its deploy has gone quiet.

A tick (timer.py) reads the distribution's state (inbox.py). Not due yet (the bucket wrote under it
less than `quiet_seconds` ago and its oldest change has waited less than `max_wait_seconds`): a new
tick is sent for when it is due. Due: the tick claims the flush lease (one flush per distribution at
a time, across containers; a tick redelivered after its container died takes its own lease back),
reads the whole inbox and hands it to the planning stages as one batch whose messages are the inbox
chunks (`Planner`: batch.py's planning, unchanged: change detection, the tree's walk and cover,
quotas in progress, spend guard). The CallerReference is derived from the distribution, the paths
and the chunks' sort keys (plan.caller_reference), so a flush run again after a crash, with nothing new
in the inbox, asks for the same invalidation and CloudFront bills it once.

Then each chunk: invalidated, deleted; turned back for a retryable reason (throttling, quota, 5xx; an
"auto" distribution whose configuration could not be read yet), kept, and the next tick waits with
backoff, for MAX_FLUSH_ATTEMPTS flushes in a row (the redrive's maxReceiveCount) after which its changes
go to the dead-letter queue; held by the spend guard, kept, the next tick at the end of its wait;
refused (NoSuchDistribution, AccessDenied, a path CloudFront rejects, found by isolate.py), sent to the
dead-letter queue at once and deleted. The lease is released with the oldest change still waiting, on
the condition that no change was accepted since the inbox was last read (else read again), and a tick is
sent when changes still wait.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..aws.inbox import Inbox, Item, State
from ..aws.timer import DeadLetters, Timer
from ..config import Config, Deploys, Distribution
from ..core.redelivery import redelivery_delay
from .batch import process_batch
from .collaborators import Collaborators

logger = logging.getLogger(__name__)

MAX_FLUSH_ATTEMPTS = 5  # as the queue's maxReceiveCount: the retries a change gets before the DLQ
RELEASE_TRIES = 5


@dataclass
class Planned:
    """What the planning stages made of the chunks (by sort key): failed, and of those the ones to
    retry (retryable) and to wait (seconds: the spend guard's next `/*`)."""

    failed: set[str] = field(default_factory=set)
    retry: set[str] = field(default_factory=set)
    waits: dict[str, int] = field(default_factory=dict)

    def __call__(self, records: Sequence[Mapping[str, Any]], delay_s: int | None = None, /) -> None:
        """collaborators.Postpone: a delay is a wait, none a retryable failure."""
        ids = {record["messageId"] for record in records}
        if delay_s is None:
            self.retry |= ids
        else:
            self.waits |= dict.fromkeys(ids, delay_s)

    @property
    def refused(self) -> set[str]:
        return self.failed - self.retry - self.waits.keys()


class PlansChunks(Protocol):
    def __call__(self, records: Sequence[Mapping[str, Any]], distribution: Distribution, /) -> Planned: ...


@dataclass(frozen=True)
class Planner:
    """The planning stages of batch.py over one distribution's chunks. `collaborators`: process_batch's
    collaborators for one flush (handler.planning_collaborators); the flush hears what to postpone
    through its own `Planned`."""

    config: Config
    cloudfront: Any
    remaining_ms: Callable[[], int]
    collaborators: Callable[[], Collaborators] = Collaborators

    def __call__(self, records: Sequence[Mapping[str, Any]], distribution: Distribution, /) -> Planned:
        config = dataclasses.replace(self.config, distributions=(distribution,))
        planned = Planned()
        collaborators = dataclasses.replace(self.collaborators(), postpone=planned)
        response = process_batch(
            {"Records": list(records)}, config, self.cloudfront, self.remaining_ms, collaborators
        )
        planned.failed = {failure["itemIdentifier"] for failure in response["batchItemFailures"]}
        return planned


@dataclass(frozen=True)
class Flusher:
    """Handles the ticks of every distribution of the module."""

    inbox: Inbox
    timer: Timer
    dead_letters: DeadLetters
    plan: PlansChunks
    settings: Deploys
    distributions: Mapping[str, Distribution]
    clock: Callable[[], float]
    lease_s: int

    def tick(self, distribution_id: str, owner: str) -> None:
        """Handle a tick (message id `owner`): flush when due, else send one for when it is."""
        distribution = self.distributions.get(distribution_id)
        if distribution is None:
            logger.warning(
                "tick_ignored", extra={"decision": "tick_ignored", "distribution_id": distribution_id}
            )
            return
        now = self.clock()
        state = self.inbox.state(distribution_id)
        due = state.due(self.settings.quiet_seconds, self.settings.max_wait_seconds)
        if due is None:
            return
        if now < due:
            self._schedule(distribution_id, due - now, now)
        elif self.inbox.claim(distribution_id, owner, now, self.lease_s):
            self._flush(distribution, owner, state)
        else:  # another container flushes: look again once its lease ends
            self._schedule(
                distribution_id, max(self.settings.quiet_seconds, (state.lease_until or 0) - now), now
            )

    def _flush(self, distribution: Distribution, owner: str, state: State) -> None:
        items = self.inbox.items(distribution.id)
        planned = self.plan(_records(items), distribution) if items else Planned()
        attempts = state.attempts + 1 if planned.retry else 0
        dead = planned.refused
        if attempts >= MAX_FLUSH_ATTEMPTS:
            dead, attempts = dead | planned.retry, 0
            planned.retry = set()
        self._dead_letters(distribution, [item for item in items if item.sort_key in dead])
        self.inbox.delete(
            distribution.id, [i.sort_key for i in items if i.sort_key not in planned.failed - dead]
        )
        oldest = self._release(distribution.id, owner, attempts)
        _log_flushed(distribution, items, planned, dead)
        if oldest is not None:
            self._schedule(distribution.id, self._next_wait(distribution.id, planned, attempts), self.clock())

    def _next_wait(self, distribution_id: str, planned: Planned, attempts: int) -> float:
        """Backoff after a retryable failure, the spend guard's wait, else until the changes are due."""
        if planned.retry:
            return float(redelivery_delay(attempts))
        if planned.waits:
            return float(max(planned.waits.values()))
        due = self.inbox.state(distribution_id).due(
            self.settings.quiet_seconds, self.settings.max_wait_seconds
        )
        return 0.0 if due is None else due - self.clock()

    def _release(self, distribution_id: str, owner: str, attempts: int) -> float | None:
        """Release the lease with the oldest change still waiting (returned; None: none)."""
        for _ in range(RELEASE_TRIES):
            seen = self.inbox.state(distribution_id)
            waiting = self.inbox.items(distribution_id, bodies=False)
            oldest = min((item.oldest for item in waiting), default=None)
            if self.inbox.release(distribution_id, owner, seen, oldest, attempts):
                return oldest
        raise RuntimeError(f"lease of {distribution_id} not released: changes accepted on every try")

    def _dead_letters(self, distribution: Distribution, items: Sequence[Item]) -> None:
        if not items:
            return
        self.dead_letters.send([item.body for item in items])
        logger.error(
            "changes_dead_lettered",
            extra={
                "decision": "changes_dead_lettered",
                "distribution": distribution.label,
                "distribution_id": distribution.id,
                "chunks": len(items),
                "outcome": "in the dead-letter queue, as S3 events: redrive them once the cause is fixed",
            },
        )

    def _schedule(self, distribution_id: str, wait_s: float, now: float) -> None:
        delay = self.timer.send(distribution_id, wait_s)
        self.inbox.tick_due(distribution_id, now + delay)


def _records(items: Sequence[Item]) -> list[dict[str, Any]]:
    """The chunks as SQS records for the planning stages: the chunk's sort key is the message id."""
    return [{"messageId": item.sort_key, "body": item.body, "attributes": {}} for item in items]


def _log_flushed(distribution: Distribution, items: Sequence[Item], planned: Planned, dead: set[str]) -> None:
    logger.info(
        "deploy_flushed",
        extra={
            "decision": "deploy_flushed",
            "distribution": distribution.label,
            "distribution_id": distribution.id,
            "chunks": len(items),
            "chunks_retried": len(planned.retry),
            "chunks_waiting": len(planned.waits),
            "chunks_dead_lettered": len(dead),
        },
    )
