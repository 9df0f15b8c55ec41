"""How long the CloudFront reads of a batch may go on: its CreateInvalidation calls and its reply come first.

The reads (GetDistributionConfig, ListInvalidations, GetInvalidation) make a plan cheaper or check it;
the CreateInvalidation calls are what keeps viewers fresh. So a read starts only when, after taking as
long as the slowest CloudFront read of this invocation so far (at least CALL_MS), it leaves the reserve:
one call of that length per distribution to create, and REPLY_MS for what follows them (the flush's
inbox updates and tick, the reply to Lambda). A read not started raises NoTimeToReadError, and its
caller plans as if the read had failed: without the quota view (coalesce.py), with the inputs as given
(distribution_config.py). Creating is never skipped for time (invalidate.py backs off only within what
is left).

A call cannot be cut short once started: one read slower than every read before it can still take from
the reserve, at most the client's timeouts (handler.py).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from typing import Any

CALL_MS = 250  # what a CloudFront call is assumed to take until a slower one is measured
REPLY_MS = 1000  # what follows the CreateInvalidation calls: the flush's inbox updates and tick, the reply


class NoTimeToReadError(Exception):
    """A read was not started: it could not end before the time kept for creating and replying."""


class ReadDeadline:
    """The invocation's time left (`remaining_ms`) and the `creates` CreateInvalidation calls it keeps."""

    def __init__(self, remaining_ms: Callable[[], int], creates: int) -> None:
        self._remaining_ms = remaining_ms
        self._creates = creates
        self._slowest_ms = CALL_MS

    def read(self, call: Callable[..., Mapping[str, Any]], /, **kwargs: Any) -> Mapping[str, Any]:
        """`call(**kwargs)` when it can end before the reserve, else NoTimeToReadError; its length is kept."""
        before = self._remaining_ms()
        if before - self._slowest_ms < self.reserve_ms():
            raise NoTimeToReadError(f"{before} ms left, {self.reserve_ms()} ms kept to create and reply")
        try:
            return call(**kwargs)
        finally:
            self._slowest_ms = max(self._slowest_ms, before - self._remaining_ms())

    def reserve_ms(self) -> int:
        """The time kept back from reading: each distribution's CreateInvalidation, then the reply."""
        return REPLY_MS + self._creates * self._slowest_ms


# No deadline (tests and callers without one): as much time as an int holds, which no read shortens.
NO_DEADLINE = ReadDeadline(lambda: sys.maxsize, creates=0)
