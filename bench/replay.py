"""Replay of real deploys of two real static sites through the real handler.

Data: ../shared/sites/<site>.json.gz (relative to the repository root): the tree before the first deploy
and, per deploy, the keys git saw added, modified (different bytes) and deleted. Each deploy is
replayed two ways, in the order `aws s3 sync` walks the keys (sorted), UPLOAD_RATE operations a second:
- changes only: a put of every added and modified key, a delete of every deleted key;
- CI re-upload: `aws s3 sync` from a fresh checkout, where every local mtime is newer than the bucket's,
  so every key of the new tree is put again: new bytes for added and modified keys, the very same bytes
  and headers (Content-Type by extension) for the rest; deleted keys deleted.

S3 is moto's in-process versioned S3 (`moto.mock_aws`), one mock per site with one versioned bucket per
way, both first filled with the tree before deploy 1, a day before it. Puts and deletes go straight to
moto's S3 backend, without boto3's signing, routing and XML (docs/development.md), and a site's replay
makes about 200,000 of them. The S3 notification of each put or delete is built here, as AWS writes it
(event_source_model.notification_body), with the versionId, ETag and size the bucket returned (moto's
own notifications lack the versionId), and a sequencer.

Change detection is on (handler_settings), and reads the bucket's versions through backend_s3.BackendS3
(moto's backend without the HTTP round trip, with moto_listing's narrowed ListObjectVersions; both
checked against moto's own answers by tests/python/test_moto_listing.py). Time, as change detection sees
it: each deploy starts at its commit date and puts one object every 1/UPLOAD_RATE s, so each version's
LastModified is the (virtual) time of its upload, and the handler's "now" is the virtual clock
(detection_clock). Stamping versions with the real deploy dates, rather
than the moment moto stored them, matters: moto writes LastModified to the second, and a replay stores
thousands of versions a second, so every key's versions would tie and be judged "ambiguous order".
Deploys are uploaded one at a time, each replayed before the next is uploaded, so a listing holds the
past only. One clock for everything: virtual time v is the moment EPOCH + v (the CloudFront model's
CreateTime), the deploy's virtual clock starts at its commit date, and each notification's eventTime is
the moment of its upload, so the handler can compare eventTime, LastModified and CreateTime.
Lifecycle: before each deploy, versions and delete markers noncurrent for a day or more are removed, as
the docs' recommended rule (NoncurrentVersionExpiration, 1 day) does; the comparison never needs them
(a deploy compares with what was current when it began), but they would make a listing longer, so the
buckets hold what a bucket with that rule holds. Not modelled: the time the lookups take
(they run at one instant of virtual time; bench/handler_bench.py measures them at 20 ms a call).

Each deploy is planned as the deploy pipeline's flush plans it (lambda_src/cf_invalidator/flush.py,
docs/deploy-flush.md): the flush waits until the bucket has been quiet, then hands all of a
distribution's waiting changes to process_batch as one batch. So here the deploy's uploads are all in
the bucket before the handler runs, every notification becomes visible when the last upload ends, and
the queue hands the whole deploy over as ONE batch: batch_size is the deploy's event count and no
6 MB payload cap cuts it (the inbox, not Lambda's SQS batching, carries the changes to the flush).
What this leaves out is the flush's own machinery (the inbox, the quiet wait, the ticks): the deploy
bench (deploy_bench.py, deploy_replay.py) replays that, with uploads and notifications interleaved;
this replay is what the planning alone costs, at several evictions_per_path, against the frontier.
A batch the handler reports as partly failed is retried as the queue model retries it
(event_source_model.py). The replays of one deploy at several settings read one unchanged bucket:
backend_s3.RecordedS3 gives them the answers S3 gave the first, and forgets them whenever the bucket
changes.

CloudFront is the model in tests/python/support/cloudfront_model.py, not moto's CloudFront: moto accepts
any invalidation at once, while the model enforces the quotas (3,000 file paths and 15 wildcard paths in
progress per distribution), completes invalidations COMPLETION_SECONDS (25 s) after creation on a
virtual clock
and answers ListInvalidations/GetInvalidation, so the peak of wildcards in progress can be measured. A new
model per deploy: deploys are days apart. The queue is event_source_model.py's, at the module's
defaults (variables.tf, main.tf) but for the batch size and payload cap above. One distribution serves
the bucket, origin path "". The handler plans with what is in progress (`in_progress`), one
InProgressCache per poller, as a container keeps one.

Reported per site and deploy: events, CreateInvalidation calls (every attempt) and how many CloudFront
refused for its in-progress quotas, paths billed, wildcard paths created and the most in progress at
once (the model never lets that exceed 15: a deploy that needed more shows refusals), unchanged objects
evicted (keys of the new tree the deploy did not change, with a viewer path an invalidation covers), the
ideal (distinct viewer paths of the changed keys: exact invalidation), and changes missed (some viewer
path not invalidated by an invalidation created at or after the change was written, grading.py).
How soon a change is invalidated is the deploy bench's figure (docs/deploy-flush.md), not this one's.
The handler runs at the module's defaults but for evictions_per_path, which each replay sets.
Figures are printed, never asserted.
"""

