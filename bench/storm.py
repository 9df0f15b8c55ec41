"""Deploy storms: one invalidation per S3 event against this module's deploy pipeline, on the same events.

A deploy uploads N changed objects of a site tree (about 13,000 objects) in key order, as `aws s3 sync`
does, at UPLOAD_RATE objects a second. Both strategies face the same CloudFront model
(tests/python/support/cloudfront_model.py) on a virtual clock: per distribution at most 3,000 file paths
and 15 wildcard paths in progress, each invalidation completing COMPLETION_SECONDS after it was created.
AWS publishes no call rate, so each deploy runs twice: under the documented quotas alone, and with an
assumed rate limit added (a token bucket, RATE_LIMIT). The completion time is an assumption too
(COMPLETION_SECONDS, 25 s: AWS's P95 since April 2026): a last table repeats the 10,000-change deploy
with invalidations completing in 25 s to 10 minutes.

- per object: what naive set-ups do. Each S3 event invokes a function (asynchronously, no concurrency
  limit) that invalidates `"/" + quote(key)` on each distribution with CallerReference = key + time and no
  error handling. boto3's default retry (standard mode: 3 attempts, jittered backoff) retries Throttling
  and 5xx, not TooManyInvalidationsInProgress; an error fails the invocation, which Lambda's
  asynchronous invocation runs twice more, about 1 and 2 minutes later (the first distributions are
  then invalidated, and billed, again).
- module: the module's function at its defaults from variables.tf and main.tf, run as deploy_replay.py
  runs it: the deploy pipeline itself (deploy.pipeline over flush.Planner, built per invocation as
  handler.py builds it), behind the queue and Lambda's event source mapping as AWS documents them
  (event_source_model.py: up to maximum_concurrency pollers, each handing a batch over at batch_size
  messages, at the end of the batching window or at 6 MB of payload; the Lambda timeout as each
  invocation's deadline; a failed message back after the visibility timeout, in the dead-letter queue
  after maxReceiveCount receives). Each batch of S3 events is accepted into the deploy inbox (moto's
  in-process DynamoDB, a fresh table per deploy) and the function sends itself a flush tick, a delayed
  message on the same modelled queue. Once the bucket has been quiet for quiet_seconds (or the oldest
  change has waited max_wait_seconds) a tick flushes: all of a distribution's waiting changes go to the
  planning stages (process_batch) as one batch, once per deploy. The planning reads what is in progress
  on the distribution (ListInvalidations/GetInvalidation on the model, cached a few seconds; one view
  per poller, as each Lambda container keeps its own) and fits the request into what remains of the 15
  wildcards; a retryable failure (throttling, a 5xx, the quota in progress full) keeps its changes in
  the inbox for the next flush, 1, 4, 16 then 64 minutes later, and after 5 such flushes in a row sends
  them to the dead-letter queue. Every event is a real change: change detection, which needs the bucket's
  versions, is not modelled (deploy_replay.py has it), nor S3's delay in delivering a notification.
  The sensitivity table's last column sets max_wait_seconds to 30 s, which cuts the 10,000-change
  upload (100 s) into several flushes, the later ones meeting the earlier ones' wildcards in progress.

Reported per deploy: CreateInvalidation calls (every attempt), paths billed, the monthly bill of a site
deployed daily for 30 days ($0.005 a path past the free 1,000 a month), changes lost (on some
distribution no invalidation covers any of the object's viewer paths) or stale (some of its viewer
paths, e.g. `/docs/` for `docs/index.html`, are never invalidated), and wildcard collateral (unchanged
objects of the tree whose paths were invalidated), the most wildcard paths in progress at once on one
distribution (CloudFront's quota: 15) and the calls CloudFront refused for its quotas in progress; for the
module, the dead letters too: messages the queue redrove and inbox chunks the flush sent there.
Which viewer paths a change needs is decided in one place, grading.required_paths. Figures are printed,
never asserted.
"""

from __future__ import annotations

import functools
import heapq
import itertools
import json
import os
import random
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import Executor, Future
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, NamedTuple
from unittest import mock
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "lambda_src"), str(ROOT / "tests" / "python"), str(ROOT / "bench")]

