"""How a distribution routes viewer paths to the origins that serve this bucket (origin_path = "auto").

CloudFront's developer guide ("Cache behavior settings", Path pattern) and its API reference
(CacheBehavior.PathPattern): a request is compared with the cache behaviours' path patterns in the order
they are listed, and the first that matches applies; a request no pattern matches gets the default cache
behaviour. A pattern's `*` matches any run of characters (`/` included) and `?` exactly one; patterns are
case-sensitive, and the leading `/` is optional (`images/*.jpg` is `/images/*.jpg`). CloudFront
normalizes the URI path as RFC 3986 does before matching: percent-encoded unreserved characters are
decoded (of what this module encodes, only `~` as %7E), every other escape is matched as sent. So a
viewer path is routed here in the encoded form the module invalidates, with %7E read as `~`.

REST and website endpoints of the bucket are routed alike. A website endpoint serves `dir/` from the
index document; behind a REST origin the common rewrites serve it (see docs/viewer-urls.md's set-ups), so
`dir/` is invalidated for an index document behind either, as without "auto" (paths.unencoded_paths).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Origin:
    """An origin of the distribution whose domain is this bucket."""

    id: str
    origin_path: str  # "" or "/prefix", as CloudFront writes it


@dataclass(frozen=True)
class Routing:
    """What GetDistributionConfig says about this bucket: its origins, and which origin serves a path."""

    origins: tuple[Origin, ...]  # only the origins of this bucket
    behaviours: tuple[tuple[str, str], ...]  # (path pattern, target origin id), in CloudFront's order
    default_origin_id: str
    # origin group id -> its member origin ids (primary and failover both serve the group's paths)
    groups: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def origin_ids_for(self, encoded_path: str) -> frozenset[str]:
        """The ids of the origins that serve the viewer path (encoded as invalidated): the target of
        its behaviour, or the members when that target is an origin group."""
        target = self.target_for(encoded_path)
        members = dict(self.groups).get(target)
        return frozenset(members) if members is not None else frozenset({target})

    def target_for(self, encoded_path: str) -> str:
        """The target origin (or origin group) id of the first behaviour matching, else the default's."""
        normalized = encoded_path.replace("%7E", "~")
        for pattern, origin_id in self.behaviours:
            if _compiled(pattern).fullmatch(normalized):
                return origin_id
        return self.default_origin_id


@functools.lru_cache(maxsize=256)
def _compiled(path_pattern: str) -> re.Pattern[str]:
    """A path pattern as a regular expression: `*` any run of characters, `?` one, the rest literal."""
    pattern = path_pattern if path_pattern.startswith("/") else "/" + path_pattern
    parts = (".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile("".join(parts), re.DOTALL)