from __future__ import annotations

import dataclasses
import functools
import gzip
import itertools
import json
import logging
import math
import mimetypes
import os
import sys
import threading
from collections import Counter, deque
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any, NamedTuple
from unittest import mock

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "lambda_src"), str(ROOT / "tests" / "python"), str(ROOT / "bench")]

from event_source_model import (  # noqa: E402
    COMPLETION_SECONDS,
    UPLOAD_RATE,
    Delivery,
    Handler,
    batch_handler,
    deliver,
    notification_body,
    peak_wildcards_in_progress,
)
from grading import evicted, ideal_paths, lost_and_stale  # noqa: E402

from cf_invalidator.config import Config, Distribution  # noqa: E402
from support.cloudfront_model import (  # noqa: E402
    EPOCH,
    FREE_PATHS_PER_MONTH,
    PRICE_PER_PATH,
    CloudFrontModel,
    VirtualClock,
)
from support.module_defaults import ModuleDefaults, module_defaults  # noqa: E402
from support.moto_server import ACCOUNT_ID, FAKE_AWS_ENVIRONMENT, REGION  # noqa: E402

SITES_DIR = ROOT.parent / "shared" / "sites"
SITES = ("formats.kaitai.io", "paws-r.github.io")
WAYS = ("changes only", "CI re-upload")
DISTRIBUTION = Distribution("site", "ESITE")
INDEX_DOCUMENT = "index.html"
WILDCARD_QUOTA = 15  # CloudFront: wildcard paths in progress per distribution
QUOTA_REFUSAL = "TooManyInvalidationsInProgress"
DEFAULT_BUDGET = module_defaults().max_paths_per_invalidation
NONCURRENT_LIFETIME = timedelta(days=1)  # the docs' lifecycle rule: noncurrent versions expire after a day
BEFORE_FIRST_DEPLOY = timedelta(days=1)  # when the tree before deploy 1 was uploaded


def handler_settings(s3: Any, evictions_per_path: float) -> tuple[dict[str, Any], dict[str, Any]]:
    """THE ONE PLACE that says how the replay runs the handler: (process_batch keyword arguments, extra
    Config fields). Change detection on, as the module's defaults have it (skip_unchanged_objects and
    invalidate_new_objects true), reading the site's versioned bucket through `s3`, and the given
    evictions_per_path (left out for a handler whose Config has no such field). For the figures without
    detection, return `{}, {}`."""
    fields: dict[str, Any] = {"skip_unchanged_objects": True, "invalidate_new_objects": True}
    known = {f.name for f in dataclasses.fields(Config)}
    if "evictions_per_path" in known:
        fields["evictions_per_path"] = evictions_per_path
    return {"s3": s3}, fields


