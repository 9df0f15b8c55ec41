"""Replay of deploys through the deploy pipeline (issue 20): each deploy planned once, when it goes quiet.

The simulation of replay.py (its docstring states the assumptions: moto's versioned S3 read through
backend_s3, uploads at UPLOAD_RATE a second in key order, the CloudFront model completing invalidations
COMPLETION_SECONDS after creation, change detection on the virtual clock, one distribution, origin path
""), but with uploads and notifications interleaved (each notification visible at its upload, the
bucket holding what was uploaded by then: SiteBucket.withhold and publish_until, backend_s3.Published),
with the module's own pipeline in place of batch.py's per-batch handler:
- the function is deploy.pipeline over flush.Planner (process_batch's planning stages), built per
  invocation as handler.py builds it (the lease lasts the invocation's remaining time), each poller a
  container with its own InProgressCache;
- its SQS client is event_source_model.OwnQueue: the flush ticks it sends with DelaySeconds enter the
  modelled queue and are handed back by the modelled event source mapping on the virtual clock, batched
  with whatever S3 events are visible in the same window; what it sends the dead-letter queue is counted
  as dead letters;
- the deploy inbox is moto's in-process DynamoDB table (boto3 inside the site's mock_aws), created per
  replay with the module's key schema (pk, sk);
- the pipeline's clock is the virtual clock as epoch seconds (the moment EPOCH + virtual time), the
  clock the notifications' eventTime and the versions' LastModified are stamped on.
At the module's defaults: quiet_seconds and max_wait_seconds from variables.tf, the event source's
batch size, window and concurrency, the Lambda timeout and redrive as event_source_model has them,
evictions_per_path at its default. S3's own delay in delivering a notification (about a second) is not
modelled, as in replay.py: every time measured here is that much shorter than a viewer would see.

Judged (grading.py: the independent path oracle, and only invalidations created at or after a change's
write count): per deploy, when every change was covered, counted from the deploy's last write (its
upload's end, after which the bucket is quiet); the changes never covered (missed); paths billed,
wildcards, unchanged objects evicted (cost: paths + evicted / evictions_per_path, as frontier.py), and
frontier.py's optimum for the same deploy. Figures are printed, never asserted.
"""

from __future__ import annotations

import math
import random
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "lambda_src"), str(ROOT / "tests" / "python"), str(ROOT / "bench")]

from backend_s3 import Published  # noqa: E402
from event_source_model import COMPLETION_SECONDS, Handler, OwnQueue, deliver  # noqa: E402
from frontier import Cover, Problem, frontier  # noqa: E402
from grading import change_to_invalidation, evicted, lost_and_stale  # noqa: E402
from replay import (  # noqa: E402
    DISTRIBUTION,
    INDEX_DOCUMENT,
    DetectionLog,
    Site,
    Uploaded,
    detection_clock,
    site_s3,
    uploaded_deploys,
    virtual_time,
)

from cf_invalidator.aws.in_progress import InProgressCache  # noqa: E402
from cf_invalidator.config import Config, Deploys  # noqa: E402
from cf_invalidator.pipeline.collaborators import Collaborators  # noqa: E402
from cf_invalidator.pipeline.deploy import Clients, pipeline  # noqa: E402
from cf_invalidator.pipeline.flush import Planner  # noqa: E402
from support.cloudfront_model import CloudFrontModel, VirtualClock  # noqa: E402
from support.deploy_world import create_inbox_table  # noqa: E402
from support.module_defaults import ModuleDefaults, module_defaults  # noqa: E402
from support.moto_server import ACCOUNT_ID, REGION  # noqa: E402

QUEUE, DEAD_LETTER_QUEUE, TABLE = "site-invalidation", "site-invalidation-dlq", "site-invalidation-deploys"
SQS_ENDPOINT = f"https://sqs.{REGION}.amazonaws.com"


