"""`make demo`: the whole pipeline on this machine, no AWS account needed.

Starts a moto server on 127.0.0.1, applies examples/basic against it, uploads a small site, then
overwrites and deletes a few pages. moto's S3 puts the change events on the module's queue; the demo
delivers them to the deployed function the way Lambda's SQS event source mapping would (moto cannot run
Lambda code without Docker) and reports the CloudFront invalidations that came out, with what one
invalidation per changed object would have cost instead. Exits 0, or names the failed step and exits 1.

The machinery is the end-to-end tests' own (tests/python/support), so the demo shows what they test.
"""

from __future__ import annotations

import sys
import tempfile
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "python"))

from support.cloudfront_model import FREE_PATHS_PER_MONTH, PRICE_PER_PATH  # noqa: E402
from support.deployment import (  # noqa: E402
    EXAMPLE_SITES,
    Deployment,
    Invalidation,
    deploy,
    example_variables,
    prepare_site,
)
from support.event_source import BatchOutcome  # noqa: E402
from support.moto_server import MotoServer  # noqa: E402
from support.terraform import stage_example  # noqa: E402

BUCKET = "demo-site"
SHOWN_PATHS = 12
# Folders of the demo site: spaces and non-ASCII characters included, as real sites have them.
FOLDERS = (
    "",
    "blog",
    "blog/2025",
    "blog/2026",
    "docs",
    "docs/guide",
    "docs/api",
    "team pages",
    "café",
    "über uns",
)
PAGES_PER_FOLDER = 29  # + index.html + style.css: 31 objects a folder
OVERWRITTEN = ("index.html", "docs/guide/index.html", "café/page-03.html", "team pages/page-07.html")
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


def site_keys() -> list[str]:
    """The keys of the demo site: an index.html, a stylesheet and pages in every folder."""
    keys = []
    for folder in FOLDERS:
        prefix = f"{folder}/" if folder else ""
        keys += [f"{prefix}index.html", f"{prefix}style.css"]
        keys += [f"{prefix}page-{n:02d}.html" for n in range(1, PAGES_PER_FOLDER + 1)]
    return keys


def upload(deployment: Deployment, keys: list[str], version: str) -> None:
    s3 = deployment.server.client("s3")
    for key in keys:
        s3.put_object(Bucket=deployment.bucket, Key=key, Body=f"<h1>{key}</h1><p>{version}</p>".encode())


def deliver(deployment: Deployment) -> list[BatchOutcome]:
    """Feed the queue to the deployed function until it is empty; fail on any failed message."""
    outcomes = deployment.events.drain()
    for outcome in outcomes:
        print(
            f"      batch of {len(outcome.message_ids)} messages: {len(outcome.failed_ids)} failed",
            flush=True,
        )
        if outcome.failed_ids:
            logs = deployment.function.logs[-1][-2000:] if deployment.function.logs else ""
            raise RuntimeError(f"{len(outcome.failed_ids)} messages failed ({outcome.error}); log:\n{logs}")
    return outcomes


def cost(paths: int) -> float:
    """Invalidation cost of `paths` paths in a month where the free 1,000 are already used up."""
    return paths * PRICE_PER_PATH


@dataclass
class Report:
    changes: int
    batches: int
    invalidations: dict[str, list[Invalidation]]  # label => created invalidations

    def print(self) -> None:
        coalesced = sum(len(inv.paths) for invs in self.invalidations.values() for inv in invs)
        calls = sum(len(invs) for invs in self.invalidations.values())
        per_object = self.changes * len(self.invalidations)
        print("\nReport")
        print(f"  objects changed:        {self.changes}")
        print(f"  batches delivered:      {self.batches}")
        for label, invalidations in self.invalidations.items():
            print(f"  distribution {label!r}: {len(invalidations)} invalidation(s)")
            for invalidation in invalidations:
                shown = ", ".join(sorted(invalidation.paths)[:SHOWN_PATHS])
                more = len(invalidation.paths) - SHOWN_PATHS
                print(
                    f"    {invalidation.id}: {len(invalidation.paths)} paths: {shown}"
                    + (f", ... +{more}" if more > 0 else "")
                )
        print(f"  this module:            {calls} CreateInvalidation call(s), {coalesced} paths")
        print(f"  one per changed object: {per_object} CreateInvalidation calls, {per_object} paths")
        print(
            f"  cost once the free {FREE_PATHS_PER_MONTH} paths of the month are used "
            f"(${PRICE_PER_PATH}/path): ${cost(coalesced):.2f} instead of ${cost(per_object):.2f}"
        )
        daily_module, daily_per_object = 30 * coalesced, 30 * per_object
        print(
            f"  a month with one such deploy a day: {daily_module} paths "
            f"(${cost(max(0, daily_module - FREE_PATHS_PER_MONTH)):.2f}) instead of {daily_per_object} "
            f"(${cost(max(0, daily_per_object - FREE_PATHS_PER_MONTH)):.2f})"
        )


def run(workdir: Path) -> Report:
    total = 6
    with step(1, total, "start a moto server on 127.0.0.1"):
        server = MotoServer(log_path=workdir / "moto_server.log").start()
        print(f"      {server.endpoint_url} (log: {workdir / 'moto_server.log'})")
    try:
        with step(2, total, f"create bucket {BUCKET!r} and a CloudFront distribution in front of it"):
            distributions = prepare_site(server, BUCKET, EXAMPLE_SITES["basic"])
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
        watch = deployment.watch()
        keys = site_keys()
        batches = 0
        with step(
            4, total, f"upload a site of {len(keys)} files in {len(FOLDERS)} folders, deliver the queue"
        ):
            upload(deployment, keys, "v1")
            batches += len(deliver(deployment))
        with step(
            5, total, f"overwrite {len(OVERWRITTEN)} pages and delete {len(DELETED)}, deliver the queue"
        ):
            upload(deployment, list(OVERWRITTEN), "v2")
            s3 = server.client("s3")
            for key in DELETED:
                s3.delete_object(Bucket=BUCKET, Key=key)
            batches += len(deliver(deployment))
        with step(6, total, "read the invalidations CloudFront (moto) holds"):
            created = watch.new()
            invalidations = {
                label: created[distribution_id] for label, distribution_id in distributions.items()
            }
        return Report(len(keys) + len(OVERWRITTEN) + len(DELETED), batches, invalidations)
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
