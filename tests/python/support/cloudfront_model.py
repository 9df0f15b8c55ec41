"""A model of CloudFront's invalidation API on a virtual clock, for tests and benchmarks.

moto accepts any invalidation; this double enforces what AWS documents, so that retries, quotas and
deduplication can be tested and the cost of a strategy measured. It stands in for the part of a boto3
CloudFront client the handler uses: `create_invalidation`, `list_invalidations` (paged as botocore
shapes it: MaxItems, Marker, IsTruncated, NextMarker) and `get_invalidation`. Responses have
botocore's shapes and errors are real `botocore.exceptions.ClientError`s (the modelled ones as the
client's own subclasses, e.g. `model.exceptions.TooManyInvalidationsInProgress`).

The AWS facts it models, and where they come from:
- Shapes, error names and HTTP statuses: botocore's service model
  (botocore/data/cloudfront/2020-05-31/service-2.json): CreateInvalidation answers 201 and can fail
  with NoSuchDistribution (404), AccessDenied (403), TooManyInvalidationsInProgress (400),
  InconsistentQuantities (400), BatchTooLarge (413), InvalidArgument (400). Throttling
  ("Rate exceeded", 400), ServiceUnavailable (503) and InvalidationBatchAlreadyExists (400) are not
  in that model, so boto3 raises them as a plain ClientError; so does this model.
- CallerReference (service model, InvalidationBatch.CallerReference): the same reference with the
  same paths returns the invalidation created first, and creates nothing; the same reference with
  any different path fails with InvalidationBatchAlreadyExists. References are scoped to a
  distribution. Paths are compared as a multiset (their order does not matter): a model choice.
- Quotas (developer guide, "Concurrent invalidation request maximum"): per distribution at most
  3,000 file paths and, independently, 15 wildcard paths in progress at once; beyond that,
  TooManyInvalidationsInProgress. A request of more than 3,000 paths or more than 15 wildcard paths
  can never fit: BatchTooLarge.
- Paths (developer guide, "What you need to know when invalidating paths"): a path starts with `/`,
  is at most 4,000 characters, may end with the `*` wildcard (which matches every path starting
  with what precedes it) and holds no `*` elsewhere; non-ASCII and unsafe characters must be
  URL-encoded. The model rejects, with InvalidArgument ("Your request contains one or more invalid
  invalidation paths."), a path breaking those rules or holding a raw space, control character or
  non-ASCII character. An empty batch is rejected the same way (a model choice).
- Price (developer guide, "Paying for file invalidation"): every path of every new invalidation is
  billed once; a wildcard path counts as one path. A deduplicated retry creates nothing, so costs
  nothing. The first 1,000 paths of a month are free and each one after costs $0.005
  (FREE_PATHS_PER_MONTH, PRICE_PER_PATH): the model counts paths, its callers price them.
- Throttling: AWS publishes no rate; here a token bucket (`calls_per_second`, `burst`), off by default.
- Completion takes from seconds to over ten minutes; here a fixed `completion_seconds` of virtual time.

The model does not emulate boto3's own client-side retries: every call reaches it exactly once.
"""

from __future__ import annotations

import functools
import heapq
import itertools
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final, cast

import botocore.session
from botocore.errorfactory import BaseClientExceptions, ClientExceptionsFactory
from botocore.exceptions import ClientError, ParamValidationError

if TYPE_CHECKING:
    from botocore.exceptions import _ClientErrorResponseTypeDef

MAX_PATHS_PER_REQUEST: Final = 3000
MAX_WILDCARDS_PER_REQUEST: Final = 15
MAX_FILE_PATHS_IN_PROGRESS: Final = 3000
MAX_WILDCARD_PATHS_IN_PROGRESS: Final = 15
MAX_PATH_LENGTH: Final = 4000
FREE_PATHS_PER_MONTH: Final = 1000  # per account; the price applies to paths beyond them
PRICE_PER_PATH: Final = 0.005  # USD
DEFAULT_MAX_ITEMS: Final = 100  # ListInvalidations without MaxItems (moto's default too)
EPOCH: Final = datetime(2025, 1, 1, tzinfo=UTC)  # virtual time 0.0, as CreateTime sees it

