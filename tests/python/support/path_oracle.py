"""The reference the tests judge invalidations by: which CloudFront viewer paths a changed S3 key needs.

Written from the documented rules, never from lambda_src (which it grades):

- AWS CloudFront developer guide, "Specifying the files to invalidate": a path is matched against the
  request as the viewer sent it, so URL-encode non-ASCII characters and the characters RFC 1738 calls
  unsafe, and nothing else; `*` is a wildcard only as the last character; `?` starts a query string;
  paths start with `/` and are case-sensitive.
- RFC 1738 section 2.2: unsafe are space < > " # % { } | \\ ^ ~ [ ] ` and the controls 00-1F, 7F;
  octets above 7F are not allowed raw (so non-ASCII goes as its UTF-8 bytes, %XX each).
- WHATWG URL standard, path percent-encode set: a browser encodes controls, space " # < > ? ` { } and
  non-ASCII, and sends ~ | [ ] ^ raw. So for those five a viewer may ask for either form: a key holding
  any of them needs both its all-encoded form (an RFC 1738 client's) and its all-raw form (a browser's).
  A mix of both forms in one path is a request no client makes, and is not required.
- A key's literal `*`, `?` and `%` can only be named encoded (else a wildcard, a query, an escape).
- The project's design (section 3): with origin path `/site` the key `site/docs/a.html` is served at
  `/docs/a.html`, and a key outside `site/` is not served by that distribution; an index document is
  served at its directory too (`docs/index.html` at `/docs/` and `/docs/index.html`).

`required_paths` gives the encoded paths a change must invalidate; `is_covered` tells whether a set of
invalidated paths (wildcards included) covers one of them.
"""

from __future__ import annotations

from collections.abc import Iterable
from string import ascii_letters, digits

# How each printable ASCII character outside letters and digits goes into an invalidation path.
RAW = "raw"  # as is: RFC 1738 calls it safe or reserved, and CloudFront wants nothing else encoded
ENCODED = "encoded"  # %XX: RFC 1738 unsafe and encoded by browsers too, or special in a path
EITHER = "either"  # RFC 1738 unsafe but sent raw by browsers: both forms
PUNCTUATION: dict[str, str] = {
    "!": RAW, "$": RAW, "&": RAW, "'": RAW, "(": RAW, ")": RAW, "+": RAW, ",": RAW, "-": RAW, ".": RAW,
    "/": RAW, ":": RAW, ";": RAW, "=": RAW, "@": RAW, "_": RAW,
    " ": ENCODED, '"': ENCODED, "#": ENCODED, "%": ENCODED, "<": ENCODED, ">": ENCODED, "\\": ENCODED,
    "`": ENCODED, "{": ENCODED, "}": ENCODED, "*": ENCODED, "?": ENCODED,
    "~": EITHER, "|": EITHER, "[": EITHER, "]": EITHER, "^": EITHER,
}  # fmt: skip


def rule_of(character: str) -> str:
    """RAW, ENCODED or EITHER for one character of a served key."""
    if character in ascii_letters or character in digits:
        return RAW
    return PUNCTUATION.get(character, ENCODED)  # controls, DEL and non-ASCII: always encoded


def percent_encoded(character: str) -> str:
    """`character` as its UTF-8 bytes, each written %XX with upper-case hex digits."""
    return "".join(f"%{byte:02X}" for byte in character.encode("utf-8"))


def encoded_forms(path: str) -> frozenset[str]:
    """The forms in which viewers request `path`: one, or two when it holds an EITHER character."""
    strict, browser = [], []
    for character in path:
        rule = rule_of(character)
        strict.append(character if rule == RAW else percent_encoded(character))
        browser.append(percent_encoded(character) if rule == ENCODED else character)
    return frozenset({"".join(strict), "".join(browser)})


def served_path(key: str, origin_path: str = "") -> str | None:
    """The unencoded path at which a distribution with `origin_path` serves `key`, or None."""
    if not origin_path:
        return "/" + key
    folder = origin_path.strip("/") + "/"
    if not key.startswith(folder):
        return None
    return "/" + key[len(folder) :]


def required_paths(key: str, origin_path: str = "", index_document: str = "index.html") -> frozenset[str]:
    """Every encoded viewer path that must be invalidated when `key` changes, on a distribution with
    `origin_path`; empty when that distribution does not serve the key."""
    path = served_path(key, origin_path)
    if path is None:
        return frozenset()
    unencoded = {path}
    name = path.rsplit("/", 1)[1]
    if name == index_document:
        unencoded.add(path[: -len(index_document)])
    return frozenset(form for each in unencoded for form in encoded_forms(each))


def is_covered(path: str, invalidated_paths: Iterable[str]) -> bool:
    """Whether invalidating `invalidated_paths` refreshes the viewer path `path`: one of them equals it,
    or ends in `*` and the rest is a prefix of it (case-sensitive)."""
    for invalidated in invalidated_paths:
        if invalidated.endswith("*"):
            if path.startswith(invalidated[:-1]):
                return True
        elif path == invalidated:
            return True
    return False


def uncovered_paths(
    keys: Iterable[str],
    invalidated_paths: Iterable[str],
    origin_path: str = "",
    index_document: str = "index.html",
) -> set[str]:
    """The required paths of `keys` on one distribution that `invalidated_paths` leave stale."""
    invalidated = list(invalidated_paths)
    required = {path for key in keys for path in required_paths(key, origin_path, index_document)}
    return {path for path in required if not is_covered(path, invalidated)}
