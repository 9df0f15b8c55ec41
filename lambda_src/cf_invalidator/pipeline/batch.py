"""The planning stages: a batch of changes -> invalidations -> the batch's messages that failed.

In production the batch is one flush (flush.Planner): a distribution's inbox chunks, each read as an
SQS message whose id is the chunk's sort key. A message fails when its body cannot be understood, or
when a distribution serving one of its keys could not be invalidated (when CloudFront rejects a request
as invalid, only the messages of the paths it rejects: isolate.py). The failed messages are told to
`postpone` before the reply: with no delay when they failed for a retryable reason (the flush keeps
their chunks and backs off), with the seconds to wait when the spend guard holds their request back
(its distribution is past max_paths_per_day and had its `/*` of the interval: spend_guard.py); any
other failure is a refusal (the flush sends those chunks to the dead-letter queue). With an S3 client
and skip_unchanged_objects, keys whose new version a viewer cannot tell from the one it replaced are
left out before planning (detect.py); a message left with no key is done. With an S3 client, the tree
below each distribution's changed paths is listed (tree.py) so that the request is the cheapest cover
of them (cover.py) instead of a blind coalescing. What is in progress (in_progress.py), read again for
each batch, fits each request into what remains of CloudFront's quotas, and again when CloudFront says
they are full.

The order: `resolve` (an "auto" distribution's tree is listed with its routing); the viewer paths of
every key of the batch on each resolved distribution, worked out once (paths.BatchPaths) and read by
every stage after it; the tree's walk below all the batch's keys (tree.walk); change detection with the
resolved configuration (an "auto" distribution serves the keys its routing maps; a key only an
unresolved one may serve is not looked up, so it stays and its message is failed below), taking from the
walk the history of every key it saw whole and listing only the others; the unresolved distributions'
messages failed; the trees built from the walk with the keys detection kept (tree.trees); then the plan
and the invalidations.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence, Set
from dataclasses import dataclass
from typing import Any

from ..aws.detect import keys_to_invalidate
from ..aws.distribution_config import log_unresolved
from ..aws.invalidate import CreatesInvalidations
from ..aws.tree import Walk, trees, walk
from ..config import Config, Distribution
from ..core.deadline import ReadDeadline
from ..core.events import Change, MalformedMessageError, changes
from ..core.paths import BatchPaths
from ..core.plan import Request, plan_requests, refit
from .collaborators import DO_NOTHING, Collaborators, Postpone, QuotaView
from .isolate import Sender, invalidate_isolating
from .operations import Answered, Created, Hooks, Replan, operations_hooks

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Kept:
    """The batch after change detection: the configuration as resolved, the viewer paths of all its keys,
    the tree's walk, and each message's keys left to invalidate."""

    config: Config
    served: BatchPaths
    walked: Walk | None
    keys_by_message: dict[str, list[str]]


def process_batch(
    event: Mapping[str, Any],
    config: Config,
    cloudfront: CreatesInvalidations,
    remaining_ms: Callable[[], int],
    collaborators: Collaborators = DO_NOTHING,
) -> dict[str, list[dict[str, str]]]:
    """Handle an SQS event; return `{"batchItemFailures": [...]}` in the order the records came.
    `collaborators.resolve` (distribution_config.py) checks the distributions and maps those with
    origin_path "auto"; the ones it could not map fail every message that still has a key to invalidate.
    Its CloudFront reads and `in_progress`'s keep to the batch's deadline (deadline.py), never its
    CreateInvalidation calls. `metrics` hears what the batch did (and writes it at the end);
    `spend_guard` admits each request (or holds it back: its messages wait for the next `/*`)."""
    records: Sequence[Mapping[str, Any]] = event["Records"]
    changes_by_message, failed = read_messages(records)
    deadline = ReadDeadline(remaining_ms, creates=len(config.distributions))
    kept, unresolved = _kept(changes_by_message, config, remaining_ms, deadline, collaborators)
    config, keys_by_message, in_progress = kept.config, kept.keys_by_message, collaborators.in_progress
    waiting = _fail_unresolved(unresolved, keys_by_message, failed)
    in_progress.new_batch(deadline)
    replan, created = _quota_hooks(config, in_progress)
    known = trees(kept.walked, keys_by_message, config)
    answered = Answered(cloudfront)
    hooks = operations_hooks(collaborators.metrics, collaborators.spend_guard, replan, created, answered)
    requests = plan_requests(
        keys_by_message, config, in_progress=in_progress.get, trees=known, served=kept.served
    )
    delays: dict[str, int] = {}  # message id -> seconds it waits for the spend guard's next `/*`
    sender = Sender(answered, remaining_ms, hooks, collaborators.sleep, collaborators.jitter)
    retry_later = _send(requests, hooks, sender, failed, delays) | waiting
    log_unserved([key for keys in keys_by_message.values() for key in keys if not kept.served.served(key)])
    _postpone(collaborators.postpone, records, delays, retry_later)
    collaborators.metrics.emit()
    return {
        "batchItemFailures": [
            {"itemIdentifier": record["messageId"]} for record in records if record["messageId"] in failed
        ]
    }


def _kept(
    changes_by_message: Mapping[str, Sequence[Change]],
    config: Config,
    remaining_ms: Callable[[], int],
    deadline: ReadDeadline,
    collaborators: Collaborators,
) -> tuple[_Kept, tuple[Distribution, ...]]:
    """The stages before the plan: the distributions resolved (and those that could not be), the viewer
    paths of every key, the tree's walk, then change detection taking from the walk what it saw whole."""
    s3, metrics = collaborators.s3, collaborators.metrics
    resolved, unresolved = collaborators.resolve(config, deadline)
    buckets = {c.bucket for found in changes_by_message.values() for c in found}
    batch_keys = {c.key for found in changes_by_message.values() for c in found}
    served = BatchPaths.of(batch_keys, resolved)
    walked = walk(batch_keys, resolved, buckets, s3, remaining_ms, served=served, now=collaborators.now)
    listed = None if walked is None else walked.histories()
    keys_by_message = keys_to_invalidate(
        changes_by_message, resolved, s3, remaining_ms, served=served, judged=metrics.judged, listed=listed
    )
    metrics.read(changes_by_message, keys_by_message)
    return _Kept(resolved, served, walked, keys_by_message), unresolved


