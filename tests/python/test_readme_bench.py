"""The README's figures are the bench's: each `<!-- bench:name -->` section equals bench/results/<name>.md.

`make bench` writes both (bench/sections.py); these tests fail when someone edits a figure by hand, when
the bench wrote a section the README lost, or when a marker is missing, duplicated or unbalanced.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
RESULTS = ROOT / "bench" / "results"
MARKER = re.compile(r"<!-- (/?)bench:([a-z0-9-]+) -->")
# The sections the README shows (Cost, Viewer URLs, Operating it); make bench must keep writing each.
EXPECTED_SECTIONS = {
    "cost",
    "storm-sensitivity",
    "replay",
    "cover",
    "evictions",
    "handler",
    "viewer-urls",
    "freshness",
}


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


def test_readme_bench_markers_are_balanced() -> None:
    assert marker_problems(README.read_text()) == []


def test_readme_shows_every_bench_section_once() -> None:
    assert set(sections(README.read_text())) == EXPECTED_SECTIONS


def test_bench_results_hold_exactly_the_readme_sections() -> None:
    assert {path.stem for path in RESULTS.glob("*.md")} == EXPECTED_SECTIONS


@pytest.mark.parametrize("name", sorted(EXPECTED_SECTIONS))
def test_readme_section_equals_the_bench_last_output(name: str) -> None:
    written = (RESULTS / f"{name}.md").read_text()
    assert written.strip(), f"bench/results/{name}.md is empty: run make bench"
    assert sections(README.read_text())[name] == written


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
