"""How the metrics and the spend guard hook into a batch: invalidate()'s hooks, and who admits a request.

Each hook is None (or the identity) when neither is on, so a batch without them runs as before.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .metrics import BatchMetrics
from .plan import Request
from .spend_guard import SpendGuard

Replan = Callable[[Request], Request]
Created = Callable[[Request, Mapping[str, Any]], None]  # CloudFront's Invalidation


@dataclass(frozen=True)
class Hooks:
    admit: Callable[[Request], Request]  # the request to send in place of the planned one
    replan: Replan | None
    created: Created | None
    retrying: Callable[[Request, str], None] | None


def operations_hooks(
    metrics: BatchMetrics | None, guard: SpendGuard | None, replan: Replan | None, created: Created | None
) -> Hooks:
    """invalidate()'s hooks with the metrics told of each creation and backoff, and every request, first
    planned or fitted again, admitted by the spend guard (a refit reserves only the paths it adds)."""

    def admit(request: Request, reserved: int = 0) -> Request:
        if guard is None:
            return request
        admitted, guarded = guard.admit(request, reserved)
        if guarded and metrics is not None:
            metrics.guarded(admitted)
        return admitted

    def guarded_replan(fitter: Replan) -> Replan:
        return lambda stale: admit(fitter(stale), len(stale.paths))

    def observed(made: Request, invalidation: Mapping[str, Any]) -> None:
        if created is not None:
            created(made, invalidation)
        if metrics is not None:
            metrics.created(made, invalidation["Id"])

    return Hooks(
        admit=admit,
        replan=replan if replan is None or guard is None else guarded_replan(replan),
        created=observed if metrics is not None else created,
        retrying=None if metrics is None else metrics.retrying,
    )
