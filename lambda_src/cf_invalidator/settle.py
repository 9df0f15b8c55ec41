"""Wait for an upload to settle, once: a batch handled while its deploy is still writing is retried later.

A batch handled while the upload runs sees most of its tree at the old versions: nothing says they
will change, so they count as evictions and the cover bills exact paths, batch after batch (a
regeneration of 2,700 files billed 2,694 paths where the settled tree needs 7). And a cheap cover is
billed again by each batch of the deploy: twelve batches of a 12,000-file regeneration each billed
`/docs/*`, because the dedupe (covered.py) lets an invalidation cover only changes written at least its
MARGIN (60 s) before it was created, and the next batch's changes are younger than that.

So a batch is *held* (its messages reported as failed and handed to `postpone`, to come back after the
input `upload_settle_seconds`; 0 never holds) when every message with a key to invalidate is on its
first receive (`ApproximateReceiveCount` "1"; a record without the attribute is never held; all or
none: the batch is one cover, and a redelivered message has waited already), and a distribution's
request carries more than SETTLE_MIN_PATHS (20) changed paths (a lone change or a small deploy is
planned at once: it bills 20 paths at most, and waiting would only delay it), and one of:
- *the upload is running*: its tree (tree.py) shows one of the batch's own changed keys written within
  SETTLE_WINDOW (5 s) before now, and the plan bills more than 20 paths or a directory wildcard. S3
  delivers an event in about a second and the event source hands a batch over when it is full or its
  window ends, so while an upload runs the batch's newest change is a second or two old when the tree
  is listed; a batch handed over when its window ends after the upload stopped sees no change that
  recent. The next batches of a running upload would bill the same wildcard again, or (exact paths
  where the tree looks unchanged) need no such number of paths once the tree has settled;
- *its wildcards would be billed again*: a directory wildcard of its plan covers changes of the deploy
  (tree.py's `young`) that other batches carry and that were written less than MARGIN before now. An
  invalidation made now would not cover them, so their batches would bill the wildcard again. A
  deploy's batches handed over together after its upload (a window longer than the upload) are held
  together, and the first one back covers the others.

The delay, 120 s by default (twice the dedupe's margin): a batch held at t comes back at t + 120 s and
its invalidation covers, by the dedupe's rule, every change written before t + 60 s, so the batches
held in the minute after it come back covered and bill nothing: a running upload bills its wildcards
once a minute, not once a batch. At 60 s (the margin itself) each held batch bills its own again, and
the wait saves only what the settled tree's cover saves. A viewer waits up to the delay longer for the
changes of a large deploy: about as long as for an invalidation made once the upload has ended.

Bounded: one postponement per message at most (the receive count), so a bucket written to without a
pause (logs) delays each change once, never starves it. Never a lost change: a held message is a batch
item failure, exactly as a retryable failure is, and comes back (after the delay, or at the queue's
visibility timeout without `postpone`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence, Set
from typing import Any

from .plan import Request
from .tree import SETTLE_WINDOW, Tree

logger = logging.getLogger(__name__)

SETTLE_MIN_PATHS = 20  # paths a plan may bill without waiting (issue 13's target for a regeneration)
FIRST_RECEIVE = "1"


def held_for_upload(
    records: Sequence[Mapping[str, Any]],
    keys_by_message: Mapping[str, Sequence[str]],
    trees: Mapping[str, Tree],
    requests: Sequence[Request],
    failed: Set[str],
    *,
    delay_s: int,
) -> set[str]:
    """The ids of the messages to hold for `delay_s` until the upload settles (none: plan the batch now;
    `delay_s` 0 never holds)."""
    if delay_s == 0:
        return set()
    held = [r for r in requests if r.distribution.id in trees and _worth_holding(r, trees[r.distribution.id])]
    if not held:
        return set()
    waiting = {m for r in requests for m in r.message_ids} - failed
    counts = [
        record.get("attributes", {}).get("ApproximateReceiveCount")
        for record in records
        if record["messageId"] in waiting
    ]
    if not counts or any(count != FIRST_RECEIVE for count in counts):
        return set()
    ids = {r.distribution.id for r in held}
    logger.info(
        "upload_in_progress",
        extra={
            "decision": "upload_in_progress",
            "distributions": sorted(r.distribution.label for r in held),
            "distribution_ids": sorted(ids),
            "messages_held": len(waiting),
            "keys_held": sum(len(keys_by_message.get(m, ())) for m in waiting),
            "recent_writes": sum(trees[i].recent_writes for i in ids),
            "recent_changes": sum(trees[i].recent_changes for i in ids),
            "recent_window_s": SETTLE_WINDOW.total_seconds(),
            "young_changes": sum(_young_under_wildcards(r, trees[r.distribution.id]) for r in held),
            "paths_planned": sum(len(r.paths) for r in held),
            "redelivery_delay_s": delay_s,
            "outcome": f"redelivered in {delay_s} s, then planned with the settled tree",
        },
    )
    return waiting


def _worth_holding(request: Request, tree: Tree) -> bool:
    """More than SETTLE_MIN_PATHS changed paths, and the upload runs (a change of the batch written
    within SETTLE_WINDOW) with a plan of more paths than that or a wildcard, or a wildcard of the plan
    would be billed again for the deploy's young changes other batches carry."""
    if request.changed_paths <= SETTLE_MIN_PATHS:
        return False
    running = tree.recent_changes > 0 and (len(request.paths) > SETTLE_MIN_PATHS or bool(_wildcards(request)))
    return running or _young_under_wildcards(request, tree) > 0


def _wildcards(request: Request) -> list[str]:
    return [path for path in request.paths if path.endswith("*")]


def _young_under_wildcards(request: Request, tree: Tree) -> int:
    """The deploy's changes other batches carry, written within the dedupe's margin, below the request's
    directory wildcards (`/docs/*`): each of those batches would bill that wildcard again."""
    return sum(tree.young.get(path[:-1], 0) for path in _wildcards(request) if path.endswith("/*"))