# Error code -> (HTTP status, message). Messages are close to AWS's wording where it is known (Throttling,
# InvalidArgument, TooManyInvalidationsInProgress) and otherwise the service model's documentation.
ERRORS: Final[Mapping[str, tuple[int, str]]] = {
    "AccessDenied": (
        403,
        "User: arn:aws:sts::123456789012:assumed-role/cf-invalidator/cf-invalidator is not authorized "
        "to perform: cloudfront:CreateInvalidation on resource: "
        "arn:aws:cloudfront::123456789012:distribution/{distribution_id}",
    ),
    "BatchTooLarge": (413, "Invalidation batch specified is too large."),
    "InconsistentQuantities": (400, "The value of Quantity and the size of Items don't match."),
    "InternalError": (500, "We encountered an internal error. Please try again."),
    "InvalidArgument": (400, "Your request contains one or more invalid invalidation paths."),
    "InvalidationBatchAlreadyExists": (
        400,
        "Invalidation batch with CallerReference {caller_reference} already exists with different paths.",
    ),
    "NoSuchDistribution": (404, "The specified distribution does not exist."),
    "NoSuchInvalidation": (404, "The specified invalidation does not exist."),
    "ServiceUnavailable": (503, "CloudFront is temporarily unavailable. Please try again."),
    "Throttling": (400, "Rate exceeded"),
    "TooManyInvalidationsInProgress": (
        400,
        "Processing your request will cause you to exceed the maximum number of in-progress "
        "{kind} invalidations.",
    ),
}


