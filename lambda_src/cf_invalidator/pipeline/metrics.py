"""CloudWatch metrics without an API call: one Embedded Metric Format (EMF) line per distribution and batch.

The Lambda runtime sends every stdout line to CloudWatch Logs, which turns a JSON object with an `_aws`
member into metrics (CloudWatch's "Embedded metric format specification"): `_aws.Timestamp` in
milliseconds since the epoch, `_aws.CloudWatchMetrics` a list of directives (Namespace, Dimensions as a
list of dimension sets, Metrics as Name and Unit), and each named dimension and metric a member of the
root object. Here: dimension DistributionId, one line per configured distribution for each batch (zeros
included, so that sums over time are complete), a metric only when it has a value. The decision log lines
are written as before; these lines carry no `decision` field.

What each metric counts, per distribution and batch:
- PathsBilled: the paths of the invalidations created (a wildcard is one path, as CloudFront bills it);
- WildcardPaths: those of them ending in `*`; InvalidationsCreated: CreateInvalidation answers;
- KeysInvalidated: distinct changed keys those invalidations carried (served there);
- UnchangedSkipped / NewObjectsSkipped / ChangesUnverified: keys it serves that change detection left
  out as unchanged, left out as new, or could not compare (detect.py's log lines of the same names);
- QuotaWaits: backoffs because CloudFront's in-progress quotas were full (said so, or as last read);
- SpendGuarded: requests the spend guard turned into `/*` (see spend_guard.py);
- ChangeToInvalidationSeconds: from the oldest change's event time (S3's eventTime, EventBridge's time)
  of an invalidation to CloudFront's answer creating it.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from datetime import UTC, datetime

from ..config import Config
from ..core.events import Change
from ..core.history import Judgement, Reason, Verdict
from ..core.paths import serves
from ..core.plan import Request

DIMENSION = "DistributionId"
COUNT, SECONDS = "Count", "Seconds"
UNITS = {
    "PathsBilled": COUNT,
    "WildcardPaths": COUNT,
    "InvalidationsCreated": COUNT,
    "KeysInvalidated": COUNT,
    "UnchangedSkipped": COUNT,
    "NewObjectsSkipped": COUNT,
    "ChangesUnverified": COUNT,
    "QuotaWaits": COUNT,
    "SpendGuarded": COUNT,
    "ChangeToInvalidationSeconds": SECONDS,
}
QUOTA_CODES = frozenset({"TooManyInvalidationsInProgress", "QuotaFullInProgress"})


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _stdout(line: str) -> None:
    """Flushed at once: a container frozen after the reply must not keep the batch's metrics."""
    print(line, flush=True)


class BatchMetrics:
    """What one batch did on each distribution, written as EMF lines by `emit`."""

    def __init__(
        self,
        config: Config,
        namespace: str,
        *,
        clock: Callable[[], datetime] = _utc_now,
        write: Callable[[str], None] = _stdout,
    ) -> None:
        self._config = config
        self._namespace = namespace
        self._clock = clock
        self._write = write
        self._counts: defaultdict[str, Counter[str]] = defaultdict(Counter)
        self._latency: dict[str, float] = {}
        self._times: dict[str, datetime] = {}  # kept key -> its oldest event time

    def read(
        self, changes_by_message: Mapping[str, Sequence[Change]], kept: Mapping[str, Sequence[str]]
    ) -> None:
        """The batch's changes, and the keys of each message left to invalidate after change detection:
        each kept key's oldest event time, in one pass (a request reads its keys' times from it)."""
        self._times = _oldest_times(changes_by_message, kept)

    def judged(self, judgements: Mapping[tuple[str | None, str], Judgement]) -> None:
        """Change detection's judgements: per distribution, the keys it serves left out or unverified."""
        for (_, key), judgement in judgements.items():
            name = _judgement_metric(judgement, self._config.invalidate_new_objects)
            if name is not None:
                for distribution_id in self._serving(key):
                    self._counts[distribution_id][name] += 1

    def created(self, request: Request, invalidation_id: str) -> None:
        """CloudFront created `request` (as finally sent) just now."""
        counts = self._counts[request.distribution.id]
        counts["InvalidationsCreated"] += 1
        counts["PathsBilled"] += len(request.paths)
        counts["WildcardPaths"] += sum(path.endswith("*") for path in request.paths)
        counts["KeysInvalidated"] += len(request.keys)
        times = self._times
        oldest = min((times[key] for key in request.keys if key in times), default=None)
        if oldest is not None:
            waited = max(0.0, (self._clock() - oldest).total_seconds())
            self._latency[request.distribution.id] = max(
                waited, self._latency.get(request.distribution.id, 0.0)
            )

    def retrying(self, request: Request, error_code: str) -> None:
        """invalidate() backs off before another attempt; a full quota counts as a wait."""
        if error_code in QUOTA_CODES:
            self._counts[request.distribution.id]["QuotaWaits"] += 1

    def guarded(self, request: Request) -> None:
        """The spend guard turned the request into `/*`."""
        self._counts[request.distribution.id]["SpendGuarded"] += 1

    def lines(self) -> list[str]:
        """One EMF JSON line per configured distribution."""
        timestamp = int(self._clock().timestamp() * 1000)
        return [self._line(d.id, d.label, timestamp) for d in self._config.distributions]

    def emit(self) -> None:
        for line in self.lines():
            self._write(line)

    def _line(self, distribution_id: str, label: str, timestamp: int) -> str:
        values: dict[str, float] = {name: 0 for name, unit in UNITS.items() if unit == COUNT}
        values.update(self._counts[distribution_id])
        if distribution_id in self._latency:
            values["ChangeToInvalidationSeconds"] = round(self._latency[distribution_id], 3)
        directive = {
            "Namespace": self._namespace,
            "Dimensions": [[DIMENSION]],
            "Metrics": [{"Name": name, "Unit": UNITS[name]} for name in values],
        }
        document = {
            "_aws": {"Timestamp": timestamp, "CloudWatchMetrics": [directive]},
            DIMENSION: distribution_id,
            "distribution": label,
            **values,
        }
        return json.dumps(document, separators=(",", ":"))

    def _serving(self, key: str) -> Iterable[str]:
        return [d.id for d in self._config.distributions if serves(key, d)]


def _oldest_times(
    changes_by_message: Mapping[str, Sequence[Change]], kept: Mapping[str, Sequence[str]]
) -> dict[str, datetime]:
    """Each kept key's oldest event time among the changes of the messages keeping it (keys without
    one are left out). A message almost always holds one change: its kept keys are then read as they are."""
    times: dict[str, datetime] = {}
    for message_id, found in changes_by_message.items():
        keeps: Collection[str] = kept.get(message_id, ())
        if len(found) > 1:
            keeps = set(keeps)
        for change in found:
            written, key = change.event_time, change.key
            if written is not None and key in keeps and (key not in times or written < times[key]):
                times[key] = written
    return times


def _judgement_metric(judgement: Judgement, invalidate_new_objects: bool) -> str | None:
    if judgement is Verdict.UNCHANGED:
        return "UnchangedSkipped"
    if judgement is Verdict.NEW and not invalidate_new_objects:
        return "NewObjectsSkipped"
    if isinstance(judgement, Reason):
        return "ChangesUnverified"
    return None
