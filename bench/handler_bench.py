"""Handler speed and memory: CPU per 1,000 records, peak memory for 10,000, import time beyond boto3, and
change detection on a 4,000-record batch.

CloudFront is a stub that records the calls, so only the handler's own work is measured.
Targets (issue: the invalidation handler): <= 20 ms CPU per 1,000 records, <= 20 MB peak for a
10,000-record batch, <= 10 ms to import the handler once boto3 is loaded.

Change detection (issue 8): a CI re-upload of 4,000 objects of a site tree (120 directories), 1 % of them
really changed, each key with one older version; S3 is a stub with a sleep (slow_s3.SlowS3: 20 ms per
call, answers from memory, botocore's own per-call work not included) at the module's defaults (pool
size, page size, a 60 s timeout). Target: the batch finishes in 15 s or less; its peak memory is reported.

Planning with the tree (issue 13): a full regeneration of a docs-shaped site of 12,000 objects (every
object rewritten a minute ago over a version of two days ago, all but one in 300 with new bytes), one
batch of the default batch_size (1,000 records) at the module's defaults (change detection on, so the
tree comes from ListObjectVersions, two versions a key); S3 is the same 20 ms stub (TreeS3 answers the
undelimited listings from a precomputed sorted list, as S3 would, IsLatest included). Targets: <= 2 s of
handler wall time for the 12,000-object tree; <= 64 MB peak traced memory for a 100,000-object tree.
"""

from __future__ import annotations

import bisect
import contextlib
import dataclasses
import json
import os
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "lambda_src"), str(ROOT / "tests" / "python")]

from slow_s3 import SlowS3, StoredVersion  # noqa: E402

from cf_invalidator.config import Config, Distribution  # noqa: E402
from cf_invalidator.pipeline.batch import process_batch  # noqa: E402
from cf_invalidator.pipeline.collaborators import NO_METRICS, Collaborators  # noqa: E402
from cf_invalidator.pipeline.metrics import BatchMetrics  # noqa: E402
from support.module_defaults import module_defaults  # noqa: E402
from support.sqs_events import s3_body, sqs_event  # noqa: E402

CONFIG = Config(
    distributions=(Distribution("www", "EWWW"), Distribution("docs", "EDOCS", "/docs")),
    max_paths=1000,
)
METRICS_CONFIG = dataclasses.replace(CONFIG, enable_metrics=True)
ENV = {
    "DISTRIBUTIONS": json.dumps({"www": {"id": "EWWW", "origin_path": ""}}),
    "MAX_PATHS_PER_INVALIDATION": "1000",
    "INBOX_TABLE": "site-deploys",  # required since every batch goes to the deploy pipeline
    "DEAD_LETTER_QUEUE_ARN": "arn:aws:sqs:us-east-1:123456789012:site-invalidation-dlq",
}


class StubCloudFront:
    def __init__(self) -> None:
        self.calls: list[Mapping[str, Any]] = []

    def create_invalidation(self, **kwargs: Any) -> Mapping[str, Any]:
        self.calls.append(kwargs)
        return {"Invalidation": {"Id": f"I{len(self.calls)}", "Status": "InProgress"}}


def site_keys(count: int) -> list[str]:
    """A site tree: sections, nested folders, an index.html per folder, some names with spaces/Unicode."""
    keys = []
    for i in range(count):
        section, folder = f"section-{i % 12}", f"topic {i % 40}"
        name = "index.html" if i % 25 == 0 else f"page-{i}-é.html" if i % 7 == 0 else f"page-{i}.html"
        keys.append(f"docs/{section}/{folder}/{name}" if i % 3 else f"{section}/{folder}/{name}")
    return keys