@dataclass(frozen=True)
class Deploy:
    date: str
    added: frozenset[str]
    modified: frozenset[str]
    deleted: frozenset[str]

    @property
    def changed(self) -> frozenset[str]:
        return self.added | self.modified | self.deleted

    @property
    def started(self) -> datetime:
        """When the deploy's upload began: its commit date, in UTC."""
        return datetime.fromisoformat(self.date).astimezone(UTC)

    @property
    def clock_start(self) -> float:
        """The deploy's start on the virtual clock (virtual time v is the moment EPOCH + v)."""
        return (self.started - EPOCH).total_seconds()


@dataclass(frozen=True)
class Site:
    name: str
    before_keys: tuple[str, ...]
    deploys: tuple[Deploy, ...]

    def trees(self) -> Iterator[tuple[Deploy, frozenset[str]]]:
        """Each deploy with the tree after it."""
        tree = frozenset(self.before_keys)
        for deploy in self.deploys:
            tree = (tree - deploy.deleted) | deploy.added
            yield deploy, tree


def load_site(name: str, sites_dir: Path = SITES_DIR) -> Site:
    with gzip.open(sites_dir / f"{name}.json.gz", "rt", encoding="utf-8") as stream:
        data = json.load(stream)
    deploys = tuple(
        Deploy(d["date"], frozenset(d["added"]), frozenset(d["modified"]), frozenset(d["deleted"]))
        for d in data["deploys"]
    )
    return Site(data["site"], tuple(data["before_keys"]), deploys)


class Change(NamedTuple):
    """One put or delete as its S3 notification reports it, and when it was made."""

    key: str
    event_name: str
    version_id: str
    size: int
    etag: str
    sequencer: str
    at: datetime


class SiteBucket:
    """A versioned bucket of moto's in-process S3 holding a site's tree: a key's bytes are its name and
    its revision, so a put without a new revision stores the very same bytes and headers. Each version
    is stamped with the (virtual) time of its upload, and noncurrent versions expire as the docs'
    lifecycle rule has them expire (`expire_noncurrent`). `withhold` takes a deploy's new entries out
    of the store and `publish_until` puts them back as their upload times pass (deploy_replay.py, whose
    uploads and notifications interleave); `generation` counts the changes of the store, for RecordedS3."""

    def __init__(self, s3: Any, name: str, keys: Sequence[str], at: datetime) -> None:
        from moto.s3.models import s3_backends  # noqa: PLC0415 (moto loads slowly)

        s3.create_bucket(Bucket=name)
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
        self.name = name
        self._backend = s3_backends[ACCOUNT_ID]["aws"]
        self._revision = dict.fromkeys(keys, 0)
        self._sequence = itertools.count(1)
        self._withheld: deque[tuple[datetime, str, Any]] = deque()
        self._lock = threading.Lock()
        self.generation = 0
        for key in keys:
            self.put(key, new_bytes=False, at=at)

    def put(self, key: str, *, new_bytes: bool, at: datetime) -> Change:
        revision = self._revision.get(key, -1) + (1 if new_bytes or key not in self._revision else 0)
        self._revision[key] = revision
        stored = self._backend.put_object(self.name, key, f"{key}\n{revision}\n".encode())
        stored.set_metadata({"content-type": mimetypes.guess_type(key)[0] or "binary/octet-stream"})
        stored.last_modified = _moto_time(at)
        etag = stored.etag.strip('"')
        self.generation += 1
        return Change(key, "ObjectCreated:Put", stored.version_id, stored.size, etag, self._sequencer(), at)

    def delete(self, key: str, *, at: datetime) -> Change:
        del self._revision[key]
        _, response = self._backend.delete_object(self.name, key)
        self._versions(key)[-1].last_modified = _moto_time(at)  # the delete marker just made
        self.generation += 1
        return Change(
            key, "ObjectRemoved:DeleteMarkerCreated", response["version-id"], 0, "", self._sequencer(), at
        )

    def expire_noncurrent(self, now: datetime) -> int:
        """S3 Lifecycle's NoncurrentVersionExpiration (NoncurrentDays = NONCURRENT_DAYS): remove every
        version and delete marker noncurrent for that long by `now` (noncurrent since the next newer
        entry of its key was written). Returns how many went."""
        limit = _moto_time(now) - NONCURRENT_LIFETIME
        store = self._backend.get_bucket(self.name).keys
        removed = 0
        for key in list(dict.keys(store)):
            versions = self._versions(key)  # oldest first, as moto appends them
            kept = [v for v, newer in itertools.pairwise(versions) if newer.last_modified > limit]
            kept.append(versions[-1])
            if len(kept) < len(versions):
                removed += len(versions) - len(kept)
                store.setlist(key, kept)
        self.generation += 1
        return removed

    def withhold(self, changes: Sequence[Change]) -> None:
        """Take the entries `changes` made (each its key's newest) out of the store, to be published
        again by publish_until. dict's own methods: moto's would dispose of the versions' bytes."""
        store = self._backend.get_bucket(self.name).keys
        with self._lock:
            for change in changes:
                versions = dict.__getitem__(store, change.key)
                if versions[-1].version_id != change.version_id:
                    raise ValueError(f"{change.key}: its newest entry is not the change's")
                self._withheld.append((change.at, change.key, versions[-1]))
                if len(versions) > 1:
                    dict.__setitem__(store, change.key, versions[:-1])
                else:
                    dict.__delitem__(store, change.key)
            self.generation += 1

    def publish_until(self, moment: datetime) -> None:
        """Put back, in upload order, the withheld entries uploaded at or before `moment`."""
        store = self._backend.get_bucket(self.name).keys
        with self._lock:
            if not self._withheld or self._withheld[0][0] > moment:
                return
            while self._withheld and self._withheld[0][0] <= moment:
                _, key, entry = self._withheld.popleft()
                dict.__setitem__(store, key, [*(dict.get(store, key) or []), entry])
            self.generation += 1

    def _versions(self, key: str) -> list[Any]:
        versions: list[Any] = self._backend.get_bucket(self.name).keys.getlist(key)
        return versions

    def _sequencer(self) -> str:
        return f"{next(self._sequence):018X}"

    def notifications(self, changes: Sequence[Change]) -> list[str]:
        """The S3 notification body of each change."""
        return [
            notification_body(
                c.key, self.name, event_name=c.event_name, version_id=c.version_id,
                size=c.size, etag=c.etag or "d41d8cd98f00b204e9800998ecf8427e", sequencer=c.sequencer,
                written_at=virtual_time(c.at),
            )
            for c in changes
        ]  # fmt: skip


