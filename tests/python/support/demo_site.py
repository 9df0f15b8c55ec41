"""The demo site: what `make demo` deploys, and what the change detection end-to-end tests re-upload.

A few hundred small pages in folders whose names hold a space and non-ASCII characters, as real sites
have them. A page's bytes name its key and a version: uploading the same version again writes the same
bytes with the same headers (what `aws s3 sync` does to every unchanged file of a fresh CI checkout),
another version changes them.
"""

from __future__ import annotations

import mimetypes
import time
from collections.abc import Mapping
from typing import Any

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


def site_keys(folders: tuple[str, ...] = FOLDERS) -> list[str]:
    """The keys of the site: an index.html, a stylesheet and pages in every folder."""
    keys = []
    for folder in folders:
        prefix = f"{folder}/" if folder else ""
        keys += [f"{prefix}index.html", f"{prefix}style.css"]
        keys += [f"{prefix}page-{n:02d}.html" for n in range(1, PAGES_PER_FOLDER + 1)]
    return keys


def page(key: str, version: str) -> bytes:
    """The bytes of `key` at `version`."""
    return f"<h1>{key}</h1><p>{version}</p>".encode()


def upload(s3: Any, bucket: str, versions: Mapping[str, str]) -> None:
    """Write each key at its version (key => version), with the Content-Type `aws s3 sync` guesses."""
    for key, version in versions.items():
        content_type = mimetypes.guess_type(key)[0] or "binary/octet-stream"
        s3.put_object(Bucket=bucket, Key=key, Body=page(key, version), ContentType=content_type)


def wait_for_next_second() -> None:
    """Sleep until the wall clock's next whole second, so that what is written next has a later LastModified
    than everything written so far.

    Why: moto's ListObjectVersions gives LastModified to the second (S3 to the millisecond), and the handler
    rightly reads two versions of a key with the same LastModified as an unknown order and invalidates the
    key. A re-upload meant to be compared with the previous upload must land in a later second; the moto
    server stamps versions with this machine's clock.
    """
    time.sleep(1.0 - time.time() % 1.0 + 0.01)


def unchanged_neighbours(s3: Any, bucket: str, keys: list[str]) -> None:
    """Write each key twice with the same bytes and headers: to the planner, objects this deploy did not
    change, which a wildcard over them would evict, so that the viewer paths of nearby changes show one
    by one instead of under a wildcard (tree.py). The caller drains the queue."""
    for _ in range(2):
        for key in keys:
            s3.put_object(Bucket=bucket, Key=key, Body=b"<p>unchanged</p>", ContentType="text/html")