def _fail_unresolved(
    unresolved: tuple[Distribution, ...], keys_by_message: Mapping[str, Sequence[str]], failed: set[str]
) -> set[str]:
    """A distribution that could not be resolved may serve any key: every message still holding one
    fails for a retryable reason (a later read of the configuration may succeed; never dropped), and
    is returned."""
    if not unresolved:
        return set()
    waiting = {message_id for message_id, keys in keys_by_message.items() if keys}
    failed.update(waiting)
    log_unresolved(unresolved, len(waiting))
    return waiting


def _send(
    requests: Sequence[Request], hooks: Hooks, sender: Sender, failed: set[str], delays: dict[str, int]
) -> set[str]:
    """Each request admitted by the spend guard, then sent (a path CloudFront rejects isolated): its
    failed messages added to `failed`, those the guard holds back to `delays` (message id -> seconds
    until its next `/*`); the messages that failed for a retryable reason returned."""
    retry_later: set[str] = set()
    for planned in requests:
        admission = hooks.admit(planned)
        if admission.wait_s:
            failed.update(planned.message_ids)
            delays |= {m: max(admission.wait_s, delays.get(m, 0)) for m in planned.message_ids}
            continue
        settled = invalidate_isolating(sender, admission.request)
        hooks.settle()
        failed.update(settled.failed)
        retry_later.update(settled.retry_later)
    return retry_later


def _postpone(
    postpone: Postpone, records: Sequence[Mapping[str, Any]], delays: Mapping[str, int], retry: Set[str]
) -> None:
    """Each failed message postponed once: by its own delay when it has one (waiting for the spend
    guard's next `/*`), else, when it failed for a retryable reason, by its receive count."""
    for delay_s in sorted(set(delays.values())):
        postpone([record for record in records if delays.get(record["messageId"]) == delay_s], delay_s)
    later = retry - delays.keys()
    if later:
        postpone([record for record in records if record["messageId"] in later])


def _quota_hooks(config: Config, in_progress: QuotaView) -> tuple[Replan, Created]:
    """invalidate()'s `replan` (fit again to a fresh view when CloudFront says the quota is full) and
    `created` (tell the view of the invalidation made)."""

    def replan(stale: Request) -> Request:
        fresh = in_progress.get(stale.distribution.id, refresh=True)
        if fresh is None and stale.in_progress is None:
            return stale  # nothing in view, then or now: fitted again, it is the same request
        return refit(stale, config.max_paths, fresh, evictions_per_path=config.evictions_per_path)

    def created(made: Request, invalidation: Mapping[str, Any]) -> None:
        in_progress.record(made.distribution.id, invalidation["Id"], made.paths)

    return replan, created


def read_messages(records: Sequence[Mapping[str, Any]]) -> tuple[dict[str, list[Change]], set[str]]:
    """The changes of each readable message, and the ids of the unreadable ones."""
    changes_by_message: dict[str, list[Change]] = {}
    failed: set[str] = set()
    for record in records:
        message_id = record["messageId"]
        try:
            changes_by_message[message_id] = changes(record["body"])
        except MalformedMessageError as error:
            failed.add(message_id)
            logger.error(
                "message_rejected",
                extra={"decision": "message_rejected", "message_id": message_id, "reason": str(error)},
            )
    return changes_by_message, failed


def log_unserved(unserved: Sequence[str]) -> None:
    """Keys outside every distribution's origin path are served by none: say so, once per batch."""
    if unserved:
        logger.info(
            "keys_unserved",
            extra={"decision": "keys_unserved", "key_count": len(unserved), "example_key": unserved[0]},
        )