@dataclass(frozen=True)
class Waits:
    """The deploy pipeline's waits, as variables.tf defaults them."""

    quiet_seconds: int
    max_wait_seconds: int


def module_waits(root: Path = ROOT) -> Waits:
    defaults = module_defaults(root)
    return Waits(defaults.quiet_seconds, defaults.max_wait_seconds)


@dataclass(frozen=True)
class DeployOutcome:
    """One deploy through the deploy pipeline, graded."""

    site: str
    deploy_number: int
    way: str
    tree_size: int
    changed: int
    full_regeneration: bool
    calls: int  # CreateInvalidation calls
    paths_billed: int
    wildcards: int
    evicted: int
    missed: int  # changes some viewer path of which no invalidation created after the write covered
    dead_letters: int
    ticks: int  # flush ticks the function sent itself
    settled_s: float | None  # from the deploy's last write until every change was covered; None: missed
    delays: tuple[float | None, ...]  # per change, its write to the invalidation covering it
    evictions_per_path: float
    frontier: Cover

    @property
    def cost(self) -> float:
        """paths + evicted / evictions_per_path (frontier.py's cost; the paths alone at 0)."""
        if self.evictions_per_path == 0:
            return float(self.paths_billed)
        return self.paths_billed + self.evicted / self.evictions_per_path


def quiet_config(s3: Any, evictions_per_path: float, defaults: ModuleDefaults, waits: Waits) -> Config:
    """The function's settings: the module's defaults, change detection on (as replay.handler_settings
    has it), the deploy inbox on the modelled queues and table."""
    return Config(
        (DISTRIBUTION,),
        defaults.max_paths_per_invalidation,
        INDEX_DOCUMENT,
        skip_unchanged_objects=True,
        invalidate_new_objects=True,
        evictions_per_path=evictions_per_path,
        deploys=Deploys(TABLE, _arn(DEAD_LETTER_QUEUE), waits.quiet_seconds, waits.max_wait_seconds),
    )


def _arn(queue: str) -> str:
    return f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:{queue}"


def deploy_handler(config: Config, model: CloudFrontModel, s3: Any, own: OwnQueue, dynamodb: Any) -> Handler:
    """The deploy pipeline as handler.py builds it for each invocation, one container per poller (its
    InProgressCache); its backoff jitter seeded, so that a run is reproducible."""
    jitter = random.Random(5).random
    caches: dict[int, InProgressCache] = {}
    clients = Clients(own, dynamodb, SQS_ENDPOINT)

    def epoch_clock() -> float:
        return model.clock.datetime().timestamp()

    def handle(
        event: dict[str, Any], remaining_ms: Callable[[], int], sleep: Callable[[float], None], *_: Any
    ) -> dict[str, list[dict[str, str]]]:
        cache = caches.setdefault(threading.get_ident(), InProgressCache(model, clock=model.clock.now))

        def collaborators() -> Collaborators:
            return Collaborators(s3=s3, in_progress=cache, sleep=sleep, jitter=jitter)

        planner = Planner(config, model, remaining_ms, collaborators=collaborators)
        lease_s = math.ceil(remaining_ms() / 1000) + 1
        return pipeline(config, clients, _arn(QUEUE), planner, clock=epoch_clock, lease_s=lease_s).handle(
            event
        )

    return handle


@contextmanager
def inbox_table() -> Iterator[Any]:
    """The deploy inbox (moto's DynamoDB, inside the site's mock_aws), empty; dropped afterwards."""
    import boto3  # noqa: PLC0415

    dynamodb = boto3.client("dynamodb", region_name=REGION)
    create_inbox_table(dynamodb, TABLE)
    try:
        yield dynamodb
    finally:
        dynamodb.delete_table(TableName=TABLE)


@dataclass(frozen=True)
class Run:
    """How a replay runs: the module's defaults and waits, at one evictions_per_path."""

    defaults: ModuleDefaults
    waits: Waits
    evictions_per_path: float

    @classmethod
    def at_defaults(cls) -> Run:
        defaults = module_defaults()
        return cls(defaults, module_waits(), defaults.evictions_per_path)


