"""The docs' figures are the bench's: each `<!-- bench:name -->` section equals bench/results/<name>.md.

`make bench` writes both (bench/sections.py), into the docs/ page that holds each section's markers;
these tests fail when someone edits a figure by hand, when the bench wrote a section no page shows, when
a section is shown twice or left in the README, or when a marker is missing, duplicated or unbalanced.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from sections import write_sections

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
DOCS = ROOT / "docs"
RESULTS = ROOT / "bench" / "results"
MARKER = re.compile(r"<!-- (/?)bench:([a-z0-9-]+) -->")
# The sections docs/ shows, and the page of each (beside the text that explains it); make bench must
# keep writing each.
EXPECTED_PAGES = {
    "cost": "cost.md",
    "storm-sensitivity": "cost.md",
    "replay": "cost.md",
    "cover": "cost.md",
    "evictions": "cost.md",
    "handler": "cost.md",
    "viewer-urls": "viewer-urls.md",
    "deploy-freshness": "deploy-flush.md",
    "deploy-cost": "deploy-flush.md",
    "deploy-lone-edit": "deploy-flush.md",
    "deploy-synthetic": "deploy-flush.md",
    "deploy-summary": "README.md",
    "deploy-requests": "deploy-flush.md",
    "deploy-writer": "deploy-flush.md",
    "deploy-crashes": "deploy-flush.md",
    "deploy-regeneration": "deploy-flush.md",
}
EXPECTED_SECTIONS = set(EXPECTED_PAGES)
PAGES = [README, *sorted(DOCS.glob("*.md"))]


def marker_problems(text: str) -> list[str]:
    """Every opening marker on its own line, closed by its own closing marker before the next opens."""
    problems, open_name, seen = [], None, set()
    for match in MARKER.finditer(text):
        closing, name = match.group(1) == "/", match.group(2)
        line_start = text.rfind("\n", 0, match.start()) + 1
        line_end = text.find("\n", match.end())
        if text[line_start:line_end] != match.group(0):
            problems.append(f"{match.group(0)} is not alone on its line")
        if closing:
            if open_name != name:
                problems.append(f"{match.group(0)} closes {open_name or 'nothing'}")
            open_name = None
        else:
            if open_name is not None:
                problems.append(f"bench:{name} opens inside bench:{open_name}")
            if name in seen:
                problems.append(f"bench:{name} appears twice")
            open_name = name
            seen.add(name)
    if open_name is not None:
        problems.append(f"bench:{open_name} is never closed")
    return problems


def sections(text: str) -> dict[str, str]:
    return {
        match.group(1): match.group(2)
        for match in re.finditer(r"<!-- bench:([a-z0-9-]+) -->\n(.*?)<!-- /bench:\1 -->", text, re.DOTALL)
    }


def page_sections(page: Path) -> dict[str, str]:
    return sections(page.read_text(encoding="utf-8"))


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_bench_markers_are_balanced(page: Path) -> None:
    assert marker_problems(page.read_text(encoding="utf-8")) == []


def test_each_bench_section_is_shown_once_on_its_docs_page() -> None:
    shown = [(name, page.name) for page in PAGES for name in page_sections(page)]
    assert sorted(shown) == sorted(EXPECTED_PAGES.items())


def test_bench_results_hold_exactly_the_shown_sections() -> None:
    assert {path.stem for path in RESULTS.glob("*.md")} == EXPECTED_SECTIONS


@pytest.mark.parametrize("name", sorted(EXPECTED_SECTIONS))
def test_docs_section_equals_the_bench_last_output(name: str) -> None:
    written = (RESULTS / f"{name}.md").read_text()
    assert written.strip(), f"bench/results/{name}.md is empty: run make bench"
    page = README if EXPECTED_PAGES[name] == README.name else DOCS / EXPECTED_PAGES[name]
    assert page_sections(page)[name] == written


def test_bench_writes_each_section_into_the_page_holding_its_markers(tmp_path: Path) -> None:
    # GIVEN a checkout with one section in docs/a.md and one in the README
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.md").write_text("# A\n<!-- bench:x -->\nold x\n<!-- /bench:x -->\ntail\n")
    (tmp_path / "README.md").write_text("<!-- bench:y -->\nold y\n<!-- /bench:y -->\n")
    # WHEN the bench writes both
    write_sections({"x": "new x\n", "y": "new y\n"}, root=tmp_path, results=tmp_path / "results")
    # THEN each page holds its new figures, and the results their copies
    page = tmp_path / "docs" / "a.md"
    assert page.read_text() == "# A\n<!-- bench:x -->\nnew x\n<!-- /bench:x -->\ntail\n"
    assert (tmp_path / "README.md").read_text() == "<!-- bench:y -->\nnew y\n<!-- /bench:y -->\n"
    assert (tmp_path / "results" / "x.md").read_text() == "new x\n"


def test_bench_writes_nothing_when_a_section_has_no_page(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    page = tmp_path / "docs" / "a.md"
    page.write_text("<!-- bench:x -->\nold\n<!-- /bench:x -->\n")
    with pytest.raises(ValueError, match="bench:gone"):
        write_sections({"x": "new\n", "gone": "z\n"}, root=tmp_path, results=tmp_path / "results")
    assert page.read_text() == "<!-- bench:x -->\nold\n<!-- /bench:x -->\n"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("<!-- bench:a -->\nx\n", "bench:a is never closed"),
        ("<!-- /bench:a -->\n", "<!-- /bench:a --> closes nothing"),
        ("<!-- bench:a -->\n<!-- /bench:b -->\n", "<!-- /bench:b --> closes a"),
        ("<!-- bench:a -->\n<!-- bench:b -->\n", "bench:b opens inside bench:a"),
        (
            "<!-- bench:a -->\n<!-- /bench:a -->\n<!-- bench:a -->\n<!-- /bench:a -->\n",
            "bench:a appears twice",
        ),
        ("see <!-- bench:a -->\n<!-- /bench:a -->\n", "<!-- bench:a --> is not alone on its line"),
    ],
)
def test_marker_check_catches_broken_markers(text: str, problem: str) -> None:
    assert problem in marker_problems(text)


def test_marker_check_accepts_a_balanced_pair() -> None:
    assert marker_problems("<!-- bench:a -->\n| x |\n<!-- /bench:a -->\n") == []
