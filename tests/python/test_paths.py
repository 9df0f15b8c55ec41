"""GIVEN an S3 key and a distribution WHEN mapped THEN exactly the viewer paths CloudFront serves it at."""

from __future__ import annotations

import pytest

from cf_invalidator.config import Distribution
from cf_invalidator.core.paths import viewer_paths

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


PRETTY = Distribution(label="pretty", id="E4", directory_without_slash=True, strip_extensions=(".html",))


def test_directory_without_slash_adds_the_directory_without_its_slash() -> None:
    without_slash = Distribution(label="d", id="E5", directory_without_slash=True)
    assert paths("guide/index.html", without_slash) == ["/guide/", "/guide/index.html", "/guide"]
    assert paths("a/b c/index.html", without_slash) == ["/a/b%20c/", "/a/b%20c/index.html", "/a/b%20c"]
    assert paths("guide/a.html", without_slash) == ["/guide/a.html"]


def test_root_index_document_has_no_path_without_slash() -> None:
    assert paths("index.html", Distribution(label="d", id="E5", directory_without_slash=True)) == [
        "/",
        "/index.html",
    ]


def test_strip_extensions_adds_the_encoded_name_without_the_extension() -> None:
    stripped = Distribution(label="s", id="E6", strip_extensions=(".html",))
    assert paths("about.html", stripped) == ["/about.html", "/about"]
    assert paths("a b.html", stripped) == ["/a%20b.html", "/a%20b"]
    assert paths("~me.html", stripped) == ["/%7Eme.html", "/~me.html", "/%7Eme", "/~me"]
    assert paths("style.css", stripped) == ["/style.css"]
    assert paths("page.HTML", stripped) == ["/page.HTML"]
    assert paths("docs/.html", stripped) == ["/docs/.html"]


def test_index_document_under_both_options_gets_every_url_a_rewrite_accepts() -> None:
    assert paths("guide/index.html", PRETTY) == ["/guide/", "/guide/index.html", "/guide", "/guide/index"]
    assert paths("index.html", PRETTY) == ["/", "/index.html", "/index"]


def test_options_apply_below_the_origin_path() -> None:
    site = Distribution(label="s", id="E7", origin_path="/site", directory_without_slash=True)
    assert paths("site/guide/index.html", site) == ["/guide/", "/guide/index.html", "/guide"]
    assert paths("guide/index.html", site) == []


def test_unresolved_auto_distribution_refuses_to_map_rather_than_drop() -> None:
    with pytest.raises(ValueError, match="auto"):
        paths("a.html", Distribution(label="a", id="E8", origin_path="auto"))


def test_default_root_object_is_invalidated_at_the_root_too() -> None:
    home = Distribution(label="h", id="E9", default_root_object="home.html")
    assert paths("home.html", home) == ["/", "/home.html"]
    assert paths("docs/home.html", home) == ["/docs/home.html"]


def test_root_index_document_leaves_the_root_to_another_default_root_object() -> None:
    home = Distribution(label="h", id="E9", default_root_object="home.html")
    assert paths("index.html", home) == ["/index.html"]
    assert paths("docs/index.html", home) == ["/docs/", "/docs/index.html"]
    assert paths("index.html", Distribution(label="i", id="E9", default_root_object="index.html")) == [
        "/",
        "/index.html",
    ]


def test_default_root_object_is_relative_to_the_origin_path() -> None:
    site = Distribution(label="s", id="E9", origin_path="/site", default_root_object="app/start.html")
    assert paths("site/app/start.html", site) == ["/", "/app/start.html"]
    assert paths("app/start.html", site) == []
    assert paths("site/start.html", site) == ["/start.html"]
