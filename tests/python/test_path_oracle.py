"""GIVEN hand-written cases of CloudFront's documented path rules WHEN the test oracle answers THEN it
agrees with every one (the oracle grades the handler elsewhere; these cases grade the oracle)."""

from __future__ import annotations

import string
from urllib.parse import unquote

import pytest

from support.path_oracle import (
    EITHER,
    ENCODED,
    RAW,
    bucket_origin_domain,
    is_covered,
    pattern_matches,
    required_paths,
    routed_required_paths,
    rule_of,
    uncovered_paths,
)

# key, origin path, index document -> the viewer paths that must be invalidated (written out by hand)
CASES: list[tuple[str, str, str, set[str]]] = [
    ("about.html", "", "index.html", {"/about.html"}),
    ("docs/a.html", "", "index.html", {"/docs/a.html"}),
    ("index.html", "", "index.html", {"/", "/index.html"}),
    ("docs/index.html", "", "index.html", {"/docs/", "/docs/index.html"}),
    ("docs/index.htm", "", "index.html", {"/docs/index.htm"}),
    ("docs/myindex.html", "", "index.html", {"/docs/myindex.html"}),
    ("docs/index.html", "", "default.htm", {"/docs/index.html"}),
    ("docs/default.htm", "", "default.htm", {"/docs/", "/docs/default.htm"}),
    ("site/docs/a.html", "/site", "index.html", {"/docs/a.html"}),
    ("site/index.html", "/site", "index.html", {"/", "/index.html"}),
    ("other/a.html", "/site", "index.html", set()),
    ("site.html", "/site", "index.html", set()),
    ("sitemap/a.html", "/site", "index.html", set()),
    ("a/b/c.html", "/a/b", "index.html", {"/c.html"}),
    ("Docs/A.HTML", "", "index.html", {"/Docs/A.HTML"}),
    ("a b.html", "", "index.html", {"/a%20b.html"}),
    ("a+b.html", "", "index.html", {"/a+b.html"}),
    ("café/menu.html", "", "index.html", {"/caf%C3%A9/menu.html"}),
    ("中文.html", "", "index.html", {"/%E4%B8%AD%E6%96%87.html"}),
    ("😀.png", "", "index.html", {"/%F0%9F%98%80.png"}),
    ("100%.html", "", "index.html", {"/100%25.html"}),
    ("why?.html", "", "index.html", {"/why%3F.html"}),
    ("star*.html", "", "index.html", {"/star%2A.html"}),
    ("a#b.html", "", "index.html", {"/a%23b.html"}),
    ('q"<>\\`{}.html', "", "index.html", {"/q%22%3C%3E%5C%60%7B%7D.html"}),
    ("tab\there.html", "", "index.html", {"/tab%09here.html"}),
    ("del\x7f.html", "", "index.html", {"/del%7F.html"}),
    ("x!$&'()+,;=:@-._.html", "", "index.html", {"/x!$&'()+,;=:@-._.html"}),
    ("~user/page.html", "", "index.html", {"/%7Euser/page.html", "/~user/page.html"}),
    ("a|b[1]^2~.html", "", "index.html", {"/a%7Cb%5B1%5D%5E2%7E.html", "/a|b[1]^2~.html"}),
    ("~a b.html", "", "index.html", {"/%7Ea%20b.html", "/~a%20b.html"}),
    (
        "~docs/index.html",
        "",
        "index.html",
        {"/%7Edocs/", "/~docs/", "/%7Edocs/index.html", "/~docs/index.html"},
    ),
    ("site/~x.html", "/site", "index.html", {"/%7Ex.html", "/~x.html"}),
]


@pytest.mark.parametrize(("key", "origin_path", "index_document", "expected"), CASES)
def test_required_paths_match_the_hand_written_case(
    key: str, origin_path: str, index_document: str, expected: set[str]
) -> None:
    assert required_paths(key, origin_path, index_document) == expected


