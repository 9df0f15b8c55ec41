"""How the metrics and the spend guard hook into a batch: invalidate()'s hooks, and who admits a request.

Each hook is None (or the identity) when neither is on, so a batch without them runs as before.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .invalidate import CONNECTION_ERRORS, CreatesInvalidations
from .metrics import BatchMetrics
from .plan import Request
from .spend_guard import Admission, Reservation, SpendGuard

Replan = Callable[[Request], Request]
Created = Callable[[Request, Mapping[str, Any]], None]  # CloudFront's Invalidation


@dataclass(frozen=True)
class Hooks:
    admit: Callable[[Request], Admission]  # what to send in place of the planned request, or to wait
    replan: Replan | None
    created: Created | None
    retrying: Callable[[Request, str], None] | None
    settle: Callable[[], None]  # after the request's attempts: gives back the paths CloudFront refused


class Answered:
    """The CloudFront client, noting whether a CreateInvalidation of the current request ended without
    CloudFront's answer (a connection error, a timeout): CloudFront may have carried it out, so its
    reserved paths stay counted."""

    def __init__(self, cloudfront: CreatesInvalidations) -> None:
        self._cloudfront = cloudfront
        self.unanswered = False

    def create_invalidation(self, **kwargs: Any) -> Mapping[str, Any]:
        try:
            return self._cloudfront.create_invalidation(**kwargs)
        except CONNECTION_ERRORS:
            self.unanswered = True
            raise


def operations_hooks(
    metrics: BatchMetrics | None,
    guard: SpendGuard | None,
    replan: Replan | None,
    created: Created | None,
    answered: Answered | None = None,
) -> Hooks:
    """invalidate()'s hooks with the metrics told of each creation and backoff, and every request, first
    planned or fitted again, admitted by the spend guard (see Spending)."""
    spending = Spending(metrics, guard, created, answered)
    return Hooks(
        admit=spending.admit,
        replan=replan if replan is None or guard is None else spending.guarded(replan),
        created=spending.observed if metrics is not None or guard is not None else created,
        retrying=None if metrics is None else metrics.retrying,
        settle=spending.settle,
    )


class Spending:
    """One request at a time through the spend guard: its first admission, its refits (each reserves
    only the paths it adds; one the guard would hold back keeps the request as it was, whose paths are
    reserved), and its outcome, which hands the guard back what CloudFront did not accept (nothing when
    a call went unanswered: see Answered)."""

    def __init__(
        self,
        metrics: BatchMetrics | None,
        guard: SpendGuard | None,
        created: Created | None,
        answered: Answered | None,
    ) -> None:
        self._metrics, self._guard, self._created, self._answered = metrics, guard, created, answered
        self._reserved: list[Reservation] = []
        self._made: list[Request] = []

    def admit(self, request: Request) -> Admission:
        """A new request: what was reserved for the one before is settled already."""
        self._reserved, self._made = [], []
        if self._answered is not None:
            self._answered.unanswered = False
        return self._admit(request, 0)

    def guarded(self, fitter: Replan) -> Replan:
        def refit(stale: Request) -> Request:
            admission = self._admit(fitter(stale), len(stale.paths))
            return stale if admission.wait_s else admission.request

        return refit

    def observed(self, request: Request, invalidation: Mapping[str, Any]) -> None:
        self._made.append(request)
        if self._created is not None:
            self._created(request, invalidation)
        if self._metrics is not None:
            self._metrics.created(request, invalidation["Id"])

    def settle(self) -> None:
        """The request's attempts are over: every reserved path beyond those of the invalidations
        CloudFront created for it is given back."""
        unanswered = self._answered is not None and self._answered.unanswered
        if self._guard is None or not self._reserved or unanswered:
            return
        self._guard.release(self._reserved, sum(len(made.paths) for made in self._made))

    def _admit(self, request: Request, already: int) -> Admission:
        if self._guard is None:
            return Admission(request)
        admission = self._guard.admit(request, already)
        if admission.reservation is not None:
            self._reserved.append(admission.reservation)
        if admission.guarded and self._metrics is not None:
            self._metrics.guarded(admission.request)
        return admission
