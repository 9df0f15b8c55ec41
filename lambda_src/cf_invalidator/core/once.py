"""A failure an operator should hear of once, not on every batch of every container's life."""

from __future__ import annotations

import logging


class OncePerReason:
    """Logs `decision` at WARNING the first time for each (distribution, reason), at DEBUG after."""

    def __init__(self, logger: logging.Logger, decision: str, outcome: str) -> None:
        self._logger, self._decision, self._outcome = logger, decision, outcome
        self._reported: set[tuple[str, str]] = set()

    def __call__(self, distribution_id: str, reason: str) -> None:
        first = (distribution_id, reason) not in self._reported
        self._reported.add((distribution_id, reason))
        self._logger.log(
            logging.WARNING if first else logging.DEBUG,
            self._decision,
            extra={
                "decision": self._decision,
                "distribution_id": distribution_id,
                "reason": reason,
                "outcome": self._outcome,
            },
        )
