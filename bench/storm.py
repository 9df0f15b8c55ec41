"""Deploy storms: one invalidation per S3 event against this module's batching, on the same events.

A deploy uploads N changed objects of a site tree (about 13,000 objects) in key order, as `aws s3 sync`
does, at UPLOAD_RATE objects a second. Both strategies face the same CloudFront model
(tests/python/support/cloudfront_model.py) on a virtual clock: per distribution at most 3,000 file paths
and 15 wildcard paths in progress, each invalidation completing COMPLETION_SECONDS after it was created.
AWS publishes no call rate, so each deploy runs twice: under the documented quotas alone, and with an
assumed rate limit added (a token bucket, RATE_LIMIT). The completion time is an assumption too: a last
table repeats the 10,000-change deploy with invalidations completing in 1 to 10 minutes.

- per object: what naive set-ups do. Each S3 event invokes a function (asynchronously, no concurrency
  limit) that invalidates `"/" + quote(key)` on each distribution with CallerReference = key + time and no
  error handling. boto3's default retry (standard mode: 3 attempts, jittered backoff) retries Throttling
  and 5xx, not TooManyInvalidationsInProgress; an error fails the invocation, which Lambda's
  asynchronous invocation runs twice more, about 1 and 2 minutes later (the first distributions are
  then invalidated, and billed, again).
- module: the handler (process_batch) with the module's defaults from variables.tf and main.tf. The
  event source mapping gathers the deploy's events into batches (closed when batch_size messages are
  in or the batching window has passed since the first), runs at most maximum_concurrency invocations
  at once, each with the Lambda timeout as its deadline; failed messages come back after the queue's
  visibility timeout, or later when the handler postponed them (retryable failures: 1, 4, 16, 64
  minutes by receive count), and rest in the dead-letter queue after maxReceiveCount receives.

Reported per deploy: CreateInvalidation calls (every attempt), paths billed, the monthly bill of a site
deployed daily for 30 days ($0.005 a path past the free 1,000 a month), changes lost (on some
distribution no invalidation covers any of the object's viewer paths) or stale (some of its viewer
paths, e.g. `/docs/` for `docs/index.html`, are never invalidated), and wildcard collateral (unchanged
objects of the tree whose paths were invalidated). Figures are printed, never asserted.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import random
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "lambda_src"), str(ROOT / "tests" / "python")]

import matplotlib  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402

matplotlib.use("Agg")  # before pyplot: files only, no display
import matplotlib.pyplot as plt  # noqa: E402

from cf_invalidator.batch import process_batch  # noqa: E402
from cf_invalidator.config import Config, Distribution  # noqa: E402
from cf_invalidator.paths import viewer_paths  # noqa: E402
from cf_invalidator.redelivery import redelivery_delay  # noqa: E402
from support.cloudfront_model import (  # noqa: E402
    FREE_PATHS_PER_MONTH,
    PRICE_PER_PATH,
    CloudFrontModel,
    VirtualClock,
)
from support.module_defaults import ModuleDefaults, module_defaults  # noqa: E402
from support.sqs_events import failed_ids, s3_body, sqs_record  # noqa: E402

DEPLOY_SIZES = (1, 10, 100, 1_000, 10_000)
DISTRIBUTION_COUNTS = (1, 3)
UPLOAD_RATE = 100.0  # objects a second: `aws s3 sync` with its default 10 concurrent requests
COMPLETION_SECONDS = 120.0  # commonly reported: 60 to 300 s; worst cases: over ten minutes
SENSITIVITY_COMPLETION = (60.0, 120.0, 300.0, 600.0)  # seconds, for the 10,000-change deploy
RATE_LIMIT = (2.0, 10)  # assumed CreateInvalidation calls a second and burst, per account
SCENARIOS: dict[str, tuple[float, int] | None] = {
    "documented quotas": None,
    f"quotas + {RATE_LIMIT[0]:g} calls/s (burst {RATE_LIMIT[1]})": RATE_LIMIT,
}
DEPLOYS_PER_MONTH = 30
INDEX_DOCUMENT = "index.html"
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


# --- this module: SQS batching window, event source mapping, handler ----------------------------------


class Scheduler:
    """Cooperative threads on a virtual clock: one runs at a time, and `sleep` hands over to whichever
    task is due first. Lets two invocations of the (blocking) handler overlap in virtual time."""

    def __init__(self, clock: VirtualClock) -> None:
        self.clock = clock
        self._due: list[tuple[float, int, threading.Event]] = []
        self._order = itertools.count()
        self._handed_back = threading.Event()
        self._errors: list[BaseException] = []

    def spawn(self, task: Callable[[], None]) -> None:
        go = threading.Event()

        def run() -> None:
            go.wait()
            try:
                task()
            except BaseException as error:  # re-raised by run_all in the main thread
                self._errors.append(error)
            finally:
                self._handed_back.set()

        threading.Thread(target=run, daemon=True).start()
        heapq.heappush(self._due, (self.clock.now(), next(self._order), go))

    def sleep(self, seconds: float) -> None:
        """Called from a task: wait `seconds` of virtual time while the others run."""
        go = threading.Event()
        heapq.heappush(self._due, (self.clock.now() + seconds, next(self._order), go))
        self._handed_back.set()
        go.wait()

    def run_all(self) -> None:
        while self._due:
            at, _, go = heapq.heappop(self._due)
            self.clock.sleep(max(0.0, at - self.clock.now()))
            self._handed_back.clear()
            go.set()
            self._handed_back.wait()
        if self._errors:
            raise self._errors[0]


@dataclass
class Message:
    id: str
    body: str
    visible_at: float
    receives: int = 0


@dataclass
class EventSourceMapping:
    """The queue and the mapping's pollers, on the scheduler's virtual clock."""

    config: Config
    model: CloudFrontModel
    defaults: ModuleDefaults
    scheduler: Scheduler
    pending: list[Message]
    dead: list[Message] = field(default_factory=list)
    in_flight: int = 0
    rng: random.Random = field(default_factory=lambda: random.Random(5))

    def poller(self) -> None:
        clock = self.model.clock
        while True:
            upcoming = min((m.visible_at for m in self.pending), default=None)
            if upcoming is None:
                if self.in_flight == 0:
                    return
                self.scheduler.sleep(1.0)  # an invocation may still put messages back
            elif upcoming > clock.now():
                self.scheduler.sleep(upcoming - clock.now())
            else:
                self.invoke(self.gather())

    def gather(self) -> list[Message]:
        """Claim the next batch: full at batch_size, or what arrives within the window."""
        now = self.model.clock.now()
        earliest = sorted(self.pending, key=lambda m: m.visible_at)[: self.defaults.batch_size]
        closes = now + self.defaults.batching_window_seconds
        if len(earliest) == self.defaults.batch_size:
            closes = min(closes, earliest[-1].visible_at)
        batch = [m for m in earliest if m.visible_at <= closes]
        claimed = {m.id for m in batch}
        self.pending = [m for m in self.pending if m.id not in claimed]
        self.in_flight += 1
        self.scheduler.sleep(max(0.0, closes - now))
        return batch

    def invoke(self, batch: list[Message]) -> None:
        clock, started = self.model.clock, self.model.clock.now()
        records = []
        for message in batch:
            message.receives += 1
            record = sqs_record(message.body, message.id)
            record["attributes"]["ApproximateReceiveCount"] = str(message.receives)
            records.append(record)
        deadline = clock.lambda_deadline(self.defaults.lambda_timeout)
        postponed: dict[str, float] = {}

        def postpone(failed_records: Sequence[Mapping[str, Any]]) -> None:
            """The handler's ChangeMessageVisibility, as SQS applies it: counted from now."""
            for record in failed_records:
                receives = int(record["attributes"]["ApproximateReceiveCount"])
                postponed[record["messageId"]] = clock.now() + redelivery_delay(receives)

        response = process_batch(
            {"Records": records},
            self.config,
            self.model,
            deadline,
            sleep=self.scheduler.sleep,
            jitter=self.rng.random,
            postpone=postpone,
        )
        failed = set(failed_ids(response))
        for message in batch:
            if message.id not in failed:
                continue
            if message.receives >= self.defaults.max_receive_count:
                self.dead.append(message)
            else:
                timeout_ends = started + self.defaults.visibility_timeout_seconds
                message.visible_at = postponed.get(message.id, timeout_ends)
                self.pending.append(message)
        self.in_flight -= 1


