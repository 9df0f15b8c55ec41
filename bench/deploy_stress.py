"""The deploy pipeline under stress (docs/deploy-flush.md, "Under stress"), on a virtual clock.

Both scenarios run in deploy_sim.py's world (moto in-process, the CloudFront model, the pipeline's
defaults). Changes are judged by the path oracle (support/path_oracle.py), never by the code.
- The writer that never stops: one object a second into one folder for two hours; when each change
  was invalidated (by an invalidation made at or after its write), and the paths billed each hour.
- Crashes: a deploy of `CRASH_KEYS` keys in batches of 10 is run once without a crash, its calls of
  SQS, DynamoDB and CloudFront counted; then once per call and side (the container dies just before
  the call, or just after it returned), the run going on until every message was handled.
Figures are printed and written into the docs' sections with their targets, never asserted.
"""

from __future__ import annotations

import statistics
import sys
from collections import Counter
from collections.abc import Mapping, Sequence
from concurrent.futures import Executor, Future
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from deploy_sim import CLIENTS, MAX_WAIT_S, stress_world
from parallel import Finish, Sections, run_alone
from sections import markdown_table

from support.deploy_world import Crash

CRASH_KEYS = 60

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


# --- the bench ------------------------------------------------------------------------------------------


def start(pool: Executor) -> Finish:
    """Submit both scenarios; the crash points come from a crash-free run made here first."""
    clean, calls = crash_run(None)
    points = crash_points(calls)
    writer_future: Future[WriterResult] = pool.submit(writer)
    crash_futures = [pool.submit(crash_only, point) for point in points]

    def finish() -> Sections:
        writer_result = writer_future.result()
        crash_results = [future.result() for future in crash_futures]
        sections = {
            "deploy-writer": writer_section(writer_result),
            "deploy-crashes": crashes_section(clean, calls, crash_results),
        }
        for name, text in sections.items():
            print(f"{name}:\n{text}")
        return sections

    return finish


def main() -> Sections:
    return run_alone(start)


if __name__ == "__main__":
    main()