from botocore.exceptions import ClientError  # noqa: E402
from deploy_replay import (  # noqa: E402
    DEAD_LETTER_QUEUE,
    QUEUE,
    TABLE,
    Waits,
    deploy_handler,
    module_waits,
)
from event_source_model import (  # noqa: E402
    COMPLETION_SECONDS,
    UPLOAD_RATE,
    Delivery,
    OwnQueue,
    deliver,
    notification_body,
    peak_wildcards_in_progress,
)
from grading import evicted, lost_and_stale  # noqa: E402
from parallel import Finish, Sections, run_alone  # noqa: E402
from sections import markdown_table  # noqa: E402
from storm_chart import write_chart  # noqa: E402

from cf_invalidator.config import Config, Deploys, Distribution  # noqa: E402
from support.cloudfront_model import (  # noqa: E402
    FREE_PATHS_PER_MONTH,
    PRICE_PER_PATH,
    CloudFrontModel,
    VirtualClock,
)
from support.deploy_world import create_inbox_table  # noqa: E402
from support.module_defaults import ModuleDefaults, module_defaults  # noqa: E402
from support.moto_server import ACCOUNT_ID, FAKE_AWS_ENVIRONMENT, REGION  # noqa: E402

DEPLOY_SIZES = (1, 10, 100, 1_000, 10_000)
DISTRIBUTION_COUNTS = (1, 3)
SENSITIVITY_COMPLETION = (25.0, 60.0, 120.0, 300.0, 600.0)  # seconds, for the 10,000-change deploy
SENSITIVITY_VARIANTS = (  # (strategy, column, max_wait_seconds: None for the default) of that table
    ("per object", "Per object: lost", None),
    ("module", "Module, defaults: lost (dead letters)", None),
    ("module", "Module, `max_wait_seconds = 30`: lost (DLQ)", 30),
)
Variant = tuple[float, str]  # (completion seconds, sensitivity column)
RATE_LIMIT = (2.0, 10)  # assumed CreateInvalidation calls a second and burst, per account
SCENARIOS: dict[str, tuple[float, int] | None] = {
    "documented quotas": None,
    f"quotas + {RATE_LIMIT[0]:g} calls/s (burst {RATE_LIMIT[1]})": RATE_LIMIT,
}
DEPLOYS_PER_MONTH = 30
QUOTA_REFUSAL = "TooManyInvalidationsInProgress"
INDEX_DOCUMENT = "index.html"
BUCKET = "example-site"
CHART = ROOT / "docs" / "storm.png"

# boto3's standard retry mode (botocore/retries/standard.py): 3 attempts; these codes and statuses retried
BOTO_ATTEMPTS = 3
BOTO_THROTTLING = frozenset({"Throttling", "ThrottlingException", "RequestLimitExceeded"})
BOTO_TRANSIENT_STATUS = frozenset({500, 502, 503, 504})
LAMBDA_ASYNC_RETRY_PAUSES = (60.0, 120.0)  # Lambda runs a failed asynchronous invocation twice more


def site_tree() -> list[str]:
    """A static site's keys: blog posts with their images, versioned docs, products, tags, assets."""
    keys = ["index.html", "404.html", "robots.txt", "sitemap.xml", "feed.xml", "favicon.ico"]
    keys += [f"assets/css/{name}.css" for name in ("site", "print", "syntax", "docs", "blog")]
    keys += [f"assets/js/chunk-{i:03}.js" for i in range(60)] + [
        f"assets/fonts/f{i}.woff2" for i in range(12)
    ]
    for year, month in itertools.product(range(2019, 2026), range(1, 13)):
        keys.append(f"blog/{year}/{month:02}/index.html")
        for post in range(12):
            base = f"blog/{year}/{month:02}/post-{post:02}"
            keys += [f"{base}/index.html", f"{base}/cover.jpg", f"{base}/cover.webp", f"{base}/figure-1.png"]
    keys += [f"blog/page/{n}/index.html" for n in range(2, 120)]
    keys += [f"tags/tag-{t:03}/{page}index.html" for t in range(150) for page in ("", "page/2/")]
    for version, section in itertools.product(("v1", "v2", "v3", "v4", "latest"), range(12)):
        keys.append(f"docs/{version}/section-{section:02}/index.html")
        for page in range(40):
            keys += [
                f"docs/{version}/section-{section:02}/page-{page:02}/{n}" for n in ("index.html", "d.svg")
            ]
    keys += [f"images/{year}/photo-{i:03}.jpg" for year in range(2019, 2026) for i in range(300)]
    for category, product in itertools.product(range(20), range(30)):
        keys += [f"products/cat-{category:02}/item-{product:02}/{n}" for n in ("index.html", "hero.jpg")]
    return sorted(keys)