# key, origin path, the distribution's default root object -> the viewer paths (index document index.html)
ROOT_OBJECT_CASES: list[tuple[str, str, str, set[str]]] = [
    ("home.html", "", "home.html", {"/", "/home.html"}),
    ("index.html", "", "home.html", {"/index.html"}),  # `/` is the root object's, not the index's
    ("docs/index.html", "", "home.html", {"/docs/", "/docs/index.html"}),  # subdirectories keep theirs
    ("docs/home.html", "", "home.html", {"/docs/home.html"}),  # only at the root
    ("index.html", "", "index.html", {"/", "/index.html"}),
    ("site/home.html", "/site", "home.html", {"/", "/home.html"}),  # relative to the origin path
    ("home.html", "/site", "home.html", set()),
    ("site/site/home.html", "/site", "home.html", {"/site/home.html"}),
    ("app/start.html", "", "app/start.html", {"/", "/app/start.html"}),  # a path is allowed
    ("start.html", "", "app/start.html", {"/start.html"}),
    ("~home.html", "", "~home.html", {"/", "/%7Ehome.html", "/~home.html"}),
]


@pytest.mark.parametrize(("key", "origin_path", "root_object", "expected"), ROOT_OBJECT_CASES)
def test_default_root_object_is_served_at_the_root_and_only_there(
    key: str, origin_path: str, root_object: str, expected: set[str]
) -> None:
    assert required_paths(key, origin_path, default_root_object=root_object) == expected


def test_every_printable_ascii_character_has_the_documented_rule() -> None:
    rfc1738_unsafe = set(' <>"#%{}|\\^~[]`')
    browser_raw = set("~|[]^")  # unsafe, but not in the WHATWG path percent-encode set
    for character in string.printable.strip() + " ":
        if character in string.ascii_letters + string.digits:
            assert rule_of(character) == RAW
        elif character in browser_raw:
            assert rule_of(character) == EITHER, character
        elif character in rfc1738_unsafe or character in "*?":
            assert rule_of(character) == ENCODED, character
        else:
            assert rule_of(character) == RAW, character
    assert {rule_of(chr(code)) for code in [*range(0x20), 0x7F, 0xE9, 0x4E2D]} == {ENCODED}


@pytest.mark.parametrize("key", ["a b/c~d.html", "x/ü|ö[1].html", "100% ^pure^?.html", "k*/index.html"])
def test_every_required_path_decodes_to_the_served_path_or_its_directory(key: str) -> None:
    decoded = {unquote(path, errors="strict") for path in required_paths(key)}
    directory = "/" + key.rsplit("/", 1)[0] + "/"
    assert decoded <= {"/" + key, directory}
    assert "/" + key in decoded


@pytest.mark.parametrize(
    ("path", "invalidated", "covered"),
    [
        ("/a.html", ["/a.html"], True),
        ("/a.html", ["/A.html"], False),
        ("/a.html", ["/a.htm"], False),
        ("/a.htm", ["/a.html"], False),
        ("/docs/deep/a.html", ["/docs/*"], True),
        ("/docs/", ["/docs/*"], True),
        ("/docs", ["/docs/*"], False),
        ("/docs2/a.html", ["/docs/*"], False),
        ("/docs2/a.html", ["/docs*"], True),
        ("/anything", ["/*"], True),
        ("/a.html", [], False),
        ("/b.html", ["/a.html", "/c/*", "/b.html"], True),
    ],
)
def test_is_covered_by_an_equal_path_or_a_trailing_wildcard_prefix(
    path: str, invalidated: list[str], covered: bool
) -> None:
    assert is_covered(path, invalidated) is covered


def test_uncovered_paths_names_what_an_invalidation_left_stale() -> None:
    keys = ["index.html", "docs/~a.html", "blog/x.html"]
    assert uncovered_paths(keys, ["/index.html", "/docs/%7Ea.html", "/blog/*"]) == {"/", "/docs/~a.html"}
    assert uncovered_paths(keys, ["/*"]) == set()
    assert uncovered_paths(["site/a.html", "b.html"], ["/a.html"], origin_path="/site") == set()


