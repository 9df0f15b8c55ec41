"""The deploy pipeline under stress (docs/deploy-flush.md, "Under stress"), on a virtual clock.

Every scenario runs the pipeline production builds (deploy.pipeline, flush.Planner over batch.py) in
tests/python/support/deploy_world.py: moto's S3, SQS and DynamoDB in-process, CloudFront as
support/cloudfront_model.py (it enforces the quotas in progress: 3,000 paths, 15 wildcards; an
invalidation completes `COMPLETION_S` after it is made), the queue's delays and visibility timeouts on
the virtual clock. Changes are judged by the path oracle (support/path_oracle.py), never by the code.
Assumptions: `quiet_seconds` and `max_wait_seconds` at the pipeline's defaults (5 and 120 s); the
function's timeout and memory at the module's (variables.tf).

- The writer that never stops: one object a second into one folder for two hours; when each change
  was invalidated, and the paths billed each hour.
- Crashes: a deploy of `CRASH_KEYS` keys in batches of 10 is run once without a crash, its calls of
  SQS, DynamoDB and CloudFront counted; then once per call and side (the container dies just before
  the call, or just after it returned), the run going on until every message was handled.
- Cost per deploy: `COST_DEPLOYS` files written at 100 a second, the event source handing over what
  came in each 1 s window (up to the module's batch_size); every request the deploy causes beside
  CloudFront's is counted (deploy_meter.py) and priced; the invocations' durations are the handler's
  CPU here times deploy_meter.cpu_factor plus `LATENCY_S` per call.
Figures are printed and written into the docs' sections with their targets, never asserted.
"""

from __future__ import annotations

import logging
import os
import statistics
import sys
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Executor, Future
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from unittest import mock

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "lambda_src"), str(ROOT / "tests" / "python"), str(ROOT / "bench")]

from deploy_meter import (  # noqa: E402
    DeployRequests,
    DynamoDBMeter,
    Stopwatch,
    Timed,
    billed_ms,
    cpu_factor,
    priced,
    sqs_requests,
)
from parallel import Finish, Sections, run_alone  # noqa: E402
from sections import markdown_table  # noqa: E402

from support.cloudfront_model import EPOCH, CloudFrontModel, VirtualClock  # noqa: E402
from support.deploy_world import Clock, Crash, World, make_world  # noqa: E402
from support.module_defaults import module_defaults  # noqa: E402
from support.moto_server import FAKE_AWS_ENVIRONMENT  # noqa: E402

QUIET_S, MAX_WAIT_S = 5, 120
COMPLETION_S = 60.0  # CloudFront takes seconds to minutes to complete an invalidation
MEMORY_MB = 128  # variables.tf lambda_memory_size (checked in `main`)
LATENCY_S = {"s3": 0.020, "dynamodb": 0.005, "sqs": 0.010, "cloudfront": 0.200}
CRASH_KEYS = 60
COST_DEPLOYS = (400, 4000)
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


# --- the writer that never stops ----------------------------------------------------------------------


@dataclass(frozen=True)
class WriterResult:
    changes: int
    delays_s: list[float]  # change to the first invalidation covering it, of the covered changes
    missed: int  # changes no invalidation made at or after their write covers (path oracle)
    paths_by_hour: list[tuple[int, int]]  # (requests, paths billed) in each hour
    refused: int
    most_wildcards: int


def writer(seconds: int = 2 * 3600, folder: str = "logs") -> WriterResult:
    """One object a second into `folder` for `seconds`, each 1 s window handed over as one batch."""
    with stress_world() as (world, watched):
        container = world.container()
        start, written = world.clock(), {}
        for n in range(seconds):
            key = f"{folder}/entry-{n:05}.html"
            written[key] = world.clock()
            world.write([key])
            container.step(1000)  # the 1 s window: this second's event, and the ticks due
            world.clock.advance(1)
        container.run(MAX_WAIT_S + 60)
        covered = {key: world.covered_at(key, since=at) for key, at in written.items()}
        return WriterResult(
            changes=len(written),
            delays_s=[at - written[key] for key, at in covered.items() if at is not None],
            missed=sum(1 for at in covered.values() if at is None),
            paths_by_hour=billed_by_hour(world.invalidated_at, start),
            refused=watched.refused(),
            most_wildcards=watched.most_wildcards,
        )


