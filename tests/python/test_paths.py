"""GIVEN an S3 key and a distribution WHEN mapped THEN exactly the viewer paths CloudFront serves it at."""

from __future__ import annotations

import pytest

from cf_invalidator.config import Distribution
from cf_invalidator.paths import viewer_paths

ROOT = Distribution(label="www", id="E1")
SITE = Distribution(label="site", id="E2", origin_path="/site")


def paths(key: str, distribution: Distribution = ROOT, index: str = "index.html") -> list[str]:
    return viewer_paths(key, distribution, index)


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("about.html", ["/about.html"]),
        ("a b.html", ["/a%20b.html"]),
        ("a+b.html", ["/a+b.html"]),
        ("100%.html", ["/100%25.html"]),
        ("notes#1.html", ["/notes%231.html"]),
        ("what?.html", ["/what%3F.html"]),
        ("star*.html", ["/star%2A.html"]),
        ("café.html", ["/caf%C3%A9.html"]),
        ("日本/語.html", ["/%E6%97%A5%E6%9C%AC/%E8%AA%9E.html"]),
        ('q"<>{}\\`.html', ["/q%22%3C%3E%7B%7D%5C%60.html"]),
        ("tab\there.html", ["/tab%09here.html"]),
        ("safe-_.!$&'()+,;=:@.html", ["/safe-_.!$&'()+,;=:@.html"]),
    ],
)
def test_key_is_encoded_exactly_as_cloudfront_requires(key: str, expected: list[str]) -> None:
    assert paths(key) == expected


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("~user/a.html", ["/%7Euser/a.html", "/~user/a.html"]),
        ("a[1]|b^.html", ["/a%5B1%5D%7Cb%5E.html", "/a[1]|b^.html"]),
    ],
)
def test_ambiguous_characters_invalidate_both_forms(key: str, expected: list[str]) -> None:
    assert paths(key) == expected


def test_root_index_document_invalidates_root_and_file() -> None:
    assert paths("index.html") == ["/", "/index.html"]


def test_nested_index_document_invalidates_directory_and_file() -> None:
    assert paths("docs/guide/index.html") == ["/docs/guide/", "/docs/guide/index.html"]


def test_configured_index_document_is_used() -> None:
    assert paths("docs/default.htm", index="default.htm") == ["/docs/", "/docs/default.htm"]
    assert paths("docs/index.html", index="default.htm") == ["/docs/index.html"]


def test_file_merely_ending_in_index_name_is_not_an_index_document() -> None:
    assert paths("docs/myindex.html") == ["/docs/myindex.html"]


def test_index_directory_with_special_characters_is_encoded() -> None:
    assert paths("my docs/index.html") == ["/my%20docs/", "/my%20docs/index.html"]


def test_origin_path_is_stripped() -> None:
    assert paths("site/docs/a.html", SITE) == ["/docs/a.html"]


def test_origin_path_index_document_maps_to_distribution_root() -> None:
    assert paths("site/index.html", SITE) == ["/", "/index.html"]


@pytest.mark.parametrize("key", ["docs/a.html", "sitemap.xml", "site", "site2/a.html", "Site/a.html"])
def test_key_outside_origin_path_gets_no_path_on_that_distribution(key: str) -> None:
    assert paths(key, SITE) == []


def test_nested_origin_path() -> None:
    nested = Distribution(label="n", id="E3", origin_path="/a/b")
    assert paths("a/b/c.html", nested) == ["/c.html"]
    assert paths("a/bc.html", nested) == []


def test_directory_marker_object_maps_to_directory_path() -> None:
    assert paths("docs/") == ["/docs/"]