class VirtualClock:
    """Seconds of virtual time; `sleep` advances it at once. Also a Lambda deadline for the handler."""

    def __init__(self, start: float = 0.0) -> None:
        self._now = start

    def now(self) -> float:
        return self._now

    def sleep(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError(f"sleep length must be non-negative, got {seconds}")
        self._now += seconds

    def datetime(self) -> datetime:
        return EPOCH + timedelta(seconds=self._now)

    def lambda_deadline(self, timeout_seconds: float) -> Callable[[], int]:
        """A `remaining_ms()` for an invocation starting now with this timeout, like
        `context.get_remaining_time_in_millis` (never below 0)."""
        deadline = self._now + timeout_seconds
        return lambda: max(0, int((deadline - self._now) * 1000))


@dataclass(frozen=True)
class Invalidation:
    """One invalidation the model created."""

    distribution_id: str
    id: str
    caller_reference: str
    paths: tuple[str, ...]
    created_at: float
    completes_at: float

    @property
    def wildcard_count(self) -> int:
        return sum(path.endswith("*") for path in self.paths)

    @property
    def file_count(self) -> int:
        return len(self.paths) - self.wildcard_count


@dataclass(frozen=True)
class Call:
    """One create_invalidation call and its outcome: "Created", "Deduplicated", "Crashed" or an error code."""

    at: float
    distribution_id: str
    caller_reference: str
    outcome: str


@dataclass
class _Fault:
    code: str
    distribution_id: str | None
    calls: int | None
    until: float | None


@dataclass
class _Crash:
    after_successes: int
    exception: BaseException
    after_effect: bool


@dataclass
class _Distribution:
    by_reference: dict[str, Invalidation] = field(default_factory=dict)
    created: list[Invalidation] = field(default_factory=list)
    in_progress: list[tuple[float, int, Invalidation]] = field(default_factory=list)  # a heap
    exact_paths: set[str] = field(default_factory=set)
    wildcard_prefixes: set[str] = field(default_factory=set)
    files_in_progress: int = 0
    wildcards_in_progress: int = 0


class CloudFrontModel:
    """The invalidation part of a CloudFront client, enforcing AWS's rules on a virtual clock."""

    def __init__(
        self,
        distribution_ids: Iterable[str],
        clock: VirtualClock | None = None,
        *,
        completion_seconds: float = 60.0,
        calls_per_second: float | None = None,
        burst: int = 5,
    ) -> None:
        self.clock = clock or VirtualClock()
        self.exceptions: BaseClientExceptions = _client_exceptions()
        self.completion_seconds = completion_seconds
        self.calls: list[Call] = []
        self._distributions = {distribution_id: _Distribution() for distribution_id in distribution_ids}
        self._rate = calls_per_second
        self._burst = burst
        self._tokens = float(burst)
        self._refilled_at = self.clock.now()
        self._faults: list[_Fault] = []
        self._crash: _Crash | None = None
        self._rejected_paths: set[str] = set()
        self._successes = 0
        self._ids = itertools.count(1)

    # --- the client API ---------------------------------------------------------------------------

    def create_invalidation(self, **kwargs: Any) -> dict[str, Any]:
        """boto3's CreateInvalidation: DistributionId=str, InvalidationBatch={"Paths": {"Quantity": int,
        "Items": [str]}, "CallerReference": str}. Any keywords, like a boto3 client's (checked here)."""
        distribution_id, reference, quantity, paths = _checked_request(kwargs)
        self._maybe_crash(distribution_id, reference, before_effect=True)
        try:
            invalidation, outcome = self._create(distribution_id, reference, quantity, paths)
        except ClientError as error:
            self._record(distribution_id, reference, error.response["Error"]["Code"])
            raise
        self._record(distribution_id, reference, outcome)
        self._successes += 1
        self._maybe_crash(distribution_id, reference, before_effect=False)
        response = {"Location": _location(invalidation), "Invalidation": self._shape(invalidation)}
        return response | {"ResponseMetadata": _metadata(201, {"location": _location(invalidation)})}

    def get_invalidation(self, **kwargs: Any) -> dict[str, Any]:
        """boto3's GetInvalidation: DistributionId=str, Id=str."""
        (distribution_id, invalidation_id), _ = _checked_strings(kwargs, required=("DistributionId", "Id"))
        distribution = self._distribution(distribution_id, "GetInvalidation")
        for invalidation in distribution.created:
            if invalidation.id == invalidation_id:
                return {"Invalidation": self._shape(invalidation), "ResponseMetadata": _metadata(200)}
        raise self._error("NoSuchInvalidation", "GetInvalidation")

    def list_invalidations(self, **kwargs: Any) -> dict[str, Any]:
        """boto3's ListInvalidations: DistributionId=str, optional Marker=str and MaxItems=str (a string
        in botocore's model; DEFAULT_MAX_ITEMS when absent). Newest first; a page ends after MaxItems
        and then has IsTruncated and NextMarker (the Id of its last item, the next call's Marker)."""
        (distribution_id,), (marker, max_items) = _checked_strings(
            kwargs, required=("DistributionId",), optional=("Marker", "MaxItems")
        )
        distribution = self._distribution(distribution_id, "ListInvalidations")
        size = DEFAULT_MAX_ITEMS if max_items is None else int(max_items)
        newest_first = list(reversed(distribution.created))
        ids = [invalidation.id for invalidation in newest_first]
        start = ids.index(marker) + 1 if marker in ids else 0
        page = newest_first[start : start + size]
        items = [
            {key: value for key, value in self._shape(invalidation).items() if key != "InvalidationBatch"}
            for invalidation in page
        ]
        truncated = start + size < len(newest_first)
        listing: dict[str, Any] = {
            "Marker": marker or "",
            "MaxItems": size,
            "IsTruncated": truncated,
            "Quantity": len(items),
        }
        listing |= {"NextMarker": page[-1].id} if truncated else {}
        listing |= {"Items": items} if items else {}  # botocore leaves out an empty list
        return {"InvalidationList": listing, "ResponseMetadata": _metadata(200)}

    # --- fault injection --------------------------------------------------------------------------

    def inject(
        self,
        code: str,
        *,
        calls: int | None = None,
        until: float | None = None,
        distribution_id: str | None = None,
    ) -> None:
        """Fail create_invalidation with `code` for the next `calls` calls, or until virtual time
        `until`, or (neither given) always; only on `distribution_id` when given. Faults are checked
        in the order injected, after the throttle."""
        if code not in ERRORS:
            raise ValueError(f"unknown error code {code!r}; use one of {sorted(ERRORS)}")
        if calls is not None and calls < 1:
            raise ValueError(f"calls must be at least 1, got {calls}")
        self._faults.append(_Fault(code, distribution_id, calls, until))

    def reject_paths(self, *paths: str) -> None:
        """Answer InvalidArgument to every request holding one of `paths`, as CloudFront answers one
        holding a path it finds invalid for a reason the model does not check (it never says which)."""
        self._rejected_paths.update(paths)

    def crash_after(self, successes: int, exception: BaseException, *, after_effect: bool = False) -> None:
        """Raise `exception` (once) from the first call after `successes` successful ones: before it
        takes effect, or with `after_effect` after it created its invalidation (a lost response)."""
        self._crash = _Crash(successes, exception, after_effect)

    # --- accounting -------------------------------------------------------------------------------

    def invalidations(self, distribution_id: str) -> list[Invalidation]:
        """The invalidations created on the distribution, oldest first."""
        return list(self._distributions[distribution_id].created)

    def paths_billed(self, distribution_id: str | None = None) -> int:
        """Paths of new invalidations (each once, a wildcard as one), on one or every distribution."""
        ids = list(self._distributions) if distribution_id is None else [distribution_id]
        return sum(len(inv.paths) for dist in ids for inv in self._distributions[dist].created)

    def outcomes(self) -> Counter[str]:
        return Counter(call.outcome for call in self.calls)

    def covers(self, distribution_id: str, path: str) -> bool:
        """Whether an invalidation created on the distribution covers the viewer path `path`."""
        distribution = self._distributions[distribution_id]
        if path in distribution.exact_paths:
            return True
        return any(path.startswith(prefix) for prefix in distribution.wildcard_prefixes)

    def in_progress(self, distribution_id: str) -> tuple[int, int]:
        """(file paths, wildcard paths) in progress on the distribution now."""
        return self._in_progress(self._distributions[distribution_id])

    # --- internals --------------------------------------------------------------------------------

    def _create(
        self, distribution_id: str, reference: str, quantity: int, paths: list[str]
    ) -> tuple[Invalidation, str]:
        self._check_throttle_and_faults(distribution_id)
        distribution = self._distribution(distribution_id, "CreateInvalidation")
        if quantity != len(paths):
            raise self._error("InconsistentQuantities")
        if not paths or not all(_valid_path(path) for path in paths) or self._rejected_paths & set(paths):
            raise self._error("InvalidArgument")
        wildcards = sum(path.endswith("*") for path in paths)
        if len(paths) > MAX_PATHS_PER_REQUEST or wildcards > MAX_WILDCARDS_PER_REQUEST:
            raise self._error("BatchTooLarge")
        existing = distribution.by_reference.get(reference)
        if existing is not None:
            if sorted(existing.paths) != sorted(paths):
                raise self._error("InvalidationBatchAlreadyExists", caller_reference=reference)
            return existing, "Deduplicated"
        self._check_quota(distribution, len(paths) - wildcards, wildcards)
        return self._add(distribution, distribution_id, reference, paths), "Created"

    def _check_throttle_and_faults(self, distribution_id: str) -> None:
        if self._rate is not None:
            now = self.clock.now()
            self._tokens = min(self._burst, self._tokens + (now - self._refilled_at) * self._rate)
            self._refilled_at = now
            if self._tokens < 1:
                raise self._error("Throttling")
            self._tokens -= 1
        for fault in self._faults:
            if self._fault_applies(fault, distribution_id):
                if fault.calls is not None:
                    fault.calls -= 1
                raise self._error(fault.code, distribution_id=distribution_id)

    def _fault_applies(self, fault: _Fault, distribution_id: str) -> bool:
        if fault.distribution_id not in (None, distribution_id):
            return False
        if fault.calls is not None and fault.calls <= 0:
            return False
        return fault.until is None or self.clock.now() < fault.until

    def _check_quota(self, distribution: _Distribution, files: int, wildcards: int) -> None:
        files_in_progress, wildcards_in_progress = self._in_progress(distribution)
        if wildcards_in_progress + wildcards > MAX_WILDCARD_PATHS_IN_PROGRESS:
            raise self._error("TooManyInvalidationsInProgress", kind="wildcard")
        if files_in_progress + files > MAX_FILE_PATHS_IN_PROGRESS:
            raise self._error("TooManyInvalidationsInProgress", kind="file")

    def _in_progress(self, distribution: _Distribution) -> tuple[int, int]:
        heap = distribution.in_progress
        while heap and heap[0][0] <= self.clock.now():
            _, _, completed = heapq.heappop(heap)
            distribution.files_in_progress -= completed.file_count
            distribution.wildcards_in_progress -= completed.wildcard_count
        return distribution.files_in_progress, distribution.wildcards_in_progress

    def _add(
        self, distribution: _Distribution, distribution_id: str, reference: str, paths: list[str]
    ) -> Invalidation:
        sequence = next(self._ids)
        now = self.clock.now()
        completes_at = now + self.completion_seconds
        invalidation = Invalidation(
            distribution_id, _invalidation_id(sequence), reference, tuple(paths), now, completes_at
        )
        distribution.by_reference[reference] = invalidation
        distribution.created.append(invalidation)
        heapq.heappush(distribution.in_progress, (completes_at, sequence, invalidation))
        distribution.files_in_progress += invalidation.file_count
        distribution.wildcards_in_progress += invalidation.wildcard_count
        distribution.exact_paths.update(path for path in paths if not path.endswith("*"))
        distribution.wildcard_prefixes.update(path[:-1] for path in paths if path.endswith("*"))
        return invalidation

    def _maybe_crash(self, distribution_id: str, reference: str, *, before_effect: bool) -> None:
        crash = self._crash
        if crash is None or crash.after_effect == before_effect:
            return
        if self._successes < crash.after_successes + (0 if before_effect else 1):
            return
        self._crash = None
        self._record(distribution_id, reference, "Crashed")
        raise crash.exception

    def _distribution(self, distribution_id: str, operation: str) -> _Distribution:
        distribution = self._distributions.get(distribution_id)
        if distribution is None:
            raise self._error("NoSuchDistribution", operation)
        return distribution

    def _shape(self, invalidation: Invalidation) -> dict[str, Any]:
        status = "Completed" if self.clock.now() >= invalidation.completes_at else "InProgress"
        batch = {
            "Paths": {"Quantity": len(invalidation.paths), "Items": list(invalidation.paths)},
            "CallerReference": invalidation.caller_reference,
        }
        created = EPOCH + timedelta(seconds=invalidation.created_at)
        return {"Id": invalidation.id, "Status": status, "CreateTime": created, "InvalidationBatch": batch}

    def _record(self, distribution_id: str, reference: str, outcome: str) -> None:
        self.calls.append(Call(self.clock.now(), distribution_id, reference, outcome))

    def _error(
        self,
        code: str,
        operation: str = "CreateInvalidation",
        *,
        distribution_id: str = "",
        caller_reference: str = "",
        kind: str = "file",
    ) -> ClientError:
        status, template = ERRORS[code]
        message = template.format(
            distribution_id=distribution_id, caller_reference=caller_reference, kind=kind
        )
        response = {
            "Error": {"Type": "Sender" if status < 500 else "Receiver", "Code": code, "Message": message},
            "Message": message,
            "ResponseMetadata": _metadata(status),
        }
        exception_class = cast("type[ClientError]", self.exceptions.from_code(code))
        return exception_class(cast("_ClientErrorResponseTypeDef", response), operation)


_PARAMETERS: Final = frozenset({"DistributionId", "InvalidationBatch"})


@functools.cache
def _client_exceptions() -> BaseClientExceptions:
    service_model = botocore.session.get_session().get_service_model("cloudfront")
    return ClientExceptionsFactory().create_client_exceptions(service_model)


def _checked_request(kwargs: Mapping[str, Any]) -> tuple[str, str, int, list[str]]:
    """(DistributionId, CallerReference, Quantity, Items), or ParamValidationError as boto3 raises it
    before sending anything."""
    problems = [f"Unknown parameter in input: {name!r}" for name in kwargs if name not in _PARAMETERS]
    distribution_id, batch = kwargs.get("DistributionId"), kwargs.get("InvalidationBatch")
    paths = batch.get("Paths") if isinstance(batch, Mapping) else None
    reference = batch.get("CallerReference") if isinstance(batch, Mapping) else None
    quantity = paths.get("Quantity") if isinstance(paths, Mapping) else None
    items = paths.get("Items", []) if isinstance(paths, Mapping) else None
    if not isinstance(distribution_id, str):
        problems.append("DistributionId must be a string")
    if not isinstance(reference, str):
        problems.append("InvalidationBatch.CallerReference must be a string")
    if not isinstance(quantity, int) or isinstance(quantity, bool):
        problems.append("InvalidationBatch.Paths.Quantity must be an integer")
    if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
        problems.append("InvalidationBatch.Paths.Items must be a list of strings")
    if problems:
        raise ParamValidationError(report="\n".join(problems))
    return cast("tuple[str, str, int, list[str]]", (distribution_id, reference, quantity, items))


def _checked_strings(
    kwargs: Mapping[str, Any], *, required: tuple[str, ...], optional: tuple[str, ...] = ()
) -> tuple[list[str], list[str | None]]:
    """The values of `required`, and of `optional` (None when absent), or ParamValidationError as boto3
    raises it: a missing or unknown parameter, or one that is not a string."""
    problems = [f"Unknown parameter in input: {name!r}" for name in kwargs if name not in required + optional]
    problems += [f"Missing required parameter in input: {name!r}" for name in required if name not in kwargs]
    problems += [f"{name} must be a string" for name, value in kwargs.items() if not isinstance(value, str)]
    if problems:
        raise ParamValidationError(report="\n".join(problems))
    return [kwargs[name] for name in required], [kwargs.get(name) for name in optional]


def _valid_path(path: str) -> bool:
    if not path.startswith("/") or len(path) > MAX_PATH_LENGTH or "*" in path[:-1]:
        return False
    return all(0x20 < ord(char) < 0x7F for char in path)


def _invalidation_id(sequence: int) -> str:
    """A deterministic id shaped like CloudFront's (e.g. I2J0I21PCUYOIK): "I" and 13 base-36 digits."""
    digits = ""
    while sequence:
        sequence, digit = divmod(sequence, 36)
        digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"[digit] + digits
    return "I" + digits.rjust(13, "0")


def _location(invalidation: Invalidation) -> str:
    return (
        "https://cloudfront.amazonaws.com/2020-05-31/distribution/"
        f"{invalidation.distribution_id}/invalidation/{invalidation.id}"
    )


def _metadata(status: int, headers: Mapping[str, str] | None = None) -> dict[str, Any]:
    return {
        "RequestId": "00000000-0000-4000-8000-000000000000",
        "HTTPStatusCode": status,
        "HTTPHeaders": dict(headers or {}),
        "RetryAttempts": 0,
    }


class CountingCloudFront:
    """The model, counting the ListInvalidations and GetInvalidation calls the handler makes."""

    def __init__(self, model: CloudFrontModel) -> None:
        self.model, self.lists, self.gets = model, 0, 0

    def create_invalidation(self, **kwargs: Any) -> dict[str, Any]:
        return self.model.create_invalidation(**kwargs)

    def list_invalidations(self, **kwargs: Any) -> dict[str, Any]:
        self.lists += 1
        return self.model.list_invalidations(**kwargs)

    def get_invalidation(self, **kwargs: Any) -> dict[str, Any]:
        self.gets += 1
        return self.model.get_invalidation(**kwargs)
