"""A batch of messages -> one invalidation request per distribution, with a deterministic reference.

With the tree below a distribution's changed paths (tree.py), the request is the cheapest cover of
them (cover.py: exact paths and directory wildcards, scored as paths billed + unchanged objects evicted /
evictions_per_path) within the budget and the same quota limits `fit` uses (every wildcard left, the
whole quota without a view; the file paths left); `cover_planned` is logged. Without
a tree, or when no cover avoids evicting unknown objects (or any object, with evictions_per_path 0)
within those limits, the request is coalesced blind as below.

With a view of what is in progress on a distribution (`in_progress`), the request is fitted into what
remains of CloudFront's quotas (coalesce.fit); without one (none given, or the lookup failed), or when
nothing fits, it is coalesced as without the view. A request the view leaves no room for is not sent:
it waits as one CloudFront refused with TooManyInvalidationsInProgress (backoff, fitted again to a
fresh view, then redelivered later).
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
from collections.abc import Callable, Mapping, Sequence, Set
from dataclasses import dataclass, field
from typing import Protocol

from ..config import DEFAULT_EVICTIONS_PER_PATH, Config, Distribution
from .coalesce import FILES_IN_PROGRESS, WILDCARDS_IN_PROGRESS, InProgress, coalesce, fit
from .cover import Cover, cover
from .paths import BatchPaths

logger = logging.getLogger(__name__)


class Tree(Protocol):
    """What planning reads of a distribution's listed tree (tree.Tree, built from S3 listings): the
    evictions below each directory, and the listing calls it took (logged)."""

    @property
    def list_calls(self) -> int: ...
    def evictions(self, directory: str) -> float: ...


@dataclass(frozen=True)
class Sources:
    """The batch a request was planned from: each message's keys and their viewer paths. Held by
    reference, so planning builds nothing for it: which messages a path serves is worked out from it only
    when CloudFront rejects the request (isolate.py)."""

    keys_by_message: Mapping[str, Sequence[str]]
    served: BatchPaths


@dataclass(frozen=True)
class Request:
    """One CreateInvalidation call, and the messages whose changes it carries."""

    distribution: Distribution
    paths: tuple[str, ...]
    message_ids: frozenset[str]
    changed: frozenset[str]  # the distinct viewer paths before coalescing, to fit them again
    keys: frozenset[str] = field(default=frozenset(), compare=False, repr=False)  # changed keys it carries
    in_progress: InProgress | None = None  # what it was fitted into; None: planned without that view
    fits: bool = True  # False: that view leaves no room for it, so it waits without being sent
    tree: Tree | None = field(default=None, compare=False, repr=False)  # to cover it again when refitted
    # the batch it was planned from: to tell, when CloudFront rejects a path, whose messages fail
    # (isolate.py); None when not planned from messages
    sources: Sources | None = field(default=None, compare=False, repr=False)

    @property
    def changed_paths(self) -> int:
        return len(self.changed)

    @functools.cached_property  # a hash over every message id: computed once, read on every call and log
    def caller_reference(self) -> str:
        return caller_reference(self.distribution.id, self.paths, self.message_ids)

    def invalidation_batch(self) -> dict[str, object]:
        return {
            "Paths": {"Quantity": len(self.paths), "Items": list(self.paths)},
            "CallerReference": self.caller_reference,
        }


def caller_reference(distribution_id: str, paths: Sequence[str], message_ids: frozenset[str]) -> str:
    """The same distribution, paths and SQS messages always give the same reference, so CloudFront
    answers a redelivered batch with the invalidation it already made instead of billing a new one."""
    identity = json.dumps([distribution_id, sorted(paths), sorted(message_ids)], separators=(",", ":"))
    return "s3-" + hashlib.sha256(identity.encode("utf-8")).hexdigest()


def plan_requests(
    keys_by_message: Mapping[str, Sequence[str]],
    config: Config,
    *,
    in_progress: Callable[[str], InProgress | None] | None = None,
    trees: Mapping[str, Tree] | None = None,
    served: BatchPaths | None = None,
) -> list[Request]:
    """One request per distribution that serves at least one changed key, in configuration order;
    `in_progress(distribution_id)` tells what is in progress there (None: unknown), `trees` the tree
    below its changed paths (distribution id -> tree; none: coalesced blind). `served` holds the keys'
    viewer paths, worked out once for the batch (none given: here)."""
    requests = []
    if served is None:
        served = BatchPaths.of({key for keys in keys_by_message.values() for key in keys}, config)
    sources = Sources(keys_by_message, served)
    for distribution in config.distributions:
        paths: set[str] = set()
        message_ids = set()
        carried: set[str] = set()
        on = served.on(distribution.id)
        for message_id, keys in keys_by_message.items():
            for key in keys:
                served_paths = on.get(key)
                if served_paths:
                    paths.update(served_paths)
                    carried.add(key)
                    message_ids.add(message_id)
        if paths:
            state = None if in_progress is None else in_progress(distribution.id)
            tree = None if trees is None else trees.get(distribution.id)
            requests.append(
                fitted(
                    distribution,
                    paths,
                    frozenset(message_ids),
                    config.max_paths,
                    state,
                    tree=tree,
                    evictions_per_path=config.evictions_per_path,
                    keys=frozenset(carried),
                    sources=sources,
                )
            )
    return requests


def fitted(
    distribution: Distribution,
    changed: Set[str],
    message_ids: frozenset[str],
    budget: int,
    in_progress: InProgress | None,
    *,
    tree: Tree | None = None,
    evictions_per_path: float = DEFAULT_EVICTIONS_PER_PATH,
    keys: frozenset[str] = frozenset(),
    sources: Sources | None = None,
) -> Request:
    """The request covering `changed` (the viewer paths of the changed `keys`): the cheapest cover when
    the tree is known and one fits, else fitted into what remains of the quotas when that is known and
    something fits, else coalesced as without that view."""
    covered = None if tree is None else _cover(changed, tree, budget, in_progress, evictions_per_path)
    if covered is not None:
        paths, fits = list(covered.paths), True
    else:
        fitting = None if in_progress is None else fit(changed, budget, in_progress)
        paths = coalesce(changed, budget) if fitting is None else fitting
        fits = in_progress is None or fitting is not None
    frozen = frozenset(changed)
    request = Request(distribution, tuple(paths), message_ids, frozen, keys, in_progress, fits, tree, sources)
    if covered is not None:
        _log_cover_planned(request, covered, tree)
    if not fits:
        _log_quota_exhausted(request)
    return request


def refit(
    request: Request,
    budget: int,
    in_progress: InProgress | None,
    *,
    evictions_per_path: float = DEFAULT_EVICTIONS_PER_PATH,
) -> Request:
    """The same changes and messages, fitted again (e.g. into what is in progress now)."""
    return fitted(
        request.distribution,
        request.changed,
        request.message_ids,
        budget,
        in_progress,
        tree=request.tree,
        evictions_per_path=evictions_per_path,
        keys=request.keys,
        sources=request.sources,
    )


def _cover(
    changed: Set[str], tree: Tree, budget: int, in_progress: InProgress | None, evictions_per_path: float
) -> Cover | None:
    """The cheapest cover within the budget and the limits `fit` would apply."""
    wildcards = WILDCARDS_IN_PROGRESS if in_progress is None else in_progress.wildcards_left
    files = FILES_IN_PROGRESS if in_progress is None else in_progress.files_left
    return cover(
        changed,
        tree.evictions,
        evictions_per_path=evictions_per_path,
        budget=budget,
        max_wildcards=wildcards,
        max_files=files,
    )


def _log_cover_planned(request: Request, covered: Cover, tree: Tree | None) -> None:
    logger.info(
        "cover_planned",
        extra={
            "decision": "cover_planned",
            "distribution": request.distribution.label,
            "distribution_id": request.distribution.id,
            "changed_paths": request.changed_paths,
            "paths": len(covered.paths),
            "wildcards": covered.wildcards,
            "evictions": covered.evictions,
            "list_calls": 0 if tree is None else tree.list_calls,
        },
    )


def _log_quota_exhausted(request: Request) -> None:
    in_progress = request.in_progress or InProgress()
    logger.warning(
        "quota_exhausted",
        extra={
            "decision": "quota_exhausted",
            "distribution": request.distribution.label,
            "distribution_id": request.distribution.id,
            "changed_paths": request.changed_paths,
            "wildcards_in_progress": in_progress.wildcards,
            "files_in_progress": in_progress.files,
            "outcome": "not even /* fits: waits for invalidations in progress to complete",
        },
    )
