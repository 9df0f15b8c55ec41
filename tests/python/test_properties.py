"""Properties over any key: only valid CloudFront paths come out, and coalescing never loses one."""

from __future__ import annotations

from urllib.parse import unquote

from hypothesis import given, settings
from hypothesis import strategies as st

from cf_invalidator.config import Distribution
from cf_invalidator.core.coalesce import coalesce, covers
from cf_invalidator.core.paths import MAX_PATH_LENGTH, viewer_paths
from support.path_oracle import required_paths

# S3 keys: any Unicode text of 1..1,024 UTF-8 bytes (surrogates cannot be stored).
QUOTA_WILDCARDS = 15  # CloudFront: wildcard paths in progress per distribution
KEY_TEXT = st.text(st.characters(codec="utf-8"), min_size=1, max_size=300).filter(
    lambda key: len(key.encode("utf-8")) <= 1024
)
SEGMENT = st.text(st.sampled_from("ab~ %é*"), min_size=1, max_size=3)
TREE_KEY = st.lists(SEGMENT, min_size=1, max_size=5).map("/".join)
DISTRIBUTIONS = st.sampled_from(
    [Distribution("root", "E1"), Distribution("site", "E2", "/site"), Distribution("deep", "E3", "/a/b")]
)


def assert_valid_cloudfront_path(path: str) -> None:
    assert path.startswith("/")
    assert len(path) <= MAX_PATH_LENGTH
    assert "*" not in path[:-1]
    assert "?" not in path and "#" not in path
    assert all(" " < char < "\x7f" for char in path), path


@settings(max_examples=300)
@given(key=KEY_TEXT, distribution=DISTRIBUTIONS)
def test_any_key_yields_only_valid_cloudfront_paths(key: str, distribution: Distribution) -> None:
    for path in viewer_paths(key, distribution, "index.html"):
        assert_valid_cloudfront_path(path)
        assert not path.endswith("*")  # a key never becomes a wildcard


@settings(max_examples=200)
@given(key=KEY_TEXT)
def test_every_key_is_served_by_a_distribution_without_origin_path(key: str) -> None:
    assert viewer_paths(key, Distribution("root", "E1"), "index.html") != []


def test_longest_possible_key_stays_within_cloudfront_path_length() -> None:
    worst = "\U0001f600" * 256  # 1,024 UTF-8 bytes, each byte encoded as %XX
    for path in viewer_paths(worst, Distribution("root", "E1"), "index.html"):
        assert_valid_cloudfront_path(path)


@settings(max_examples=200)
@given(keys=st.lists(TREE_KEY, min_size=1, max_size=120), budget=st.integers(min_value=1, max_value=40))
def test_coalescing_keeps_every_path_covered_within_limits(keys: list[str], budget: int) -> None:
    root = Distribution("root", "E1")
    paths = {p for key in keys for p in viewer_paths(key, root, "index.html")}
    result = coalesce(paths, budget)
    assert len(result) <= budget
    assert sum(r.endswith("*") for r in result) <= QUOTA_WILDCARDS
    for path in result:
        assert_valid_cloudfront_path(path)
    assert [p for p in paths if not any(covers(r, p) for r in result)] == []


@settings(max_examples=300)
@given(key=KEY_TEXT)
def test_every_path_decodes_back_to_the_key_it_was_made_from(key: str) -> None:
    for path in viewer_paths(key, Distribution("root", "E1"), "no-index.html"):
        assert unquote(path, errors="strict") == "/" + key


OPTIONS = st.tuples(
    st.sampled_from(["", "/site"]),
    st.booleans(),
    st.lists(st.sampled_from([".html", ".htm", ".a", ".html.gz", ".gz"]), max_size=3, unique=True),
    st.sampled_from(["", "index.html", "a.html", "site/a.html"]),
)
REWRITE_KEY = st.lists(
    st.sampled_from(["site", "index.html", "a.html", "b .htm", "~c.html.gz", ".html", "d"]),
    min_size=1,
    max_size=4,
).map("/".join)


@settings(max_examples=300)
@given(key=REWRITE_KEY, options=OPTIONS)
def test_rewritten_urls_are_exactly_the_oracles(key: str, options: tuple[str, bool, list[str], str]) -> None:
    origin_path, without_slash, extensions, root_object = options
    distribution = Distribution(
        "d", "E1", origin_path, without_slash, tuple(extensions), default_root_object=root_object
    )
    expected = required_paths(
        key,
        origin_path,
        "index.html",
        directory_without_slash=without_slash,
        strip_extensions=extensions,
        default_root_object=root_object,
    )
    found = viewer_paths(key, distribution, "index.html")
    assert len(found) == len(set(found))
    assert set(found) == expected