def run_batch(event: dict[str, Any], config: Config = CONFIG) -> StubCloudFront:
    """The batch through process_batch, with the EMF metrics the handler writes when the config enables
    them (handler.py)."""
    cloudfront = StubCloudFront()
    metrics = BatchMetrics(config, config.metrics_namespace) if config.enable_metrics else NO_METRICS
    response = process_batch(event, config, cloudfront, lambda: 60_000, Collaborators(metrics=metrics))
    assert response == {"batchItemFailures": []}
    return cloudfront


def cpu_ms(event: dict[str, Any], repeats: int, config: Config = CONFIG) -> float:
    samples = []
    for _ in range(repeats):
        start = time.process_time()
        run_batch(event, config)
        samples.append((time.process_time() - start) * 1000)
    return statistics.median(samples)


def metrics_cpu(size: int, repeats: int) -> dict[str, float]:
    """CPU per 1,000 records of a `size`-record batch with enable_metrics off and on, and the added %
    (target: under 5 %). The two run in alternation, so that a neighbour's load weighs on both; the EMF
    lines go to a null stream, as print() would write them to Lambda's stdout."""
    event = sqs_event(s3_body(key) for key in site_keys(size))
    off: list[float] = []
    on: list[float] = []
    with open(os.devnull, "w") as null, contextlib.redirect_stdout(null):
        run_batch(event, METRICS_CONFIG)  # warm
        for _ in range(repeats):
            off.append(cpu_ms(event, 1) / (size / 1000))
            on.append(cpu_ms(event, 1, METRICS_CONFIG) / (size / 1000))
    without, with_metrics = statistics.median(off), statistics.median(on)
    added = 100 * (with_metrics - without) / without
    print(
        f"{size:>6} records: {without:6.1f} ms CPU per 1,000 records without metrics, {with_metrics:6.1f} ms "
        f"with (enable_metrics): {added:+.1f} % (target < 5 %)"
    )
    return {
        f"cpu_ms_per_1000_at_{size}_no_metrics": without,
        f"cpu_ms_per_1000_at_{size}_metrics": with_metrics,
        f"metrics_added_pct_at_{size}": added,
    }


def peak_mb(event: dict[str, Any]) -> float:
    tracemalloc.start()
    run_batch(event)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 1_000_000


def import_ms(repeats: int = 7) -> float:
    """Median time to import the handler in a fresh interpreter that has already imported boto3."""
    code = (
        "import time, boto3, botocore.config, botocore.exceptions\n"
        "start = time.perf_counter()\n"
        "import cf_invalidator.handler\n"
        "print((time.perf_counter() - start) * 1000)\n"
    )
    env = {**os.environ, **ENV, "PYTHONPATH": str(ROOT / "lambda_src"), "AWS_DEFAULT_REGION": "us-east-1"}
    samples = [
        float(
            subprocess.run(
                [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
            ).stdout
        )
        for _ in range(repeats)
    ]
    return statistics.median(samples)


def reuploaded_site(count: int, changed_every: int) -> tuple[TreeS3, dict[str, Any]]:
    """Every key re-uploaded a minute ago over a version of two hours ago; every `changed_every`-th
    with new bytes. The event reports each new version."""
    now = datetime.now(UTC)
    versions = {
        key: [
            StoredVersion(f"new-{i}", now - timedelta(minutes=1), f'"{i}-{int(i % changed_every == 1)}"'),
            StoredVersion(f"old-{i}", now - timedelta(hours=2), f'"{i}-0"'),
        ]
        for i, key in enumerate(list(dict.fromkeys(site_keys(2 * count)))[:count])
    }
    bodies = (s3_body(key, bucket="example-site", version_id=v[0].version_id) for key, v in versions.items())
    return TreeS3(versions), sqs_event(bodies)


def detection_run(s3: TreeS3, event: dict[str, Any]) -> tuple[float, float, int]:
    """Wall and CPU seconds of the batch, and the paths it invalidated."""
    defaults = module_defaults()
    config = Config(
        distributions=(Distribution("www", "EWWW"),),
        max_paths=defaults.max_paths_per_invalidation,
        skip_unchanged_objects=True,
    )
    timeout_s = defaults.lambda_timeout
    cloudfront = StubCloudFront()
    deadline = time.monotonic() + timeout_s
    wall, cpu = time.perf_counter(), time.process_time()
    remaining = lambda: int((deadline - time.monotonic()) * 1000)  # noqa: E731
    process_batch(event, config, cloudfront, remaining, Collaborators(s3=s3))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    paths = sum(len(call["InvalidationBatch"]["Paths"]["Items"]) for call in cloudfront.calls)
    return wall, cpu, paths


def change_detection(count: int = 4000) -> dict[str, float]:
    print(f"== Change detection: {count:,} re-uploaded objects, 1 % changed, 20 ms per S3 call (stub) ==")
    s3, event = reuploaded_site(count, changed_every=100)
    wall, cpu, paths = detection_run(s3, event)
    calls = dict(s3.calls)
    tracemalloc.start()
    fresh, _ = reuploaded_site(count, changed_every=100)
    detection_run(fresh, event)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        f"{count:>6} records: {wall:6.2f} s wall (target <= 15), {cpu:5.2f} s CPU, "
        f"{calls['list_object_versions']} listings, {calls['head_object']} HEADs, "
        f"{paths} paths invalidated; {peak / 1_000_000:.1f} MB peak traced memory"
    )
    return {"detect_wall_s": wall, "detect_cpu_s": cpu, "detect_peak_mb": peak / 1_000_000}


