"""How the metrics and the spend guard hook into a batch: invalidate()'s hooks, and who admits a request.

Both always exist (collaborators.py): without metrics they hear and write nothing, without a spend
guard every request is admitted as planned and nothing is reserved, so nothing is given back.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..aws.invalidate import CONNECTION_ERRORS, CreatesInvalidations
from ..aws.spend_guard import Admission, Reservation
from ..core.plan import Request

if TYPE_CHECKING:
    from .collaborators import Guard, Metrics

Replan = Callable[[Request], Request]
Created = Callable[[Request, Mapping[str, Any]], None]  # CloudFront's Invalidation


@dataclass(frozen=True)
class Hooks:
    admit: Callable[[Request], Admission]  # what to send in place of the planned request, or to wait
    replan: Replan
    created: Created
    retrying: Callable[[Request, str], None]
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
    metrics: Metrics, guard: Guard, replan: Replan, created: Created, answered: Answered
) -> Hooks:
    """invalidate()'s hooks with the metrics told of each creation and backoff, and every request, first
    planned or fitted again, admitted by the spend guard (see Spending)."""
    spending = Spending(metrics, guard, created, answered)
    return Hooks(
        admit=spending.admit,
        replan=spending.guarded(replan),
        created=spending.observed,
        retrying=metrics.retrying,
        settle=spending.settle,
    )


class Spending:
    """One request at a time through the spend guard: its first admission, its refits (each reserves
    only the paths it adds; one the guard would hold back keeps the request as it was, whose paths are
    reserved), and its outcome, which hands the guard back what CloudFront did not accept (nothing when
    a call went unanswered: see Answered)."""

    def __init__(self, metrics: Metrics, guard: Guard, created: Created, answered: Answered) -> None:
        self._metrics, self._guard, self._created, self._answered = metrics, guard, created, answered
        self._reserved: list[Reservation] = []
        self._made: list[Request] = []

    def admit(self, request: Request) -> Admission:
        """A new request: what was reserved for the one before is settled already."""
        self._reserved, self._made = [], []
        self._answered.unanswered = False
        return self._admit(request, 0)

    def guarded(self, fitter: Replan) -> Replan:
        def refit(stale: Request) -> Request:
            admission = self._admit(fitter(stale), len(stale.paths))
            return stale if admission.wait_s else admission.request

        return refit

    def observed(self, request: Request, invalidation: Mapping[str, Any]) -> None:
        self._made.append(request)
        self._created(request, invalidation)
        self._metrics.created(request, invalidation["Id"])

    def settle(self) -> None:
        """The request's attempts are over: every reserved path beyond those of the invalidations
        CloudFront created for it is given back."""
        if not self._reserved or self._answered.unanswered:
            return
        self._guard.release(self._reserved, sum(len(made.paths) for made in self._made))

    def _admit(self, request: Request, already: int) -> Admission:
        admission = self._guard.admit(request, already)
        if admission.reservation is not None:
            self._reserved.append(admission.reservation)
        if admission.guarded:
            self._metrics.guarded(admission.request)
        return admission