# key, origin path, directory_without_slash, strip_extensions -> paths (index document "index.html")
REWRITE_CASES: list[tuple[str, str, bool, list[str], set[str]]] = [
    ("guide/index.html", "", True, [], {"/guide/", "/guide/index.html", "/guide"}),
    ("index.html", "", True, [], {"/", "/index.html"}),
    ("site/guide/index.html", "/site", True, [], {"/guide/", "/guide/index.html", "/guide"}),
    ("site/index.html", "/site", True, [], {"/", "/index.html"}),
    ("guide/a.html", "", True, [], {"/guide/a.html"}),
    ("my docs/index.html", "", True, [], {"/my%20docs/", "/my%20docs/index.html", "/my%20docs"}),
    ("about.html", "", False, [".html"], {"/about.html", "/about"}),
    ("a b.html", "", False, [".html"], {"/a%20b.html", "/a%20b"}),
    ("guide/index.html", "", False, [".html"], {"/guide/", "/guide/index.html", "/guide/index"}),
    ("guide/index.html", "", True, [".html"], {"/guide/", "/guide/index.html", "/guide", "/guide/index"}),
    ("index.html", "", True, [".html"], {"/", "/index.html", "/index"}),
    ("site/about.html", "/site", False, [".html"], {"/about.html", "/about"}),
    (".html", "", False, [".html"], {"/.html"}),
    ("docs/.html", "", False, [".html"], {"/docs/.html"}),
    ("a.HTML", "", False, [".html"], {"/a.HTML"}),
    ("a.htm", "", False, [".html", ".htm"], {"/a.htm", "/a"}),
    ("a.html", "", False, [".htm"], {"/a.html"}),
    ("style.css", "", True, [".html"], {"/style.css"}),
    ("archive.tar.gz", "", False, [".gz", ".tar.gz"], {"/archive.tar.gz", "/archive.tar", "/archive"}),
    ("~me/a.html", "", False, [".html"], {"/%7Eme/a.html", "/~me/a.html", "/%7Eme/a", "/~me/a"}),
    ("café.html", "", False, [".html"], {"/caf%C3%A9.html", "/caf%C3%A9"}),
    ("why?.html", "", False, [".html"], {"/why%3F.html", "/why%3F"}),
    ("other/a.html", "/site", True, [".html"], set()),
]


@pytest.mark.parametrize(("key", "origin_path", "without_slash", "extensions", "expected"), REWRITE_CASES)
def test_rewritten_urls_match_the_hand_written_case(
    key: str, origin_path: str, without_slash: bool, extensions: list[str], expected: set[str]
) -> None:
    found = required_paths(
        key, origin_path, directory_without_slash=without_slash, strip_extensions=extensions
    )
    assert found == expected


def _origin(origin_id: str, domain: str, origin_path: str) -> dict[str, str]:
    return {"Id": origin_id, "DomainName": domain, "OriginPath": origin_path}


