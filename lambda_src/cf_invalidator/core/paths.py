"""An S3 key -> the CloudFront viewer paths that serve it on one distribution.

CloudFront matches an invalidation path against the request as the viewer sent it. Its developer guide
(Invalidating files, "Specifying the files to invalidate") says: URL-encode non-ASCII characters and the
characters RFC 1738 calls unsafe, and encode nothing else, or the cached object is not matched. So:

- always encoded: controls and DEL, non-ASCII (as UTF-8 %XX), space " # % < > \\ ` { } (RFC 1738 unsafe),
  and `*` and `?`, because in an invalidation path `*` is a wildcard (and invalid before the end) and `?`
  starts a query string: a key's literal `*` or `?` can only be named encoded.
- ambiguous: ~ | [ ] ^ are unsafe by RFC 1738 but sent raw by browsers (the WHATWG URL standard's path
  percent-encode set leaves them alone), so a viewer may ask for either form. For a key holding any of
  them both forms are invalidated: all of them encoded, and all of them raw.
- everything else printable ASCII (letters, digits, / - . _ ! $ & ' ( ) + , ; = : @) is left as is.
  A key's `+` stays `+` (`a+b.html` is served at `/a+b.html`).

Besides its own path, an object is invalidated at the URLs viewers reach it by (unencoded_paths): an
index document at its directory, and the URLs of edge rewrites when the distribution says so
(directory_without_slash, strip_extensions). With origin_path "auto" each of them is kept where the
distribution's cache behaviours route it to an origin holding the key (routing.py).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import quote

from ..config import Config, Distribution
from .routing import Routing

MAX_PATH_LENGTH = 4000  # CloudFront: characters in one invalidation path

# Left raw: letters, digits and `- . _` (quote() never encodes them) and these; `~` is handled apart.
_PLAIN = "/!$&'()+,;=:@"
_AMBIGUOUS = frozenset("~|[]^")
# A path of only these characters is its own encoding: quote() would return it as it is.
_AS_IS = re.compile(r"[A-Za-z0-9\-._/!$&'()+,;=:@]*")


def viewer_paths(key: str, distribution: Distribution, index_document: str) -> list[str]:
    """The encoded viewer paths serving `key` on `distribution`; empty when it serves no such key.

    With origin_path "auto" the distribution must carry its routing (distribution_config.py resolves it):
    an unresolved one raises ValueError rather than invalidate nothing."""
    if distribution.routing is not None:
        return _routed_paths(key, distribution, distribution.routing, index_document)
    if distribution.auto:
        raise ValueError(f"distribution {distribution.label!r} has origin_path auto and no routing yet")
    relative = served_key(key, distribution.origin_path)
    if relative is None:
        return []
    return [
        variant
        for path in unencoded_paths(relative, distribution, index_document)
        for variant in encoded_variants(path)
    ]


def unencoded_paths(relative: str, distribution: Distribution, index_document: str) -> list[str]:
    """The unencoded URLs at which viewers get the object `relative` (the key below the origin path).

    - itself: `/relative`;
    - the distribution's default root object also at `/` (CloudFront serves it there, and only there,
      whatever the bucket's index document);
    - an index document also at its directory: `docs/index.html` at `/docs/` (before the file); at the
      root only when the distribution has no other default root object (a website endpoint serves `/`
      from the index document; a default root object takes `/` over);
    - directory_without_slash: that directory also without its slash, `/docs` (not the root: `/` is all);
    - strip_extensions: a file name ending in one of them also without it, `about.html` at `/about`.
      Applied to every file name alike, as the rewrites do: a function appending ".html" to a path
      without an extension turns `/guide/index` into `/guide/index.html` just as `/about` into
      `/about.html`, so `guide/index.html` is also invalidated as `/guide/index`. A name that is only
      the extension (`.html`) is left whole; extensions compare case-sensitively, like S3 keys.
    """
    path = "/" + relative
    paths = [path]
    root_object = distribution.default_root_object
    if relative == index_document or relative.endswith("/" + index_document):
        directory = path[: -len(index_document)]
        if directory != "/" or root_object in ("", index_document):
            paths.insert(0, directory)
        if distribution.directory_without_slash and directory != "/":
            paths.append(directory[:-1])
    if root_object and relative == root_object:
        paths.insert(0, "/")
    name = path.rsplit("/", 1)[1]
    paths += [path[: -len(e)] for e in distribution.strip_extensions if name.endswith(e) and name != e]
    return list(dict.fromkeys(paths))


def _routed_paths(key: str, distribution: Distribution, routing: Routing, index_document: str) -> list[str]:
    """origin_path "auto": `key` under each origin of the bucket whose path prefixes it, at the viewer
    paths whose cache behaviour targets that origin (routing.py), the default root object at `/` where
    `/` is routed to an origin holding it."""
    found: list[str] = []
    for origin in routing.origins:
        relative = served_key(key, origin.origin_path)
        if relative is None:
            continue
        unencoded = unencoded_paths(relative, distribution, index_document)
        found += [
            variant
            for path in unencoded
            for variant in encoded_variants(path)
            if origin.id in routing.origin_ids_for(variant)
        ]
    return list(dict.fromkeys(found))


@dataclass(frozen=True)
class BatchPaths:
    """A batch's keys on each distribution, worked out once for the batch (after the distributions are
    resolved) and carried through its stages: the tree's walk and trees, change detection, the plan and
    the unserved log read them here instead of each mapping every key again.

    `by_distribution`: distribution id -> each key it serves (`serves`) -> the key's viewer paths there
    (`viewer_paths`; empty only on an "auto" distribution whose origin holds the key where no cache
    behaviour routes a path of it)."""

    by_distribution: Mapping[str, Mapping[str, Sequence[str]]]

    @classmethod
    def of(cls, keys: Iterable[str], config: Config) -> BatchPaths:
        """The viewer paths of `keys` on each distribution of `config` (as resolved)."""
        keys = list(keys)
        return cls({d.id: _served_paths(keys, d, config.index_document) for d in config.distributions})

    def on(self, distribution_id: str) -> Mapping[str, Sequence[str]]:
        """Each key the distribution serves -> its viewer paths there."""
        return self.by_distribution.get(distribution_id, {})

    def served(self, key: str) -> bool:
        """Whether some distribution serves `key`."""
        return any(key in keys for keys in self.by_distribution.values())


def _served_paths(
    keys: Iterable[str], distribution: Distribution, index_document: str
) -> dict[str, tuple[str, ...]]:
    """Each of `keys` the distribution serves -> its viewer paths there. A key without one is served only
    where routing decides the paths (`serves` is asked only then: elsewhere paths follow serving). Kept
    as tuples of strings, which the garbage collector stops scanning: a batch holds thousands."""
    found = {}
    for key in keys:
        paths = viewer_paths(key, distribution, index_document)
        if paths or (distribution.routing is not None and serves(key, distribution)):
            found[key] = tuple(paths)
    return found


def serves(key: str, distribution: Distribution) -> bool:
    """Whether an origin (path) of the distribution holds `key`, whichever behaviour routes to it."""
    if distribution.routing is not None:
        return any(served_key(key, origin.origin_path) is not None for origin in distribution.routing.origins)
    return not distribution.auto and served_key(key, distribution.origin_path) is not None


def served_key(key: str, origin_path: str) -> str | None:
    """The part of `key` below the origin path, or None when the distribution does not serve it."""
    prefix = key_prefix(origin_path)
    return key[len(prefix) :] if key.startswith(prefix) else None


def key_prefix(origin_path: str) -> str:
    """The bucket prefix an origin path serves: "" -> "", "/site" -> "site/"."""
    return origin_path[1:] + "/" if origin_path else ""


def encoded_variants(path: str) -> list[str]:
    """`path` encoded as CloudFront wants it, plus the raw-ambiguous form when that differs."""
    strict = _strict(path)
    if _AMBIGUOUS.isdisjoint(path):
        return [strict]
    return [strict, quote(path, safe=_PLAIN + "|[]^")]


def _strict(path: str) -> str:
    """quote() with _PLAIN safe and `~` as %7E, character by character: so the directory (shared by
    many keys of a batch) is encoded once per container and the name apart."""
    directory, slash, name = path.rpartition("/")
    return _strict_directory(directory + slash) + _strict_part(name)


def _strict_part(text: str) -> str:
    """Plain characters are their own encoding: quote() is called only for the others."""
    return text if _AS_IS.fullmatch(text) else quote(text, safe=_PLAIN).replace("~", "%7E")


_strict_directory = functools.lru_cache(maxsize=4096)(_strict_part)
