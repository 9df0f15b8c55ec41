"""Wait for an upload to settle, once: a batch handled while its deploy is still writing is retried later.

A batch handled while the upload runs sees most of its tree at the old versions: nothing says they
will change, so they count as evictions and the cover bills exact paths, batch after batch (a
regeneration of 2,700 files billed 2,694 paths where the settled tree needs 7). And a cheap cover is
billed again by each batch of the deploy: twelve batches of a 12,000-file regeneration each billed
`/docs/*`, because the dedupe (covered.py) lets an invalidation cover only changes written at least its
MARGIN (60 s) before it was created, and the next batch's changes are younger than that. So a batch is
*held* (its messages reported as failed and handed to `postpone`, redelivered after SETTLE_DELAY_S) when
every message with a key to invalidate is on its first receive (`ApproximateReceiveCount` "1"; a record
without the attribute is never held; all or none: the batch is one cover, and a redelivered message has
waited already), and one of:
- *the upload is running*: a distribution's tree (tree.py) shows one of the batch's own changed keys
  written within SETTLE_WINDOW (5 s) before now, and the planned requests of those distributions bill
  more than SETTLE_MIN_PATHS (20) paths or a directory wildcard. S3 delivers an event in about a second
  and the event source hands a batch over when it is full or its window ends, so while an upload runs
  the batch's newest change is a second or two old when the tree is listed; a batch handed over when
  its window ends after a small upload stopped sees no change that recent. Exact paths are the batch's
  own, never billed again by another batch; a plan of 20 of them or fewer waits for nothing;
- *its wildcards will be billed again*: a directory wildcard of its plan covers changes of the deploy
  (tree.py's `young`) that other batches carry and that were written less than MARGIN before now. An
  invalidation made now would not cover them, so their batches would bill the wildcard again; a
  deploy's batches handed over together after its upload (a batching window longer than the upload)
  are held together, and the first back covers the rest.
The delay, SETTLE_DELAY_S (2 minutes = twice the dedupe's margin): a batch held at t comes back at
t + 120 s and its invalidation covers, by the dedupe's rule, every change written before t + 60 s, so
the batches held in the minute after it come back covered and bill nothing; one wildcard is billed per
minute of a running upload, not per batch, and a deploy whose batches were all handed over after its
upload bills it once. A viewer waits up to about 2 minutes longer for the changes of a large deploy:
no later than an invalidation made a minute after the upload ends would refresh them.
Bounded: one postponement per message at most (the receive count), so a bucket written to without a
pause (logs) delays each change by two minutes once, never starves it. Never a lost change: a held
message is a batch item failure, exactly as a retryable failure is, and comes back (after the delay,
or at the queue's visibility timeout without `postpone`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence, Set
from typing import Any

from .plan import Request
from .tree import SETTLE_WINDOW, Tree

logger = logging.getLogger(__name__)

SETTLE_MIN_PATHS = 20  # paths a plan may bill without waiting (issue 13's target for a regeneration)
SETTLE_DELAY_S = 120  # a held batch comes back after this (see the module's docstring)
FIRST_RECEIVE = "1"


def held_for_upload(
    records: Sequence[Mapping[str, Any]],
    keys_by_message: Mapping[str, Sequence[str]],
    trees: Mapping[str, Tree],
    requests: Sequence[Request],
    failed: Set[str],
) -> set[str]:
    """The ids of the messages to hold until the upload settles (none: plan the batch now)."""
    listed = [r for r in requests if r.distribution.id in trees]
    writing = [r for r in listed if trees[r.distribution.id].recent_changes]
    billed = sum(len(r.paths) for r in writing)
    running = billed > SETTLE_MIN_PATHS or any(_wildcards(r) for r in writing)
    repeated = [r for r in listed if _young_under_wildcards(r, trees[r.distribution.id])]
    if not running and not repeated:
        return set()
    waiting = {m for r in requests for m in r.message_ids} - failed
    counts = [
        record.get("attributes", {}).get("ApproximateReceiveCount")
        for record in records
        if record["messageId"] in waiting
    ]
    if not counts or any(count != FIRST_RECEIVE for count in counts):
        return set()
    held = writing if running else repeated
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
            "redelivery_delay_s": SETTLE_DELAY_S,
            "outcome": f"redelivered in {SETTLE_DELAY_S // 60} minutes, then planned with the settled tree",
        },
    )
    return waiting


def _wildcards(request: Request) -> list[str]:
    return [path for path in request.paths if path.endswith("*")]


def _young_under_wildcards(request: Request, tree: Tree) -> int:
    """The deploy's changes other batches carry, written within the dedupe's margin, below the request's
    directory wildcards (`/docs/*`): each of those batches would bill that wildcard again."""
    return sum(tree.young.get(path[:-1], 0) for path in _wildcards(request) if path.endswith("/*"))