def run_module(
    events: Sequence[tuple[float, str]], config: Config, model: CloudFrontModel, defaults: ModuleDefaults
) -> list[Message]:
    """The deploy through the queue and the handler; returns the messages left in the dead-letter queue."""
    scheduler = Scheduler(model.clock)
    messages = [Message(f"m{i}", s3_body(key), at) for i, (at, key) in enumerate(events)]
    mapping = EventSourceMapping(config, model, defaults, scheduler, messages)
    for _ in range(defaults.maximum_concurrency):
        scheduler.spawn(mapping.poller)
    scheduler.run_all()
    return mapping.dead


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

    @property
    def monthly_dollars(self) -> float:
        return max(0, DEPLOYS_PER_MONTH * self.paths_billed - FREE_PATHS_PER_MONTH) * PRICE_PER_PATH


def coverage(keys: Sequence[str], config: Config, model: CloudFrontModel) -> tuple[int, int]:
    """(lost, stale): keys with no viewer path invalidated on some distribution, and keys with some."""
    lost = stale = 0
    for key in keys:
        states = set()
        for distribution in config.distributions:
            paths = viewer_paths(key, distribution, config.index_document)
            covered = [model.covers(distribution.id, path) for path in paths]
            states.add("all" if all(covered) else "some" if any(covered) else "none")
        lost += "none" in states
        stale += "none" not in states and "some" in states
    return lost, stale