class TreeS3(SlowS3):
    """SlowS3, with the undelimited listings the tree needs answered by bisection over every version,
    each key's newest flagged IsLatest, and ListObjectsV2 from the newest versions."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.entries = [(key, v) for key in self.keys for v in self.versions[key]]
        self.entry_keys = [key for key, _ in self.entries]

    def list_object_versions(self, **kwargs: Any) -> Mapping[str, Any]:
        if kwargs.get("Delimiter"):
            return super().list_object_versions(**kwargs)
        self._wait("list_object_versions")
        prefix, size = kwargs.get("Prefix", ""), kwargs.get("MaxKeys", 1000)
        marker = kwargs.get("KeyMarker")
        start = bisect.bisect_left(self.entry_keys, prefix)
        if marker is not None:
            start = bisect.bisect_left(self.entry_keys, marker)
            version = kwargs.get("VersionIdMarker")
            while start < len(self.entries) and self.entries[start][0] == marker:
                start += 1
                if self.entries[start - 1][1].version_id == version:
                    break
        chosen = [(k, v) for k, v in self.entries[start : start + size] if k.startswith(prefix)]
        truncated = len(chosen) == size and start + size < len(self.entries)
        truncated = truncated and self.entries[start + size][0].startswith(prefix)
        page: dict[str, Any] = {
            "IsTruncated": truncated,
            "Versions": [
                {
                    "Key": k,
                    "VersionId": v.version_id,
                    "LastModified": v.last_modified,
                    "ETag": v.etag,
                    "IsLatest": v is self.versions[k][0],
                }
                for k, v in chosen
            ],
        }
        if truncated:
            page["NextKeyMarker"], page["NextVersionIdMarker"] = chosen[-1][0], chosen[-1][1].version_id
        return page

    def list_objects_v2(self, **kwargs: Any) -> Mapping[str, Any]:
        self._wait("list_objects_v2")
        prefix, size = kwargs.get("Prefix", ""), kwargs.get("MaxKeys", 1000)
        start = int(kwargs.get("ContinuationToken", bisect.bisect_left(self.keys, prefix)))
        chosen = [k for k in self.keys[start : start + size] if k.startswith(prefix)]
        truncated = len(chosen) == size and start + size < len(self.keys)
        truncated = truncated and self.keys[start + size].startswith(prefix)
        page: dict[str, Any] = {
            "IsTruncated": truncated,
            "Contents": [
                {
                    "Key": k,
                    "LastModified": self.versions[k][0].last_modified,
                    "ETag": self.versions[k][0].etag,
                }
                for k in chosen
            ],
        }
        if truncated:
            page["NextContinuationToken"] = str(start + size)
        return page


def docs_site(count: int) -> list[str]:
    """A static docs site: 12 sections of guides in topic folders, an index.html and assets per folder."""
    keys = []
    for i in range(count):
        section, topic = f"section-{i % 12:02d}", f"topic-{(i // 12) % 60:02d}"
        name = "index.html" if i % 20 == 0 else f"page-{i}.css" if i % 9 == 0 else f"page-{i}.html"
        keys.append(f"{section}/{topic}/{name}" if i % 50 else f"assets/{name}")
    return keys


def regenerated_site(count: int, batch: int) -> tuple[TreeS3, dict[str, Any]]:
    """Every object rewritten a minute ago over one of two days ago, all but one in 300 with new bytes;
    the event reports the first `batch` of them."""
    now = datetime.now(UTC)
    versions = {
        key: [
            StoredVersion(f"new-{i}", now - timedelta(minutes=1), f'"{i}-{int(i % 300 != 1)}"'),
            StoredVersion(f"old-{i}", now - timedelta(days=2), f'"{i}-0"'),
        ]
        for i, key in enumerate(docs_site(count))
    }
    bodies = (
        s3_body(key, bucket="example-site", version_id=v[0].version_id)
        for key, v in list(versions.items())[:batch]
    )
    return TreeS3(versions), sqs_event(bodies)


def planning(count: int = 12_000, large: int = 100_000, batch: int = 1000) -> dict[str, float]:
    print(
        f"== Planning with the tree: full regeneration, {batch:,}-record batch, 20 ms per S3 call (stub) =="
    )
    s3, event = regenerated_site(count, batch)
    planned, cpu, paths = detection_run(s3, event)
    print(
        f"{count:>7} objects: {planned:6.2f} s wall (target <= 2), {cpu:5.2f} s CPU, "
        f"{s3.calls['list_object_versions']} listings, {s3.calls['head_object']} HEADs, {paths} paths"
    )
    big, event = regenerated_site(large, batch)
    tracemalloc.start()
    wall, _, paths = detection_run(big, event)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        f"{large:>7} objects: {peak / 1_000_000:6.1f} MB peak traced memory (target <= 64), "
        f"{wall:6.2f} s wall, {big.calls['list_object_versions']} listings, {paths} paths"
    )
    return {"plan_wall_s_12000": planned, "plan_peak_mb_100000": peak / 1_000_000}


def main() -> dict[str, float]:
    print("== Handler: CPU, memory, calls (CloudFront stubbed) ==")
    results: dict[str, float] = {}
    for size, repeats in ((1_000, 15), (10_000, 5)):
        event = sqs_event(s3_body(key) for key in site_keys(size))
        cloudfront = run_batch(event)
        per_thousand = cpu_ms(event, repeats) / (size / 1000)
        paths = [len(call["InvalidationBatch"]["Paths"]["Items"]) for call in cloudfront.calls]
        print(
            f"{size:>6} records: {per_thousand:6.1f} ms CPU per 1,000 records (target <= 20); "
            f"{len(cloudfront.calls)} CreateInvalidation calls, paths per call {paths}"
        )
        results[f"cpu_ms_per_1000_at_{size}"] = per_thousand
        if size == 10_000:
            results["peak_mb_10000"] = peak_mb(event)
            print(f"{size:>6} records: {results['peak_mb_10000']:6.1f} MB peak traced memory (target <= 20)")
    for size, repeats in ((1_000, 21), (10_000, 7)):
        results.update(metrics_cpu(size, repeats))
    results["import_ms"] = import_ms()
    print(f"import of cf_invalidator.handler beyond boto3: {results['import_ms']:.1f} ms (target <= 10)")
    print()
    results.update(change_detection())
    print()
    results.update(planning())
    return results


if __name__ == "__main__":
    main()
