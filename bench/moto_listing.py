"""moto's ListObjectVersions, made affordable for the replay without changing a single answer.

moto's S3Backend.list_object_versions (moto 5) deep-copies every version of the bucket on every call,
and only then drops the keys outside Prefix, so a call costs the whole bucket (docs/development.md), and
a paws-r bucket holds over 100,000 after a few deploys, where change detection lists once per
directory per batch.

`narrowed_version_listing()` patches it, for the replay only (not the handler, not the test server).
moto's own function runs, with two differences that change no answer:
1. It sees only the keys that can affect its answer, read from its code:
   - keys starting with Prefix: the only ones it returns (as versions, delete markers, common prefixes);
   - with KeyMarker and no VersionIdMarker, the first key at or after KeyMarker: its first version ends
     the skipping whatever its name;
   - with KeyMarker and VersionIdMarker, the key KeyMarker: the skipping ends after that version;
   - keys of the prefix before KeyMarker only ever reach the skipping, so they are left out;
   - without Delimiter (a listing of a whole tree, page by page), only the first keys after the
     markers whose versions fill the page (MaxKeys), one version more (which tells the page is
     truncated) and the versions the markers skip (at most the first key's): a page then costs its
     own size, not the bucket's.
   Every other key only ever reaches a `continue`, or comes after the page is full. Each key keeps
   its list of versions as stored, so ties in LastModified fall the same way (the function sorts by
   name, then LastModified, stably). The keys are found by bisection in a sorted index of the
   bucket's key names, built at the first listing and rebuilt whenever the number of names changes.
   A write that removes one name and adds another between two listings would leave it stale: the
   replay never does (a delete adds a delete marker; lifecycle keeps each key's newest entry; the
   deploy replay's interleaved uploads take a deploy's new names out at once, before any listing, and
   then only put names back).
2. Instead of deep copies of the versions (which it takes so that setting `is_latest` for the answer
   does not touch the stored objects), it gets views (`Listed`): attributes read from the stored object,
   `is_latest` kept on the view, isinstance() as the stored object's class. moto's function is run as
   it is, with `copy.deepcopy` in its globals giving views.
tests/python/test_moto_listing.py checks the answers against the unpatched listing.

Thread safety: the bucket is never modified; each call builds its own view (the handler lists from many
threads while others call HeadObject); the index is built under a lock.
"""

from __future__ import annotations

import bisect
import threading
import types
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from unittest import mock

from moto.s3.models import S3Backend


class Listed:
    """One stored version (FakeKey or FakeDeleteMarker) as the listing handles it, without copying it."""

    def __init__(self, stored: Any) -> None:
        self._stored = stored
        # read for every version by the listing's sort and loop: held here, not looked up through
        # __getattr__ each time; the stored object does not change during a listing
        self.name = stored.name
        self.last_modified = stored.last_modified
        self.is_latest = False  # set by the listing, for its answer only

    @property  # type: ignore[misc]  # isinstance() looks at __class__: the listing tells keys from markers
    def __class__(self) -> type:
        return type(self._stored)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stored, name)


def _views(versions: list[Any]) -> list[Listed]:
    return [Listed(version) for version in versions]


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
    names: Sequence[str],
    prefix: str,
    key_marker: str | None,
    version_id_marker: str | None,
    page: tuple[int, Callable[[str], int]] | None = None,
) -> list[str]:
    """Of `names` (sorted), those whose versions can change the answer (see the module's docstring).
    With `page` (MaxKeys, and a name's number of versions; for a listing without Delimiter), only the
    names the page can reach."""
    start = bisect.bisect_left(names, prefix)
    if key_marker is not None and key_marker > prefix:  # names of the prefix before it: skipped
        start = bisect.bisect_left(names, key_marker)
    stop = start
    while stop < len(names) and names[stop].startswith(prefix):
        stop += 1
    chosen = names[start:stop]
    if page is not None:
        chosen = _reachable(chosen, *page)
    extra = set()
    if key_marker is not None and version_id_marker:
        extra.add(key_marker)
    elif key_marker is not None:
        first = bisect.bisect_left(names, key_marker)
        if first < len(names):
            extra.add(names[first])
    return sorted(set(chosen) | extra)


def _reachable(names: Sequence[str], max_keys: int, versions: Callable[[str], int]) -> list[str]:
    """The first names whose versions fill a page of `max_keys`, with one more version (that tells the
    page is truncated) and the versions the markers skip (at most the first name's)."""
    if not names:
        return []
    budget = max_keys + versions(names[0]) + 1
    taken: list[str] = []
    for name in names:
        taken.append(name)
        budget -= versions(name)
        if budget < 0:
            break
    return taken


class _NameIndex:
    """Each bucket's key names, sorted; rebuilt when their number changes."""

    def __init__(self) -> None:
        self._sorted: dict[int, tuple[Any, list[str]]] = {}
        self._lock = threading.Lock()

    def names(self, store: Any) -> list[str]:
        with self._lock:
            cached = self._sorted.get(id(store))
            if cached is None or cached[0] is not store or len(cached[1]) != len(store):
                cached = (store, sorted(dict.keys(store)))
                self._sorted[id(store)] = cached
            return cached[1]


def narrowed(original: Callable[..., Any]) -> Callable[..., Any]:
    """`original` (S3Backend.list_object_versions) run on the relevant keys only, over views, not copies."""
    without_copies = types.FunctionType(
        original.__code__,
        {**original.__globals__, "copy": types.SimpleNamespace(deepcopy=_views)},
        original.__name__,
        original.__defaults__,
        original.__closure__,
    )
    without_copies.__kwdefaults__ = original.__kwdefaults__
    index = _NameIndex()

    def list_object_versions(self: S3Backend, bucket_name: str, **options: Any) -> Any:
        """Called as moto's response layer calls it: delimiter, key_marker, max_keys, prefix and
        version_id_marker by keyword."""
        store = self.get_bucket(bucket_name).keys
        max_keys = options.get("max_keys")
        page = None
        if not options.get("delimiter") and max_keys is not None:
            page = (int(max_keys), lambda name: len(store.getlist(name) or ()))

        chosen = relevant_names(
            index.names(store),
            options.get("prefix") or "",
            options.get("key_marker"),
            options.get("version_id_marker"),
            page,
        )
        lists = [(name, versions) for name in chosen if (versions := store.getlist(name)) is not None]
        return without_copies(_Backend(_Bucket(_Keys(lists))), bucket_name, **options)

    return list_object_versions


@contextmanager
def narrowed_version_listing() -> Iterator[None]:
    """Inside: moto's in-process ListObjectVersions reads only the keys that can affect its answer."""
    with mock.patch.object(S3Backend, "list_object_versions", narrowed(S3Backend.list_object_versions)):
        yield