def deploy(tree: Sequence[str], size: int, seed: int = 1) -> list[tuple[float, str]]:
    """`size` changed objects spread over the tree, uploaded in key order: (arrival time, key)."""
    changed = sorted(random.Random(seed).sample(list(tree), size))
    return [(index / UPLOAD_RATE, key) for index, key in enumerate(changed)]


def distributions(count: int) -> tuple[Distribution, ...]:
    """`count` distributions serving the whole bucket (e.g. one per domain or environment)."""
    return tuple(Distribution(f"site{i}", f"ESITE{i}") for i in range(count))


def new_model(ids: Sequence[str], rate: tuple[float, int] | None, completion: float) -> CloudFrontModel:
    if rate is None:
        return CloudFrontModel(ids, VirtualClock(), completion_seconds=completion)
    return CloudFrontModel(
        ids, VirtualClock(), completion_seconds=completion, calls_per_second=rate[0], burst=rate[1]
    )


# --- per-object invalidation --------------------------------------------------------------------------


def boto_call(
    model: CloudFrontModel, distribution_id: str, path: str, reference: str, rng: random.Random
) -> Iterator[float]:
    """One create_invalidation through boto3's default retries; yields the seconds it waits."""
    batch = {"Paths": {"Quantity": 1, "Items": [path]}, "CallerReference": reference}
    for attempt in range(1, BOTO_ATTEMPTS + 1):
        try:
            model.create_invalidation(DistributionId=distribution_id, InvalidationBatch=batch)
            return
        except ClientError as error:
            throttled = error.response["Error"]["Code"] in BOTO_THROTTLING
            status = error.response["ResponseMetadata"]["HTTPStatusCode"]
            if attempt == BOTO_ATTEMPTS or not (throttled or status in BOTO_TRANSIENT_STATUS):
                raise
            yield rng.random() * min((1.0 if throttled else 0.05) * 2 ** (attempt - 1), 20.0)


def naive_function(
    model: CloudFrontModel, key: str, ids: Sequence[str], rng: random.Random
) -> Iterator[float]:
    """One S3 event: invalidate the key on every distribution; on error, Lambda's asynchronous retries."""
    path = "/" + quote(key)
    for pause in (*LAMBDA_ASYNC_RETRY_PAUSES, None):
        reference = f"{key}-{model.clock.now()}"  # what such functions use: str(time.time())
        try:
            for distribution_id in ids:
                yield from boto_call(model, distribution_id, path, reference, rng)
            return
        except ClientError:
            if pause is None:
                return
            yield pause


def run_per_object(events: Sequence[tuple[float, str]], config: Config, model: CloudFrontModel) -> None:
    """Every event's function runs at its arrival; waits interleave on the model's clock."""
    rng = random.Random(3)
    ids = [d.id for d in config.distributions]
    order = itertools.count()
    due: list[tuple[float, int, Iterator[float]]] = [
        (at, next(order), naive_function(model, key, ids, rng)) for at, key in events
    ]
    heapq.heapify(due)
    while due:
        at, _, function = heapq.heappop(due)
        model.clock.sleep(max(0.0, at - model.clock.now()))
        pause = next(function, None)
        if pause is not None:
            heapq.heappush(due, (model.clock.now() + pause, next(order), function))


# --- this module: the queue, the event source mapping (event_source_model.py), the deploy pipeline ------


def deploys_config(count: int, defaults: ModuleDefaults, waits: Waits) -> Config:
    """The function's settings: the module's defaults, the deploy inbox on the modelled queues and table
    (no change detection: every event of a storm is a real change)."""
    dead_letter_queue = f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:{DEAD_LETTER_QUEUE}"
    deploys = Deploys(TABLE, dead_letter_queue, waits.quiet_seconds, waits.max_wait_seconds)
    return Config(distributions(count), defaults.max_paths_per_invalidation, INDEX_DOCUMENT, deploys=deploys)


# The inbox's item operations, whose answers moto renders as plain JSON (see plain_item_answers)
ITEM_OPERATIONS = frozenset({"GetItem", "UpdateItem", "Query", "BatchWriteItem"})