# A distribution of bucket "site-bucket": /assets/* and /v?/* from its static/ prefix (global REST domain),
# /w/* from its website endpoint under www/, /api/* from another bucket, the rest from site/ (regional).
ROUTED = {
    "DefaultRootObject": "index.html",
    "Origins": {
        "Items": [
            _origin("site", "site-bucket.s3.us-east-1.amazonaws.com", "/site"),
            _origin("static", "site-bucket.s3.amazonaws.com", "/static"),
            _origin("www", "site-bucket.s3-website-us-east-1.amazonaws.com", "/www"),
            _origin("other", "other-bucket.s3.amazonaws.com", ""),
        ]
    },
    "DefaultCacheBehavior": {"TargetOriginId": "site"},
    "CacheBehaviors": {
        "Items": [
            {"PathPattern": "/assets/*", "TargetOriginId": "static"},
            {"PathPattern": "v?/*", "TargetOriginId": "static"},
            {"PathPattern": "/w/*", "TargetOriginId": "www"},
            {"PathPattern": "/api/*", "TargetOriginId": "other"},
        ]
    },
}
ROUTED_CASES: list[tuple[str, set[str]]] = [
    ("site/index.html", {"/", "/index.html"}),
    ("site/docs/a.html", {"/docs/a.html"}),
    ("site/docs/index.html", {"/docs/", "/docs/index.html"}),
    ("static/assets/app.js", {"/assets/app.js"}),
    ("static/assets/index.html", {"/assets/", "/assets/index.html"}),
    ("static/app.js", set()),  # /app.js goes to site/
    ("site/assets/app.js", set()),  # /assets/app.js comes from static/
    ("site/api/x.json", set()),  # /api/* is another bucket's
    ("site/Assets/a.js", {"/Assets/a.js"}),  # patterns are case-sensitive
    ("static/v1/a.js", {"/v1/a.js"}),
    ("static/v10/a.js", set()),  # `?` is one character
    ("site/v10/a.js", {"/v10/a.js"}),
    ("www/w/a.html", {"/w/a.html"}),
    ("www/a.html", set()),
    ("static/assets/~x.js", {"/assets/%7Ex.js", "/assets/~x.js"}),  # %7E is normalized to ~ first
    ("site/~x/a.js", {"/%7Ex/a.js", "/~x/a.js"}),
    ("index.html", set()),  # the bucket's root is no origin's
    ("api/x.json", set()),
]


@pytest.mark.parametrize(("key", "expected"), ROUTED_CASES)
def test_auto_routed_paths_match_the_hand_written_case(key: str, expected: set[str]) -> None:
    assert routed_required_paths(key, ROUTED, "site-bucket") == expected


def test_auto_default_root_object_is_served_at_the_root_too() -> None:
    config = {
        "DefaultRootObject": "home.html",
        "Origins": {"Items": [_origin("s3", "site-bucket.s3-eu-west-1.amazonaws.com", "")]},
        "DefaultCacheBehavior": {"TargetOriginId": "s3"},
    }
    assert routed_required_paths("home.html", config, "site-bucket") == {"/", "/home.html"}
    assert routed_required_paths("index.html", config, "site-bucket") == {"/index.html"}
    assert routed_required_paths("docs/home.html", config, "site-bucket") == {"/docs/home.html"}
    assert routed_required_paths("about.html", config, "site-bucket", strip_extensions=[".html"]) == {
        "/about.html",
        "/about",
    }


@pytest.mark.parametrize(
    ("domain", "is_bucket"),
    [
        ("site-bucket.s3.amazonaws.com", True),
        ("site-bucket.s3.eu-west-1.amazonaws.com", True),
        ("site-bucket.s3-us-west-2.amazonaws.com", True),
        ("site-bucket.s3-website-us-east-1.amazonaws.com", True),
        ("site-bucket.s3-website.eu-central-1.amazonaws.com", True),
        ("Site-Bucket.S3.amazonaws.com", True),
        ("other-site-bucket.s3.amazonaws.com", False),
        ("site-bucket.example.com", False),
        ("site-bucket-2.s3.amazonaws.com", False),
        ("d111111abcdef8.cloudfront.net", False),
    ],
)
def test_bucket_origin_domains_are_s3_rest_and_website_endpoints(domain: str, is_bucket: bool) -> None:
    assert bucket_origin_domain(domain, "site-bucket") is is_bucket


@pytest.mark.parametrize(
    ("pattern", "path", "matches"),
    [
        ("/assets/*", "/assets/a/b.js", True),
        ("assets/*", "/assets/x", True),
        ("*.jpg", "/a/b.jpg", True),
        ("/a?c", "/abc", True),
        ("/a?c", "/ac", False),
        ("/Assets/*", "/assets/x", False),
        ("/assets/*", "/assets", False),
        ("*", "/", True),
        ("/a.b", "/aXb", False),
    ],
)
def test_path_patterns_follow_cloudfront_wildcards(pattern: str, path: str, matches: bool) -> None:
    assert pattern_matches(pattern, path) is matches