def collateral(tree: Sequence[str], changed: set[str], config: Config, model: CloudFrontModel) -> int:
    """Unchanged objects of the tree that some invalidation covered."""
    return sum(
        1
        for key in tree
        if key not in changed
        and any(
            model.covers(d.id, path)
            for d in config.distributions
            for path in viewer_paths(key, d, config.index_document)
        )
    )


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
    dead: list[Message] = []
    if strategy == "per object":
        run_per_object(events, config, model)
    else:
        dead = run_module(events, config, model, defaults)
    keys = [key for _, key in events]
    created = [inv for d in config.distributions for inv in model.invalidations(d.id)]
    lost, stale = coverage(keys, config, model)
    return Result(
        scenario=scenario,
        strategy=strategy,
        distributions=len(config.distributions),
        changes=len(events),
        calls=len(model.calls),
        invalidations=len(created),
        max_paths_per_call=max((len(inv.paths) for inv in created), default=0),
        paths_billed=model.paths_billed(),
        lost=lost,
        stale=stale,
        dead_letters=len(dead),
        collateral=collateral(tree, set(keys), config, model),
        last_invalidation_s=max((inv.created_at for inv in created), default=0.0),
    )


def print_table(results: Sequence[Result]) -> None:
    header = (
        f"{'changes':>7} {'dists':>5} {'strategy':<10} {'calls':>6} {'invals':>6} {'max/call':>8} "
        f"{'billed':>6} {'$/month':>8} {'lost':>5} {'stale':>5} {'DLQ':>4} {'collateral':>10} {'last at':>8}"
    )
    for scenario in SCENARIOS:
        print(f"\n-- {scenario}: completion {COMPLETION_SECONDS:g} s, uploads {UPLOAD_RATE:g}/s --")
        print(header)
        for r in (r for r in results if r.scenario == scenario):
            print(
                f"{r.changes:>7,} {r.distributions:>5} {r.strategy:<10} {r.calls:>6,} {r.invalidations:>6,} "
                f"{r.max_paths_per_call:>8} {r.paths_billed:>6,} {r.monthly_dollars:>8,.2f} {r.lost:>5,} "
                f"{r.stale:>5,} {r.dead_letters:>4} {r.collateral:>10,} {r.last_invalidation_s:>7.0f}s"
            )


def print_targets(results: Sequence[Result], budget: int) -> None:
    def pick(strategy: str, changes: int) -> list[Result]:
        return [r for r in results if r.strategy == strategy and r.changes == changes]

    one_window = all(
        r.invalidations == r.distributions and r.calls == r.distributions and r.max_paths_per_call <= budget
        for r in pick("module", 1_000)
    )
    print(
        f"\ntarget: 1,000 changes in one window -> 1 call per distribution, <= {budget} paths: {one_window}"
    )
    module_lost = sum(r.lost for r in pick("module", 10_000))
    naive_lost = [r.lost for r in pick("per object", 10_000)]
    print(f"target: 10,000 changes -> module loses 0: {module_lost == 0} ({module_lost}); ", end="")
    print(f"per object loses {naive_lost}")