@contextmanager
def storm_inbox() -> Iterator[Any]:
    """The deploy inbox in moto's in-process DynamoDB, empty, for one deploy."""
    from moto import mock_aws  # noqa: PLC0415 (moto loads slowly)

    with mock.patch.dict(os.environ, FAKE_AWS_ENVIRONMENT), mock_aws(), plain_item_answers():
        dynamodb = dynamodb_client()
        create_inbox_table(dynamodb, TABLE)
        yield dynamodb


@functools.cache
def dynamodb_client() -> Any:
    """One boto3 client a process, reused by every deploy's mock_aws (a client costs more CPU to build
    than a small deploy's whole pipeline)."""
    import boto3  # noqa: PLC0415

    return boto3.client("dynamodb", region_name=REGION)


@contextmanager
def plain_item_answers() -> Iterator[None]:
    """moto's answers to the item operations dumped as JSON, the body DynamoDB's JSON protocol sends,
    instead of through moto's generic, shape-driven serializer: boto3 parses the same answers from them,
    for a third less CPU in a storm (each inbox chunk lists its message ids, an attribute value each,
    which that serializer walks one by one). Other operations are left as moto answers them."""
    from moto.dynamodb.responses import DynamoResult  # noqa: PLC0415

    generic = DynamoResult.execute_result

    def answer(self: DynamoResult, context: Any) -> Any:
        if context.operation_model.name not in ITEM_OPERATIONS:
            return generic(self, context)
        return 200, {}, json.dumps(self.result)

    with mock.patch.object(DynamoResult, "execute_result", answer):
        yield


def run_module(
    events: Sequence[tuple[float, str]], config: Config, model: CloudFrontModel, defaults: ModuleDefaults
) -> Delivery:
    """The deploy through the queue and the module's deploy pipeline as deploy_replay.py runs it, until no
    message (S3 event or flush tick) is left."""
    bodies = [(at, notification_body(key, BUCKET, written_at=at)) for at, key in events]
    own = OwnQueue(QUEUE, DEAD_LETTER_QUEUE)
    with storm_inbox() as dynamodb:
        handler = deploy_handler(config, model, None, own, dynamodb)
        return deliver(bodies, handler, defaults, model.clock, own)


# --- measuring ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Result:
    scenario: str
    strategy: str
    distributions: int
    changes: int
    calls: int
    invalidations: int
    max_paths_per_call: int
    paths_billed: int
    lost: int
    stale: int
    dead_letters: int
    collateral: int
    last_invalidation_s: float
    peak_wildcards: int  # the most wildcard paths in progress at once on one distribution
    refusals: int  # calls CloudFront refused with TooManyInvalidationsInProgress
    batches: int  # invocations of the module's function (0 for per object)
    ticks: int  # flush ticks the module's function sent itself (0 for per object)

    @property
    def monthly_dollars(self) -> float:
        return max(0, DEPLOYS_PER_MONTH * self.paths_billed - FREE_PATHS_PER_MONTH) * PRICE_PER_PATH


def measure(
    scenario: str,
    strategy: str,
    events: Sequence[tuple[float, str]],
    config: Config,
    tree: Sequence[str],
    *,
    completion: float = COMPLETION_SECONDS,
    defaults: ModuleDefaults | None = None,
) -> Result:
    defaults = defaults or module_defaults()
    model = new_model([d.id for d in config.distributions], SCENARIOS[scenario], completion)
    delivery = Delivery(0, ())
    if strategy == "per object":
        run_per_object(events, config, model)
    else:
        delivery = run_module(events, config, model, defaults)
    keys = [key for _, key in events]
    dists, index = config.distributions, config.index_document
    created = [inv for d in dists for inv in model.invalidations(d.id)]
    lost, stale = lost_and_stale(keys, dists, index, model)
    return Result(
        scenario=scenario,
        strategy=strategy,
        distributions=len(dists),
        changes=len(events),
        calls=len(model.calls),
        invalidations=len(created),
        max_paths_per_call=max((len(inv.paths) for inv in created), default=0),
        paths_billed=model.paths_billed(),
        lost=lost,
        stale=stale,
        dead_letters=delivery.dead_letters,
        collateral=evicted(tree, set(keys), dists, index, model),
        last_invalidation_s=max((inv.created_at for inv in created), default=0.0),
        peak_wildcards=max(peak_wildcards_in_progress(model.invalidations(d.id)) for d in dists),
        refusals=model.outcomes()[QUOTA_REFUSAL],
        batches=len(delivery.batches),
        ticks=delivery.sent,
    )


