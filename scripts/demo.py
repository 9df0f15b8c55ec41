"""`make demo`: the whole pipeline on this machine, no AWS account needed.

Starts a moto server on 127.0.0.1, creates a versioned bucket, applies examples/basic against it, then
deploys a small site three times the way CI does it with `aws s3 sync` from a fresh checkout (every file
uploaded, changed or not): a first upload, the same files again unchanged, and the files again with a
few pages changed and a few deleted. moto's S3 puts the change events on the module's queue; the demo
delivers them to the deployed function the way Lambda's SQS event source mapping would (moto cannot run
Lambda code without Docker; the function accepts them into its deploy inbox and plans each deploy once
its upload has been quiet for `quiet_seconds`, on a flush tick it sends itself through the same queue)
and reports, per deploy, the CloudFront invalidations that came out, how many
objects the function skipped as unchanged (from its log), and what one invalidation per event would have
cost instead. Each deploy is judged by its end state once the queue is drained: nothing left in the
queue or the dead-letter queue, every changed page's viewer paths invalidated (by the tests' path
oracle), no page the deploy did not change evicted. How the batches happened to be cut, and messages the
function postponed on purpose (the emulation hands them back at once), are shown but not judged: they
depend on the machine's speed. Exits 0, or names the failed step, prints the log of the invocation whose
failures nothing explains, and exits 1.

The machinery is the end-to-end tests' own (tests/python/support), so the demo shows what they test.
"""

from __future__ import annotations

import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "python"))

from support.cloudfront_model import FREE_PATHS_PER_MONTH, PRICE_PER_PATH  # noqa: E402
from support.demo_site import FOLDERS, site_keys, upload, wait_for_next_second  # noqa: E402
from support.deployment import (  # noqa: E402
    EXAMPLE_SITES,
    Delivery,
    Deployment,
    Invalidation,
    deploy,
    example_variables,
    prepare_site,
    required_paths_by_label,
)
from support.moto_server import MotoServer  # noqa: E402
from support.terraform import stage_example  # noqa: E402

BUCKET = "demo-site"
SHOWN_PATHS = 12
CHANGED = ("index.html", "docs/guide/index.html", "café/page-03.html", "team pages/page-07.html")
DELETED = ("blog/2025/page-01.html", "über uns/page-02.html", "docs/api/page-28.html")


class StepError(Exception):
    """A demo step failed; the message names it."""


@contextmanager
def step(number: int, total: int, title: str) -> Iterator[None]:
    print(f"[{number}/{total}] {title} ...", flush=True)
    started = time.monotonic()
    try:
        yield
    except Exception as error:
        raise StepError(f"step {number}/{total} '{title}' failed: {type(error).__name__}: {error}") from error
    print(f"      done in {time.monotonic() - started:.1f} s", flush=True)


def judge(deployment: Deployment, delivery: Delivery, changed: Collection[str]) -> None:
    """Fail unless the queue is drained, the DLQ empty, every changed key's viewer paths (by the path
    oracle) invalidated, and no cached copy of an unchanged key evicted (no path at all when nothing
    changed). How the batches were cut, and messages the function postponed on purpose (handed back at
    once), are not judged: they depend on the machine's speed."""
    for outcome in delivery.outcomes:
        postponed = (
            f", {len(outcome.postponed_ids)} of them postponed by the function" if outcome.failed_ids else ""
        )
        kind = "flush tick(s)" if outcome.ticks_only else "messages"
        failed = len(outcome.failed_ids)
        print(f"      batch of {len(outcome.message_ids)} {kind}: {failed} failed{postponed}")
    problems = delivery.problems(required_paths_by_label(changed, EXAMPLE_SITES["basic"]))
    if evicted := deployment.evicted(delivery, changed):
        problems.append(f"pages this deploy did not change were evicted: {evicted}")
    if not changed and (extra := delivery.beyond({})):
        problems.append(f"paths invalidated though nothing changed: {extra}")
    if problems:
        raise RuntimeError("\n".join([*problems, delivery.batches(), delivery.failing_logs()]))


def cost(paths: int) -> float:
    """Invalidation cost of `paths` paths in a month where the free 1,000 are already used up."""
    return paths * PRICE_PER_PATH


@dataclass
class SiteDeploy:
    """One deploy of the site and what the function made of it."""

    title: str
    events: int  # objects written or deleted: one S3 event each
    batches: int
    unchanged: int  # objects the function logged as unchanged_skipped
    invalidations: dict[str, list[Invalidation]]  # label => created invalidations

    @property
    def calls(self) -> int:
        return sum(len(invs) for invs in self.invalidations.values())

    @property
    def paths(self) -> int:
        return sum(len(inv.paths) for invs in self.invalidations.values() for inv in invs)

    @property
    def per_event(self) -> int:
        """Paths (and calls) of one invalidation per event and distribution, as per-object snippets do."""
        return self.events * len(self.invalidations)

    def print(self) -> None:
        print(f"  {self.title}")
        print(
            f"    {self.events} S3 events in {self.batches} batch(es); "
            f"skipped as unchanged (logged as unchanged_skipped): {self.unchanged}"
        )
        for label, invalidations in self.invalidations.items():
            if not invalidations:
                print(f"    distribution {label!r}: no invalidation")
            for invalidation in invalidations:
                shown = ", ".join(sorted(invalidation.paths)[:SHOWN_PATHS])
                more = len(invalidation.paths) - SHOWN_PATHS
                print(
                    f"    distribution {label!r}: {invalidation.id}: {len(invalidation.paths)} paths: {shown}"
                    + (f", ... +{more}" if more > 0 else "")
                )
        print(
            f"    this module: {self.calls} CreateInvalidation call(s), {self.paths} paths; "
            f"one per event: {self.per_event} calls, {self.per_event} paths"
        )


