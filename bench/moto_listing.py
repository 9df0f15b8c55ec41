"""moto's ListObjectVersions, made affordable for the replay without changing a single answer.

moto's S3Backend.list_object_versions (moto 5) deep-copies every version of the bucket on every call,
and only then drops the keys outside Prefix: 378 ms for a bucket of 4,000 versions, and a paws-r bucket
holds over 100,000 after a few deploys, where change detection lists once per directory per batch.

`narrowed_version_listing()` patches it, for the replay only (not the handler, not the test server): the
original function runs unchanged, but sees only the keys that can affect its answer, so it copies only
those. Which keys those are, read from the original's code:
- keys starting with Prefix: the only ones it returns (as versions, delete markers or common prefixes);
- with KeyMarker and no VersionIdMarker, the first key at or after KeyMarker: its first version ends
  the skipping whatever its name;
- with KeyMarker and VersionIdMarker, the key KeyMarker: the skipping ends after that version.
Every other key only ever reaches a `continue`. The keys kept keep the bucket's order (each key's list
of versions as stored; the original sorts them itself), so ties in LastModified fall the same way.
tests/python/test_moto_listing.py checks the answers against the unpatched listing.

Thread safety: the bucket is never modified; each call builds its own view (the handler lists from
many threads while others call HeadObject).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

from moto.s3.models import S3Backend


class _Keys:
    """The part of moto's _VersionedKeyStore that list_object_versions reads: iterlists()."""

    def __init__(self, lists: list[tuple[str, list[Any]]]) -> None:
        self._lists = lists

    def iterlists(self) -> Iterator[tuple[str, list[Any]]]:
        return iter(self._lists)


class _Bucket:
    def __init__(self, keys: _Keys) -> None:
        self.keys = keys


class _Backend:
    """Stands in for the backend inside the original function, which only calls get_bucket."""

    def __init__(self, bucket: _Bucket) -> None:
        self._bucket = bucket

    def get_bucket(self, bucket_name: str) -> _Bucket:
        del bucket_name
        return self._bucket


def relevant_names(
    names: list[str], prefix: str, key_marker: str | None, version_id_marker: str | None
) -> set[str]:
    """The key names whose versions can change the answer (see the module's docstring)."""
    chosen = {name for name in names if name.startswith(prefix)}
    if key_marker is not None and version_id_marker:
        chosen.add(key_marker)
    elif key_marker is not None:
        at_or_after = [name for name in names if name >= key_marker]
        if at_or_after:
            chosen.add(min(at_or_after))
    return chosen


def narrowed(original: Callable[..., Any]) -> Callable[..., Any]:
    """`original` (S3Backend.list_object_versions) run on a view holding the relevant keys only."""

    def list_object_versions(self: S3Backend, bucket_name: str, **options: Any) -> Any:
        """Called as moto's response layer calls it: delimiter, key_marker, max_keys, prefix and
        version_id_marker by keyword."""
        store = self.get_bucket(bucket_name).keys
        names = list(dict.keys(store))  # a snapshot; the store is a dict of key -> its versions
        chosen = relevant_names(
            names, options.get("prefix") or "", options.get("key_marker"), options.get("version_id_marker")
        )
        view = _Keys([(name, store.getlist(name)) for name in names if name in chosen])
        return original(_Backend(_Bucket(view)), bucket_name, **options)

    return list_object_versions


@contextmanager
def narrowed_version_listing() -> Iterator[None]:
    """Inside: moto's in-process ListObjectVersions copies only the keys that can affect its answer."""
    with mock.patch.object(S3Backend, "list_object_versions", narrowed(S3Backend.list_object_versions)):
        yield