def replay_deploy(site: str, uploaded: Uploaded, s3: Any, run: Run, full_regeneration: bool) -> DeployOutcome:
    """The deploy's notifications, interleaved with its uploads, through the queue, the event source
    mapping and the deploy pipeline, until no message (event or tick) is left; graded."""
    model = CloudFrontModel(
        [DISTRIBUTION.id], VirtualClock(uploaded.deploy.clock_start), completion_seconds=COMPLETION_SECONDS
    )
    uploaded.bucket.withhold(uploaded.changes)
    published = Published(s3, lambda: uploaded.bucket.publish_until(model.clock.datetime()))
    config = quiet_config(published, run.evictions_per_path, run.defaults, run.waits)
    own = OwnQueue(QUEUE, DEAD_LETTER_QUEUE)
    try:
        with inbox_table() as dynamodb, detection_clock(model.clock), DetectionLog():
            handler = deploy_handler(config, model, published, own, dynamodb)
            delivery = deliver(uploaded.events("interleaved"), handler, run.defaults, model.clock, own)
    finally:
        uploaded.bucket.publish_until(datetime.max.replace(tzinfo=UTC))
    sent = (delivery.dead_letters, delivery.sent)
    return graded(site, uploaded, model, run, full=full_regeneration, sent=sent)


def graded(
    site: str, uploaded: Uploaded, model: CloudFrontModel, run: Run, *, full: bool, sent: tuple[int, int]
) -> DeployOutcome:
    """The outcome of a replayed deploy, judged by grading.py and frontier.py."""
    changed = uploaded.deploy.changed
    written = uploaded.written()
    lost, stale = lost_and_stale(changed, (DISTRIBUTION,), INDEX_DOCUMENT, model, written)
    delays = change_to_invalidation(written, (DISTRIBUTION,), INDEX_DOCUMENT, model)
    invalidations = model.invalidations(DISTRIBUTION.id)
    return DeployOutcome(
        site=site, deploy_number=uploaded.deploy_number, way=uploaded.way, tree_size=len(uploaded.tree),
        changed=len(changed), full_regeneration=full, calls=len(model.calls),
        paths_billed=model.paths_billed(), wildcards=sum(inv.wildcard_count for inv in invalidations),
        evicted=evicted(uploaded.tree, set(changed), (DISTRIBUTION,), INDEX_DOCUMENT, model),
        missed=lost + stale, dead_letters=sent[0], ticks=sent[1],
        settled_s=settled(uploaded, delays), delays=tuple(delays.values()),
        evictions_per_path=run.evictions_per_path,
        frontier=frontier(Problem.of(uploaded.tree, changed), run.evictions_per_path),
    )  # fmt: skip


def settled(uploaded: Uploaded, delays: dict[str, float | None]) -> float | None:
    """Seconds from the deploy's last write (any upload of it, changed or not) until every change of it
    was covered (its write + its delay); None when some change never was."""
    if any(delay is None for delay in delays.values()) or not uploaded.changes:
        return None
    written = uploaded.written()
    covered = max(written[key] + delay for key, delay in delays.items() if delay is not None)
    return covered - max(virtual_time(change.at) for change in uploaded.changes)


def replay_site(
    site: Site, way: str, full_regenerations: Sequence[int], run: Run | None = None
) -> list[DeployOutcome]:
    """Every deploy of `site`, uploaded `way`, in turn (each replayed before the next is uploaded), in
    the site's own moto S3: one work unit of the bench's process pool. `full_regenerations`: the
    numbers of the deploys that rewrite (nearly) the whole tree."""
    chosen = run or Run.at_defaults()
    with site_s3() as s3:
        return [
            replay_deploy(site.name, uploaded, s3, chosen, uploaded.deploy_number in full_regenerations)
            for [uploaded] in uploaded_deploys(site, (way,))
        ]
