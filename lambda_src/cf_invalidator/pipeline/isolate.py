"""A request CloudFront rejects as invalid -> the paths it rejects, found by bisection; the rest created.

CloudFront answers InvalidArgument for a whole request when one of its paths is invalid, without saying
which. Failing every message of the request would send 20 good keys to the dead-letter queue with one
bad one, so the rejected request is split in two halves of its paths, each sent as its own request, and
a rejected half is split again, down to single paths: only the messages of a path CloudFront rejects
fail (logged `path_rejected`, one line per path), and a message fails when any of its paths does. A
rejected wildcard fails every message it covers; it is not expanded into the paths below it.

Each part carries the changed paths its paths cover and the messages and keys behind them: the
request's keys of its messages (its `sources`, the batch it was planned from) at their viewer paths,
worked out once, when CloudFront first rejects the request. Its CallerReference is derived as any
request's (distribution, sorted paths, message ids), so the same batch redelivered splits into the same
parts and CloudFront answers the parts already made with the invalidations it made, billing nothing
twice. Each key is counted in one part only (the metrics' KeysInvalidated). Parts are sent while the
Lambda has time left (RESERVE_MS); when it runs out, the messages of the parts not yet sent fail and are
postponed, never dropped (logged `split_interrupted`). A request that does not say which batch it was
planned from (not planned from messages) is not split: its messages fail, as do any that no path of the
request covers.
"""

from __future__ import annotations

import dataclasses
import logging
import random
import time
from collections.abc import Callable, Iterable, Mapping, Set
from dataclasses import dataclass

from ..aws.invalidate import RESERVE_MS, CreatesInvalidations, Outcome, invalidate
from ..core.plan import Request, Sources
from .operations import Hooks

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Settled:
    """What became of a request's messages: those to report failed, and of them those to postpone
    (they failed for a retryable reason, or were not tried for want of time)."""

    failed: frozenset[str] = frozenset()
    retry_later: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Sender:
    """How each part is sent: invalidate() with the batch's client, deadline and hooks."""

    cloudfront: CreatesInvalidations
    remaining_ms: Callable[[], int]
    hooks: Hooks
    sleep: Callable[[float], None] = time.sleep
    jitter: Callable[[], float] = random.random

    def send(self, request: Request) -> Outcome:
        return invalidate(
            self.cloudfront,
            request,
            self.remaining_ms,
            self.sleep,
            self.jitter,
            replan=self.hooks.replan,
            created=self.hooks.created,
            retrying=self.hooks.retrying,
        )


def invalidate_isolating(sender: Sender, request: Request) -> Settled:
    """Send the request; when CloudFront rejects it as invalid, find the paths it rejects (see above)."""
    outcome = sender.send(request)
    if outcome is Outcome.REJECTED and len(request.paths) > 1 and request.sources is not None:
        return _bisected(sender, request, _by_path(request, request.sources))
    return _settled(outcome, request)


def _by_path(request: Request, sources: Sources) -> dict[str, set[tuple[str, str]]]:
    """Each changed path of the request -> the (message id, key) pairs behind it: the keys of its
    messages that it carries, at their viewer paths on its distribution (as the batch mapped them)."""
    found: dict[str, set[tuple[str, str]]] = {}
    on = sources.served.on(request.distribution.id)
    for message_id in request.message_ids:
        for key in sources.keys_by_message.get(message_id, ()):
            if key in request.keys:
                for path in on.get(key, ()):
                    found.setdefault(path, set()).add((message_id, key))
    return found


def _settled(outcome: Outcome, request: Request) -> Settled:
    """A request sent whole: its messages fail unless it was created."""
    if outcome is Outcome.REJECTED:
        _log_path_rejected(request)
    if outcome is Outcome.CREATED:
        return Settled()
    retry = outcome is Outcome.RETRY_LATER
    return Settled(request.message_ids, request.message_ids if retry else frozenset())


def _bisected(sender: Sender, rejected: Request, by_path: Mapping[str, Set[tuple[str, str]]]) -> Settled:
    """The parts of `rejected` sent depth-first, the first half before the second; a rejected part of
    one path is a rejected path. `by_path`: each changed path -> the (message id, key) pairs behind it."""
    halves = _halves(rejected, by_path)
    failed = set(rejected.message_ids - {m for half in halves for m in half.message_ids})  # none covers
    retry_later: set[str] = set()
    pending = list(reversed(halves))
    while pending:
        if sender.remaining_ms() < RESERVE_MS:
            _interrupted(rejected, pending, failed, retry_later)
            break
        part = pending.pop()
        outcome = sender.send(part)
        if outcome is Outcome.REJECTED and len(part.paths) > 1:
            pending.extend(reversed(_halves(part, by_path)))
            continue
        settled = _settled(outcome, part)
        failed |= settled.failed
        retry_later |= settled.retry_later
    return Settled(frozenset(failed), frozenset(retry_later))


def _interrupted(rejected: Request, pending: list[Request], failed: set[str], retry_later: set[str]) -> None:
    """Out of time: the messages of the parts not sent are retried later."""
    waiting = {m for part in pending for m in part.message_ids}
    failed |= waiting
    retry_later |= waiting
    logger.warning(
        "split_interrupted",
        extra={
            "decision": "split_interrupted",
            "distribution": rejected.distribution.label,
            "distribution_id": rejected.distribution.id,
            "paths_not_sent": sum(len(part.paths) for part in pending),
            "messages": len(waiting),
            "outcome": "redelivered with backoff",
        },
    )


def _halves(request: Request, by_path: Mapping[str, Set[tuple[str, str]]]) -> tuple[Request, Request]:
    """The request's paths in two halves (in the request's order), each with the changed paths it
    covers and the messages and keys behind them; a key of both halves is counted in the first."""
    middle = len(request.paths) // 2
    first = _part(request, request.paths[:middle], frozenset(), by_path)
    return first, _part(request, request.paths[middle:], first.keys, by_path)


def _part(
    request: Request, paths: tuple[str, ...], counted: Set[str], by_path: Mapping[str, Set[tuple[str, str]]]
) -> Request:
    changed = frozenset(_covered(request.changed, paths))
    pairs = {pair for path in changed for pair in by_path.get(path, ())}
    return dataclasses.replace(
        request,
        paths=paths,
        message_ids=frozenset(message_id for message_id, _ in pairs),
        changed=changed,
        keys=frozenset(key for _, key in pairs) - counted,
    )


def _covered(changed: Iterable[str], paths: tuple[str, ...]) -> list[str]:
    """The changed paths that `paths` invalidate: equal to one, or starting with a wildcard's prefix."""
    exact = set(paths)
    prefixes = tuple(path[:-1] for path in paths if path.endswith("*"))
    return [path for path in changed if path in exact or path.startswith(prefixes)]


def _log_path_rejected(request: Request) -> None:
    """One line per path CloudFront rejects: a rejected request of one path (a longer one, not split,
    says nothing about which of its paths)."""
    if len(request.paths) != 1:
        return
    logger.error(
        "path_rejected",
        extra={
            "decision": "path_rejected",
            "distribution": request.distribution.label,
            "distribution_id": request.distribution.id,
            "path": request.paths[0],
            "messages": len(request.message_ids),
            "outcome": "its messages reach the dead-letter queue unless it recovers",
        },
    )