def upload_offset(index: int) -> float:
    """Seconds from a deploy's start to its `index`-th upload (and to that upload's notification)."""
    return index / UPLOAD_RATE


def virtual_time(moment: datetime) -> float:
    """A moment on the replay's virtual clock (EPOCH is virtual time 0)."""
    return (moment - EPOCH).total_seconds()


def _moto_time(moment: datetime) -> datetime:
    """moto keeps LastModified as a naive UTC datetime."""
    return moment.astimezone(UTC).replace(tzinfo=None)


def upload(
    bucket: SiteBucket, deploy: Deploy, tree: frozenset[str], way: str, started: datetime
) -> list[Change]:
    """The puts and deletes of one deploy, one way, in key order (as `aws s3 sync` walks them), each
    stamped with the time of its upload."""
    puts = tree if way == "CI re-upload" else deploy.added | deploy.modified
    changed = deploy.changed
    changes = []
    for index, key in enumerate(sorted(puts | deploy.deleted)):
        at = started + timedelta(seconds=upload_offset(index))
        if key in deploy.deleted:
            changes.append(bucket.delete(key, at=at))
        else:
            changes.append(bucket.put(key, new_bytes=key in changed, at=at))
    return changes


@dataclass(frozen=True)
class Uploaded:
    """One deploy uploaded one way: what the bucket's notifications said, and what the deploy changed."""

    deploy_number: int
    way: str
    bucket: SiteBucket
    changes: list[Change]
    deploy: Deploy
    tree: frozenset[str]
    expired: int  # noncurrent versions and delete markers lifecycle removed before this deploy

    @functools.cached_property
    def notifications(self) -> list[str]:
        """The notification body of each change (built once for all the replays of the deploy)."""
        return self.bucket.notifications(self.changes)

    def events(self, timing: str) -> list[tuple[float, str]]:
        """(arrival time on the virtual clock, notification body) of each change: at its upload
        ("interleaved", deploy_replay.py), or all when the last upload ends ("after upload", replay)."""
        if not self.changes:
            return []
        ends = virtual_time(self.changes[0].at) + upload_offset(len(self.changes))
        return [
            (virtual_time(c.at) if timing == "interleaved" else ends, body)
            for c, body in zip(self.changes, self.notifications, strict=True)
        ]

    def written(self) -> dict[str, float]:
        """When each changed key was written, on the virtual clock (what grading.lost_and_stale needs)."""
        changed = self.deploy.changed
        return {c.key: virtual_time(c.at) for c in self.changes if c.key in changed}


