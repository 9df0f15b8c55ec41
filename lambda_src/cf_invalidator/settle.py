"""Wait for an upload to settle, once: a batch handled while its deploy is still writing is retried later.

A batch handled while the upload runs sees most of its tree at the old versions: nothing says they
will change, so they count as evictions and the cover bills exact paths, batch after batch (a
regeneration of 2,700 files billed 2,694 paths where the settled tree needs 7). So a batch is *held*
(its messages reported as failed and handed to `postpone`: redelivered in 1 minute) when all of:
- the batch is at the front of a running upload: a distribution's tree (tree.py) shows one of the
  batch's own changed keys written within SETTLE_WINDOW (5 s) before now. S3 delivers an event in
  about a second and the event source hands a batch over when it is full or its window ends, so while
  an upload runs the batch's newest change is a second or two old when the tree is listed. A batch
  handed over when its window ends after the upload stopped, or one whose changes were written well
  before the upload's last writes (an earlier batch of a finished upload), sees no change that recent.
  It cannot tell an upload that has just ended from one that goes on: a batch holding the very last
  writes, handed over the moment they land, may be held for nothing (a minute of delay, no extra path);
- the planned requests of those distributions bill more than SETTLE_MIN_PATHS (20) paths: a plan that
  bills 20 paths or fewer (a lone change, a small deploy, any deploy whose tree is already settled
  enough for a cheap cover) costs at most 20 paths, which waiting cannot make much cheaper;
- every message with a key to invalidate is on its first receive (`ApproximateReceiveCount` "1"); a
  record without the attribute is never held. All or none: the batch is one cover, so holding part of
  it would plan the rest with the same unsettled tree; a redelivered message has waited already.
On the next receive the batch is planned normally: by then the tree shows what the upload wrote, and
the batches of the same deploy are left out by the dedupe (covered.py) or covered by cheap wildcards.
Bounded: one postponement per message at most (the receive count), so a bucket written to without a
pause (logs) delays each change by one minute once, never starves it. Never a lost change: a held
message is a batch item failure, exactly as a retryable failure is, and comes back (after 1 minute, or
at the queue's visibility timeout without `postpone`).
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
) -> set[str]:
    """The ids of the messages to hold until the upload settles (none: plan the batch now)."""
    writing = [r for r in requests if r.distribution.id in trees and trees[r.distribution.id].recent_changes]
    billed = sum(len(r.paths) for r in writing)
    if billed <= SETTLE_MIN_PATHS:
        return set()
    waiting = {m for r in requests for m in r.message_ids} - failed
    counts = [
        record.get("attributes", {}).get("ApproximateReceiveCount")
        for record in records
        if record["messageId"] in waiting
    ]
    if not counts or any(count != FIRST_RECEIVE for count in counts):
        return set()
    ids = {r.distribution.id for r in writing}
    logger.info(
        "upload_in_progress",
        extra={
            "decision": "upload_in_progress",
            "distributions": sorted(r.distribution.label for r in writing),
            "distribution_ids": sorted(ids),
            "messages_held": len(waiting),
            "keys_held": sum(len(keys_by_message.get(m, ())) for m in waiting),
            "recent_writes": sum(trees[i].recent_writes for i in ids),
            "recent_changes": sum(trees[i].recent_changes for i in ids),
            "recent_window_s": SETTLE_WINDOW.total_seconds(),
            "paths_planned": billed,
            "outcome": "redelivered in 1 minute, then planned with the settled tree",
        },
    )
    return waiting
