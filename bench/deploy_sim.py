"""The shared simulation of the deploy benches (deploy_stress.py, deploy_cost.py, deploy_regeneration.py).

A world runs the pipeline production builds (deploy.pipeline, flush.Planner over batch.py) in
tests/python/support/deploy_world.py: moto's S3, SQS and DynamoDB in-process, CloudFront as
support/cloudfront_model.py (it enforces the quotas in progress: 3,000 paths, 15 wildcards; an
invalidation completes `COMPLETION_S` after it is made), the queue's delays and visibility timeouts on
the virtual clock. Assumptions: `quiet_seconds` and `max_wait_seconds` at the pipeline's defaults (5 and
120 s); the function's memory at the module's (variables.tf); `LATENCY_S` per call of each service.
`timed` puts each invocation's time on that clock (deploy_meter.Stopwatch: the handler's CPU here times
deploy_meter.cpu_factor at that memory, plus the latency of each call), `Instrumented` records it.
"""

from __future__ import annotations

import os
import sys
import tracemalloc
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from unittest import mock

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "lambda_src"), str(ROOT / "tests" / "python"), str(ROOT / "bench")]

from deploy_meter import Stopwatch, Timed, cpu_factor  # noqa: E402

from support.cloudfront_model import EPOCH, CloudFrontModel, VirtualClock  # noqa: E402
from support.deploy_world import Clock, Crash, World, make_world  # noqa: E402
from support.module_defaults import module_defaults  # noqa: E402
from support.moto_server import FAKE_AWS_ENVIRONMENT  # noqa: E402

DEFAULTS = module_defaults()
QUIET_S, MAX_WAIT_S = DEFAULTS.quiet_seconds, DEFAULTS.max_wait_seconds
COMPLETION_S = 60.0  # CloudFront takes seconds to minutes to complete an invalidation
MEMORY_MB = DEFAULTS.lambda_memory_size
LATENCY_S = {"s3": 0.020, "dynamodb": 0.005, "sqs": 0.010, "cloudfront": 0.200}
CLIENTS = ("sqs", "dynamodb", "cloudfront")


class Patches:
    """pytest's monkeypatch.setattr outside pytest, undone on exit."""

    def __init__(self) -> None:
        self._undo: list[tuple[Any, str, Any]] = []

    def setattr(self, target: Any, name: str, value: Any) -> None:
        self._undo.append((target, name, getattr(target, name)))
        setattr(target, name, value)

    def undo(self) -> None:
        for target, name, value in reversed(self._undo):
            setattr(target, name, value)


class WorldClock(VirtualClock):
    """The CloudFront model's clock (seconds since its EPOCH, which CreateTime counts from) read from the
    world's (epoch seconds)."""

    def __init__(self, clock: Clock) -> None:
        super().__init__()
        self._clock = clock

    def now(self) -> float:
        return self._clock() - EPOCH.timestamp()

    def sleep(self, seconds: float) -> None:
        self._clock.advance(seconds)

    def datetime(self) -> datetime:
        return datetime.fromtimestamp(self._clock(), UTC)


@dataclass
class Watched:
    """The CloudFront model behind the world, and the most paths and wildcards it had in progress."""

    model: CloudFrontModel | None = None
    most_wildcards: int = 0
    most_paths: int = 0

    def __call__(self, distribution_id: str, clock: Clock) -> Any:
        self.model = CloudFrontModel([distribution_id], WorldClock(clock), completion_seconds=COMPLETION_S)
        return self.model

    def watch(self, world: World) -> None:
        def after(operation: str, _: Mapping[str, Any], answer: Any) -> None:
            if operation == "create_invalidation" and self.model is not None:
                paths, wildcards = self.model.in_progress(world.distribution.id)
                self.most_wildcards = max(self.most_wildcards, wildcards)
                self.most_paths = max(self.most_paths, paths + wildcards)

        world.cloudfront.observers.append(after)

    def refused(self) -> int:
        outcomes = Counter() if self.model is None else self.model.outcomes()
        return sum(n for outcome, n in outcomes.items() if outcome not in ("Created", "Deduplicated"))


@contextmanager
def stress_world(crash: tuple[str, Crash] | None = None) -> Iterator[tuple[World, Watched]]:
    """A deploy world (moto in-process, the CloudFront model) at the pipeline's defaults."""
    from moto import mock_aws  # noqa: PLC0415 (moto loads slowly)

    watched = Watched()
    patches = Patches()
    with mock.patch.dict(os.environ, FAKE_AWS_ENVIRONMENT), mock_aws():
        try:
            world = make_world(patches, crash=crash, quiet=QUIET_S, max_wait=MAX_WAIT_S, cloudfront=watched)
            watched.watch(world)
            yield world, watched
        finally:
            patches.undo()


@dataclass(frozen=True)
class Invocation:
    records: int
    ticks: int  # of the records, the function's own flush ticks
    virtual_s: float  # on the virtual clock: CPU x cpu_factor + the calls' latency
    cpu_s: float  # the handler's CPU on this machine (moto's left out)
    peak_mb: float | None  # tracemalloc's peak during the invocation, when traced


@dataclass
class Instrumented:
    """A container's pipeline, each invocation timed on the stopwatch (and traced, with `trace`)."""

    pipeline: Any
    stopwatch: Stopwatch
    clock: Clock
    trace: bool = False
    invocations: list[Invocation] = field(default_factory=list)

    def handle(self, event: Mapping[str, Any]) -> dict[str, list[dict[str, str]]]:
        started = self.clock()
        if self.trace:  # only during the invocation: what it allocates, at the tracer's cost
            tracemalloc.start()
        self.stopwatch.begin()
        try:
            return self.pipeline.handle(event)  # type: ignore[no-any-return]
        finally:
            cpu = self.stopwatch.end()
            peak = tracemalloc.get_traced_memory()[1] / 2**20 if self.trace else None
            tracemalloc.stop()
            records = event["Records"]
            ticks = sum(1 for r in records if '"cf_invalidator"' in r["body"])
            self.invocations.append(Invocation(len(records), ticks, self.clock() - started, cpu, peak))


def timed(world: World, memory_mb: int) -> Stopwatch:
    """The world's clients (S3's too) taking their latency and the handler's CPU on the virtual clock."""
    stopwatch = Stopwatch(world.clock.advance, cpu_factor(memory_mb))
    for name in CLIENTS:
        client = getattr(world, name)
        client._client = Timed(client._client, stopwatch, name, LATENCY_S[name])
    world.s3 = Timed(world.s3, stopwatch, "s3", LATENCY_S["s3"])
    return stopwatch