@contextmanager
def site_s3() -> Iterator[Any]:
    """moto's in-process S3 for one site, with its version listing narrowed (moto_listing.py); yields the
    client the handler gets (backend_s3.BackendS3: moto's backend without the HTTP round trip)."""
    from backend_s3 import BackendS3  # noqa: PLC0415 (moto loads slowly)
    from moto import mock_aws  # noqa: PLC0415
    from moto.s3.models import s3_backends  # noqa: PLC0415
    from moto_listing import narrowed_version_listing  # noqa: PLC0415

    with mock.patch.dict(os.environ, FAKE_AWS_ENVIRONMENT), mock_aws(), narrowed_version_listing():
        yield BackendS3(s3_backends[ACCOUNT_ID]["aws"])


def uploaded_deploys(site: Site, ways: Sequence[str] = WAYS) -> Iterator[list[Uploaded]]:
    """Inside the site's S3 (site_s3), one bucket per way, first filled with the tree before deploy 1 a
    day before it; then each deploy in turn: lifecycle expires what is due, the deploy is uploaded each
    way at its date, and the uploads are yielded, to be replayed before the next deploy is uploaded."""
    import boto3  # noqa: PLC0415

    s3 = boto3.client("s3", region_name=REGION)
    slug = site.name.replace(".", "-")
    filled = site.deploys[0].started - BEFORE_FIRST_DEPLOY
    buckets = {
        way: SiteBucket(s3, f"{slug}-{way.split()[0].lower()}", site.before_keys, filled) for way in ways
    }
    for number, (deploy, tree) in enumerate(site.trees(), start=1):
        uploads = []
        for way in ways:
            expired = buckets[way].expire_noncurrent(deploy.started)
            changes = upload(buckets[way], deploy, tree, way, deploy.started)
            uploads.append(Uploaded(number, way, buckets[way], changes, deploy, tree, expired))
        yield uploads


@dataclass(frozen=True)
class Outcome:
    site: str
    deploy_number: int
    way: str
    evictions_per_path: float
    budget: int
    events: int
    calls: int
    paths_billed: int
    wildcards: int
    peak_wildcards: int
    refusals: int  # calls CloudFront refused with TooManyInvalidationsInProgress
    evicted: int
    tree_size: int
    ideal: int
    missed: int
    dead_letters: int
    batches: int
    skipped: int  # keys change detection left out as unchanged
    unverified: int  # keys it could not compare (invalidated as changed)


