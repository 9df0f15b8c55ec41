"""A 200,000-object regeneration through the deploy pipeline (docs/deploy-flush.md, "Under stress").

The tree: `SECTIONS` x `TOPICS` directories of `PAGES` pages, written a day before the deploy; the
deploy rewrites every object at `PER_SECOND` files a second (a fast sync tool), one distribution
serving the bucket. The world is deploy_sim.py's (moto in-process, the CloudFront model, a virtual
clock) with two shortcuts, because moto through boto3 would take an hour at this size:
- the objects are written into moto's S3 backend directly, and the handler lists them through
  backend_s3.BackendS3 (the answers boto3 would get; tests/python/test_moto_listing.py checks them),
  with moto_listing's narrowed version listing;
- moto's DynamoDB answers to the inbox's calls (Query, GetItem, UpdateItem, BatchWriteItem) are
  rendered with json.dumps instead of moto's model-driven serializer, which takes seconds on an item
  holding a thousand message ids; for the S, N and L values the inbox writes, both render the same
  JSON (answers that are errors, or hold other types, go through moto's own);
- the event source is played here: each second's S3 events are handed to the function as one batch
  (the module's 1 s window; batch_size caps it), without going through SQS. The function's own ticks
  go through moto's SQS as in production.
Each invocation is timed on the virtual clock (deploy_sim.timed: the handler's CPU here times
deploy_meter.cpu_factor at the module's memory size, plus a latency per call), so the pipeline's
`remaining_ms` sees that time against the module's lambda_timeout; its CPU here and tracemalloc's peak
(the memory the handler allocates during the invocation, moto's answers included) are recorded.
Every change is judged by the path oracle: covered by an invalidation made at or after its write.
"""

from __future__ import annotations

import functools
import itertools
import json
import sys
from collections.abc import Iterator, Sequence
from concurrent.futures import Executor, Future
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from unittest import mock

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "lambda_src"), str(ROOT / "tests" / "python"), str(ROOT / "bench")]

from deploy_meter import cpu_factor  # noqa: E402
from deploy_sim import (  # noqa: E402
    MAX_WAIT_S,
    MEMORY_MB,
    Instrumented,
    Invocation,
    stress_world,
    timed,
)
from parallel import Finish, Sections, run_alone  # noqa: E402
from sections import markdown_table  # noqa: E402

from support.deploy_world import BUCKET, World  # noqa: E402
from support.module_defaults import module_defaults  # noqa: E402
from support.moto_server import ACCOUNT_ID  # noqa: E402
from support.path_oracle import is_covered, required_paths  # noqa: E402
from support.sqs_events import s3_body  # noqa: E402

SECTIONS, TOPICS, PAGES = 20, 100, 100  # 200,000 objects, 2,000 directories
PER_SECOND = 1000
BEFORE_S = 86_400
MEMORY_TARGET_MB = 256


def tree_keys(sections: int = SECTIONS, topics: int = TOPICS, pages: int = PAGES) -> list[str]:
    return [
        f"site/section-{s:02}/topic-{t:03}/page-{p:03}.html"
        for s, t, p in itertools.product(range(sections), range(topics), range(pages))
    ]


@dataclass(frozen=True)
class Kinded:
    kind: str  # "accept" or "tick"
    invocation: Invocation


@dataclass(frozen=True)
class RegenerationResult:
    objects: int
    per_second: int
    uploaded_s: float  # the upload's virtual duration: an accept longer than 1 s holds the writer back
    invocations: list[Kinded]
    accept_failures: int
    missed: int
    invalidations: int
    paths_billed: int
    refused: int
    most_wildcards: int
    most_paths: int
    timeout_s: int
    cpu_factor: float


