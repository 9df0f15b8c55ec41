"""A batch of messages -> one invalidation request per distribution, with a deterministic reference."""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .coalesce import coalesce
from .config import Config, Distribution
from .paths import viewer_paths


@dataclass(frozen=True)
class Request:
    """One CreateInvalidation call, and the messages whose changes it carries."""

    distribution: Distribution
    paths: tuple[str, ...]
    message_ids: frozenset[str]
    changed_paths: int  # distinct viewer paths before coalescing

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


def plan_requests(keys_by_message: Mapping[str, Sequence[str]], config: Config) -> list[Request]:
    """One request per distribution that serves at least one changed key, in configuration order."""
    requests = []
    for distribution in config.distributions:
        paths: set[str] = set()
        message_ids = set()
        for message_id, keys in keys_by_message.items():
            served = [p for key in keys for p in viewer_paths(key, distribution, config.index_document)]
            if served:
                paths.update(served)
                message_ids.add(message_id)
        if paths:
            coalesced = tuple(coalesce(paths, config.max_paths))
            requests.append(Request(distribution, coalesced, frozenset(message_ids), len(paths)))
    return requests
