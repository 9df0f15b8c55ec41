"""GIVEN hand-written cases of CloudFront's documented path rules WHEN the test oracle answers THEN it
agrees with every one (the oracle grades the handler elsewhere; these cases grade the oracle)."""

from __future__ import annotations

import string
from urllib.parse import unquote

import pytest

from support.path_oracle import EITHER, ENCODED, RAW, is_covered, required_paths, rule_of, uncovered_paths

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