def regeneration(
    keys: Sequence[str] | None = None, per_second: int = PER_SECOND, *, trace: bool = False
) -> RegenerationResult:
    """The tree written, a day passes, then every object rewritten at `per_second`. `trace`: each
    invocation's memory traced, and its CPU not charged to the clock (the tracer slows it several
    times over): the run that measures memory, beside the one that measures time."""
    from backend_s3 import BackendS3  # noqa: PLC0415
    from moto.s3.models import s3_backends  # noqa: PLC0415 (moto loads slowly)
    from moto_listing import narrowed_version_listing  # noqa: PLC0415

    keys = tree_keys() if keys is None else keys
    defaults = module_defaults()
    with stress_world() as (world, watched), narrowed_version_listing(), plain_dynamodb_answers():
        backend = s3_backends[ACCOUNT_ID]["aws"]
        for key in keys:
            backend.put_object(BUCKET, key, b"<p>old</p>")
        world.clock.advance(BEFORE_S)
        world.s3 = BackendS3(backend)
        stopwatch = timed(world, MEMORY_MB)
        stopwatch.factor = 0.0 if trace else stopwatch.factor
        container = world.container()
        instrumented = Instrumented(container.pipeline, stopwatch, world.clock, trace=trace)
        container.pipeline = instrumented  # type: ignore[assignment]
        written, failures = upload(world, container, Upload(backend, keys, per_second, defaults.batch_size))
        uploaded_s = world.clock() - min(written.values())
        container.run(MAX_WAIT_S + 60)
        model = watched.model
        return RegenerationResult(
            objects=len(keys),
            per_second=per_second,
            uploaded_s=uploaded_s,
            invocations=[Kinded(kind_of(i), i) for i in instrumented.invocations],
            accept_failures=failures,
            missed=missed(world, written),
            invalidations=len({reference for _, _, reference in world.invalidated_at}),
            paths_billed=0 if model is None else model.paths_billed(),
            refused=watched.refused(),
            most_wildcards=watched.most_wildcards,
            most_paths=watched.most_paths,
            timeout_s=defaults.lambda_timeout,
            cpu_factor=cpu_factor(MEMORY_MB),
        )


PLAIN_OPERATIONS = frozenset({"Query", "GetItem", "UpdateItem", "BatchWriteItem"})


@contextmanager
def plain_dynamodb_answers() -> Iterator[None]:
    """Inside: moto's DynamoDB answers to PLAIN_OPERATIONS rendered by json.dumps."""
    import moto.core.responses  # noqa: PLC0415 (moto loads slowly)

    original = moto.core.responses.ActionResult.execute_result

    def plain(self: Any, context: Any) -> Any:
        if (
            context.service_model.service_name == "dynamodb"
            and context.operation_model.name in PLAIN_OPERATIONS
        ):
            try:
                body = json.dumps(self.result, separators=(",", ":"))
            except TypeError:  # an error, or a value json cannot write: moto's own rendering
                return original(self, context)
            return 200, {"Content-Type": "application/x-amz-json-1.0"}, body
        return original(self, context)

    with mock.patch.object(moto.core.responses.ActionResult, "execute_result", plain):
        yield


@dataclass(frozen=True)
class Upload:
    backend: Any  # moto's S3Backend
    keys: Sequence[str]
    per_second: int
    batch_size: int


def upload(world: World, container: Any, plan: Upload) -> tuple[dict[str, float], int]:
    """Write `per_second` keys each second, hand their events over as batches, let the ticks run; when
    each key was written, and how many messages the function failed."""
    written: dict[str, float] = {}
    failures, ids = 0, itertools.count()
    timeout = module_defaults().lambda_timeout
    for start in range(0, len(plan.keys), plan.per_second):
        second = world.clock()
        keys = plan.keys[start : start + plan.per_second]
        for key in keys:
            plan.backend.put_object(BUCKET, key, b"<p>new</p>")
            written[key] = second
        for first in range(0, len(keys), plan.batch_size):
            records = [record(world, key, second, next(ids)) for key in keys[first : first + plan.batch_size]]
            container.deadline = world.clock() + timeout
            failures += len(container.pipeline.handle({"Records": records})["batchItemFailures"])
        while container.step():
            pass
        world.clock.advance(max(0.0, second + 1 - world.clock()))
    return written, failures


def record(world: World, key: str, written: float, number: int) -> dict[str, Any]:
    """The SQS record of the S3 event of `key`, as the event source hands it to the function."""
    event_time = datetime.fromtimestamp(written, UTC).isoformat(timespec="milliseconds")
    return {
        "messageId": f"regeneration-{number:07}",
        "receiptHandle": f"handle-{number}",
        "body": s3_body(key, event_time=event_time),
        "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": str(int(written * 1000))},
        "messageAttributes": {},
        "eventSource": "aws:sqs",
        "eventSourceARN": world.queue_arn,
    }


def kind_of(invocation: Invocation) -> str:
    return "tick" if invocation.ticks else "accept"


