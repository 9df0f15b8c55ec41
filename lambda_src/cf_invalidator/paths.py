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
"""

from __future__ import annotations

from urllib.parse import quote

from .config import Distribution

MAX_PATH_LENGTH = 4000  # CloudFront: characters in one invalidation path

# Left raw: letters, digits and `- . _` (quote() never encodes them) and these; `~` is handled apart.
_PLAIN = "/!$&'()+,;=:@"
_AMBIGUOUS = frozenset("~|[]^")


def viewer_paths(key: str, distribution: Distribution, index_document: str) -> list[str]:
    """The encoded viewer paths serving `key` on `distribution`; empty when it serves no such key."""
    relative = served_key(key, distribution.origin_path)
    if relative is None:
        return []
    unencoded = ["/" + relative]
    if relative == index_document or relative.endswith("/" + index_document):
        unencoded.insert(0, "/" + relative[: -len(index_document)])
    return [variant for path in unencoded for variant in encoded_variants(path)]


def served_key(key: str, origin_path: str) -> str | None:
    """The part of `key` below the origin path, or None when the distribution does not serve it."""
    if not origin_path:
        return key
    prefix = origin_path[1:] + "/"
    return key[len(prefix) :] if key.startswith(prefix) else None


def encoded_variants(path: str) -> list[str]:
    """`path` encoded as CloudFront wants it, plus the raw-ambiguous form when that differs."""
    strict = quote(path, safe=_PLAIN).replace("~", "%7E")
    if _AMBIGUOUS.isdisjoint(path):
        return [strict]
    return [strict, quote(path, safe=_PLAIN + "|[]^")]