def print_table(results: Sequence[Result]) -> None:
    header = (
        f"{'changes':>7} {'dists':>5} {'strategy':<10} {'calls':>6} {'batches':>7} {'ticks':>5} "
        f"{'invals':>6} {'max/call':>8} {'billed':>6} {'$/month':>8} {'lost':>5} {'stale':>5} {'DLQ':>4} "
        f"{'collateral':>10} {'wildcards':>9} {'refused':>7} {'last at':>8}"
    )
    for scenario in SCENARIOS:
        print(f"\n-- {scenario}: completion {COMPLETION_SECONDS:g} s, uploads {UPLOAD_RATE:g}/s --")
        print(header)
        for r in (r for r in results if r.scenario == scenario):
            print(
                f"{r.changes:>7,} {r.distributions:>5} {r.strategy:<10} {r.calls:>6,} {r.batches:>7} "
                f"{r.ticks:>5} {r.invalidations:>6,} {r.max_paths_per_call:>8} {r.paths_billed:>6,} "
                f"{r.monthly_dollars:>8,.2f} {r.lost:>5,} {r.stale:>5,} {r.dead_letters:>4} "
                f"{r.collateral:>10,} {r.peak_wildcards:>9} {r.refusals:>7,} {r.last_invalidation_s:>7.0f}s"
            )
    print(
        "(wildcards: the most wildcard paths in progress at once on one distribution, quota 15; "
        "refused: calls answered TooManyInvalidationsInProgress)"
    )


def print_targets(results: Sequence[Result], budget: int) -> None:
    def pick(strategy: str, changes: int) -> list[Result]:
        return [r for r in results if r.strategy == strategy and r.changes == changes]

    one_flush = all(
        r.invalidations == r.distributions and r.calls == r.distributions and r.max_paths_per_call <= budget
        for r in pick("module", 1_000)
    )
    print(f"\ntarget: 1,000 changes in one flush -> 1 call per distribution, <= {budget} paths: {one_flush}")
    module_lost = sum(r.lost for r in pick("module", 10_000))
    naive_lost = [r.lost for r in pick("per object", 10_000)]
    print(f"target: 10,000 changes -> module loses 0: {module_lost == 0} ({module_lost}); ", end="")
    print(f"per object loses {naive_lost}")


def cost_section(results: Sequence[Result]) -> str:
    """The docs' cost table: documented quotas, with the changes lost under the assumed rate limit."""
    documented, limited = SCENARIOS
    lost_when_limited = {
        (r.strategy, r.distributions, r.changes): r.lost for r in results if r.scenario == limited
    }
    rows = [
        (
            f"{r.changes:,}",
            str(r.distributions),
            r.strategy,
            f"{r.calls:,}",
            f"{r.paths_billed:,}",
            f"{r.monthly_dollars:,.2f}",
            f"{r.lost:,}",
            f"{r.stale:,}",
            f"{lost_when_limited[(r.strategy, r.distributions, r.changes)]:,}",
            f"{r.collateral:,}",
            str(r.peak_wildcards),
            f"{r.refusals:,}",
        )
        for r in results
        if r.scenario == documented and r.changes > 1
    ]
    columns = (
        "Changes", "Distributions", "Strategy", "Calls", "Paths billed", "$ a month", "Lost", "Stale",
        f"Lost at {RATE_LIMIT[0]:g} calls/s", "Unchanged objects invalidated", "Peak wildcards in progress",
        "Calls refused (quota)",
    )  # fmt: skip
    return markdown_table(columns, rows, "rrlrrrrrrrrr")