def write_chart(results: Sequence[Result], path: Path) -> None:
    documented = next(iter(SCENARIOS))
    figure, axes = plt.subplots(1, 3, figsize=(15, 5.4))
    panels = (
        ("paths_billed", "Paths billed (documented quotas)"),
        ("calls", "CreateInvalidation calls (documented quotas)"),
        ("lost", "Changes lost (dotted: assumed rate limit)"),
    )
    for axis, (metric, title) in zip(axes, panels, strict=True):
        for strategy, count in itertools.product(("per object", "module"), DISTRIBUTION_COUNTS):
            for scenario in SCENARIOS if metric == "lost" else (documented,):
                rows = [
                    r
                    for r in results
                    if (r.strategy, r.distributions, r.scenario) == (strategy, count, scenario)
                ]
                label = f"{strategy}, {count} distribution{'s' if count > 1 else ''}"
                if metric == "lost":
                    label += "" if scenario == documented else ", rate-limited"
                axis.plot(
                    [r.changes for r in rows],
                    [getattr(r, metric) for r in rows],
                    marker="o" if strategy == "module" else "s",
                    linestyle="-" if scenario == documented else ":",
                    color={"per object": "tab:red", "module": "tab:blue"}[strategy],
                    alpha=1.0 if count == 1 else 0.55,
                    label=label,
                )
        axis.set_xscale("log")
        if metric == "lost":  # zero must show: linear up to 1, log above
            axis.set_yscale("symlog", linthresh=1)
            axis.set_ylim(bottom=0)
        else:
            axis.set_yscale("log")
        axis.set_xlabel("changed objects in the deploy")
        axis.set_title(title)
        axis.grid(True, which="both", alpha=0.3)
    handles, labels = axes[2].get_legend_handles_labels()  # the lost panel has every line
    figure.legend(handles, labels, loc="lower center", ncol=4, fontsize=8, frameon=False)
    figure.suptitle(
        f"Deploy storms: per-object invalidation vs this module (CloudFront quota model, "
        f"invalidations complete in {COMPLETION_SECONDS:g} s)"
    )
    figure.tight_layout(rect=(0, 0.1, 1, 1))
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)


def sensitivity(tree: Sequence[str], defaults: ModuleDefaults) -> None:
    """The 10,000-change deploy on one distribution as invalidations take longer to complete."""
    events = deploy(tree, 10_000)
    config = Config(distributions(1), defaults.max_paths_per_invalidation, INDEX_DOCUMENT)
    variants = (
        ("per object", "per object", defaults),
        ("module", "module (defaults)", defaults),
        ("module", "module, batch_size 10000", replace(defaults, batch_size=10_000)),
    )
    print("\n-- 10,000 changes, 1 distribution, documented quotas: lost (in DLQ) by completion time --")
    print(f"{'completion':>10} " + " ".join(f"{label:>26}" for _, label, _ in variants))
    scenario = next(iter(SCENARIOS))
    for completion in SENSITIVITY_COMPLETION:
        cells = []
        for strategy, _, settings in variants:
            r = measure(scenario, strategy, events, config, tree, completion=completion, defaults=settings)
            cells.append(f"{r.lost:>7,} ({r.dead_letters:,}) in {r.calls:>6,} calls")
        print(f"{completion:>9.0f}s " + " ".join(f"{cell:>26}" for cell in cells))


def main() -> list[Result]:
    quiet = logging.getLogger("cf_invalidator")  # the handler's decision log: one line per call
    quiet.addHandler(logging.NullHandler())
    quiet.propagate = False
    defaults = module_defaults()
    tree = site_tree()
    print(f"== Deploy storms: per-object vs module (site tree of {len(tree):,} objects) ==")
    print(
        f"module defaults: batch_size {defaults.batch_size}, window {defaults.batching_window_seconds} s, "
        f"budget {defaults.max_paths_per_invalidation} paths, concurrency {defaults.maximum_concurrency}, "
        f"timeout {defaults.lambda_timeout} s, maxReceiveCount {defaults.max_receive_count}"
    )
    started = time.perf_counter()
    results = []
    for scenario, size, count in itertools.product(SCENARIOS, DEPLOY_SIZES, DISTRIBUTION_COUNTS):
        events = deploy(tree, size)
        config = Config(distributions(count), defaults.max_paths_per_invalidation, INDEX_DOCUMENT)
        for strategy in ("per object", "module"):
            results.append(measure(scenario, strategy, events, config, tree))
    print_table(results)
    print_targets(results, defaults.max_paths_per_invalidation)
    sensitivity(tree, defaults)
    write_chart(results, CHART)
    print(f"chart: {CHART.relative_to(ROOT)}; {time.perf_counter() - started:.0f} s")
    return results


if __name__ == "__main__":
    main()
