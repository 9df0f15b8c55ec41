"""Every relative link in the README, docs/ and the examples' READMEs reaches a file, and its heading.

The README is for users and stays short; depth lives in docs/, linked both ways. A page renamed, a
heading reworded or a section moved without its links fails here. Anchors are GitHub's: a heading's text
lower-cased, punctuation other than `-` and `_` dropped, spaces made hyphens, repeats numbered `-1`,
`-2`; plus explicit `<a name="...">` anchors (terraform-docs' tables use them).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = sorted([ROOT / "README.md", *(ROOT / "docs").glob("*.md"), *(ROOT / "examples").glob("*/README.md")])
README_MOST_LINES = 300
FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)
CODE_SPAN = re.compile(r"`[^`\n]*`")
LINK = re.compile(r"\]\(([^)\s]+)\)")
HEADING = re.compile(r"^#{1,6} +(.+?) *#*$", re.MULTILINE)
NAMED_ANCHOR = re.compile(r'<a name="([^"]+)"></a>')


def slug(heading: str) -> str:
    """GitHub's anchor for a heading's text."""
    text = CODE_SPAN.sub(lambda span: span.group(0).strip("`"), heading).strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(text: str) -> set[str]:
    """The anchors a markdown page offers: its headings' slugs (repeats numbered) and named anchors."""
    found: set[str] = set(NAMED_ANCHOR.findall(text))
    seen: dict[str, int] = {}
    for heading in HEADING.findall(FENCE.sub("", text)):
        base = slug(heading)
        count = seen.get(base, 0)
        found.add(base if count == 0 else f"{base}-{count}")
        seen[base] = count + 1
    return found


def links(text: str) -> list[str]:
    """Relative link targets of a page, outside code blocks and code spans, `\\_` unescaped."""
    prose = CODE_SPAN.sub("", FENCE.sub("", text))
    targets = [target.replace("\\_", "_") for target in LINK.findall(prose)]
    return [t for t in targets if not re.match(r"^[a-z]+:", t)]


def broken(page: Path) -> list[str]:
    """The links of `page` whose file does not exist, or whose anchor the target page lacks."""
    problems = []
    for target in links(page.read_text(encoding="utf-8")):
        path_part, _, anchor = target.partition("#")
        destination = (page.parent / path_part).resolve() if path_part else page
        if not destination.exists():
            problems.append(f"{target}: no such file")
        elif anchor and destination.suffix == ".md" and anchor not in anchors(destination.read_text("utf-8")):
            problems.append(f"{target}: no such heading in {destination.name}")
    return problems


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(ROOT)))
def test_every_relative_link_reaches_an_existing_file_and_heading(page: Path) -> None:
    assert broken(page) == []


def test_readme_stays_short_for_users() -> None:
    lines = (ROOT / "README.md").read_text(encoding="utf-8").count("\n")
    assert lines <= README_MOST_LINES, f"README.md has {lines} lines; move depth to docs/"


def test_every_docs_page_is_linked_from_the_readme() -> None:
    linked = {
        (ROOT / target.partition("#")[0]).resolve() for target in links((ROOT / "README.md").read_text())
    }
    assert {page.resolve() for page in (ROOT / "docs").glob("*.md")} <= linked


@pytest.mark.parametrize(
    ("heading", "anchor"),
    [
        (
            'Viewer URLs: rewrites, the distribution\'s configuration, `"auto"`',
            "viewer-urls-rewrites-the-distributions-configuration-auto",
        ),
        ("Choosing `max_paths_per_invalidation`", "choosing-max_paths_per_invalidation"),
        ("Role naming, boundary and path", "role-naming-boundary-and-path"),
        ("Against the best cover: the frontier", "against-the-best-cover-the-frontier"),
    ],
)
def test_slug_follows_github(heading: str, anchor: str) -> None:
    assert slug(heading) == anchor


def test_repeated_headings_are_numbered_and_named_anchors_count() -> None:
    text = '# A\n## A\n```\n# not a heading\n```\n<a name="input_x"></a>\n'
    assert anchors(text) == {"a", "a-1", "input_x"}


def test_link_check_reports_a_missing_file_and_a_missing_heading(tmp_path: Path) -> None:
    (tmp_path / "other.md").write_text("# Present\n")
    page = tmp_path / "page.md"
    page.write_text(
        "[a](other.md#present) [b](other.md#absent) [c](gone.md) `[d](gone.md)` [e](https://x.y)\n"
    )
    assert broken(page) == ["other.md#absent: no such heading in other.md", "gone.md: no such file"]