def billed_by_hour(
    invalidations: Sequence[tuple[float, Sequence[str], str]], start: float
) -> list[tuple[int, int]]:
    """(requests, paths) billed in each hour from `start`: a CallerReference seen again bills nothing."""
    seen: set[str] = set()
    hours: dict[int, tuple[int, int]] = {}
    for at, paths, reference in invalidations:
        if reference in seen:
            continue
        seen.add(reference)
        requests, billed = hours.get(int((at - start) // 3600), (0, 0))
        hours[int((at - start) // 3600)] = (requests + 1, billed + len(paths))
    return [hours.get(hour, (0, 0)) for hour in range(max(hours, default=-1) + 1)]


def writer_section(result: WriterResult) -> str:
    delays = sorted(result.delays_s)
    longest = f"{delays[-1]:.0f} s" if delays else "none covered"
    median = f"{statistics.median(delays):.0f} s" if delays else "none covered"
    rows = [
        ("Changes written (one a second, one folder)", f"{result.changes:,}", ""),
        ("Changes missed (path oracle)", f"{result.missed}", "0"),
        ("Longest change-to-invalidation", longest, f"<= {MAX_WAIT_S + 10} s"),
        ("Median change-to-invalidation", median, "reported"),
        ("CloudFront calls refused", f"{result.refused}", "0"),
        ("Most wildcards in progress", f"{result.most_wildcards}", "<= 15"),
    ]
    hours = [
        (f"{hour + 1}", f"{requests}", f"{paths:,}")
        for hour, (requests, paths) in enumerate(result.paths_by_hour)
    ]
    return (
        markdown_table(("Measure", "Value", "Target"), rows, "lrr")
        + "\n"
        + markdown_table(("Hour", "Invalidations", "Paths billed"), hours, "rrr")
    )


# --- a crash at every call ----------------------------------------------------------------------------


@dataclass(frozen=True)
class CrashPoint:
    client: str
    operation: str
    nth: int
    after: bool


@dataclass(frozen=True)
class CrashResult:
    point: CrashPoint
    fired: bool
    missed: int
    creates: int  # CreateInvalidation calls CloudFront answered
    billed: int  # of those, new invalidations (distinct CallerReferences)
    dead_letters: int
    refused: int
    most_wildcards: int
    inbox_left: int


def crash_keys() -> list[str]:
    return [
        f"{folder}/page-{n:02}.html" for folder in ("docs", "blog", "shop") for n in range(CRASH_KEYS // 3)
    ]


def crash_run(point: CrashPoint | None) -> tuple[CrashResult, Counter[tuple[str, str]]]:
    """The deploy with a crash at `point` (None: none); its result and the calls each client made."""
    crash = None if point is None else Crash(point.operation, point.nth, point.after)
    armed = None if point is None or crash is None else (point.client, crash)
    with stress_world(armed) as (world, watched):
        container = world.container()
        keys = crash_keys()
        for start in range(0, len(keys), 10):  # 100 files a second, batches of 10
            world.write(keys[start : start + 10])
            world.clock.advance(0.1)
            container.step()
        container.run(900, tick=2)
        calls = Counter((name, op) for name in CLIENTS for op, _ in getattr(world, name).calls)
        references = [reference for _, _, reference in world.invalidated_at]
        result = CrashResult(
            point=point or CrashPoint("", "", 0, False),
            fired=crash is not None and crash.fired,
            missed=len(world.uncovered(keys)),
            creates=len(references),
            billed=len(set(references)),
            dead_letters=len(world.dead_letter_keys()),
            refused=watched.refused(),
            most_wildcards=watched.most_wildcards,
            inbox_left=world.inbox_items(),
        )
        return result, calls


def crash_points(calls: Mapping[tuple[str, str], int]) -> list[CrashPoint]:
    """Every call of a crash-free run, before it and after it."""
    return [
        CrashPoint(client, operation, nth, after)
        for (client, operation), count in sorted(calls.items())
        for nth in range(1, count + 1)
        for after in (False, True)
    ]


def crash_only(point: CrashPoint) -> CrashResult:
    return crash_run(point)[0]


def crashes_section(
    clean: CrashResult, calls: Mapping[tuple[str, str], int], results: Sequence[CrashResult]
) -> str:
    fired = [r for r in results if r.fired]
    extra_creates = max((r.creates - clean.creates for r in fired), default=0)
    extra_billed = max((r.billed - clean.billed for r in fired), default=0)
    rows = [
        ("Calls in a crash-free deploy (SQS, DynamoDB, CloudFront)", f"{sum(calls.values())}", ""),
        ("Crash points (each call, before and after)", f"{len(results)} ({len(fired)} reached)", ""),
        ("Changes missed, all points (path oracle)", f"{sum(r.missed for r in results)}", "0"),
        ("Most CreateInvalidation repeated by one crash", f"{extra_creates}", "<= 1"),
        ("Most invalidations billed again by one crash", f"{extra_billed}", "<= 1"),
        ("Messages in the dead-letter queue, all points", f"{sum(r.dead_letters for r in results)}", "0"),
        ("Changes left in the inbox, all points", f"{sum(r.inbox_left for r in results)}", "0"),
        ("CloudFront calls refused, all points", f"{sum(r.refused for r in results)}", "0"),
        ("Most wildcards in progress", f"{max(r.most_wildcards for r in [clean, *results])}", "<= 15"),
    ]
    return (
        markdown_table(("Measure", "Value", "Target"), rows, "lrr") + "\n" + crash_calls_table(calls, results)
    )


def crash_calls_table(calls: Mapping[tuple[str, str], int], results: Sequence[CrashResult]) -> str:
    """Per call, the crash points and what the worst of them did."""
    rows = []
    for (client, operation), count in sorted(calls.items()):
        mine = [r for r in results if (r.point.client, r.point.operation) == (client, operation)]
        rows.append(
            (
                f"{client} {operation}",
                f"{count}",
                f"{sum(r.missed for r in mine)}",
                f"{max((r.creates for r in mine), default=0)}",
                f"{sum(r.dead_letters for r in mine)}",
            )
        )
    columns = ("Call", "Calls (points: x2)", "Missed", "Most CreateInvalidation calls", "Dead letters")
    return markdown_table(columns, rows, "lrrrr")


# --- what a deploy costs beside CloudFront ------------------------------------------------------------


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
        import tracemalloc  # noqa: PLC0415

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


@dataclass(frozen=True)
class CostResult:
    files: int
    requests: DeployRequests
    invalidations: int
    paths_billed: int
    longest_s: float


def deploy_cost(files: int, per_second: int = 100) -> CostResult:
    """A deploy of `files` changed files written at `per_second`, every request it causes counted."""
    defaults = module_defaults()
    with stress_world() as (world, watched):
        stopwatch = timed(world, MEMORY_MB)
        units, sqs = DynamoDBMeter(), Counter[str]()
        world.dynamodb.observers.append(units)
        world.sqs.observers.append(lambda op, arguments, _: sqs.update({op: sqs_requests(op, arguments)}))
        container = world.container()
        instrumented = Instrumented(container.pipeline, stopwatch, world.clock)
        container.pipeline = instrumented  # type: ignore[assignment]
        keys = [f"docs/section-{n // 10:03}/page-{n % 10}.html" for n in range(files)]
        for start in range(0, files, per_second):
            world.write(keys[start : start + per_second])
            world.clock.advance(1)
            container.step(defaults.batch_size)
        container.run(MAX_WAIT_S)
        model = watched.model
        s3 = stopwatch.calls
        requests = DeployRequests(
            s3_events=files,
            event_source=sum(world.event_source.values()),
            pipeline_sqs=sum(sqs.values()),
            invocations=len(instrumented.invocations),
            billed_ms=billed_ms([i.virtual_s for i in instrumented.invocations]),
            memory_mb=MEMORY_MB,
            write_units=units.write,
            read_units=units.read,
            s3_lists=sum(n for call, n in s3.items() if call.startswith("s3:list")),
            s3_gets=sum(n for call, n in s3.items() if call.startswith(("s3:head", "s3:get"))),
        )
        return CostResult(
            files=files,
            requests=requests,
            invalidations=len({ref for _, _, ref in world.invalidated_at}),
            paths_billed=0 if model is None else model.paths_billed(),
            longest_s=max(i.virtual_s for i in instrumented.invocations),
        )


def cost_section(results: Sequence[CostResult]) -> str:
    columns = ["Service", *(f"{r.files:,} files" for r in results), *(f"$ ({r.files:,})" for r in results)]
    priced_each = [priced(r.requests) for r in results]
    labels: dict[str, Callable[[DeployRequests], str]] = {
        "SQS": lambda q: (
            f"{q.sqs:,} requests ({q.s3_events:,} S3 events, {q.event_source} event source, "
            f"{q.pipeline_sqs} the function's)"
        ),
        "Lambda requests": lambda q: f"{q.invocations} invocations",
        "Lambda duration": lambda q: (
            f"{q.gb_seconds:.2f} GB-s ({q.billed_ms / 1000:.1f} s at {q.memory_mb} MB)"
        ),
        "DynamoDB writes": lambda q: f"{q.write_units:,} WRU",
        "DynamoDB reads": lambda q: f"{q.read_units:,.1f} RRU",
        "S3 lists": lambda q: f"{q.s3_lists:,} LIST",
        "S3 gets and heads": lambda q: f"{q.s3_gets:,} GET/HEAD",
    }
    rows = [
        (service, *(label(r.requests) for r in results), *(f"${p[service]:.6f}" for p in priced_each))
        for service, label in labels.items()
    ]
    totals = [sum(p.values()) for p in priced_each]
    rows.append(
        ("**Total** (target <= $0.01 a deploy)", *("" for _ in results), *(f"**${t:.5f}**" for t in totals))
    )
    context = [
        (
            "CloudFront (billed apart, docs/cost.md)",
            *(f"{r.invalidations} invalidation(s), {r.paths_billed} paths" for r in results),
            *("" for _ in results),
        ),
        ("Longest invocation (virtual)", *(f"{r.longest_s:.1f} s" for r in results), *("" for _ in results)),
    ]
    return markdown_table(columns, [*rows, *context], "l" + "l" * len(results) + "r" * len(results))


# --- the bench ------------------------------------------------------------------------------------------


def start(pool: Executor) -> Finish:
    """Submit every scenario; the crash points come from a crash-free run made here first."""
    clean, calls = crash_run(None)
    points = crash_points(calls)
    writer_future: Future[WriterResult] = pool.submit(writer)
    crash_futures = [pool.submit(crash_only, point) for point in points]
    cost_futures = [pool.submit(deploy_cost, files) for files in COST_DEPLOYS]

    def finish() -> Sections:
        writer_result = writer_future.result()
        crash_results = [future.result() for future in crash_futures]
        costs = [future.result() for future in cost_futures]
        sections = {
            "deploy-writer": writer_section(writer_result),
            "deploy-crashes": crashes_section(clean, calls, crash_results),
            "deploy-cost": cost_section(costs),
        }
        for name, text in sections.items():
            print(f"{name}:\n{text}")
        return sections

    return finish


def main() -> Sections:
    quiet = logging.getLogger("cf_invalidator")  # the handler's decision log: one line per call
    quiet.addHandler(logging.NullHandler())
    quiet.propagate = False
    return run_alone(start)


if __name__ == "__main__":
    main()
