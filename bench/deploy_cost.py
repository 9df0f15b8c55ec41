"""What a deploy costs in AWS requests beside CloudFront (docs/deploy-flush.md, "Cost per deploy").

`COST_DEPLOYS` files written at 100 a second into directories of 10, in deploy_sim.py's world, the
event source handing over what came in each 1 s window (up to the module's batch_size); every request
the deploy causes is counted from the calls (deploy_meter.py: DynamoDB units, SQS requests, S3 LIST and
HEAD, invocations and their durations on the virtual clock) and priced at the list prices
docs/deploy-flush.md states. Figures are printed and written with the target beside, never asserted.
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from deploy_meter import DeployRequests, DynamoDBMeter, billed_ms, priced, sqs_requests
from deploy_sim import MAX_WAIT_S, MEMORY_MB, Instrumented, stress_world, timed
from parallel import Finish, Sections, run_alone
from sections import markdown_table

from support.module_defaults import module_defaults

COST_DEPLOYS = (400, 4000)


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


def start(pool: Executor) -> Finish:
    futures = [pool.submit(deploy_cost, files) for files in COST_DEPLOYS]

    def finish() -> Sections:
        section = cost_section([future.result() for future in futures])
        print(f"deploy-requests:\n{section}")
        return {"deploy-requests": section}

    return finish


def main() -> Sections:
    return run_alone(start)


if __name__ == "__main__":
    main()