@dataclass
class Report:
    deploys: list[SiteDeploy]

    def print(self) -> None:
        print("\nReport")
        for site_deploy in self.deploys:
            site_deploy.print()
        paths = sum(d.paths for d in self.deploys)
        per_event = sum(d.per_event for d in self.deploys)
        print(
            f"  all {len(self.deploys)} deploys, once the free {FREE_PATHS_PER_MONTH} paths of the month "
            f"are used (${PRICE_PER_PATH}/path): ${cost(paths):.2f} instead of ${cost(per_event):.2f}"
        )
        daily = self.deploys[-1]
        daily_module, daily_per_event = 30 * daily.paths, 30 * daily.per_event
        print(
            f"  a month with one deploy a day like the last: {daily_module} paths "
            f"(${cost(max(0, daily_module - FREE_PATHS_PER_MONTH)):.2f}) instead of {daily_per_event} "
            f"(${cost(max(0, daily_per_event - FREE_PATHS_PER_MONTH)):.2f})"
        )


def deploy_site(
    deployment: Deployment, title: str, change: Callable[[], int], changed: Collection[str]
) -> SiteDeploy:
    """Make `change` (it returns how many objects it wrote or deleted; `changed` are the keys whose
    bytes it changed), deliver the queue until it is drained, judge the end state, and read what the
    function did from CloudFront (moto) and from the function's log."""
    # moto gives LastModified to the second and the handler invalidates two versions of a key written in
    # the same second (their order is unknown): each deploy starts in a later second than the last.
    wait_for_next_second()
    events: list[int] = []
    delivery = deployment.deliver(lambda: events.append(change()))
    judge(deployment, delivery, changed)
    invalidations = {label: delivery.created[label] for label in deployment.distributions}
    unchanged = delivery.total("unchanged_skipped")
    return SiteDeploy(
        title, events[0], sum(not o.ticks_only for o in delivery.outcomes), unchanged, invalidations
    )


def run(workdir: Path) -> Report:
    total = 6
    with step(1, total, "start a moto server on 127.0.0.1"):
        server = MotoServer(log_path=workdir / "moto_server.log").start()
        print(f"      {server.endpoint_url} (log: {workdir / 'moto_server.log'})")
    try:
        with step(2, total, f"create versioned bucket {BUCKET!r} and a CloudFront distribution in front"):
            distributions = prepare_site(server, BUCKET, EXAMPLE_SITES["basic"], versioned=True)
            print(f"      distribution {distributions['site']}")
        with step(3, total, "terraform apply examples/basic (the provider waits ~25 s per SQS queue)"):
            deployment = deploy(
                server,
                stage_example(workdir / "stage", "basic"),
                example_variables("basic", BUCKET, distributions),
                bucket=BUCKET,
                distributions=distributions,
                runtime_dir=workdir / "runtime",
            )
            if deployment.plan_exit_code != 0:
                raise RuntimeError(f"a plan right after apply is not empty:\n{deployment.plan_text}")
            timings = ", ".join(
                f"{name} {seconds:.0f} s" for name, seconds in deployment.terraform.durations.items()
            )
            print(f"      {timings}; function {deployment.function.name} runs the committed zip")
        versions = dict.fromkeys(site_keys(), "v1")
        s3 = server.client("s3")

        def sync() -> int:
            upload(s3, BUCKET, versions)
            return len(versions)

        def sync_and_delete() -> int:
            for key in DELETED:
                del versions[key]
                s3.delete_object(Bucket=BUCKET, Key=key)
            versions.update(dict.fromkeys(CHANGED, "v2"))
            return sync() + len(DELETED)

        deploys = []
        title = f"deploy 1: upload a site of {len(versions)} files in {len(FOLDERS)} folders"
        with step(4, total, title + ", deliver the queue"):
            deploys.append(deploy_site(deployment, title, sync, changed=list(versions)))
        title = f"deploy 2: upload the same {len(versions)} files again, unchanged (CI from a fresh checkout)"
        with step(5, total, title + ", deliver the queue"):
            deploys.append(deploy_site(deployment, title, sync, changed=()))
        title = (
            f"deploy 3: upload every file again, {len(CHANGED)} pages changed, "
            f"{len(DELETED)} deleted (sync --delete)"
        )
        with step(6, total, title + ", deliver the queue"):
            deploys.append(deploy_site(deployment, title, sync_and_delete, changed=CHANGED + DELETED))
        return Report(deploys)
    finally:
        server.stop()
        print("moto server stopped", flush=True)


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="cf-invalidation-demo-") as workdir:
        try:
            report = run(Path(workdir))
        except StepError as failure:
            print(f"\nDEMO FAILED: {failure}", file=sys.stderr)
            if failure.__cause__ is not None and not isinstance(failure.__cause__, RuntimeError):
                traceback.print_exception(failure.__cause__, file=sys.stderr)
            return 1
    report.print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
