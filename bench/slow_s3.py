"""A stub S3 with a sleep: ListObjectVersions and HeadObject answered from memory after a fixed latency.

It stands in for S3 in the change-detection benchmark, so the figure measures the handler's own work
and its concurrency against a given per-call latency, not moto's speed. It answers the way S3 documents:
keys in UTF-8 binary order, each key's versions newest first, Prefix and Delimiter ("/" rolls longer keys
into CommonPrefixes), MaxKeys entries a page, KeyMarker (keys after it) and VersionIdMarker (versions of
that key after it). botocore's own work per call (signing, HTTP, XML parsing) is not included.
"""

from __future__ import annotations

import bisect
import threading
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class StoredVersion:
    version_id: str
    last_modified: datetime
    etag: str
    content_type: str = "text/html"


@dataclass
class SlowS3:
    """`versions`: key -> its versions, newest first."""

    versions: Mapping[str, list[StoredVersion]]
    latency_s: float = 0.020
    calls: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.keys = sorted(self.versions)  # code point order is UTF-8 byte order, as S3 sorts

    def list_object_versions(self, **kwargs: Any) -> Mapping[str, Any]:
        self._wait("list_object_versions")
        prefix, delimiter = kwargs.get("Prefix", ""), kwargs.get("Delimiter")
        page: list[tuple[str, StoredVersion | None]] = []  # (key or common prefix, version)
        for key in self.keys[bisect.bisect_left(self.keys, prefix) :]:
            if not key.startswith(prefix):
                break
            rest = key[len(prefix) :]
            if delimiter and delimiter in rest:
                common = prefix + rest[: rest.index(delimiter) + 1]
                if not page or page[-1][0] != common:
                    page.append((common, None))
                continue
            page.extend((key, version) for version in self.versions[key])
        return _page(page, kwargs)

    def head_object(self, **kwargs: Any) -> Mapping[str, Any]:
        self._wait("head_object")
        version = next(v for v in self.versions[kwargs["Key"]] if v.version_id == kwargs["VersionId"])
        return {"ETag": version.etag, "ContentType": version.content_type, "Metadata": {}}

    def _wait(self, operation: str) -> None:
        with self.lock:
            self.calls[operation] += 1
        time.sleep(self.latency_s)


def _page(entries: list[tuple[str, StoredVersion | None]], kwargs: Mapping[str, Any]) -> dict[str, Any]:
    start = _start(entries, kwargs.get("KeyMarker"), kwargs.get("VersionIdMarker"))
    chosen = entries[start : start + kwargs.get("MaxKeys", 1000)]
    truncated = start + len(chosen) < len(entries)
    response: dict[str, Any] = {
        "IsTruncated": truncated,
        "Versions": [_version(key, v) for key, v in chosen if v is not None],
        "CommonPrefixes": [{"Prefix": key} for key, v in chosen if v is None],
    }
    if truncated:
        last_key, last_version = chosen[-1]
        response["NextKeyMarker"] = last_key
        if last_version is not None:
            response["NextVersionIdMarker"] = last_version.version_id
    return response


def _start(
    entries: list[tuple[str, StoredVersion | None]], key_marker: str | None, version_marker: str | None
) -> int:
    if key_marker is None:
        return 0
    for index, (key, version) in enumerate(entries):
        if (
            version_marker
            and key == key_marker
            and version is not None
            and version.version_id == version_marker
        ):
            return index + 1
        if key > key_marker:
            return index
    return len(entries)


def _version(key: str, version: StoredVersion) -> dict[str, Any]:
    return {
        "Key": key,
        "VersionId": version.version_id,
        "LastModified": version.last_modified,
        "ETag": version.etag,
        "IsLatest": False,
    }