def missed(world: World, written: dict[str, float]) -> int:
    """Keys some required path of which no invalidation made at or after their write covers (the path
    oracle's rule; exact paths looked up in a set, the wildcards matched by is_covered)."""
    made = [(at, set(paths), [p for p in paths if p.endswith("*")]) for at, paths, _ in world.invalidated_at]
    return sum(
        1 for key, at in written.items() if not all(_covered(p, at, made) for p in required_paths(key))
    )


def _covered(path: str, written: float, made: Iterator[Any] | list[Any]) -> bool:
    return any(at >= written and (path in exact or is_covered(path, wild)) for at, exact, wild in made)


def regeneration_section(timed: RegenerationResult, traced: RegenerationResult) -> str:
    """The timed run's figures, with the traced run's memory."""
    ticks = [k.invocation for k in timed.invocations if k.kind == "tick"]
    longest = max(timed.invocations, key=lambda k: k.invocation.virtual_s).invocation
    heaviest = max((k for k in traced.invocations), key=lambda k: k.invocation.peak_mb or 0.0)
    past = sum(1 for k in timed.invocations if k.invocation.virtual_s > timed.timeout_s)
    rows = [
        ("Objects rewritten", f"{timed.objects:,}, {timed.per_second:,} a second offered", ""),
        ("Upload's duration (each second's batch accepted in turn)", f"{timed.uploaded_s:,.0f} s", ""),
        ("Changes missed (path oracle), timed / traced run", f"{timed.missed:,} / {traced.missed:,}", "0"),
        ("Messages the function failed", f"{timed.accept_failures} / {traced.accept_failures}", "0"),
        ("Invalidations, paths billed", f"{timed.invalidations}, {timed.paths_billed:,}", ""),
        ("CloudFront calls refused", f"{timed.refused}", "0"),
        (
            "Most paths / wildcards in progress",
            f"{timed.most_paths:,} / {timed.most_wildcards}",
            "<= 3,000 / 15",
        ),
        ("Invocations (accept / tick)", f"{len(timed.invocations) - len(ticks)} / {len(ticks)}", ""),
        (
            f"Peak traced memory of an invocation ({heaviest.kind}, traced run)",
            f"{heaviest.invocation.peak_mb or 0.0:,.1f} MB",
            f"<= {MEMORY_TARGET_MB} MB",
        ),
        (
            f"Longest invocation ({kind_of(longest)}; CPU x {timed.cpu_factor:.1f} + latency)",
            f"{longest.virtual_s:,.1f} s",
            f"<= {timed.timeout_s} s",
        ),
        ("Its CPU on this machine", f"{longest.cpu_s:,.2f} s", "reported"),
        ("Invocations past the timeout", f"{past}", "0"),
    ]
    return markdown_table(("Measure", "Value", "Target"), rows, "lrr") + "\n" + flushes_table(timed, traced)


def flushes_table(timed: RegenerationResult, traced: RegenerationResult) -> str:
    """The tick invocations that did real work (flushes), in order: time from the timed run, memory
    from the traced one."""

    def flushes(result: RegenerationResult) -> list[Invocation]:
        return [
            k.invocation
            for k in result.invocations
            if k.kind == "tick" and k.invocation.records and k.invocation.cpu_s >= 0.05
        ]

    memory = [f"{i.peak_mb or 0.0:,.1f} MB" for i in flushes(traced)]
    rows = [
        (f"{n}", f"{i.virtual_s:,.1f} s", f"{i.cpu_s:,.2f} s", memory[n - 1] if n <= len(memory) else "")
        for n, i in enumerate(flushes(timed), start=1)
    ]
    columns = ("Flush", "Duration (virtual)", "CPU here", "Peak traced memory (traced run)")
    return markdown_table(columns, rows, "rrrr")


def start(pool: Executor) -> Finish:
    timed_run: Future[RegenerationResult] = pool.submit(regeneration)
    traced_run: Future[RegenerationResult] = pool.submit(functools.partial(regeneration, trace=True))

    def finish() -> Sections:
        section = regeneration_section(timed_run.result(), traced_run.result())
        print(f"deploy-regeneration:\n{section}")
        return {"deploy-regeneration": section}

    return finish


def main() -> Sections:
    return run_alone(start)


if __name__ == "__main__":
    main()