def sensitivity_section(results: Mapping[Variant, Result]) -> str:
    """The 10,000-change deploy on one distribution as invalidations take longer to complete; returns
    the docs' table."""
    labels = [label for _, label, _ in SENSITIVITY_VARIANTS]
    print("\n-- 10,000 changes, 1 distribution, documented quotas: lost (in DLQ) by completion time --")
    print(f"{'completion':>10} " + " ".join(f"{label[:34]:>34}" for label in labels))
    rows = []
    for completion in SENSITIVITY_COMPLETION:
        cells, printed = [f"{completion:g} s"], []
        for strategy, label, _ in SENSITIVITY_VARIANTS:
            r = results[completion, label]
            cells.append(f"{r.lost:,}" if strategy == "per object" else f"{r.lost:,} ({r.dead_letters:,})")
            printed.append(f"{r.lost:>7,} ({r.dead_letters:,}) in {r.calls:>6,} calls, {r.peak_wildcards} wc")
        rows.append(cells)
        print(f"{completion:>9.0f}s " + " ".join(f"{cell:>34}" for cell in printed))
    columns = ("Invalidations complete in", *labels)
    return markdown_table(columns, rows, "rrrr")


def print_header(tree: Sequence[str], defaults: ModuleDefaults, waits: Waits) -> None:
    print(f"== Deploy storms: per-object vs module (site tree of {len(tree):,} objects) ==")
    print(
        f"module defaults: quiet {waits.quiet_seconds} s, max wait {waits.max_wait_seconds} s, "
        f"budget {defaults.max_paths_per_invalidation} paths, batch_size {defaults.batch_size}, "
        f"window {defaults.batching_window_seconds} s, concurrency {defaults.maximum_concurrency}, "
        f"timeout {defaults.lambda_timeout} s, maxReceiveCount {defaults.max_receive_count}"
    )


def with_max_wait(waits: Waits, max_wait_seconds: int | None) -> Waits:
    return waits if max_wait_seconds is None else replace(waits, max_wait_seconds=max_wait_seconds)


class Case(NamedTuple):
    """One storm measure's parameters."""

    scenario: str
    strategy: str
    changes: int
    distributions: int
    completion: float
    settings: ModuleDefaults
    waits: Waits


class Runs:
    """The storm's measures on the pool, each submitted once: a sensitivity run with the main table's
    parameters (25 s completion, the defaults) is that table's run, not a second one."""

    def __init__(self, pool: Executor, tree: Sequence[str]) -> None:
        self.pool = pool
        self.tree = tree
        self.futures: dict[Case, Future[Result]] = {}

    def submit(self, case: Case) -> Future[Result]:
        if case not in self.futures:
            events = deploy(self.tree, case.changes)
            config = deploys_config(case.distributions, case.settings, case.waits)
            self.futures[case] = self.pool.submit(
                measure, case.scenario, case.strategy, events, config, self.tree, completion=case.completion,
                defaults=case.settings,
            )  # fmt: skip
        return self.futures[case]


def start(pool: Executor) -> Finish:
    """Submit the storms; `finish` prints them, writes the chart and returns the docs' sections they
    produce (name -> markdown)."""
    defaults, waits = module_defaults(), module_waits()
    tree = site_tree()
    started = time.perf_counter()
    runs = Runs(pool, tree)
    table = [
        runs.submit(Case(scenario, strategy, size, count, COMPLETION_SECONDS, defaults, waits))
        for scenario, size, count in itertools.product(SCENARIOS, DEPLOY_SIZES, DISTRIBUTION_COUNTS)
        for strategy in ("per object", "module")
    ]
    documented = next(iter(SCENARIOS))
    slower = {
        (completion, label): runs.submit(
            Case(documented, strategy, 10_000, 1, completion, defaults, with_max_wait(waits, max_wait))
        )
        for completion in SENSITIVITY_COMPLETION
        for strategy, label, max_wait in SENSITIVITY_VARIANTS
    }

    def finish() -> Sections:
        print_header(tree, defaults, waits)
        results = [future.result() for future in table]
        print_table(results)
        print_targets(results, defaults.max_paths_per_invalidation)
        sections = {
            "cost": cost_section(results),
            "storm-sensitivity": sensitivity_section({key: f.result() for key, f in slower.items()}),
        }
        write_chart(results, CHART, list(SCENARIOS), DISTRIBUTION_COUNTS, COMPLETION_SECONDS)
        print(f"chart: {CHART.relative_to(ROOT)}; {time.perf_counter() - started:.0f} s")
        return sections

    return finish


def main() -> Sections:
    """Run the storms; return the docs' sections they produce (name -> markdown)."""
    return run_alone(start)


if __name__ == "__main__":
    main()