def replay(
    site: str, uploaded: Uploaded, s3: Any, defaults: ModuleDefaults, *, evictions_per_path: float
) -> Outcome:
    """The deploy's notifications, all visible once the upload ends, through the queue as one batch (the
    flush's view: flush_delivery) to the real handler, which plans with what is in progress (one view
    per poller) and, on the deploy's virtual clock, compares versions (handler_settings)."""
    model = CloudFrontModel(
        [DISTRIBUTION.id], VirtualClock(uploaded.deploy.clock_start), completion_seconds=COMPLETION_SECONDS
    )
    keywords, config_fields = handler_settings(s3, evictions_per_path)
    config = Config((DISTRIBUTION,), defaults.max_paths_per_invalidation, INDEX_DOCUMENT, **config_fields)
    events = uploaded.events("after upload")
    handler = batch_handler(config, model, quota_clock=model.clock.now, **keywords)
    with detection_clock(model.clock), DetectionLog() as detection:
        delivery = flush_delivery(events, handler, defaults, model.clock)
    changed = uploaded.deploy.changed
    written = uploaded.written()
    lost, stale = lost_and_stale(changed, (DISTRIBUTION,), INDEX_DOCUMENT, model, written)
    invalidations = model.invalidations(DISTRIBUTION.id)
    return Outcome(
        site=site,
        deploy_number=uploaded.deploy_number,
        way=uploaded.way,
        evictions_per_path=evictions_per_path,
        budget=defaults.max_paths_per_invalidation,
        events=len(events),
        calls=len(model.calls),
        paths_billed=model.paths_billed(),
        wildcards=sum(inv.wildcard_count for inv in invalidations),
        peak_wildcards=peak_wildcards_in_progress(invalidations),
        refusals=model.outcomes()[QUOTA_REFUSAL],
        evicted=evicted(uploaded.tree, set(changed), (DISTRIBUTION,), INDEX_DOCUMENT, model),
        tree_size=len(uploaded.tree),
        ideal=ideal_paths(changed, (DISTRIBUTION,), INDEX_DOCUMENT),
        missed=lost + stale,
        dead_letters=delivery.dead_letters,
        batches=len(delivery.batches),
        skipped=detection.counts["unchanged_skipped"],
        unverified=detection.counts["changes_unverified"],
    )


def flush_delivery(
    events: Sequence[tuple[float, str]], handler: Handler, defaults: ModuleDefaults, clock: VirtualClock
) -> Delivery:
    """The deploy handed to the handler as a flush hands it: every event in one batch. The queue model at
    the module's defaults, but with a batch as large as the deploy and no payload cap, since the flush
    reads the changes from its inbox and not from a Lambda SQS batch; retries as the model makes them."""
    whole = dataclasses.replace(defaults, batch_size=max(1, len(events)))
    return deliver(events, handler, whole, clock, payload_limit_bytes=math.inf)


class DetectionLog(logging.Handler):
    """Adds up the keys of change detection's decisions (detect.py logs one line per kind and batch:
    unchanged_skipped, new_objects_skipped, changes_unverified, each with its key_count)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.counts: Counter[str] = Counter()
        self._logger = logging.getLogger("cf_invalidator.aws.detect")

    def emit(self, record: logging.LogRecord) -> None:
        self.counts[str(getattr(record, "decision", ""))] += int(getattr(record, "key_count", 0))

    def __enter__(self) -> DetectionLog:
        self._level = self._logger.level
        self._logger.setLevel(logging.INFO)
        self._logger.addHandler(self)
        return self

    def __exit__(self, *exc: object) -> None:
        self._logger.removeHandler(self)
        self._logger.setLevel(self._level)


@contextmanager
def detection_clock(clock: VirtualClock) -> Iterator[None]:
    """Change detection's "now" (history.TRUST_WINDOW is counted from it) and the tree's (the deploy
    window when no change is listed) on the replay's virtual
    clock, the moment EPOCH + virtual time, as the versions' LastModified are stamped. The handler reads
    it with `datetime.now(UTC)` in detect.py and tree.py; this replaces those modules' `datetime` for
    the replay."""

    class VirtualDatetime(datetime):
        @classmethod
        def now(cls, tz: tzinfo | None = None) -> VirtualDatetime:
            return cls.fromtimestamp(clock.datetime().timestamp(), tz)

    with (
        mock.patch("cf_invalidator.aws.detect.datetime", VirtualDatetime),
        mock.patch("cf_invalidator.aws.tree.datetime", VirtualDatetime),
    ):
        yield


def monthly_dollars(paths_billed: float) -> float:
    """The bill if these paths fell in one month: $0.005 a path past the free 1,000."""
    return max(0.0, paths_billed - FREE_PATHS_PER_MONTH) * PRICE_PER_PATH
