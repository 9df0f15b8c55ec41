"""What the planning stages of a batch (batch.process_batch) work with, beside the batch itself.

Every collaborator always exists: where a feature is off, a do-nothing one stands in (no metrics:
NoMetrics; no spend guard: UnlimitedGuard; no view of what is in progress: NoQuotaView; no distribution
to check or map: as_configured), so the stages have no branch for a missing one and a test runs the
stages production runs, with the do-nothing defaults plus the collaborators it needs. The handler
(handler.planning_collaborators) builds the production set once per batch or flush.

`s3` alone may be None: without a client the bucket is not read (no change detection, no tree below
the changed paths: the request is coalesced blind). Production always has one; planning tests leave it
out to judge the planning alone.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from ..aws.spend_guard import Admission, Reservation
from ..aws.tree import ListsObjects
from ..config import Config, Distribution
from ..core.coalesce import InProgress
from ..core.deadline import ReadDeadline
from ..core.events import Change
from ..core.history import Judgement
from ..core.plan import Request


class Postpone(Protocol):
    """Hands messages back to the queue for later: after `delay_s`, or (None) after the delay their
    receive count gives (redelivery.py)."""

    def __call__(self, records: Sequence[Mapping[str, Any]], delay_s: int | None = None, /) -> None: ...


When = datetime | None
Resolve = Callable[[Config, ReadDeadline], tuple[Config, tuple[Distribution, ...]]]


class QuotaView(Protocol):
    """What is in progress on each distribution (in_progress.InProgressCache)."""

    def new_batch(self, deadline: ReadDeadline) -> None: ...
    def get(self, distribution_id: str, *, refresh: bool = False) -> InProgress | None: ...
    def record(
        self,
        distribution_id: str,
        invalidation_id: str,
        paths: Iterable[str],
    ) -> None: ...


class Metrics(Protocol):
    """Hears what the batch did, and writes it at the end (metrics.BatchMetrics)."""

    def read(
        self, changes_by_message: Mapping[str, Sequence[Change]], kept: Mapping[str, Sequence[str]]
    ) -> None: ...
    def judged(self, judgements: Mapping[tuple[str | None, str], Judgement]) -> None: ...
    def created(self, request: Request, invalidation_id: str) -> None: ...
    def retrying(self, request: Request, error_code: str) -> None: ...
    def guarded(self, request: Request) -> None: ...
    def emit(self) -> None: ...


class Guard(Protocol):
    """Admits each request before it is sent, and is given back what CloudFront did not accept
    (spend_guard.SpendGuard)."""

    def admit(self, request: Request, reserved: int = 0) -> Admission: ...
    def release(self, reservations: Sequence[Reservation], keep: int = 0) -> None: ...


def no_postpone(records: Sequence[Mapping[str, Any]], delay_s: int | None = None, /) -> None:
    """Nothing handed back early: the failed messages come back after the queue's visibility timeout."""


def as_configured(config: Config, deadline: ReadDeadline) -> tuple[Config, tuple[Distribution, ...]]:
    """No distribution to check or map (verify_distributions off, no origin_path "auto"): the
    configuration as it is, none unresolved."""
    return config, ()


class NoQuotaView:
    """Nothing known of what is in progress: every request is planned without the quotas in view (as
    when a read fails), and nothing was created since a change."""

    def new_batch(self, deadline: ReadDeadline) -> None:
        pass

    def get(self, distribution_id: str, *, refresh: bool = False) -> InProgress | None:
        return None

    def record(
        self,
        distribution_id: str,
        invalidation_id: str,
        paths: Iterable[str],
    ) -> None:
        pass


class NoMetrics:
    """Metrics off: hears everything, writes nothing."""

    def read(
        self, changes_by_message: Mapping[str, Sequence[Change]], kept: Mapping[str, Sequence[str]]
    ) -> None:
        pass

    def judged(self, judgements: Mapping[tuple[str | None, str], Judgement]) -> None:
        pass

    def created(self, request: Request, invalidation_id: str) -> None:
        pass

    def retrying(self, request: Request, error_code: str) -> None:
        pass

    def guarded(self, request: Request) -> None:
        pass

    def emit(self) -> None:
        pass


class UnlimitedGuard:
    """No spend guard (max_paths_per_day unset): every request is sent as planned, nothing counted."""

    def admit(self, request: Request, reserved: int = 0) -> Admission:
        return Admission(request)

    def release(self, reservations: Sequence[Reservation], keep: int = 0) -> None:
        pass


NO_QUOTA_VIEW, NO_METRICS, UNLIMITED = NoQuotaView(), NoMetrics(), UnlimitedGuard()


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Collaborators:
    """process_batch's collaborators. `resolve` checks the distributions and maps those with origin_path
    "auto"; `in_progress` tells what is in progress (its reads, and resolve's, keep to the batch's
    deadline); `metrics` hears what the batch did; `spend_guard` admits each request or holds it back;
    `postpone` hears which failed messages wait and for how long; `sleep` and `jitter` pace the retries;
    `now` anchors the tree's deploy window when none of the batch's keys is listed (tree.py)."""

    s3: ListsObjects | None = None
    in_progress: QuotaView = NO_QUOTA_VIEW
    resolve: Resolve = as_configured
    metrics: Metrics = NO_METRICS
    spend_guard: Guard = UNLIMITED
    postpone: Postpone = no_postpone
    sleep: Callable[[float], None] = time.sleep
    jitter: Callable[[], float] = random.random
    now: Callable[[], datetime] = _utc_now


DO_NOTHING = Collaborators()  # every collaborator a do-nothing one, and no S3 client
