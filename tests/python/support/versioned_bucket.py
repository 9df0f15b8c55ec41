"""A versioned bucket in in-process moto whose clock the test sets, and an S3 client that counts its calls.

moto stamps LastModified with the wall clock at one-second resolution in listings, so puts made in the
same second tie. `TickingClock` replaces moto's S3 clock: each object write lands one second after the
previous one, or at the same second when frozen. Frozen, it still moves a millisecond a write: moto
orders a key's versions by LastModified to the millisecond (equal ones oldest first, and the oldest
flagged IsLatest), where S3 lists them in its own order, newest first, whatever their LastModified; the
millisecond keeps moto's order S3's while the listing shows the same second.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

BUCKET = "example-site"


@dataclass
class TickingClock:
    """Stands in for moto.s3.models.utcnow (naive UTC, like moto's)."""

    now: datetime = field(
        default_factory=lambda: datetime.now(UTC).replace(tzinfo=None, microsecond=0) - timedelta(hours=1)
    )
    step: timedelta = timedelta(seconds=1)

    def __call__(self) -> datetime:
        self.now += self.step or timedelta(milliseconds=1)
        return self.now


def install_clock(monkeypatch: pytest.MonkeyPatch) -> TickingClock:
    import moto.s3.models  # noqa: PLC0415 (moto loads slowly; only the tests that use it pay)

    clock = TickingClock()
    monkeypatch.setattr(moto.s3.models, "utcnow", clock)
    return clock


def versioned_bucket(s3: Any, bucket: str = BUCKET) -> None:
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})


def put(s3: Any, key: str, body: bytes = b"<p>hello</p>", bucket: str = BUCKET, **headers: Any) -> str:
    """Write an object (ContentType text/html unless given); return its version id."""
    headers.setdefault("ContentType", "text/html")
    version_id: str = s3.put_object(Bucket=bucket, Key=key, Body=body, **headers)["VersionId"]
    return version_id


@dataclass
class CountingS3:
    """The S3 client, counting each call by operation; `failing` operations raise `error_code` instead."""

    client: Any
    failing: frozenset[str] = frozenset()
    error_code: str = "AccessDenied"
    calls: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def list_object_versions(self, **kwargs: Any) -> Mapping[str, Any]:
        return self._call("list_object_versions", kwargs)

    def head_object(self, **kwargs: Any) -> Mapping[str, Any]:
        return self._call("head_object", kwargs)

    def list_objects_v2(self, **kwargs: Any) -> Mapping[str, Any]:
        return self._call("list_objects_v2", kwargs)

    def _call(self, operation: str, kwargs: Mapping[str, Any]) -> Mapping[str, Any]:
        with self.lock:  # the handler calls from several threads
            self.calls[operation] += 1
        if operation in self.failing:
            error: Any = {"Error": {"Code": self.error_code, "Message": "refused by the test"}}
            raise ClientError(error, operation)
        result: Mapping[str, Any] = getattr(self.client, operation)(**kwargs)
        return result


class RecordingCloudFront:
    """A CloudFront that accepts every invalidation and keeps the union of their paths."""

    def __init__(self) -> None:
        self.paths: set[str] = set()

    def create_invalidation(self, **kwargs: Any) -> Mapping[str, Any]:
        self.paths.update(kwargs["InvalidationBatch"]["Paths"]["Items"])
        return {"Invalidation": {"Id": f"I{len(self.paths)}", "Status": "InProgress"}}
